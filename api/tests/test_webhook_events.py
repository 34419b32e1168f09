"""Webhook events written by the services that cause them (issue 19), exactly once, in their
transaction: an order confirmed, its keys, its delivery note sent, its invoice; a payment; the
overdue job; a notice and the end of a subscription; the Softwarepflege job; a staff reply.

Amounts by hand (seed 001 price list, the factory partner's 20 % conditions): Call Recording
81-150 4.800,00 € − 20 % = 3.840,00 €; Intercom 169,00 € − 20 % = 135,20 €; net 3.975,20 €;
VAT 19 % = 755,288 → 755,29 €; gross 4.730,49 €.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from billing import services as billing_services
from billing.models import Subscription
from billing.tests.factories import make_order, make_partner
from licensing.services.maintenance_job import maintenance_expiry_run
from licensing.tests.factories import CustomerFactory, InstallationFactory, book, make_system
from support import services as support_services
from vendorportal.parties.tests.factories import PartnerUserFactory, UserFactory
from vendorportal.webhooks.constants import EVENTS
from vendorportal.webhooks.models import WebhookDelivery, WebhookEvent
from vendorportal.webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def hooked(partner):
    """An endpoint that wants every event."""
    return webhook_endpoint_create(partner=partner, url="https://erp.muster.example/hooks", events=EVENTS).endpoint


def events(kind=None):
    rows = WebhookEvent.objects.order_by("pk")
    return list(rows.filter(type=kind) if kind else rows)


def kinds():
    return [e.type for e in events()]


@pytest.fixture
def order(modules, clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner()
    hooked(partner)
    return make_order(partner, ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))


def test_confirming_an_order_emits_its_events_once(order, send_outbox):
    invoice = billing_services.order_confirm(order=order)
    assert kinds() == ["license.issued", "license.issued", "invoice.issued", "order.confirmed"]
    issued = events("invoice.issued")[0].payload
    assert (issued["number"], issued["net_total"], issued["vat_total"], issued["gross_total"]) == (
        invoice.number,
        "3975.20",
        "755.29",
        "4730.49",
    )
    assert issued["state"] == "open" and issued["order_id"] == order.pk
    confirmed = events("order.confirmed")[0].payload
    assert (confirmed["reference"], confirmed["invoice_number"], confirmed["gross_total"]) == (
        order.reference,
        invoice.number,
        "4730.49",
    )
    assert sorted(e.payload["article"] for e in events("license.issued")) == ["CALLREC", "INTERCOM"]
    assert all("key" not in e.payload for e in events("license.issued"))  # key texts only through the API
    # Confirming again (a double click) changes nothing.
    assert billing_services.order_confirm(order=order).pk == invoice.pk
    assert len(events()) == 4 and WebhookDelivery.objects.count() == 4
    # The outbox sends the delivery note (then the invoice): one delivery_note.sent.
    send_outbox()
    sent = events("delivery_note.sent")
    assert len(sent) == 1 and sent[0].payload["number"].startswith("LS-2026-")
    assert sent[0].payload["recipients"] == ["technik@muster.test"]


def test_a_rolled_back_confirmation_emits_nothing(order):
    with pytest.raises(RuntimeError), transaction.atomic():
        billing_services.order_confirm(order=order)
        raise RuntimeError("the transaction around the confirmation fails")
    assert events() == [] and not WebhookDelivery.objects.exists()


def test_invoice_paid_once_when_fully_paid_and_overdue_once(order, clock):
    invoice = billing_services.order_confirm(order=order)
    billing_services.payment_record(invoice=invoice, amount="1000.00", paid_on=date(2026, 11, 21))
    assert events("invoice.paid") == []  # 3.730,49 € still open
    day_after_due = invoice.due_date + timedelta(days=1)
    clock.set(day_after_due)
    billing_services.invoices_overdue()
    billing_services.invoices_overdue()  # the daily job again: nothing new
    (overdue,) = events("invoice.overdue")
    assert (overdue.payload["state"], overdue.payload["paid_amount"]) == ("overdue", "1000.00")
    billing_services.payment_record(invoice=invoice, amount="3730.49", paid_on=day_after_due)
    (paid,) = events("invoice.paid")
    assert (paid.payload["state"], paid.payload["paid_amount"]) == ("paid", "4730.49")


def test_notice_and_end_of_a_subscription(modules, clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner(status_confirmed_on=None)
    hooked(partner)
    order = billing_services.order_create(partner=partner)
    from licensing.models import Product

    billing_services.order_line_add(
        order=order,
        installation=InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=30),
        product=Product.objects.get(article="CALLREC"),
        kind="subscription",
        term_months=24,
    )
    billing_services.order_confirm(order=order)
    sub = Subscription.objects.get()
    clock.set(date(2027, 3, 1))
    billing_services.subscription_give_notice(subscription=sub, notice_on=date(2027, 3, 1))
    # SUB-5: term 01.12.2026 … minimum end 30.11.2028; notice on 01.03.2027 ends it then.
    (ending,) = events("subscription.ending")
    assert (ending.payload["reference"], ending.payload["ends_on"]) == (sub.reference, "2028-11-30")
    clock.set(datetime(2028, 12, 1, 3, 0, tzinfo=BERLIN))
    assert billing_services.subscriptions_end_keys_block() == 1
    assert billing_services.subscriptions_end_keys_block() == 0
    (ended,) = events("subscription.ended")
    assert ended.payload["ends_on"] == "2028-11-30"


def test_the_softwarepflege_job_emits_one_event_per_notice(db):
    today = date(2026, 6, 1)
    partner = make_partner()
    hooked(partner)
    expiring = make_system(customer=CustomerFactory(partner=partner))
    book(expiring, start=date(2025, 8, 1), end=today + timedelta(days=45), users=5)  # within 60 days
    lapsed = make_system(customer=CustomerFactory(partner=partner))
    book(lapsed, start=date(2025, 5, 1), end=today - timedelta(days=1), users=5)  # ended yesterday
    maintenance_expiry_run(today=today)
    maintenance_expiry_run(today=today)  # a re-run the same day writes nothing
    by_kind = {e.type: e.payload for e in events()}
    assert len(events()) == 2
    assert by_kind["maintenance.expiring"]["identifier"] == expiring.identifier
    assert by_kind["maintenance.expiring"]["coverage_end"] == "2026-07-16"
    assert by_kind["maintenance.lapsed"]["identifier"] == lapsed.identifier


def test_a_staff_reply_emits_ticket_replied_a_note_or_partner_reply_does_not(modules):
    login = PartnerUserFactory(user__email="technik@partner.test")
    hooked(login.partner)
    ticket = support_services.ticket_open(
        partner=login.partner, by=login.user, kind="feature", subject="Idee", body="Bitte Export als CSV."
    )
    staff = UserFactory(is_staff=True)
    support_services.ticket_reply(ticket=ticket, by=staff, body="Notiz", from_staff=True, internal=True)
    support_services.ticket_reply(ticket=ticket, by=login.user, body="Noch etwas", from_staff=False)
    assert events() == []
    message = support_services.ticket_reply(ticket=ticket, by=staff, body="Ist eingeplant.", from_staff=True)
    (replied,) = events("ticket.replied")
    assert (replied.payload["number"], replied.payload["message_id"]) == (ticket.number, message.pk)


def test_a_partner_without_endpoints_gets_no_event_rows(modules, clock):
    clock.set(date(2026, 11, 21))
    billing_services.order_confirm(order=make_order(make_partner(), ("INTERCOM", "purchase", 0)))
    assert events() == []


def test_the_monthly_run_emits_invoice_issued_for_a_partner_with_webhooks_only(catalog, clock):
    from billing.services import invoicing
    from billing.tests.factories import make_subscription

    december = date(2026, 12, 1)
    hooked_partner, quiet_partner = make_partner(company="Mit Webhook GmbH"), make_partner(company="Ohne GmbH")
    hooked(hooked_partner)
    for partner in (hooked_partner, quiet_partner):
        make_subscription(partner, article="CALLREC", monthly_price="44.75", term_start=december)
    clock.set(december)
    result = invoicing.invoicing_run(month=december)
    assert len(result.invoices) == 2
    (issued,) = events("invoice.issued")
    # 44,75 € net, VAT 19 % = 8,5025 → 8,50 €, gross 53,25 € (GEN-2).
    assert (issued.partner_id, issued.payload["net_total"], issued.payload["gross_total"]) == (
        hooked_partner.pk,
        "44.75",
        "53.25",
    )
