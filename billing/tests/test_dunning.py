"""Dunning levels (issue 18) on one invoice, worked out by hand.

German order of 27.05.2025: Call Recording 4.800,00 € − 20 % = 3.840,00 €, Intercom 169,00 € −
20 % = 135,20 € → net 3.975,20 €, VAT 19 % 755,29 €, gross 4.730,49 €; due 14 days later,
10.06.2025. Overdue from 11.06.; Zahlungserinnerung on 17.06. (deadline 27.06.), 1. Mahnung on
01.07. (deadline 11.07.), letzte Mahnung on 15.07. (deadline 29.07.) with 40,00 € and interest
11.06.–30.06. 20 days at 2,27 + 9 = 11,27 % (29,212396) + 01.07.–15.07. 15 days at 1,27 + 9 =
10,27 % (19,965260) = 49,177656 → 49,18 €.
"""

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing import services
from billing.exceptions import DunningRefused
from billing.models import BaseRate, Charge, DunningNotice, DunningPause, Invoice
from billing.services.dunning import dunning_issue_due, dunning_pause, dunning_resume
from billing.tests.factories import make_order, make_partner
from vendorportal.documents import document_bytes, documents_check
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db
D = Decimal
ISSUED = date(2025, 5, 27)
DUE = date(2025, 6, 10)


@pytest.fixture
def invoice(modules, clock):
    clock.set(ISSUED)
    # 90 + 10 installed users → tier 81-150 (CAT-2).
    order = make_order(make_partner(), ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))
    invoice = services.order_confirm(order=order)
    assert (invoice.gross_total, invoice.due_date) == (D("4730.49"), DUE)
    return invoice


def run(clock, day):
    clock.set(day)
    return services.invoices_overdue()


def levels(invoice):
    return list(DunningNotice.objects.filter(invoice=invoice).order_by("level").values_list("level", "issued_on"))


def pdf_text(notice):
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(document_bytes(notice))).pages)


def test_base_rates_are_data_from_the_migration(db):
    assert list(BaseRate.objects.order_by("valid_from").values_list("valid_from", "rate_percent")) == [
        (date(2024, 1, 1), D("3.62")),
        (date(2024, 7, 1), D("3.37")),
        (date(2025, 1, 1), D("2.27")),
        (date(2025, 7, 1), D("1.27")),
        (date(2026, 1, 1), D("1.27")),  # unchanged (Bundesanzeiger 24.12.2025)
    ]


def test_base_rate_migration_keeps_what_finance_entered(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("billing.migrations.0019_base_rate_2026_first_half")
    # Finance entered 01.01.2026 by hand before the migration ran, with another figure: kept.
    BaseRate.objects.filter(valid_from=date(2026, 1, 1)).update(rate_percent=D("1.30"), source="von Hand")
    migration.forwards(apps, None)
    migration.forwards(apps, None)
    assert list(BaseRate.objects.filter(valid_from__year=2026).values_list("valid_from", "rate_percent", "source")) == [
        (date(2026, 1, 1), D("1.30"), "von Hand")
    ]
    # Missing, it is entered once however often the migration runs.
    BaseRate.objects.filter(valid_from=date(2026, 1, 1)).delete()
    migration.forwards(apps, None)
    migration.forwards(apps, None)
    assert list(BaseRate.objects.filter(valid_from__year=2026).values_list("valid_from", "rate_percent", "source")) == [
        (date(2026, 1, 1), D("1.27"), "Deutsche Bundesbank")
    ]


def test_timeline_of_one_invoice(invoice, clock, send_outbox, mailoutbox):
    send_outbox()
    mailoutbox.clear()
    assert run(clock, date(2025, 6, 11)) == services.OverdueResult(1, 0)
    assert run(clock, date(2025, 6, 16)) == services.OverdueResult(0, 0)
    assert run(clock, date(2025, 6, 17)) == services.OverdueResult(0, 1)
    assert run(clock, date(2025, 6, 30)) == services.OverdueResult(0, 0)
    assert run(clock, date(2025, 7, 1)) == services.OverdueResult(0, 0, 1)
    assert run(clock, date(2025, 7, 14)) == services.OverdueResult(0, 0, 0)
    assert run(clock, date(2025, 7, 15)) == services.OverdueResult(0, 0, 0, 1)
    assert run(clock, date(2025, 8, 30)) == services.OverdueResult(0, 0)  # nothing after the letzte Mahnung
    assert levels(invoice) == [(1, date(2025, 6, 17)), (2, date(2025, 7, 1)), (3, date(2025, 7, 15))]

    reminder, first, final = DunningNotice.objects.filter(invoice=invoice).order_by("level")
    assert [n.deadline for n in (reminder, first, final)] == [date(2025, 6, 27), date(2025, 7, 11), date(2025, 7, 29)]
    assert [(n.fee, n.interest) for n in (reminder, first)] == [(D("0.00"), D("0.00"))] * 2
    assert (final.open_amount, final.fee, final.interest) == (D("4730.49"), D("40.00"), D("49.18"))
    assert final.interest_spans == [
        ["2025-06-11", "2025-06-30", 20, "2.27", "11.27"],
        ["2025-07-01", "2025-07-15", 15, "1.27", "10.27"],
    ]
    # Fee and interest wait as charges for the next invoicing run (billing.Charge), once each.
    charges = sorted(Charge.objects.values_list("kind", "amount", "source_invoice", "dedup_key", "billed_on"))
    assert charges == [
        ("default_interest", D("49.18"), invoice.pk, f"default-interest:{final.pk}", None),
        ("dunning_fee", D("40.00"), invoice.pk, f"dunning-fee:{final.pk}", None),
    ]
    assert final.charged_at is not None
    invoice.refresh_from_db()
    assert invoice.state == "overdue" and invoice.reminder_sent_at is not None
    # The invoice's own open amount is untouched by fee and interest.
    assert services.payments.selectors.invoice_amount_due(invoice) == D("4730.49")

    assert send_outbox() == 3
    subjects = [m.subject for m in mailoutbox]
    assert subjects == [
        "Zahlungserinnerung: Rechnung RE-2025-000001",
        "1. Mahnung: Rechnung RE-2025-000001",
        "letzte Mahnung: Rechnung RE-2025-000001",
    ]
    last = mailoutbox[2]
    assert last.to == ["buchhaltung@muster.test"]
    assert [a[0] for a in last.attachments] == ["Letzte-Mahnung-RE-2025-000001.pdf", "RE-2025-000001.pdf"]
    assert "Mahnpauschale: 40,00 €; Verzugszinsen bis 15.07.2025: 49,18 €" in last.body
    assert "bis spätestens 29.07.2025" in last.body

    text = pdf_text(DunningNotice.objects.get(pk=final.pk))
    for expected in (
        "letzte Mahnung",
        "RE-2025-000001",
        "4.730,49 €",
        "40,00 €",
        "49,18 €",
        "4.819,67 €",  # 4.730,49 + 40,00 + 49,18
        "11.06.2025",
        "15.07.2025",
        "35 Tage",
        "29.07.2025",
        "Registergericht",  # the legal footer of every document
    ):
        assert expected in text, expected
    first_text = pdf_text(DunningNotice.objects.get(pk=first.pk))
    assert "1. Mahnung" in first_text and "11.07.2025" in first_text and "Mahnpauschale (§" not in first_text
    # The letters prove themselves like the other issued documents (GoBD), and are never changed.
    assert not documents_check().problems
    final.fee = D("0.00")
    with pytest.raises(DunningRefused, match="nicht mehr geändert"):
        final.save()
    with pytest.raises(DunningRefused, match="nie gelöscht"):
        final.delete()


def test_pause_stops_dunning_and_resume_goes_on_from_the_last_level(invoice, clock, django_user_model):
    finance = django_user_model.objects.create(username="fin")
    run(clock, date(2025, 6, 17))
    assert levels(invoice) == [(1, date(2025, 6, 17))]
    pause = dunning_pause(invoice=invoice, reason="Partner hat Reklamation gemeldet", by=finance)
    assert dunning_pause(invoice=invoice, reason="nochmal", by=finance).pk == pause.pk  # once
    for day in (date(2025, 7, 1), date(2025, 7, 15), date(2025, 8, 1)):
        run(clock, day)
    assert levels(invoice) == [(1, date(2025, 6, 17))]  # no further level while paused
    dunning_resume(pause=pause, reason="Reklamation geklärt", by=finance)
    with pytest.raises(DunningRefused, match="bereits beendet"):
        dunning_resume(pause=pause, reason="x", by=finance)
    run(clock, date(2025, 8, 2))
    assert levels(invoice) == [(1, date(2025, 6, 17)), (2, date(2025, 8, 2))]
    # A partner-wide pause holds it as well, and the history keeps both pauses.
    partner_pause = dunning_pause(partner=invoice.partner, reason="Ratenzahlung vereinbart", by=finance)
    run(clock, date(2025, 8, 20))
    assert len(levels(invoice)) == 2
    history = list(DunningPause.objects.order_by("paused_at", "pk").values_list("reason", "resume_reason"))
    assert history == [("Partner hat Reklamation gemeldet", "Reklamation geklärt"), ("Ratenzahlung vereinbart", "")]
    assert partner_pause.paused_by == finance
    with pytest.raises(DunningRefused, match="Grund"):
        dunning_pause(invoice=invoice, reason="  ", by=finance)


def test_two_runs_the_same_day_write_each_level_once(invoice, clock):
    for day, level in ((date(2025, 6, 17), 1), (date(2025, 7, 1), 2), (date(2025, 7, 15), 3)):
        first = run(clock, day)
        second = run(clock, day)
        assert (first.reminders, first.first_notices, first.final_notices)[level - 1] == 1
        assert (second.reminders, second.first_notices, second.final_notices) == (0, 0, 0)
    assert DunningNotice.objects.filter(invoice=invoice).count() == 3
    assert OutboxMessage.objects.filter(kind="dunning-notice").count() == 3
    assert Charge.objects.count() == 2  # fee and interest of the one letzte Mahnung


def test_a_second_worker_that_decided_before_the_first_committed_writes_nothing(invoice, clock, monkeypatch):
    from billing.services import dunning

    run(clock, date(2025, 6, 17))
    # A worker that read "level 1 is due" before the other's commit (no row lock: SQLite): the
    # unique (invoice, level) constraint refuses its row, and with it its e-mail.
    monkeypatch.setattr(dunning, "_next_level", lambda invoice, today: 1)
    assert sum(dunning_issue_due().issued.values()) == 0
    assert DunningNotice.objects.filter(invoice=invoice).count() == 1
    assert OutboxMessage.objects.filter(kind="dunning-notice").count() == 1


def test_paid_invoice_gets_no_level(invoice, clock):
    clock.set(date(2025, 6, 12))
    services.payment_record(invoice=invoice, amount=D("4730.49"), paid_on=date(2025, 6, 12))
    run(clock, date(2025, 6, 17))
    assert not DunningNotice.objects.exists()


def test_job_summary_warns_when_the_base_rate_is_stale(invoice, clock):
    from billing.tasks import invoices_overdue_daily
    from vendorportal.models import JobRun

    clock.set(date(2026, 6, 30))  # the rate of 01.01.2026 covers this half-year: no warning
    invoices_overdue_daily()
    summary = JobRun.objects.filter(name="invoices-overdue").first().summary
    assert summary.startswith("überfällig markiert: 1; Zahlungserinnerungen: 1; 1. Mahnungen: 0; letzte Mahnungen: 0")
    assert "Basiszinssatz" not in summary
    clock.set(date(2026, 7, 2))  # the newest rate (01.01.2026) is older than this half-year
    invoices_overdue_daily()
    summary = JobRun.objects.filter(name="invoices-overdue").first().summary
    assert "Basiszinssatz ist älter als das laufende Halbjahr" in summary
    assert summary.startswith("überfällig markiert: 0; Zahlungserinnerungen: 0; 1. Mahnungen: 0; letzte Mahnungen: 0")


def _invoice_on(clock, day):
    clock.set(day)
    order = make_order(make_partner(), ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))
    return services.order_confirm(order=order)


def test_interest_across_1_january_2026_uses_the_rate_entered_for_it(modules, clock):
    # 4.730,49 € (as above) ordered 26.11.2025, due 10.12.2025; Zahlungserinnerung 17.12.2025,
    # 1. Mahnung 31.12.2025, letzte Mahnung 14.01.2026. Interest 11.12.2025–14.01.2026, split at
    # 1 January though the rate stayed 1,27 % (+ 9 = 10,27 %):
    # 21 days: 4.730,49 × 0,1027 × 21 / 365 = 27,951364…; 14 days: × 14 / 365 = 18,634242…;
    # sum 46,585606… → 46,59 €.
    invoice = _invoice_on(clock, date(2025, 11, 26))
    assert (invoice.gross_total, invoice.due_date) == (D("4730.49"), date(2025, 12, 10))
    for day in (date(2025, 12, 17), date(2025, 12, 31)):
        run(clock, day)
    result = run(clock, date(2026, 1, 14))
    assert result.final_notices == 1 and not result.held
    final = DunningNotice.objects.get(invoice=invoice, level=3)
    assert final.interest_spans == [
        ["2025-12-11", "2025-12-31", 21, "1.27", "10.27"],
        ["2026-01-01", "2026-01-14", 14, "1.27", "10.27"],
    ]
    assert (final.fee, final.interest) == (D("40.00"), D("46.59"))


def test_letzte_mahnung_reaching_past_1_july_2026_waits_for_that_rate(modules, clock):
    # The rate from 01.07.2026 is not entered (not known yet). Ordered 27.05.2026, due 10.06.2026:
    # Zahlungserinnerung 17.06., 1. Mahnung 01.07., letzte Mahnung due 15.07.2026 — its interest
    # period (11.06.–15.07.2026) reaches into the second half-year, so it waits.
    invoice = _invoice_on(clock, date(2026, 5, 27))
    assert invoice.due_date == date(2026, 6, 10)
    run(clock, date(2026, 6, 17))
    run(clock, date(2026, 7, 1))
    result = run(clock, date(2026, 7, 15))
    assert result.final_notices == 0 and "01.07.2026" in result.held[0]
    assert levels(invoice) == [(1, date(2026, 6, 17)), (2, date(2026, 7, 1))]
    assert not Charge.objects.exists()
    # Finance enters the rate (a test value, not the Bundesbank's): written on the next run.
    # Interest 11.06.–30.06.2026, 20 days at 1,27 + 9 = 10,27 %: 4.730,49 × 0,1027 × 20 / 365 =
    # 26,620345…; 01.07.–16.07.2026, 16 days at 1,00 + 9 = 10,00 %: 4.730,49 × 0,10 × 16 / 365 =
    # 20,736394…; sum 47,356739… → 47,36 €.
    BaseRate.objects.create(valid_from=date(2026, 7, 1), rate_percent=D("1.00"))
    assert run(clock, date(2026, 7, 16)).final_notices == 1
    assert DunningNotice.objects.get(invoice=invoice, level=3).interest == D("47.36")


def test_a_credit_note_cannot_be_paused(invoice, clock):
    note = services.credit_note_issue(invoice=invoice, lines=[(invoice.lines.last(), 1)], reason="Intercom")
    with pytest.raises(DunningRefused, match="Rechnungskorrekturen"):
        dunning_pause(invoice=note, reason="x")
    assert Invoice.objects.get(pk=invoice.pk).state == "open"
