"""The daily Softwarepflege job (SWP-8), its task, command and the weekly report, both
e-mailed through the outbox (STYLE 13).

Expected days are worked out by hand from RULES SWP-8 / GEN-1 (comments); the job
must write each notice once per system and coverage end, on the first day it is due,
together with its partner's e-mail; the outbox sends that e-mail (``send_outbox``).
"""

from __future__ import annotations

import io
import smtplib
import threading
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from licensing import rules
from licensing.models import MaintenanceCoverage, MaintenanceNotice, MaintenanceWeeklyReport
from licensing.selectors.systems import maintenance_report_data
from licensing.services import maintenance_job
from licensing.services.maintenance_job import (
    maintenance_expiry_daily,
    maintenance_expiry_run,
    maintenance_report_weekly,
)
from licensing.services.systems import call_assist_quote, maintenance_confirm
from licensing.tests.factories import CustomerFactory, PartnerFactory, UserFactory, book, make_system
from vendorportal import outbox
from vendorportal.models import JobRun, OutboxMessage
from vendorportal.outbox import outbox_claim, outbox_dispatch_due, outbox_resend, outbox_send

pytestmark = pytest.mark.django_db

N60, N30, N21, LAPSED, SURCHARGE = rules.NOTICE_KINDS
T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 06:00 in Berlin, when beat starts the job


def listed(message, serial: str) -> int:
    """How many notice lines of an e-mail name this serial."""
    return sum(1 for line in message.body.splitlines() if line.startswith(f"- {serial}"))


def day_range(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@pytest.fixture
def queued(monkeypatch):
    """The outbox's wake-up messages to the broker, recorded instead of sent: (row id, ticket)."""
    calls = []
    monkeypatch.setattr(outbox, "_queue_send", lambda pk, ticket=None: calls.append((pk, ticket)))
    return calls


def notice_rows():
    return OutboxMessage.objects.filter(kind=maintenance_job.NOTICES_KIND)


# --- A whole year, day by day -------------------------------------------------------


def test_every_notice_once_and_on_the_right_day_over_a_year(prices, settings, send_outbox):  # noqa: F811
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
        (a, date(2025, 4, 1), 5, 12),
        (b, date(2025, 8, 16), 15, 12),
        (c, date(2024, 12, 1), 6, 12),
        (d, date(2025, 3, 1), 8, 12),
        (e, date(2025, 7, 1), 5, 36),
        (f, date(2025, 5, 1), 5, 12),
    ]:
        maintenance_confirm(
            installation=system, quote=call_assist_quote(installation=system, users=users, months=months, today=start)
        )

    expected = {
        # A, end 2026-03-31: 60 days before = 2026-01-30 (Jan 30 → Mar 31: 1 + 28 + 31 = 60),
        # 30 before = 2026-03-01, 21 before = 2026-03-10, lapsed the day after the end,
        # surcharge after month_period_end(2026-04-01, 3) = 2026-06-30 → 2026-07-01.
        (a.identifier, date(2026, 3, 31)): {
            N60: date(2026, 1, 30),
            N30: date(2026, 3, 1),
            N21: date(2026, 3, 10),
            LAPSED: date(2026, 4, 1),
            SURCHARGE: date(2026, 7, 1),
        },
        # B, end 2026-08-15: 60 before = 2026-06-16 (14 + 31 + 15), 30 before = 2026-07-16
        # (15 + 15), 21 before = 2026-07-25 (6 + 15); lapsed 2026-08-16; surcharge after
        # month_period_end(2026-08-16, 3) = 2026-11-15 → 2026-11-16.
        (b.identifier, date(2026, 8, 15)): {
            N60: date(2026, 6, 16),
            N30: date(2026, 7, 16),
            N21: date(2026, 7, 25),
            LAPSED: date(2026, 8, 16),
            SURCHARGE: date(2026, 11, 16),
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
            N60: date(2026, 12, 30),
            N30: date(2027, 1, 29),
            N21: date(2027, 2, 7),
            LAPSED: date(2027, 3, 1),
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
        # Written with their partner's e-mail, not sent yet: the outbox sends.
        assert all(n.message_id is not None and n.sent_at is None for n in new_notices)
        assert send_outbox() == len({n.message_id for n in new_notices})
        for notice in new_notices:
            notice.refresh_from_db()
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
        # Second run on the same day: no notice, no e-mail row, nothing to send.
        mail.outbox = []
        rows = OutboxMessage.objects.count()
        assert maintenance_expiry_daily(today=today) == dict.fromkeys(rules.NOTICE_KINDS, 0)
        assert OutboxMessage.objects.count() == rows
        assert send_outbox() == 0 and mail.outbox == []

    assert dict(sent) == expected
    # Every notice appeared exactly once in an e-mail: A 5, B 5, C 2, D 3 + 4, E and F none.
    assert lines_per_serial == Counter({a.identifier: 5, b.identifier: 5, c.identifier: 2, d.identifier: 7})
    assert JobRun.objects.filter(name="swp_expiry", ok=True).count() == 2 * 439
    # Every notice e-mail went out once: none left unsent.
    assert not notice_rows().filter(sent_at__isnull=True).exists()


def test_partner_gets_one_mail_listing_all_its_systems_with_the_right_texts(settings, send_outbox):
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
    assert mail.outbox == [] and notice_rows().count() == 2  # written, sent by the outbox
    assert send_outbox() == 2
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
    assert run.ok and "E-Mails zum Versand eingeplant: 2" in run.summary
    # The outbox row keeps what was sent, for staff.
    row = notice_rows().get(recipients=["technik@muster.test"])
    assert (row.subject, row.body) == (message.subject, message.body) and row.sent_at is not None


def _systems_due_60(n: int, today: date, partner_count: int = 3):
    partners = [PartnerFactory() for _ in range(partner_count)]
    for i in range(n):
        system = make_system(customer=CustomerFactory(partner=partners[i % partner_count]))
        book(system, start=date(2025, 8, 1), end=today + timedelta(days=45 + i % 10), users=5)
    return partners


def test_query_count_depends_neither_on_systems_nor_on_partners(settings):
    today = date(2026, 6, 1)
    _systems_due_60(3, today, partner_count=1)
    with CaptureQueriesContext(connection) as small:
        result = maintenance_expiry_run(today=today)
    assert (result.counts[N60], result.emails) == (3, 1)
    _systems_due_60(30, today, partner_count=10)
    with CaptureQueriesContext(connection) as large:
        result = maintenance_expiry_run(today=today)
    assert (result.counts[N60], result.emails) == (30, 10)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_rerun_the_same_day_writes_nothing_new(send_outbox):
    today = date(2026, 6, 1)
    _systems_due_60(4, today, partner_count=2)
    assert maintenance_expiry_run(today=today).emails == 2
    assert maintenance_expiry_run(today=today).emails == 0
    call_command("swp_expiry", "--today", "2026-06-01", stdout=io.StringIO())
    assert notice_rows().count() == 2 and MaintenanceNotice.objects.count() == 4
    assert send_outbox() == 2 and len(mail.outbox) == 2


def test_a_notice_due_later_the_same_day_gets_its_own_email(send_outbox):
    """Staff add a system after the 06:00 run: the partner's second e-mail lists only it."""
    today = date(2026, 6, 1)
    (partner,) = _systems_due_60(2, today, partner_count=1)
    maintenance_expiry_daily(today=today)
    send_outbox()
    late = make_system(customer=CustomerFactory(partner=partner))
    book(late, start=date(2025, 8, 1), end=date(2026, 7, 20), users=5)  # 49 days left → remind_60

    assert maintenance_expiry_daily(today=today)[N60] == 1
    assert send_outbox() == 1
    first, second = mail.outbox
    assert first.to == second.to == [partner.delivery_email]
    assert sum(listed(first, s.identifier) for s in [late]) == 0
    assert listed(second, late.identifier) == 1
    assert second.subject == "Softwarepflege PBX Call Assist 5: Hinweis zu 1 System"
    assert sum(1 for line in second.body.splitlines() if line.startswith("- ")) == 1


def test_two_racing_runs_write_each_notice_and_email_once(monkeypatch, send_outbox):
    today = date(2026, 6, 1)
    _systems_due_60(4, today, partner_count=2)
    # Worst case: both workers selected the due systems before either inserted, so
    # worker B offers the same 4 rows after worker A committed them.
    seen_by_b = {kind: list(maintenance_job.due_systems(kind, today)) for kind in rules.NOTICE_KINDS}
    assert len(seen_by_b[N60]) == 4
    assert maintenance_expiry_run(today=today).emails == 2
    monkeypatch.setattr(maintenance_job, "due_systems", lambda kind, today: seen_by_b[kind])
    result_b = maintenance_expiry_run(today=today)  # offered, but every insert conflicts
    assert sum(result_b.counts.values()) == 0 and result_b.emails == 0
    assert notice_rows().count() == 2
    assert send_outbox() == 2
    assert sum(1 for m in mail.outbox for line in m.body.splitlines() if line.startswith("- ")) == 4


# Transactional: the two threads need to see each other's committed rows. pytest-django
# runs such tests after all ``db`` tests, so the flush afterwards disturbs no one.
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_write_one_email_per_partner(queued, send_outbox):
    """Two real threads (own database connections) run the job at the same moment.

    On PostgreSQL both also select the due systems before either inserts (the inner
    barrier), so the second insert waits for the first transaction and then skips
    every row. SQLite lets one write transaction in at a time (IMMEDIATE): the second
    run starts after the first committed; a barrier inside would deadlock there.
    """
    today = date(2026, 6, 1)
    _systems_due_60(6, today, partner_count=3)
    overlap = connection.vendor == "postgresql"
    start, selected = threading.Barrier(2), threading.Barrier(2)
    real_due_systems = maintenance_job.due_systems
    results, errors = {}, []

    def due_systems(kind, day):
        rows = list(real_due_systems(kind, day))
        if overlap and kind == N60:
            selected.wait(timeout=20)
        return rows

    def worker(name):
        try:
            start.wait(timeout=20)
            results[name] = maintenance_expiry_run(today=today)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    maintenance_job.due_systems = due_systems
    try:
        threads = [threading.Thread(target=worker, args=(name,)) for name in ("worker-a", "worker-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        maintenance_job.due_systems = real_due_systems
    assert errors == []
    assert sorted(r.counts[N60] for r in results.values()) == [0, 6]
    assert sorted(r.emails for r in results.values()) == [0, 3]
    assert notice_rows().count() == 3 and len(queued) == 3  # one wake-up per e-mail, after commit
    assert send_outbox() == 3
    assert sum(1 for m in mail.outbox for line in m.body.splitlines() if line.startswith("- ")) == 6
    assert MaintenanceNotice.objects.filter(sent_at__isnull=False).count() == 6


def test_a_run_that_dies_writes_neither_notices_nor_emails(monkeypatch, send_outbox):
    today = date(2026, 6, 1)
    _systems_due_60(2, today, partner_count=1)

    def crash(**kwargs):
        raise OSError("Festplatte voll")

    monkeypatch.setattr(maintenance_job, "outbox_enqueue_many", crash)
    with pytest.raises(OSError):
        maintenance_expiry_daily(today=today)
    assert not MaintenanceNotice.objects.exists() and not OutboxMessage.objects.exists()
    assert "Festplatte voll" in JobRun.objects.get(name="swp_expiry", ok=False).summary
    monkeypatch.undo()
    # The task's retry (or tomorrow's run) writes them, once.
    assert maintenance_expiry_daily(today=today)[N60] == 2
    assert send_outbox() == 1
    assert sum(1 for line in mail.outbox[0].body.splitlines() if line.startswith("- ")) == 2


def test_notices_the_old_job_never_sent_are_written_again(send_outbox):
    """Migration 0010: a notice claimed by the old direct-send job but never sent has no
    e-mail; dropped, it is due again and the next run writes it with one."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("licensing.migrations.0010_maintenance_notice_outbox_weekly_report")
    today = date(2026, 6, 1)
    _systems_due_60(2, today, partner_count=1)
    stuck, sent = (
        MaintenanceNotice.objects.create(installation_id=pk, coverage_end=end, kind=N60, claim="dead-run")
        for pk, end in maintenance_job.due_systems(N60, today)
    )
    MaintenanceNotice.objects.filter(pk=sent.pk).update(sent_at=T0)
    migration.drop_unsent_direct_notices(apps, None)
    assert list(MaintenanceNotice.objects.values_list("pk", flat=True)) == [sent.pk]
    assert maintenance_expiry_daily(today=today)[N60] == 1
    assert send_outbox() == 1
    (message,) = mail.outbox
    assert listed(message, stuck.installation.identifier) == 1 and listed(message, sent.installation.identifier) == 0


class FailingForOneAddress(LocmemBackend):
    def send_messages(self, messages):
        if any("kaputt" in address for m in messages for address in m.to):
            raise smtplib.SMTPRecipientsRefused({"kaputt@partner.test": (550, b"no such user")})
        return super().send_messages(messages)


def test_a_failed_send_leaves_the_email_for_the_periodic_job(
    settings, clock, queued, send_outbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "licensing.tests.test_maintenance_job.FailingForOneAddress"
    clock.set(T0)
    today = date(2026, 6, 1)
    good = PartnerFactory(delivery_email="gut@partner.test")
    bad = PartnerFactory(delivery_email="kaputt@partner.test")
    for partner in (good, bad):
        system = make_system(customer=CustomerFactory(partner=partner))
        book(system, start=date(2025, 8, 1), end=date(2026, 7, 20), users=5)
    assert maintenance_expiry_daily(today=today)[N60] == 2
    assert send_outbox() == 1
    assert [m.to for m in mail.outbox] == [["gut@partner.test"]]
    failed = notice_rows().get(recipients=["kaputt@partner.test"])
    assert failed.sent_at is None and "no such user" in failed.last_error
    assert failed.due_at == T0 + timedelta(minutes=1)  # first retry after 1 minute
    unsent = MaintenanceNotice.objects.get(sent_at__isnull=True)
    assert unsent.installation.customer.partner == bad and unsent.message == failed
    # Tomorrow's run does not write it again: it is written, only not delivered yet.
    assert maintenance_expiry_daily(today=today + timedelta(days=1)) == dict.fromkeys(rules.NOTICE_KINDS, 0)

    # The mail server accepts again; the periodic job two minutes later queues the row.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    clock.set(T0 + timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_dispatch_due().queued == 1
    ((pk, ticket),) = queued[-1:]
    assert pk == failed.pk and outbox_send(message_id=pk, ticket=ticket) is True
    assert [m.to for m in mail.outbox] == [["kaputt@partner.test"]]
    unsent.refresh_from_db()
    assert unsent.sent_at == T0 + timedelta(minutes=2)


def test_a_worker_killed_while_sending_loses_no_notice(settings, clock, queued, django_capture_on_commit_callbacks):
    clock.set(T0)
    today = date(2026, 6, 1)
    _systems_due_60(2, today, partner_count=1)
    maintenance_expiry_daily(today=today)
    row = notice_rows().get()
    # A worker claims the row and dies before it sends (kill -9): no e-mail, no mark.
    assert outbox_claim(message_id=row.pk) is not None
    assert outbox_dispatch_due().queued == 0  # its claim still holds
    clock.set(T0 + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS + 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_dispatch_due().queued == 1
    ((pk, ticket),) = queued[-1:]
    assert outbox_send(message_id=pk, ticket=ticket) is True
    assert len(mail.outbox) == 1 and sum(1 for line in mail.outbox[0].body.splitlines() if line.startswith("- ")) == 2
    assert not MaintenanceNotice.objects.filter(sent_at__isnull=True).exists()
    assert outbox_dispatch_due().queued == 0 and len(mail.outbox) == 1


def test_partner_without_valid_address_gets_its_notices_once_fixed(send_outbox):
    today = date(2026, 6, 1)
    good = PartnerFactory(delivery_email="gut@partner.test")
    bad = PartnerFactory(company="Ohne Adresse GmbH", delivery_email="kaputt")  # not an e-mail address
    for partner in (good, bad):
        system = make_system(customer=CustomerFactory(partner=partner))
        book(system, start=date(2025, 8, 1), end=date(2026, 7, 20), users=5)
    result = maintenance_expiry_run(today=today)
    assert (result.counts[N60], result.emails) == (1, 1)
    assert MaintenanceNotice.objects.get().installation.customer.partner == good
    summary = JobRun.objects.get(name="swp_expiry").summary
    assert "ohne gültige Liefer-E-Mail, Hinweise folgen im nächsten Lauf (1): Ohne Adresse GmbH <kaputt>" in summary
    bad.delivery_email = "repariert@partner.test"
    bad.save()
    assert maintenance_expiry_daily(today=today + timedelta(days=1))[N60] == 1
    assert send_outbox() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["gut@partner.test", "repariert@partner.test"]


# --- Task, schedule, command --------------------------------------------------------


def test_task_runs_the_job_for_the_given_day():
    from licensing.tasks.maintenance import swp_expiry_daily

    today = date(2026, 6, 1)
    _systems_due_60(2, today, partner_count=1)
    assert swp_expiry_daily.run("2026-06-01")[N60] == 2
    assert swp_expiry_daily.run("2026-06-01")[N60] == 0
    assert notice_rows().count() == 1


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


def test_command_runs_the_job_and_prints_counts(send_outbox):
    _systems_due_60(2, date(2026, 6, 1), partner_count=1)
    out = io.StringIO()
    call_command("swp_expiry", "--today", "2026-06-01", stdout=out)
    assert "01.06.2026" in out.getvalue() and "insgesamt: 2" in out.getvalue()
    assert "E-Mails an Partner zum Versand eingeplant: 1" in out.getvalue()
    assert MaintenanceNotice.objects.filter(message__isnull=False).count() == 2
    assert send_outbox() == 1
    assert MaintenanceNotice.objects.filter(sent_at__isnull=False).count() == 2


def test_run_with_nothing_to_send_leaves_no_mail_file(settings, tmp_path, send_outbox):
    """The file backend (the embedded default, var/mail/) creates its file when a
    connection opens: a run that sends nothing must not open one."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    _systems_due_60(1, date(2026, 6, 1), partner_count=1)

    call_command("swp_expiry", "--today", "2026-05-01", stdout=io.StringIO())  # end 16.07.: 60-day notice not yet due
    assert send_outbox() == 0
    assert not (tmp_path / "mail").exists() or list((tmp_path / "mail").iterdir()) == []

    call_command("swp_expiry", "--today", "2026-06-01", stdout=io.StringIO())  # the day it is due: one e-mail
    assert send_outbox() == 1
    [written] = (tmp_path / "mail").iterdir()
    assert written.stat().st_size > 0


@pytest.mark.parametrize("bad", ["2026-13-01", "morgen", "01.06.2026"])
def test_command_with_bad_date_fails_in_german_and_writes_nothing(bad):
    _systems_due_60(1, date(2026, 6, 1), partner_count=1)
    with pytest.raises(CommandError, match="kein gültiges Datum.*JJJJ-MM-TT"):
        call_command("swp_expiry", "--today", bad)
    assert not MaintenanceNotice.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert not JobRun.objects.exists()


# --- Weekly report -------------------------------------------------------------------


def test_weekly_report_values_per_partner_and_pdf(prices, settings, send_outbox):  # noqa: F811
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

    stored = maintenance_report_weekly(today=today)
    assert stored.week == "2026-W23"  # Monday 01.06.2026 starts ISO week 23
    with stored.pdf.open("rb") as handle:
        pdf = handle.read()
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in [
        "Alpha Telefonie GmbH",
        "Beta Netze KG",
        "1.272,00 €",
        "90,40 €",
        "1.362,40 €",
        "1.200,00 €",
        expiring.identifier,
        lapsed.identifier,
        surcharge.identifier,
    ]:
        assert expected in text
    assert active.identifier not in text and gone.identifier not in text
    assert mail.outbox == []  # written to the outbox with the stored report, sent by a worker
    assert send_outbox() == 1
    (message,) = mail.outbox
    assert message.to == ["finanzen@vendor.test"]
    (name, content, mimetype) = message.attachments[0]
    assert name == "softwarepflege-bericht-2026-06-01.pdf" and mimetype == "application/pdf" and content == pdf
    assert "1.362,40 €" in message.body
    assert JobRun.objects.get(name="swp_report").ok
    assert (stored.expiring_count, stored.lapsed_count, stored.renewal_total) == (1, 2, Decimal("1362.40"))


def _report_pdf_files(settings) -> list:
    folder = settings.MEDIA_ROOT / "swp-reports"
    return sorted(folder.rglob("*.pdf")) if folder.exists() else []


def test_weekly_report_once_per_week_and_resent_byte_identical(prices, settings, send_outbox, monkeypatch):  # noqa: F811
    settings.FINANCE_EMAIL = "finanzen@vendor.test"
    system = make_system()
    book(system, start=date(2025, 7, 2), end=date(2026, 7, 1), users=10)  # 30 days left on 01.06.2026

    first = maintenance_report_weekly(today=date(2026, 6, 1))
    with first.pdf.open("rb") as handle:
        stored = handle.read()
    # A re-run on Monday and a retry on Wednesday of the same ISO week: the same report,
    # no second render, no second e-mail.
    monkeypatch.setattr(maintenance_job, "render_pdf", lambda *a, **k: pytest.fail("rendered again"))
    assert maintenance_report_weekly(today=date(2026, 6, 1)).pk == first.pk
    assert maintenance_report_weekly(today=date(2026, 6, 3)).pk == first.pk
    assert "2026-W23 besteht bereits" in JobRun.objects.filter(name="swp_report").first().summary
    assert MaintenanceWeeklyReport.objects.count() == 1 and len(_report_pdf_files(settings)) == 1
    row = OutboxMessage.objects.get(kind=maintenance_job.REPORT_KIND)
    assert row.dedup_key == "swp-report:2026-W23" and row.document == first
    assert send_outbox() == 1

    with transaction.atomic():
        again = outbox_resend(message=OutboxMessage.objects.get(pk=row.pk))
    assert again.pk != row.pk and again.document == first
    assert send_outbox() == 1
    original, resent = mail.outbox
    assert original.attachments == resent.attachments
    (name, content, mimetype) = resent.attachments[0]
    assert (name, mimetype) == ("softwarepflege-bericht-2026-06-01.pdf", "application/pdf") and content == stored
    assert original.subject == resent.subject == "Softwarepflege-Bericht vom 01.06.2026"


def test_a_second_worker_storing_the_same_week_writes_no_second_email(prices, settings):  # noqa: F811
    """Two runs both found no report for the week and both rendered: the unique week
    lets the first store it; the second keeps nothing, not even its file."""
    today = date(2026, 6, 1)
    data = maintenance_report_data(today=today)
    first, created_first = maintenance_job._report_store(data=data, pdf=b"%PDF-1.7 erster Lauf")
    second, created_second = maintenance_job._report_store(data=data, pdf=b"%PDF-1.7 zweiter Lauf")
    assert (created_first, created_second) == (True, False) and second.pk == first.pk
    assert OutboxMessage.objects.filter(kind=maintenance_job.REPORT_KIND).count() == 1
    [stored] = _report_pdf_files(settings)
    assert stored.read_bytes() == b"%PDF-1.7 erster Lauf"


def test_report_email_that_fails_is_retried_with_the_stored_pdf(  # noqa: F811
    prices, settings, clock, queued, send_outbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "licensing.tests.test_maintenance_job.FailingForOneAddress"
    settings.FINANCE_EMAIL = "kaputt@vendor.test"
    clock.set(T0)
    report = maintenance_report_weekly(today=date(2026, 6, 1))
    assert send_outbox() == 0
    row = OutboxMessage.objects.get(kind=maintenance_job.REPORT_KIND)
    assert row.sent_at is None and row.attempts == 1 and "no such user" in row.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clock.set(T0 + timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_dispatch_due().queued == 1
    assert outbox_send(message_id=row.pk, ticket=queued[-1][1]) is True
    with report.pdf.open("rb") as handle:
        assert mail.outbox[0].attachments[0][1] == handle.read()


def test_weekly_task_queues_the_report(prices, settings, send_outbox):  # noqa: F811
    from licensing.tasks.maintenance import swp_report_weekly

    swp_report_weekly.run("2026-06-01")
    swp_report_weekly.run("2026-06-01")
    assert send_outbox() == 1
    (message,) = mail.outbox
    assert message.attachments[0][0] == "softwarepflege-bericht-2026-06-01.pdf"
    assert MaintenanceCoverage.objects.count() == 0


# --- Staff see and resend both kinds ---------------------------------------------------


def staff(group_name):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def test_outbox_admin_shows_german_kind_labels_and_sales_resends_the_report(prices, client, send_outbox):  # noqa: F811
    _systems_due_60(2, date(2026, 6, 1), partner_count=1)
    maintenance_expiry_daily(today=date(2026, 6, 1))
    report = maintenance_report_weekly(today=date(2026, 6, 1))
    send_outbox()
    client.force_login(staff("sales"))
    url = reverse("admin:vendorportal_outboxmessage_changelist")

    page = client.get(url).content.decode()
    assert "Softwarepflege-Hinweise" in page and "Softwarepflege-Bericht" in page
    assert ">swp-notices<" not in page and ">swp-report<" not in page
    only_reports = client.get(url, {"kind": "swp-report"})
    assert [m.kind for m in only_reports.context["cl"].result_list] == ["swp-report"]

    row = OutboxMessage.objects.get(kind="swp-report")
    response = client.post(url, {"action": "resend", "_selected_action": [row.pk]}, follow=True)
    assert "1 E-Mail wird erneut gesendet." in response.content.decode()
    assert send_outbox() == 1
    with report.pdf.open("rb") as handle:
        assert mail.outbox[-1].attachments[0][1] == handle.read()


def test_notice_admin_shows_the_email_of_each_notice(client, send_outbox):
    _systems_due_60(1, date(2026, 6, 1), partner_count=1)
    maintenance_expiry_daily(today=date(2026, 6, 1))
    client.force_login(staff("finance"))
    page = client.get(reverse("admin:licensing_maintenancenotice_changelist")).content.decode()
    assert "Softwarepflege PBX Call Assist 5: Hinweis zu 1 System" in page  # the e-mail column
