"""Staff admin of invoices, credit notes and payments, per staff group: finance credits,
records payments and resends; sales confirms orders and views invoices; support views.
Issued documents are read-only for everyone."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing import services
from billing.models import Invoice, Order
from billing.tests.factories import make_order, make_partner
from licensing.tests.factories import UserFactory
from vendorportal import roles
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db
D = Decimal
GROUPS = [roles.SALES, roles.FINANCE, roles.SUPPORT]


def staff_client(client, group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


@pytest.fixture
def invoice(modules, clock):
    clock.set(date(2026, 11, 21))
    # Call Recording 81-150: 4.800,00 € − 20 % = 3.840,00 €; Intercom 169,00 € − 20 % = 135,20 €;
    # net 3.975,20 €, VAT 755,29 €, gross 4.730,49 €.
    order = make_order(make_partner(), ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))
    return services.order_confirm(order=order)


@pytest.mark.parametrize("group_name", GROUPS)
def test_every_group_sees_invoices_read_only_with_lines(client, invoice, group_name):
    c = staff_client(client, group_name)
    page = c.get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert "RE-2026-000001" in page and "4.730,49 €" in page
    detail = c.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()
    assert "Call Recording, Staffel 81-150 Benutzer, Kauf" in detail and "3840,00" in detail.replace(".", "")
    assert 'name="_save"' not in detail  # read-only: no save button
    assert c.post(reverse("admin:billing_invoice_delete", args=[invoice.pk]), {"post": "yes"}).status_code == 403
    assert Invoice.objects.count() == 1


@pytest.mark.parametrize("group_name", GROUPS)
def test_every_group_downloads_the_stored_pdf_byte_for_byte(client, invoice, group_name):
    response = staff_client(client, group_name).get(reverse("admin:billing_invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    invoice.refresh_from_db()  # the download rendered and stored it (the on_commit did not run)
    with invoice.pdf.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


def test_pdf_of_an_unknown_invoice_is_404_and_anonymous_is_sent_to_login(client, invoice):
    assert staff_client(client, roles.FINANCE).get(reverse("admin:billing_invoice_pdf", args=[9999])).status_code == 404
    client.logout()
    assert client.get(reverse("admin:billing_invoice_pdf", args=[invoice.pk])).status_code == 302


def test_filters_by_state_kind_and_month(client, invoice):
    c = staff_client(client, roles.FINANCE)
    url = reverse("admin:billing_invoice_changelist")
    assert "RE-2026-000001" in c.get(url, {"state": "open", "kind": "invoice", "month": "2026-11"}).content.decode()
    assert "RE-2026-000001" not in c.get(url, {"month": "2026-10"}).content.decode()


@pytest.mark.parametrize("group_name,status", [(roles.FINANCE, 200), (roles.SALES, 403), (roles.SUPPORT, 403)])
def test_credit_note_page_per_group(client, invoice, group_name, status):
    url = reverse("admin:billing_invoice_credit_note", args=[invoice.pk])
    c = staff_client(client, group_name)
    assert c.get(url).status_code == status
    response = c.post(url, {"reason": "Irrtum", "scope": "all"})
    assert response.status_code == (302 if status == 200 else 403)
    assert Invoice.objects.filter(kind="credit_note").count() == (1 if status == 200 else 0)


def test_finance_credits_chosen_lines(client, invoice):
    intercom = invoice.lines.get(article="INTERCOM")
    c = staff_client(client, roles.FINANCE)
    url = reverse("admin:billing_invoice_credit_note", args=[invoice.pk])
    page = c.post(url, {"reason": "zu viel", "scope": "lines", f"qty_{intercom.pk}": "2"}).content.decode()
    assert "höchstens noch 1, nicht 2" in page  # a form error, not a 500
    response = c.post(url, {"reason": "Intercom nicht benötigt", "scope": "lines", f"qty_{intercom.pk}": "1"})
    note = Invoice.objects.get(kind="credit_note")
    assert response.status_code == 302
    # 135,20 € + 19 % (25,69 €) = 160,89 €.
    assert (note.number, note.gross_total, note.reason) == ("GS-2026-000001", D("160.89"), "Intercom nicht benötigt")
    assert c.get(reverse("admin:billing_invoice_credit_note", args=[note.pk])).status_code == 404  # not of a note


@pytest.mark.parametrize("group_name,status", [(roles.FINANCE, 200), (roles.SALES, 403), (roles.SUPPORT, 403)])
def test_payment_page_per_group(client, invoice, group_name, status):
    url = reverse("admin:billing_invoice_payment", args=[invoice.pk])
    c = staff_client(client, group_name)
    assert c.get(url).status_code == status
    c.post(url, {"amount": "4730.49", "paid_on": "2026-11-21", "token": "t-1"})
    invoice.refresh_from_db()
    assert invoice.state == ("paid" if status == 200 else "open")


def test_overpayment_is_a_form_error(client, invoice):
    c = staff_client(client, roles.FINANCE)
    url = reverse("admin:billing_invoice_payment", args=[invoice.pk])
    page = c.post(url, {"amount": "5000.00", "paid_on": "2026-11-21", "token": "t-1"}).content.decode()
    assert "Offen sind noch 4.730,49 €" in page


def test_the_same_payment_form_posted_twice_records_one_payment(client, invoice):
    # A partial payment of 1.000,00 € on 4.730,49 €, the button clicked twice: one payment,
    # 3.730,49 € still open, and the second post says it was recorded already.
    c = staff_client(client, roles.FINANCE)
    url = reverse("admin:billing_invoice_payment", args=[invoice.pk])
    form = c.get(url).context["form"]
    token = form.initial["token"]
    assert len(token) == 32
    data = {"amount": "1000.00", "paid_on": "2026-11-21", "token": token}
    first = c.post(url, data, follow=True).content.decode()
    second = c.post(url, data, follow=True).content.decode()
    assert "Zahlung über 1.000,00 € auf RE-2026-000001 erfasst" in first
    assert "war schon erfasst" in second
    invoice.refresh_from_db()
    assert (invoice.payments.count(), invoice.paid_amount, invoice.state) == (1, D("1000.00"), "open")
    # A new form (a new token) records the next payment.
    c.post(url, {"amount": "3730.49", "paid_on": "2026-11-21", "token": c.get(url).context["form"].initial["token"]})
    invoice.refresh_from_db()
    assert (invoice.payments.count(), invoice.paid_amount, invoice.state) == (2, D("4730.49"), "paid")


def test_a_payment_form_without_its_token_changes_nothing(client, invoice):
    c = staff_client(client, roles.FINANCE)
    url = reverse("admin:billing_invoice_payment", args=[invoice.pk])
    assert c.post(url, {"amount": "1000.00", "paid_on": "2026-11-21"}).status_code == 200  # the form again
    assert invoice.payments.count() == 0


@pytest.mark.parametrize(
    "group_name,action,allowed",
    [
        (roles.FINANCE, "resend_action", True),
        (roles.SALES, "resend_action", False),
        (roles.SUPPORT, "resend_action", False),
        (roles.FINANCE, "credit_note_action", True),
        (roles.SALES, "credit_note_action", False),
        (roles.SUPPORT, "payment_action", False),
        (roles.FINANCE, "payment_action", True),
    ],
)
def test_actions_per_group(client, invoice, send_outbox, group_name, action, allowed):
    send_outbox()  # the first e-mail went out: a resend writes a new row
    before = OutboxMessage.objects.count()
    response = staff_client(client, group_name).post(
        reverse("admin:billing_invoice_changelist"), {"action": action, "_selected_action": [invoice.pk]}
    )
    if action == "resend_action":
        assert OutboxMessage.objects.count() == before + (1 if allowed else 0)
    elif allowed:  # credit note and payment open their page for the one invoice
        assert response.status_code == 302 and f"/{invoice.pk}/" in response["Location"]
    else:  # not offered: Django shows the list again, nothing happens
        assert f"/{invoice.pk}/" not in response.get("Location", "")
        assert OutboxMessage.objects.count() == before


def test_resend_sends_again_when_the_first_was_sent(client, invoice, send_outbox):
    send_outbox()
    c = staff_client(client, roles.FINANCE)
    c.post(reverse("admin:billing_invoice_changelist"), {"action": "resend_action", "_selected_action": [invoice.pk]})
    assert OutboxMessage.objects.filter(dedup_key=f"invoice:{invoice.pk}:resend-1").exists()


@pytest.mark.parametrize("group_name,confirmed", [(roles.SALES, True), (roles.FINANCE, False), (roles.SUPPORT, False)])
def test_confirm_order_action_per_group(client, modules, clock, group_name, confirmed):
    clock.set(date(2026, 11, 21))
    order = make_order(make_partner(), ("INTERCOM", "purchase", 0))
    staff_client(client, group_name).post(
        reverse("admin:billing_order_changelist"), {"action": "confirm_selected", "_selected_action": [order.pk]}
    )
    order.refresh_from_db()
    assert order.state == ("fulfilled" if confirmed else "draft")
    assert Invoice.objects.filter(order=order).count() == (1 if confirmed else 0)
    assert Order.objects.count() == 1
