"""Billable support time on the monthly invoice (SUP-5 through the INV-3 run): the run of
December bills the time worked in November, on the partner's one invoice with its
subscriptions, each time entry once."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.models import Invoice
from billing.services.invoicing import invoicing_run
from billing.tests.factories import make_subscription
from support import rules, services
from support.models import TimeEntry
from support.tests.factories import PartnerUserFactory, make_rates
from vendorportal.parties.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def partner_with_time(catalog, clock):
    clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=BERLIN))
    partner = PartnerUserFactory().partner
    ticket = services.ticket_open(
        partner=partner,
        kind=rules.FEATURE_REQUEST,
        subject="Anrufliste exportieren",
        body="Bitte prüfen.",
        contact_email="technik@partner.test",
    )
    staff = UserFactory(is_staff=True)
    services.time_entry_add(ticket=ticket, staff=staff, worked_on=date(2026, 11, 3), minutes=20)
    services.time_entry_add(ticket=ticket, staff=staff, worked_on=date(2026, 11, 10), minutes=25)
    services.time_entry_add(ticket=ticket, staff=staff, worked_on=date(2026, 12, 1), minutes=30)  # next month's run
    make_subscription(partner, monthly_price="44.75", term_start=date(2026, 12, 1))
    return partner, ticket


def test_december_run_bills_novembers_time_with_the_subscription_once(partner_with_time, clock):
    partner, ticket = partner_with_time
    make_rates(normal="120.00", discounted="96.00")
    clock.set(datetime(2026, 12, 1, 3, 0, tzinfo=BERLIN))
    result = invoicing_run(month=date(2026, 12, 1), render_pdf=False)
    assert not result.failed
    invoice = Invoice.objects.get(partner=partner)
    lines = list(invoice.lines.order_by("position"))
    # Subscription December: 1 × 44,75 €; support 20 + 25 = 45 min → 0,75 h × 120,00 € = 90,00 €.
    assert [(line.unit, line.quantity, line.net_total) for line in lines] == [
        ("MON", Decimal("1.00"), Decimal("44.75")),
        ("HUR", Decimal("0.75"), Decimal("90.00")),
    ]
    assert ticket.number in lines[1].description
    assert (lines[1].period_start, lines[1].period_end) == (date(2026, 11, 3), date(2026, 11, 10))
    # 134,75 € net; 19 % = 25,6025 → 25,60 €; gross 160,35 €.
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        Decimal("134.75"),
        Decimal("25.60"),
        Decimal("160.35"),
    )
    november = TimeEntry.objects.filter(worked_on__month=11)
    assert {entry.invoice_line_id for entry in november} == {lines[1].pk}
    assert TimeEntry.objects.get(worked_on=date(2026, 12, 1)).invoice_line_id is None

    again = invoicing_run(month=date(2026, 12, 1), render_pdf=False)
    assert again.invoices == [] and Invoice.objects.filter(partner=partner).count() == 1


def test_without_an_hourly_rate_the_subscription_is_billed_and_the_time_waits(partner_with_time, clock):
    partner, _ticket = partner_with_time
    clock.set(datetime(2026, 12, 1, 3, 0, tzinfo=BERLIN))
    result = invoicing_run(month=date(2026, 12, 1), render_pdf=False)
    assert not result.failed
    invoice = Invoice.objects.get(partner=partner)
    assert [line.unit for line in invoice.lines.all()] == ["MON"]
    assert not TimeEntry.objects.filter(invoice_line__isnull=False).exists()
