"""The daily Softwarepflege job (SWP-8), its task, command and the weekly report.

Expected days are worked out by hand from RULES SWP-8 / GEN-1 (comments); the job
must send each notice once per system and coverage end, on the first day it is due.
"""
from __future__ import annotations

import io
import smtplib
import threading
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from licensing import rules
from licensing.models import MaintenanceCoverage, MaintenanceNotice
from licensing.selectors.systems import maintenance_report_data
from licensing.services import maintenance_job
from licensing.services.maintenance_job import (
    maintenance_expiry_daily,
    maintenance_report_weekly,
    notices_claim,
    notices_send,
    notices_take_over_stale,
)
from licensing.services.systems import call_assist_quote, maintenance_confirm
from licensing.tests.factories import CustomerFactory, PartnerFactory
from licensing.tests.factories import book, make_system
from vendorportal.models import JobRun

pytestmark = pytest.mark.django_db

N60, N30, N21, LAPSED, SURCHARGE = rules.NOTICE_KINDS


def listed(message, serial: str) -> int:
    """How many notice lines of an e-mail name this serial."""
    return sum(1 for line in message.body.splitlines() if line.startswith(f"- {serial}"))


def day_range(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# --- A whole year, day by day -------------------------------------------------------


def test_every_notice_once_and_on_the_right_day_over_a_year(prices, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    partner_1 = PartnerFactory(delivery_email="technik@eins.test")
    partner_2 = PartnerFactory(delivery_email="technik@zwei.test")
    customer_1, customer_2 = CustomerFactory(partner=partner_1), CustomerFactory(partner=partner_2)

    # A: first order 2025-04-01, 12 months → ends 2026-03-31.
    a = make_system(customer=customer_1)
    # B: first order 2025-08-16 → ends 2026-08-15.
    b = make_system(customer=customer_2)
    # C: first order 2024-12-01 → ends 2025-11-30: already lapsed when the run starts.
    c = make_system(customer=customer_1)
    # D: first order 2025-03-01 → ends 2026-02-28; renewed on 2026-02-20 for 12 months
    #    → new coverage 2026-03-01…2027-02-28.
    d = make_system(customer=customer_1)
    # E: 36 months from 2025-07-01 → ends 2028-06-30: nothing due in the run.
    e = make_system(customer=customer_2)
    # F: ends 2026-04-30 but decommissioned on 2026-01-15: no notices after that.
    f = make_system(customer=customer_2, decommissioned_on=date(2026, 1, 15))
    for system, start, users, months in [
        (a, date(2025, 4, 1), 5, 12), (b, date(2025, 8, 16), 15, 12), (c, date(2024, 12, 1), 6, 12),
        (d, date(2025, 3, 1), 8, 12), (e, date(2025, 7, 1), 5, 36), (f, date(2025, 5, 1), 5, 12),
    ]:
        maintenance_confirm(
            installation=system, quote=call_assist_quote(installation=system, users=users, months=months, today=start)
        )

    expected = {
        # A, end 2026-03-31: 60 days before = 2026-01-30 (Jan 30 → Mar 31: 1 + 28 + 31 = 60),
        # 30 before = 2026-03-01, 21 before = 2026-03-10, lapsed the day after the end,
        # surcharge after month_period_end(2026-04-01, 3) = 2026-06-30 → 2026-07-01.
        (a.identifier, date(2026, 3, 31)): {
            N60: date(2026, 1, 30), N30: date(2026, 3, 1), N21: date(2026, 3, 10),
            LAPSED: date(2026, 4, 1), SURCHARGE: date(2026, 7, 1),
        },
        # B, end 2026-08-15: 60 before = 2026-06-16 (14 + 31 + 15), 30 before = 2026-07-16
        # (15 + 15), 21 before = 2026-07-25 (6 + 15); lapsed 2026-08-16; surcharge after
        # month_period_end(2026-08-16, 3) = 2026-11-15 → 2026-11-16.
        (b.identifier, date(2026, 8, 15)): {
            N60: date(2026, 6, 16), N30: date(2026, 7, 16), N21: date(2026, 7, 25),
            LAPSED: date(2026, 8, 16), SURCHARGE: date(2026, 11, 16),
        },
        # C, end 2025-11-30: on the first run (2026-01-01) it is lapsed (free window up to
        # month_period_end(2025-12-01, 3) = 2026-02-28) → lapsed at once; surcharge 2026-03-01.
        (c.identifier, date(2025, 11, 30)): {LAPSED: date(2026, 1, 1), SURCHARGE: date(2026, 3, 1)},
        # D, first end 2026-02-28: 58 days left on 2026-01-01 → remind_60 at once;
        # 30 before = 2026-01-29 (2 + 28); 21 before = 2026-02-07. Renewed 2026-02-20: no lapse.
        (d.identifier, date(2026, 2, 28)): {N60: date(2026, 1, 1), N30: date(2026, 1, 29), N21: date(2026, 2, 7)},
        # D, second end 2027-02-28: 60 before = 2026-12-30 (1 + 31 + 28), 30 before =
        # 2027-01-29, 21 before = 2027-02-07, lapsed 2027-03-01.
        (d.identifier, date(2027, 2, 28)): {
            N60: date(2026, 12, 30), N30: date(2027, 1, 29), N21: date(2027, 2, 7), LAPSED: date(2027, 3, 1),
        },
    }

    sent: dict[tuple[str, date], dict[str, date]] = defaultdict(dict)
    lines_per_serial: Counter = Counter()
    serial_by_pk = {s.pk: s.identifier for s in (a, b, c, d, e, f)}
    days = list(day_range(date(2026, 1, 1), date(2027, 3, 15)))
    assert len(days) == 439  # 365 days of 2026 + 31 + 28 + 15 of 2027
    for today in days:
        if today == date(2026, 2, 20):
            renewal = call_assist_quote(installation=d, users=None, months=12, today=today)
            assert (renewal.coverage_start, renewal.coverage_end) == (date(2026, 3, 1), date(2027, 2, 28))
            maintenance_confirm(installation=d, quote=renewal)
        mail.outbox = []
        last_pk = MaintenanceNotice.objects.aggregate(last=Max("pk"))["last"] or 0
        counts = maintenance_expiry_daily(today=today)
        new_notices = list(MaintenanceNotice.objects.filter(pk__gt=last_pk))
        for notice in new_notices:
            assert notice.sent_at is not None
            key = (serial_by_pk[notice.installation_id], notice.coverage_end)
            assert notice.kind not in sent[key], f"{notice.kind} sent twice for {key}"
            sent[key][notice.kind] = today
        assert sum(counts.values()) == len(new_notices)
        # One e-mail per partner and day at most, to the partner's delivery address.
        recipients = [m.to for m in mail.outbox]
        assert len(recipients) == len({tuple(r) for r in recipients})
        for message in mail.outbox:
            assert message.to[0] in {"technik@eins.test", "technik@zwei.test"}
            for serial in serial_by_pk.values():
                lines_per_serial[serial] += listed(message, serial)
        # Second run on the same day: nothing more.
        mail.outbox = []
        assert maintenance_expiry_daily(today=today) == {kind: 0 for kind in rules.NOTICE_KINDS}
        assert mail.outbox == []

    assert dict(sent) == expected
    # Every notice appeared exactly once in an e-mail: A 5, B 5, C 2, D 3 + 4, E and F none.
    assert lines_per_serial == Counter({a.identifier: 5, b.identifier: 5, c.identifier: 2, d.identifier: 7})
    assert JobRun.objects.filter(name="swp_expiry", ok=True).count() == 2 * 439


def test_partner_gets_one_mail_listing_all_its_systems_with_the_right_texts(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    partner = PartnerFactory(company="Muster Kommunikation GmbH", delivery_email="technik@muster.test")
    customer = CustomerFactory(partner=partner, company="Bäckerei Brezel")
    today = date(2026, 6, 1)
    s21 = make_system(customer=customer)
    book(s21, start=date(2025, 6, 21), end=date(2026, 6, 20), users=5)  # 19 days left → remind_21
    lapsed = make_system(customer=customer)
    book(lapsed, start=date(2025, 5, 1), end=date(2026, 4, 30), users=5)  # lapsed, free until 2026-07-31
    surcharge = make_system(customer=customer)
    book(surcharge, start=date(2025, 1, 1), end=date(2025, 12, 31), users=5)  # free until 2026-03-31
    other = make_system()
    book(other, start=date(2025, 7, 1), end=date(2026, 6, 30), users=5)  # 29 days → remind_30, other partner

    counts = maintenance_expiry_daily(today=today)
    assert counts == {N60: 0, N30: 1, N21: 1, LAPSED: 1, SURCHARGE: 1}
    assert len(mail.outbox) == 2
    message = next(m for m in mail.outbox if m.to == ["technik@muster.test"])
    body = message.body
    assert message.subject == "Softwarepflege PBX Call Assist 5: Hinweise zu 3 Systemen"
    for system in (s21, lapsed, surcharge):
        assert listed(message, system.identifier) == 1
    assert listed(message, other.identifier) == 0
    # 21 days: adding users only up to coverage end − 21 days = 2026-06-20 − 21 = 2026-05-30.
    assert "Benutzer hinzufügen nur bis 30.05.2026" in body
    assert "bis 21 Tage vor dem Ende" in body
    # Lapsed: what is lost without SWP (SWP-8), renewal without surcharge until 2026-07-31.
    assert "Microsoft Teams" in body and "mobilen Apps" in body and "Updates" in body
    assert "ohne Säumniszuschlag verlängerbar bis 31.07.2026" in body
    # Surcharge: applies since 2026-04-01; online renewal until month_period_end(2026-01-01, 36) = 2028-12-31.
    assert "Säumniszuschlag seit 01.04.2026" in body
    assert "online verlängerbar bis 31.12.2028" in body
    assert "gilt jetzt der Säumniszuschlag" in body
    run = JobRun.objects.get(name="swp_expiry")
    assert run.ok and "E-Mails: 2" in run.summary


def _systems_due_60(n: int, today: date, partner_count: int = 3):
    partners = [PartnerFactory() for _ in range(partner_count)]
    for i in range(n):
        system = make_system(customer=CustomerFactory(partner=partners[i % partner_count]))
        book(system, start=date(2025, 8, 1), end=today + timedelta(days=45 + i % 10), users=5)


def test_query_count_does_not_depend_on_the_number_of_systems(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = date(2026, 6, 1)
    _systems_due_60(3, today)
    with CaptureQueriesContext(connection) as small:
        assert maintenance_expiry_daily(today=today)[N60] == 3
    _systems_due_60(30, today)
    with CaptureQueriesContext(connection) as large:
        assert maintenance_expiry_daily(today=today)[N60] == 30
    assert len(large.captured_queries) == len(small.captured_queries)


def test_two_racing_claims_send_each_notice_once(settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = date(2026, 6, 1)
    _systems_due_60(4, today, partner_count=2)
    # Worst case: both workers selected the due systems before either inserted, so
    # worker B offers the same 4 rows after worker A inserted them.
    seen_by_b = {kind: list(maintenance_job.due_systems(kind, today)) for kind in rules.NOTICE_KINDS}
    assert len(seen_by_b[N60]) == 4
    assert notices_claim(today=today, claim="worker-a")[N60] == 4
    monkeypatch.setattr(maintenance_job, "due_systems", lambda kind, today: seen_by_b[kind])
    assert notices_claim(today=today, claim="worker-b")[N60] == 4  # offered, but every insert conflicts
    monkeypatch.undo()
    counts_a, mails_a, _failures = notices_send(today=today, claim="worker-a")
    counts_b, mails_b, _failures = notices_send(today=today, claim="worker-b")
    assert counts_a[N60] == 4 and mails_a == 2
    assert sum(counts_b.values()) == 0 and mails_b == 0
    assert len(mail.outbox) == 2
    assert MaintenanceNotice.objects.filter(claim="worker-a", sent_at__isnull=False).count() == 4
    assert not MaintenanceNotice.objects.filter(claim="worker-b").exists()


# Transactional: the two threads need to see each other's committed rows. pytest-django
# runs such tests after all ``db`` tests, so the flush afterwards disturbs no one.
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_notice_once(settings):
    """Two real threads (own database connections) run claim and send at the same time."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = date(2026, 6, 1)
    _systems_due_60(6, today, partner_count=3)
    mail.outbox = []
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def worker(name):
        try:
            barrier.wait(timeout=10)
            notices_claim(today=today, claim=name)
            barrier.wait(timeout=10)  # both claimed before either sends
            results[name] = notices_send(today=today, claim=name)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("worker-a", "worker-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert results["worker-a"][0][N60] + results["worker-b"][0][N60] == 6
    assert sum(1 for m in mail.outbox for line in m.body.splitlines() if line.startswith("- ")) == 6
    assert MaintenanceNotice.objects.filter(sent_at__isnull=False).count() == 6


def test_claim_step_twice_before_sending(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = date(2026, 6, 1)
    _systems_due_60(3, today, partner_count=1)
    assert notices_claim(today=today, claim="first")[N60] == 3
    assert notices_claim(today=today, claim="second")[N60] == 0  # already claimed: not offered again
    assert notices_send(today=today, claim="second")[1] == 0
    assert notices_send(today=today, claim="first")[1] == 1
    assert len(mail.outbox) == 1


def test_claims_of_a_dead_run_are_taken_over_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = date(2026, 6, 1)
    _systems_due_60(2, today, partner_count=1)
    notices_claim(today=today, claim="dead-run")  # claimed, then the worker died
    MaintenanceNotice.objects.update(created_at=timezone.now() - timedelta(hours=2))
    # Not yet stale for a run that looks 30 minutes earlier.
    assert notices_take_over_stale(today=today, claim="early", now=timezone.now() - timedelta(hours=1, minutes=30)) == 0
    assert notices_take_over_stale(today=today, claim="run-1") == 2
    assert notices_take_over_stale(today=today, claim="run-2") == 0  # freshly claimed by run-1
    counts, mails, _failures = notices_send(today=today, claim="run-1")
    assert counts[N60] == 2 and mails == 1


def test_stale_claim_no_longer_due_is_not_sent(prices, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = date(2026, 6, 1)
    system = make_system()
    maintenance_confirm(installation=system, quote=call_assist_quote(installation=system, users=5, months=12, today=date(2025, 7, 16)))
    # Ends 2026-07-15 → 44 days left: remind_60. Claimed by a dead run, then renewed.
    notices_claim(today=today, claim="dead-run")
    MaintenanceNotice.objects.update(created_at=timezone.now() - timedelta(hours=2))
    maintenance_confirm(installation=system, quote=call_assist_quote(installation=system, users=None, months=12, today=today))
    assert maintenance_expiry_daily(today=today) == {kind: 0 for kind in rules.NOTICE_KINDS}
    assert mail.outbox == []


class FailingForOneAddress(LocmemBackend):
    def send_messages(self, messages):
        if any("kaputt" in address for m in messages for address in m.to):
            raise smtplib.SMTPRecipientsRefused({"kaputt@partner.test": (550, b"no such user")})
        return super().send_messages(messages)


def test_failed_mail_leaves_notices_unsent_for_a_later_run(settings):
    settings.EMAIL_BACKEND = "licensing.tests.test_maintenance_job.FailingForOneAddress"
    today = date(2026, 6, 1)
    good = PartnerFactory(delivery_email="gut@partner.test")
    bad = PartnerFactory(delivery_email="kaputt@partner.test")
    for partner in (good, bad):
        system = make_system(customer=CustomerFactory(partner=partner))
        book(system, start=date(2025, 8, 1), end=date(2026, 7, 20), users=5)
    counts = maintenance_expiry_daily(today=today)
    assert counts[N60] == 1
    assert [m.to for m in mail.outbox] == [["gut@partner.test"]]
    unsent = MaintenanceNotice.objects.get(sent_at__isnull=True)
    assert unsent.installation.customer.partner == bad
    assert "kaputt@partner.test" in JobRun.objects.get(name="swp_expiry").summary
    # The address is fixed; a run more than an hour later takes the notice over.
    bad.delivery_email = "repariert@partner.test"
    bad.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    MaintenanceNotice.objects.filter(pk=unsent.pk).update(created_at=timezone.now() - maintenance_job.STALE_CLAIM_AFTER - timedelta(minutes=1))
    mail.outbox = []
    assert maintenance_expiry_daily(today=today + timedelta(days=1))[N60] == 1
    assert [m.to for m in mail.outbox] == [["repariert@partner.test"]]


# --- Task, schedule, command --------------------------------------------------------


def test_task_runs_the_job_for_the_given_day(settings):
    from licensing.tasks.maintenance import swp_expiry_daily

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = date(2026, 6, 1)
    _systems_due_60(2, today, partner_count=1)
    assert swp_expiry_daily.run("2026-06-01")[N60] == 2
    assert swp_expiry_daily.run("2026-06-01")[N60] == 0


def test_beat_schedule_has_the_daily_and_weekly_job():
    from vendorportal.celery import app

    schedule = app.conf.beat_schedule
    assert "heartbeat" in schedule
    daily = schedule["swp-expiry-daily"]
    weekly = schedule["swp-report-weekly"]
    assert daily["task"] == "licensing.tasks.swp_expiry_daily"
    assert weekly["task"] == "licensing.tasks.swp_report_weekly"
    assert daily["schedule"].hour == {6} and daily["schedule"].minute == {0}
    assert weekly["schedule"].hour == {7} and weekly["schedule"].day_of_week == {1}
    assert "licensing.tasks.swp_expiry_daily" in app.tasks and "licensing.tasks.swp_report_weekly" in app.tasks


def test_command_runs_the_job_and_prints_counts(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _systems_due_60(2, date(2026, 6, 1), partner_count=1)
    out = io.StringIO()
    call_command("swp_expiry", "--today", "2026-06-01", stdout=out)
    assert "01.06.2026" in out.getvalue() and "insgesamt: 2" in out.getvalue()
    assert MaintenanceNotice.objects.filter(sent_at__isnull=False).count() == 2


def test_run_with_nothing_to_send_leaves_no_mail_file(settings, tmp_path):
    """The file backend (the embedded default, var/mail/) creates its file when a
    connection opens: a run that sends nothing must not open one."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    _systems_due_60(1, date(2026, 6, 1), partner_count=1)

    call_command("swp_expiry", "--today", "2026-05-01", stdout=io.StringIO())  # end 16.07.: 60-day notice not yet due
    assert not (tmp_path / "mail").exists() or list((tmp_path / "mail").iterdir()) == []

    call_command("swp_expiry", "--today", "2026-06-01", stdout=io.StringIO())  # the day it is due: one e-mail
    [written] = (tmp_path / "mail").iterdir()
    assert written.stat().st_size > 0


@pytest.mark.parametrize("bad", ["2026-13-01", "morgen", "01.06.2026"])
def test_command_with_bad_date_fails_in_german_and_writes_nothing(bad):
    _systems_due_60(1, date(2026, 6, 1), partner_count=1)
    with pytest.raises(CommandError, match="kein gültiges Datum.*JJJJ-MM-TT"):
        call_command("swp_expiry", "--today", bad)
    assert not MaintenanceNotice.objects.exists()
    assert not JobRun.objects.exists()


# --- Weekly report -------------------------------------------------------------------


def test_weekly_report_values_per_partner_and_pdf(prices, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.FINANCE_EMAIL = "finanzen@vendor.test"
    today = date(2026, 6, 1)  # a Monday
    p1 = PartnerFactory(company="Alpha Telefonie GmbH")
    p2 = PartnerFactory(company="Beta Netze KG")
    c1, c2 = CustomerFactory(partner=p1), CustomerFactory(partner=p2)
    expiring = make_system(customer=c1)
    book(expiring, start=date(2025, 7, 2), end=date(2026, 7, 1), users=100)  # 30 days left
    lapsed = make_system(customer=c1)
    book(lapsed, start=date(2025, 4, 1), end=date(2026, 3, 31), users=6)  # lapsed, no surcharge yet
    surcharge = make_system(customer=c2)
    book(surcharge, start=date(2025, 1, 1), end=date(2025, 12, 31), users=5)  # surcharge since 2026-04-01
    active = make_system(customer=c2)
    book(active, start=date(2026, 1, 1), end=date(2026, 12, 31), users=5)  # 213 days left: not listed
    gone = make_system(customer=c2)
    book(gone, start=date(2022, 2, 1), end=date(2023, 1, 31), users=5)  # online limit 2026-01-31 passed

    report = maintenance_report_data(today=today)
    by_partner = {g.partner.company: g for g in report.groups}
    assert list(by_partner) == ["Alpha Telefonie GmbH", "Beta Netze KG"]
    alpha, beta = by_partner["Alpha Telefonie GmbH"], by_partner["Beta Netze KG"]
    assert [r.system for r in alpha.expiring] == [expiring] and [r.system for r in alpha.lapsed] == [lapsed]
    assert beta.expiring == [] and [r.system for r in beta.lapsed] == [surcharge]
    # expiring: 100 × 12,00 = 1.200,00; lapsed ≤ 3 months: 6 × 12,00 = 72,00 → Alpha 1.272,00.
    assert alpha.expiring[0].renewal.net_total == Decimal("1200.00")
    assert alpha.lapsed[0].renewal.net_total == Decimal("72.00")
    assert alpha.renewal_total == Decimal("1272.00")
    # surcharge: lapsed days 2026-06-01 − 2025-12-31 = 152 (31 + 28 + 31 + 30 + 31 + 1);
    # 5 × 12,00 = 60,00 + 5 × 152 = 760 × 0,04 = 30,40 → 90,40.
    assert beta.lapsed[0].renewal.surcharge_days == 152
    assert beta.renewal_total == Decimal("90.40")
    assert report.renewal_total == Decimal("1362.40")
    assert (report.expiring_count, report.lapsed_count) == (1, 2)

    pdf = maintenance_report_weekly(today=today)
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ["Alpha Telefonie GmbH", "Beta Netze KG", "1.272,00 €", "90,40 €", "1.362,40 €", "1.200,00 €",
                     expiring.identifier, lapsed.identifier, surcharge.identifier]:
        assert expected in text
    assert active.identifier not in text and gone.identifier not in text
    (message,) = mail.outbox
    assert message.to == ["finanzen@vendor.test"]
    (name, content, mimetype) = message.attachments[0]
    assert name == "softwarepflege-bericht-2026-06-01.pdf" and mimetype == "application/pdf" and content == pdf
    assert "1.362,40 €" in message.body
    assert JobRun.objects.get(name="swp_report").ok


def test_weekly_task_sends_report(prices, settings):  # noqa: F811
    from licensing.tasks.maintenance import swp_report_weekly

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    swp_report_weekly.run("2026-06-01")
    (message,) = mail.outbox
    assert message.attachments[0][0] == "softwarepflege-bericht-2026-06-01.pdf"
    assert MaintenanceCoverage.objects.count() == 0
