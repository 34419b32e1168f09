"""Returned direct debits (issue 18; ORD-8 / SEPA) from a camt.053 statement written by hand.

Hand-worked:
- 21.11.2026: three purchase invoices of 160,89 € each (Intercom 169,00 € − 20 % = 135,20 € net
  + 19 % = 160,89 €), RE-2026-000001…000003, payable by transfer.
- 01.12.2026, monthly run: Beispiel (mandate VP-…-001, signed 10.03.2025) has Active Directory
  Synchronisation at 16,58 €/month → RE-2026-000004: 16,58 € + 19 % (3,1502 → 3,15 €) = 19,73 €;
  ≤ 50,00 € with a mandate → SEPA direct debit on 15.12.2026 (01.12. + 14 days, a Tuesday).
- 10.12.2026: the SEPA export collects RE-2026-000004 on 15.12.2026 (end-to-end id = number).
- Statement of 15.12.2026: the collection's credit of 19,73 € → RE-2026-000004 paid.
- Statement of 18.12.2026 (imported that day): 100,00 € for RE-2026-000001 (partial: 60,89 €
  stay open), 321,78 € for RE-2026-000002 and RE 2026 000003 (2 × 160,89 €), 50,00 € naming no
  invoice (waits), the return MD06 of RE-2026-000004 (19,73 €, no charges given) and a return
  for an end-to-end id we never collected (waits).
  → the 19,73 € payment reversed, RE-2026-000004 open again, by transfer due 18.12. + 7 =
  25.12.2026; a return fee of 3,00 € (SEPA_RETURN_FEE, the statement gives none) as a charge;
  MD06 (the debtor objected) suspends the mandate; the partner's e-mail in the outbox.
- Run of January (01.01.2027): RE-2027-000001 for the subscription, 19,73 € — now by transfer
  due 15.01.2027 (the mandate is suspended) — and RE-2027-000002 "Rechnung über
  Nebenforderungen" 3,00 €, category O, no VAT.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing import rules, selectors, services
from billing.constants import DEBIT_NOTICE_KIND, DEBIT_RETURN_KIND
from billing.facturx import invoice_xml, validate_en16931, xsd_errors
from billing.models import BankEntry, Charge, Invoice, Payment, SepaBatch, SepaBatchItem, SepaMandate
from billing.services import invoicing
from billing.services.bank import bank_statement_import
from billing.tests.factories import make_order, make_partner, make_subscription
from billing.tests.test_bank_statement import entry08, statement08
from licensing.tests.factories import UserFactory
from vendorportal import roles
from vendorportal.models import OutboxMessage
from vendorportal.parties.models import PartnerUser
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
DEC = date(2026, 12, 1)
JAN = date(2027, 1, 1)


def entry(*args, booked="2026-12-18", **kw):
    """An entry of test_bank_statement's hand-written camt.053.001.08, booked on ``booked``."""
    return entry08(*args, **kw).replace("2026-12-01", booked)


def ret(ref, e2e, code, charges=None, amount="19.73", booked="2026-12-18"):
    extra = f"<RtrInf><Rsn><Cd>{code}</Cd></Rsn></RtrInf>"
    if charges:
        extra += f'<Chrgs><Rcrd><Amt Ccy="EUR">{charges}</Amt></Rcrd></Chrgs>'
    return entry(
        ref, amount, "DBIT", "Rücklastschrift", e2e=e2e, name="Beispiel IT-Service GmbH", extra=extra, booked=booked
    )


@pytest.fixture
def collected(modules, clock):
    """Three transfer invoices, and Beispiel's December invoice collected by direct debit and paid."""
    beispiel = collect_debit(clock)
    clock.set(date(2026, 12, 16))
    bank_statement_import(
        content=statement08(
            entry("COLL-1", "19.73", "CRDT", "SEPA-Lastschrift", e2e="RE-2026-000004", booked="2026-12-15"),
            stmt_id="2026-12-15-001",
        ),
        file_name="auszug-15.xml",
    )
    assert Invoice.objects.get(number="RE-2026-000004").state == "paid"
    clock.set(date(2026, 12, 18))
    return beispiel


def collect_debit(clock):
    """Three transfer invoices, and Beispiel's December invoice in the SEPA file of 10.12.2026
    (collected on 15.12.2026); the collection's credit not imported."""
    clock.set(date(2026, 11, 21))
    for n in range(3):
        services.order_confirm(order=make_order(make_partner(company=f"Partner {n} GmbH"), ("INTERCOM", "purchase", 0)))
    beispiel = make_partner(company="Beispiel IT-Service GmbH", invoice_email="rechnung@beispiel.test")
    services.sepa_mandate_enter(
        partner=beispiel,
        account_holder="Beispiel IT-Service GmbH",
        iban="DE89370400440532013000",
        bic="",
        signed_on=date(2025, 3, 10),
        token="form-1",
    )
    make_subscription(beispiel, article="ADSYNC", monthly_price="16.58", term_start=DEC, minimum_months=12)
    clock.set(DEC)
    invoicing.invoicing_run(month=DEC, render_pdf=False)
    debit = Invoice.objects.get(partner=beispiel)
    assert (debit.number, debit.gross_total, debit.payment_means, debit.due_date) == (
        "RE-2026-000004",
        D("19.73"),
        "direct_debit",
        date(2026, 12, 15),
    )
    clock.set(date(2026, 12, 10))
    batch = services.sepa_export()
    assert list(batch.items.values_list("end_to_end_id", "amount")) == [("RE-2026-000004", D("19.73"))]
    return beispiel


def the_file():
    return statement08(
        entry("REF-1", "100.00", "CRDT", "Rechnung RE-2026-000001 Teilzahlung"),
        entry("REF-2", "321.78", "CRDT", "RE-2026-000002, RE 2026 000003"),
        entry("REF-3", "50.00", "CRDT", "Rechnung 4711 vom Oktober"),
        ret("REF-4", "RE-2026-000004", "MD06"),
        ret("REF-5", "FREMD-2026-0815", "AC04", amount="42.00"),
        stmt_id="2026-12-18-001",
    )


def snapshot():
    return (
        BankEntry.objects.count(),
        Payment.objects.count(),
        Payment.objects.filter(reversed_on__isnull=False).count(),
        Charge.objects.count(),
        OutboxMessage.objects.count(),
        SepaMandate.history.count(),
        sorted(Invoice.objects.values_list("number", "state", "paid_amount", "payment_means", "due_date")),
    )


def test_statement_with_credits_and_a_returned_debit(collected):
    result = bank_statement_import(content=the_file(), file_name="auszug-18.xml")
    assert (result.new_entries, result.payments, result.returns) == (5, 3, 1)
    states = dict(BankEntry.objects.filter(statement__statement_id="2026-12-18-001").values_list("reference", "state"))
    assert states == {
        "REF-1": "partial",
        "REF-2": "matched",
        "REF-3": "unmatched",
        "REF-4": "returned",
        "REF-5": "unmatched",  # a return of a debit we never collected waits for finance
    }
    # The three credits as before: 160,89 − 100,00 = 60,89 € still open on RE-2026-000001.
    assert selectors.invoice_amount_due(Invoice.objects.get(number="RE-2026-000001")) == D("60.89")
    assert set(
        Invoice.objects.filter(number__in=["RE-2026-000002", "RE-2026-000003"]).values_list("state", flat=True)
    ) == {"paid"}

    # The return: payment reversed (the row stays), the invoice open again, by transfer in 7 days.
    returned = BankEntry.objects.get(reference="REF-4")
    payment = Payment.objects.get(invoice__number="RE-2026-000004")
    assert (payment.amount, payment.reversed_on, payment.reversal_entry) == (D("19.73"), date(2026, 12, 18), returned)
    invoice = Invoice.objects.get(number="RE-2026-000004")
    assert (invoice.state, invoice.paid_amount, selectors.invoice_amount_due(invoice)) == (
        "open",
        D("0.00"),
        D("19.73"),
    )
    assert (invoice.payment_means, invoice.due_date, invoice.mandate_reference) == (
        rules.TRANSFER,
        date(2026, 12, 25),
        "",
    )
    assert list(returned.invoices.values_list("number", flat=True)) == ["RE-2026-000004"]
    assert "MD06" in returned.note and "Gebühr 3,00 €" in returned.note and "Mandat ausgesetzt" in returned.note

    # The bank's fee: 3,00 € (setting; the statement names none) as a charge for the next run.
    charge = Charge.objects.get()
    assert (charge.kind, charge.amount, charge.source_invoice, charge.billed_on, charge.partner) == (
        Charge.RETURN_FEE,
        D("3.00"),
        invoice,
        None,
        collected,
    )
    # MD06: the debtor objected → the mandate is suspended, in its history.
    mandate = SepaMandate.objects.get(partner=collected)
    assert (mandate.suspended_on, mandate.is_active, mandate.state_label) == (
        date(2026, 12, 18),
        False,
        "ausgesetzt (Rücklastschrift)",
    )
    assert "MD06" in mandate.suspended_reason and mandate.history.first().suspended_on == date(2026, 12, 18)
    # The batch shows what came back.
    item = SepaBatchItem.objects.get(end_to_end_id="RE-2026-000004")
    assert item.return_entry == returned

    # The partner's e-mail: what, why in words, the amount, how to pay now.
    mail = OutboxMessage.objects.get(kind=DEBIT_RETURN_KIND)
    assert mail.recipients == ["rechnung@beispiel.test"] or "rechnung@beispiel.test" in str(mail.recipients)
    assert mail.subject == "Rücklastschrift zu Rechnung RE-2026-000004: bitte überweisen bis 25.12.2026"
    for text in (
        "SEPA-Lastschrift über 19,73 € zu unserer Rechnung RE-2026-000004 vom 01.12.2026, eingezogen am 15.12.2026",
        "Grund laut Bank (MD06): Sie haben der Lastschrift widersprochen",
        "offenen Betrag von 19,73 € bis 25.12.2026",
        "DE02 1203 0000 0000 2020 51",
        "Verwendungszweck RE-2026-000004",
        "3,00 €",
        "neues Mandat",
    ):
        assert text in mail.body, text


def test_importing_the_statement_twice_changes_nothing(collected):
    bank_statement_import(content=the_file(), file_name="auszug-18.xml")
    before = snapshot()
    again = bank_statement_import(content=the_file(), file_name="auszug-18-kopie.xml")
    assert (again.new_entries, again.known_entries, again.payments, again.returns) == (0, 5, 0, 0)
    assert snapshot() == before


def test_next_run_bills_the_fee_separately_and_transfers_while_the_mandate_is_suspended(collected, clock):
    bank_statement_import(content=the_file(), file_name="auszug-18.xml")
    clock.set(JAN)
    result = invoicing.invoicing_run(month=JAN, render_pdf=False)
    regular, extra = result.invoices
    # ORD-8 with the suspended mandate: 16,58 € a month would be debited, but is transferred.
    assert (regular.number, regular.gross_total, regular.payment_means, regular.due_date) == (
        "RE-2027-000001",
        D("19.73"),
        rules.TRANSFER,
        date(2027, 1, 15),
    )
    assert (extra.number, extra.document_title, extra.vat_category, extra.net_total, extra.gross_total) == (
        "RE-2027-000002",
        "Rechnung über Nebenforderungen",
        "O",
        D("3.00"),
        D("3.00"),
    )
    assert [(line.article, line.net_total, line.vat_category) for line in extra.lines.all()] == [
        ("NF-RLS", D("3.00"), "O")
    ]
    assert "RE-2026-000004" in extra.lines.get().description
    assert Charge.objects.get().billed_on == extra
    xml = invoice_xml(selectors.invoice_document(extra))
    assert xsd_errors(xml) == [] and validate_en16931(xml) == []


def test_a_return_for_lack_of_funds_keeps_the_mandate_and_charges_the_statements_fee(collected, clock):
    bank_statement_import(
        content=statement08(ret("REF-9", "RE-2026-000004", "AM04", charges="4.50"), stmt_id="2026-12-18-002"),
        file_name="am04.xml",
    )
    mandate = SepaMandate.objects.get(partner=collected)
    assert (mandate.suspended_on, mandate.is_active) == (None, True)
    assert Charge.objects.get().amount == D("4.50")
    mail = OutboxMessage.objects.get(kind=DEBIT_RETURN_KIND)
    assert "nicht ausreichend gedeckt" in mail.body and "neues Mandat" not in mail.body
    # The next invoice is debited again under the mandate (ORD-8); the returned one stays a transfer.
    clock.set(JAN)
    regular = invoicing.invoicing_run(month=JAN, render_pdf=False).invoices[0]
    assert regular.payment_means == rules.DIRECT_DEBIT
    assert Invoice.objects.get(number="RE-2026-000004").payment_means == rules.TRANSFER


def test_a_return_that_is_our_fault_costs_the_partner_nothing(collected):
    bank_statement_import(
        content=statement08(ret("REF-9", "RE-2026-000004", "FF01", charges="4.50"), stmt_id="2026-12-18-003"),
        file_name="ff01.xml",
    )
    assert not Charge.objects.exists()
    assert Invoice.objects.get(number="RE-2026-000004").state == "open"
    assert "3,00" not in OutboxMessage.objects.get(kind=DEBIT_RETURN_KIND).body


def test_suspending_moves_the_other_open_debits_of_the_mandate_to_transfer(collected, clock):
    """A second debit announced but not yet collected moves to transfer with its notice."""
    clock.set(JAN)
    invoicing.invoicing_run(month=JAN, render_pdf=False)
    january = Invoice.objects.get(number="RE-2027-000001")
    assert january.payment_means == rules.DIRECT_DEBIT
    clock.set(date(2027, 1, 5))
    bank_statement_import(
        content=statement08(ret("REF-9", "RE-2026-000004", "MD01", booked="2027-01-05"), stmt_id="2027-01-05-001"),
        file_name="md01.xml",
    )
    january.refresh_from_db()
    assert (january.payment_means, january.due_date) == (rules.TRANSFER, date(2027, 1, 19))
    assert OutboxMessage.objects.filter(kind=DEBIT_NOTICE_KIND, document_id=january.pk).exists()
    assert not selectors.direct_debits_naming_inactive_mandates().exists()


def test_a_new_mandate_replaces_the_suspended_one(collected, clock):
    bank_statement_import(content=the_file(), file_name="auszug-18.xml")
    services.sepa_mandate_enter(
        partner=collected,
        account_holder="Beispiel IT-Service GmbH",
        iban="DE02120300000000202051",
        bic="",
        signed_on=date(2026, 12, 18),
        token="form-2",
    )
    old, new = SepaMandate.objects.filter(partner=collected).order_by("pk")
    assert (old.revoked_on, new.is_active) == (date(2026, 12, 18), True)
    clock.set(JAN)
    assert invoicing.invoicing_run(month=JAN, render_pdf=False).invoices[0].payment_means == rules.DIRECT_DEBIT


@pytest.mark.parametrize(
    "code, suspends, fee",
    [
        ("MD06", True, True),
        ("MD01", True, True),
        ("MD07", True, True),
        ("AC04", True, True),
        ("AC06", True, True),
        ("AG01", True, True),
        ("SL01", True, True),
        ("MS02", True, True),
        ("AM04", False, True),
        ("MS03", False, True),
        ("RR01", True, True),
        ("FF01", False, False),
        ("AM05", False, False),
        ("XX99", False, True),
    ],
)
def test_reason_codes_in_words_and_what_they_do(code, suspends, fee):
    reason = rules.return_reason(code)
    assert (reason.code, reason.suspends_mandate, reason.partner_pays_fee) == (code, suspends, fee)
    assert reason.text and reason.text[-1] in ".)"


def test_ord8_transfers_under_a_suspended_mandate():
    terms = dict(monthly_amount=D("16.58"), has_purchases=False, has_mandate=True, mandate_above_limit=False)
    terms.update(prepayment_required=False, invoice_date=DEC)
    assert rules.payment_terms(**terms).means == rules.DIRECT_DEBIT
    assert rules.payment_terms(**terms, mandate_suspended=True).means == rules.TRANSFER
    assert rules.returned_debit_terms(date(2026, 12, 18)).due_date == date(2026, 12, 25)
    assert rules.charges_payment_terms(JAN).due_date == date(2027, 1, 15)


# --- admin: the SEPA batch shows what came back, per staff group ---------------------------------


def staff_client(client, group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


@pytest.mark.parametrize("group_name, status", [(roles.SALES, 403), (roles.FINANCE, 200), (roles.SUPPORT, 403)])
def test_batch_page_shows_returned_debits_per_staff_group(client, collected, group_name, status):
    bank_statement_import(content=the_file(), file_name="auszug-18.xml")
    batch = SepaBatch.objects.get()
    staff_client(client, group_name)
    page = client.get(reverse("admin:billing_sepabatch_change", args=[batch.pk]))
    assert page.status_code == status
    if status == 200:
        html = page.content.decode()
        assert "am 18.12.2026, MD06: Sie haben der Lastschrift widersprochen" in html


def test_partner_sees_the_suspended_mandate_in_the_portal(client, collected):
    bank_statement_import(content=the_file(), file_name="auszug-18.xml")
    login = PartnerUserFactory(partner=collected, role=PartnerUser.ADMIN)
    client.force_login(login.user)
    html = client.get(reverse("portal:sepa_mandate")).content.decode()
    assert "Ausgesetzt seit 18.12.2026" in html and "MD06" in html and "ausgesetzt (Rücklastschrift)" in html


def test_datev_books_the_return_and_the_charges_invoice_off_revenue(collected, clock):
    """December for Beispiel (debtor 10000 + id): invoice S 19,73 (01.12.), its collection's
    payment H 19,73 (15.12.), the return S 19,73 (18.12.) against the bank 1200. January: the
    "Rechnung über Nebenforderungen" 3,00 € on 2742 (damages), never on a revenue account."""
    from django.utils import timezone

    from billing import datev
    from billing.tests.test_datev import COL, rows_of

    bank_statement_import(content=the_file(), file_name="auszug-18.xml")
    clock.set(JAN)
    invoicing.invoicing_run(month=JAN, render_pdf=False)
    debtor = str(10000 + collected.pk)

    def rows(month, today):
        export = datev.datev_export(
            month=month, today=today, created=timezone.make_aware(datetime.combine(today, datetime.min.time()))
        )
        _header, _columns, *found = rows_of(export.bookings)
        keys = ["Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "Konto", "Gegenkonto (ohne BU-Schlüssel)"]
        keys += ["Belegdatum", "Belegfeld 1"]
        return [tuple(r[COL[k]] for k in keys) for r in found if r[COL["Konto"]] == debtor]

    assert rows(DEC, JAN) == [
        ("19,73", '"S"', debtor, "8400", "0112", '"RE-2026-000004"'),
        ("19,73", '"H"', debtor, "1200", "1512", '"RE-2026-000004"'),
        ("19,73", '"S"', debtor, "1200", "1812", '"RE-2026-000004"'),
    ]
    assert rows(JAN, date(2027, 2, 1)) == [
        ("19,73", '"S"', debtor, "8400", "0101", '"RE-2027-000001"'),
        ("3,00", '"S"', debtor, "2742", "0101", '"RE-2027-000002"'),
    ]


def test_charges_given_for_the_whole_entry_are_the_fee(collected):
    """Some banks give the return fee on the entry (Ntry/Chrgs), not on the transaction."""
    entry_xml = ret("REF-9", "RE-2026-000004", "AM04").replace(
        "<NtryDtls>", '<Chrgs><Rcrd><Amt Ccy="EUR">5.00</Amt></Rcrd></Chrgs><NtryDtls>'
    )
    bank_statement_import(content=statement08(entry_xml, stmt_id="2026-12-18-004"), file_name="ntry.xml")
    assert Charge.objects.get().amount == D("5.00")
    assert BankEntry.objects.get(reference="REF-9").charges == D("5.00")


def test_a_return_before_the_collections_credit_does_all_else_and_the_late_credit_pays_nothing(modules, clock):
    """The bank booked the collection on 15.12.2026, but that statement is imported only after
    the return: 18.12. the return MD06 (charges 2,50 € given); 19.12. the statement of 15.12.
    with the collection's credit of 19,73 €; 21.12. Beispiel transfers 19,73 € naming the invoice.

    18.12.: nothing to reverse (0,00 €), the invoice stays open — by transfer due 18.12. + 7 =
    25.12.2026 —, the fee 2,50 € a charge, the mandate suspended, the e-mail. 19.12.: the credit
    pays nothing (the money went back with the return): the invoice still owes 19,73 €.
    21.12.: the transfer pays it."""
    beispiel = collect_debit(clock)
    clock.set(date(2026, 12, 18))
    result = bank_statement_import(
        content=statement08(ret("RET-1", "RE-2026-000004", "MD06", charges="2.50"), stmt_id="2026-12-18-001"),
        file_name="auszug-18.xml",
    )
    assert result.returns == 1
    invoice = Invoice.objects.get(number="RE-2026-000004")
    assert (invoice.state, invoice.paid_amount, invoice.payment_means, invoice.due_date) == (
        "open",
        D("0.00"),
        rules.TRANSFER,
        date(2026, 12, 25),
    )
    assert not Payment.objects.exists()
    assert "0,00 € Zahlung storniert" in BankEntry.objects.get(reference="RET-1").note
    assert list(Charge.objects.values_list("kind", "amount")) == [(Charge.RETURN_FEE, D("2.50"))]
    assert SepaMandate.objects.get(partner=beispiel).suspended_on == date(2026, 12, 18)
    mail = OutboxMessage.objects.get(kind=DEBIT_RETURN_KIND)
    assert "offenen Betrag von 19,73 € bis 25.12.2026" in mail.body and "2,50 €" in mail.body
    item = SepaBatchItem.objects.get(end_to_end_id="RE-2026-000004")
    assert item.credit_outstanding and item.return_entry.reference == "RET-1"

    clock.set(date(2026, 12, 19))
    late = bank_statement_import(
        content=statement08(
            entry(
                "COLL-1", "19.73", "CRDT", "SEPA-Lastschrift RE-2026-000004", e2e="RE-2026-000004", booked="2026-12-15"
            ),
            stmt_id="2026-12-15-001",
        ),
        file_name="auszug-15.xml",
    )
    assert (late.new_entries, late.payments) == (1, 0)
    credit = BankEntry.objects.get(reference="COLL-1")
    assert credit.state == BankEntry.RETURNED
    assert credit.note == (
        "Gutschrift der Lastschrift zu RE-2026-000004 über 19,73 €: sie kam bereits am 18.12.2026 zurück "
        "(Umsatz RET-1), keine Zahlung, die Rechnung bleibt offen."
    )
    assert list(credit.invoices.values_list("number", flat=True)) == ["RE-2026-000004"]
    invoice.refresh_from_db()
    assert (invoice.state, invoice.paid_amount, selectors.invoice_amount_due(invoice)) == (
        "open",
        D("0.00"),
        D("19.73"),
    )
    assert not Payment.objects.exists()
    assert not SepaBatchItem.objects.get(pk=item.pk).credit_outstanding
    # Nothing more happened: one charge, one return e-mail.
    assert Charge.objects.count() == 1 and OutboxMessage.objects.filter(kind=DEBIT_RETURN_KIND).count() == 1

    clock.set(date(2026, 12, 21))
    bank_statement_import(
        content=statement08(
            entry(
                "TRF-1",
                "19.73",
                "CRDT",
                "Rechnung RE-2026-000004",
                name="Beispiel IT-Service GmbH",
                booked="2026-12-21",
            ),
            stmt_id="2026-12-21-001",
        ),
        file_name="auszug-21.xml",
    )
    invoice.refresh_from_db()
    assert (invoice.state, invoice.paid_amount) == ("paid", D("19.73"))
    assert list(Payment.objects.values_list("amount", "paid_on")) == [(D("19.73"), date(2026, 12, 21))]


def test_a_batch_credit_pays_its_other_debits_but_not_the_returned_one(modules, clock):
    """The collection's credit comes late as one batch entry of 180,62 € with two transactions:
    RE-2026-000004 (19,73 €, returned on 18.12. before this credit) and a transfer of 160,89 €
    naming RE-2026-000001. Only RE-2026-000001 is paid; RE-2026-000004 stays open."""
    collect_debit(clock)
    clock.set(date(2026, 12, 18))
    bank_statement_import(
        content=statement08(ret("RET-1", "RE-2026-000004", "AM04"), stmt_id="2026-12-18-001"), file_name="r.xml"
    )
    clock.set(date(2026, 12, 19))
    txs = "".join(
        f"""<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs><Amt Ccy="EUR">{amount}</Amt>
        <RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls>"""
        for e2e, amount, text in (
            ("RE-2026-000004", "19.73", "SEPA-Lastschrift"),
            ("NOTPROVIDED", "160.89", "Rechnung RE-2026-000001"),
        )
    )
    batch = f"""
    <Ntry>
      <Amt Ccy="EUR">180.62</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
      <BookgDt><Dt>2026-12-15</Dt></BookgDt><ValDt><Dt>2026-12-15</Dt></ValDt>
      <AcctSvcrRef>BATCH-1</AcctSvcrRef>
      <NtryDtls>{txs}</NtryDtls>
    </Ntry>"""
    result = bank_statement_import(content=statement08(batch, stmt_id="2026-12-15-001"), file_name="b.xml")
    assert result.payments == 1
    entry = BankEntry.objects.get(reference="BATCH-1")
    assert (entry.state, entry.rest) == ("matched", D("0.00"))
    assert "Gutschrift der Lastschrift zu RE-2026-000004 über 19,73 €" in entry.note
    assert sorted(entry.invoices.values_list("number", flat=True)) == ["RE-2026-000001", "RE-2026-000004"]
    assert list(Payment.objects.values_list("invoice__number", "amount")) == [("RE-2026-000001", D("160.89"))]
    assert Invoice.objects.get(number="RE-2026-000004").state == "open"
    assert Invoice.objects.get(number="RE-2026-000001").state == "paid"
