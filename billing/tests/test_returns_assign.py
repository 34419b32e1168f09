"""Finance assigns a returned direct debit that the import could not match (issue 18).

Hand-worked on test_returns' data: RE-2026-000004 (19,73 €) collected by direct debit on
15.12.2026 and paid by the collection's credit. The statement of 18.12.2026 brings a return MD06
of 19,73 € whose end-to-end id the bank lost ("NOTPROVIDED") and whose text names no invoice: it
waits. Finance assigns it to RE-2026-000004 → the 19,73 € payment reversed, the invoice open by
transfer due 18.12. + 7 = 25.12.2026, the fee 3,00 € (SEPA_RETURN_FEE) a charge, the mandate
suspended (MD06), the partner's e-mail, the debit marked returned — as an automatic match.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import rules, selectors, services
from billing.constants import DEBIT_RETURN_KIND
from billing.exceptions import InvoiceRefused
from billing.models import BankEntry, Charge, Invoice, Payment, SepaBatchItem, SepaMandate
from billing.services.bank import bank_statement_import
from billing.services.returns import debit_return_assign
from billing.tests.test_bank_statement import statement08
from billing.tests.test_returns import collected, ret, snapshot, staff_client  # noqa: F401  (fixture)
from licensing.tests.factories import UserFactory
from vendorportal import roles
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db
D = Decimal


def waiting_return(ref="LOST-1", code="MD06", amount="19.73", stmt="2026-12-18-009"):
    bank_statement_import(
        content=statement08(ret(ref, "NOTPROVIDED", code, amount=amount), stmt_id=stmt), file_name=f"{ref}.xml"
    )
    entry = BankEntry.objects.get(reference=ref)
    assert entry.state == BankEntry.UNMATCHED and "keine eigene Lastschrift gefunden" in entry.note
    return entry


def test_assigned_return_is_booked_like_a_matched_one(collected):  # noqa: F811
    entry = waiting_return()
    # Waiting, nothing happened yet: still paid, no charge, no e-mail.
    assert Invoice.objects.get(number="RE-2026-000004").state == "paid"
    assert not Charge.objects.exists() and not OutboxMessage.objects.filter(kind=DEBIT_RETURN_KIND).exists()
    finance = UserFactory(username="buchhaltung")

    done = debit_return_assign(entry=entry, invoice_number=" re-2026-000004 ", by=finance)

    assert (done.number, done.reversed_amount, done.fee, done.mandate_suspended) == (
        "RE-2026-000004",
        D("19.73"),
        D("3.00"),
        True,
    )
    entry.refresh_from_db()
    assert entry.state == BankEntry.RETURNED
    assert "Von Hand zugeordnet am 18.12.2026 von buchhaltung: Rücklastschrift MD06" in entry.note
    assert list(entry.invoices.values_list("number", flat=True)) == ["RE-2026-000004"]
    payment = Payment.objects.get(invoice__number="RE-2026-000004")
    assert (payment.reversed_on, payment.reversal_entry) == (date(2026, 12, 18), entry)
    invoice = Invoice.objects.get(number="RE-2026-000004")
    assert (invoice.state, invoice.paid_amount, invoice.payment_means, invoice.due_date) == (
        "open",
        D("0.00"),
        rules.TRANSFER,
        date(2026, 12, 25),
    )
    assert selectors.invoice_amount_due(invoice) == D("19.73")
    charge = Charge.objects.get()
    assert (charge.kind, charge.amount, charge.source_invoice, charge.created_by) == (
        Charge.RETURN_FEE,
        D("3.00"),
        invoice,
        finance,
    )
    mandate = SepaMandate.objects.get(partner=collected)
    assert mandate.suspended_on == date(2026, 12, 18) and "MD06" in mandate.suspended_reason
    assert SepaBatchItem.objects.get(end_to_end_id="RE-2026-000004").return_entry == entry
    mail = OutboxMessage.objects.get(kind=DEBIT_RETURN_KIND)
    assert mail.subject == "Rücklastschrift zu Rechnung RE-2026-000004: bitte überweisen bis 25.12.2026"


def test_wrong_choices_are_refused_in_german_and_change_nothing(collected):  # noqa: F811
    entry = waiting_return()
    before = snapshot()
    for number, message in (
        ("RE-2099-000001", "Eine Rechnung RE-2099-000001 gibt es nicht."),
        ("RE-2026-000001", "Rechnung RE-2026-000001 wurde nicht per SEPA-Lastschrift eingezogen"),
        ("", "Eine Rechnung  gibt es nicht."),
    ):
        with pytest.raises(InvoiceRefused) as exc:
            debit_return_assign(entry=entry, invoice_number=number)
        assert message in exc.value.message
    assert snapshot() == before

    # The debtor's account is a mandate of another partner: that partner's return, not Beispiel's.
    other = Invoice.objects.get(number="RE-2026-000001").partner
    services.sepa_mandate_enter(
        partner=other,
        account_holder=other.company,
        iban="DE02120300000000202051",  # the account the return names (test_bank_statement.entry08)
        bic="",
        signed_on=date(2026, 12, 1),
        token="form-other",
    )
    before = snapshot()
    with pytest.raises(InvoiceRefused) as exc:
        debit_return_assign(entry=entry, invoice_number="RE-2026-000004")
    assert exc.value.message == (
        "Die Rücklastschrift kommt vom Konto DE02 1203 0000 0000 2020 51 eines anderen Partners; "
        "Rechnung RE-2026-000004 gehört Beispiel IT-Service GmbH."
    )
    assert snapshot() == before


def test_a_debit_that_came_back_already_cannot_take_a_second_return(collected):  # noqa: F811
    first = waiting_return()
    debit_return_assign(entry=first, invoice_number="RE-2026-000004")
    second = waiting_return(ref="LOST-2", stmt="2026-12-18-010")
    before = snapshot()
    with pytest.raises(InvoiceRefused) as exc:
        debit_return_assign(entry=second, invoice_number="RE-2026-000004")
    assert (
        exc.value.message
        == "Die Lastschrift zu RE-2026-000004 kam bereits mit dem Umsatz LOST-1 vom 18.12.2026 zurück."
    )
    # The first one is done: assigning it again is refused too.
    with pytest.raises(InvoiceRefused) as exc:
        debit_return_assign(entry=first, invoice_number="RE-2026-000004")
    assert "keine offene Rücklastschrift" in exc.value.message
    assert snapshot() == before


def test_a_return_smaller_than_the_debit_is_refused(collected):  # noqa: F811
    entry = waiting_return(amount="10.00")
    before = snapshot()
    with pytest.raises(InvoiceRefused) as exc:
        debit_return_assign(entry=entry, invoice_number="RE-2026-000004")
    assert exc.value.message == (
        "Die Lastschrift zu RE-2026-000004 über 19,73 € ist größer als der noch nicht zugeordnete Betrag der "
        "Rücklastschrift (10,00 €)."
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    "group_name, allowed",
    [(roles.SALES, False), (roles.FINANCE, True), (roles.SUPPORT, False), ("superuser", True)],
)
def test_assign_return_view_per_staff_group(client, collected, group_name, allowed):  # noqa: F811
    entry = waiting_return()
    if group_name == "superuser":
        client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    else:
        staff_client(client, group_name)
    url = reverse("admin:billing_bankentry_assign_return", args=[entry.pk])
    change = client.get(reverse("admin:billing_bankentry_change", args=[entry.pk]))
    if not allowed:
        assert client.get(url).status_code == 403
        assert client.post(url, {"invoice_number": "RE-2026-000004"}).status_code == 403
        assert change.status_code == 403 or url not in change.content.decode()
        assert BankEntry.objects.get(pk=entry.pk).state == BankEntry.UNMATCHED
        assert Invoice.objects.get(number="RE-2026-000004").state == "paid"
        return
    assert url in change.content.decode()
    wrong = client.post(url, {"invoice_number": "RE-2026-000001"})
    assert wrong.status_code == 200
    assert "wurde nicht per SEPA-Lastschrift eingezogen" in wrong.content.decode()
    assert BankEntry.objects.get(pk=entry.pk).state == BankEntry.UNMATCHED
    done = client.post(url, {"invoice_number": "RE-2026-000004"})
    assert done.status_code == 302
    assert BankEntry.objects.get(pk=entry.pk).state == BankEntry.RETURNED
    assert Invoice.objects.get(number="RE-2026-000004").state == "open"
    # In the entry's admin history, and the link is gone.
    history = client.get(reverse("admin:billing_bankentry_history", args=[entry.pk])).content.decode()
    assert "Rücklastschrift LOST-1 der Lastschrift zu RE-2026-000004 zugeordnet." in history
    assert url not in client.get(reverse("admin:billing_bankentry_change", args=[entry.pk])).content.decode()
    assert client.get(reverse("admin:billing_bankentry_assign_return", args=[999999])).status_code == 404
