"""Invoices and credit notes: numbers (INV-1), totals and VAT (GEN-2), payment terms (ORD-8),
order confirmation (ORD-2), immutability, credit notes, payments, overdue and reminders.
Every amount is worked out by hand in the comment beside it (seed 001 price list, partner
conditions 20 % from the factory's Certified level)."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from pypdf import PdfReader

from billing import selectors, services
from billing.exceptions import InvoiceImmutable, InvoiceRefused, OrderRefused
from billing.models import Invoice, InvoiceLine, Order, Payment
from billing.tests.factories import make_order, make_partner
from licensing.models import DeliveryNote, License, Product
from vendorportal.models import OutboxMessage
from vendorportal.sequences import next_document_number

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = date(2026, 11, 21)


@pytest.fixture
def today(clock):
    clock.set(TODAY)
    return TODAY


@pytest.fixture
def german_order(modules, today):
    # 90 + 10 installed → tier 81-150. Call Recording 4.800,00 € − 20 % = 3.840,00 €;
    # Intercom 169,00 € − 20 % = 135,20 €. Net 3.975,20 €.
    return make_order(make_partner(), ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))


def pdf_text(invoice):
    # As every reader does: the stored PDF, rendered first if the issue's on_commit did not run.
    content = services.invoice_pdf_bytes(invoice)
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- numbers (INV-1) ---------------------------------------------------------------------


def test_sequence_width_keyword_keeps_delivery_notes_at_five_digits(db):
    with transaction.atomic():
        assert next_document_number("LS", 2026) == "LS-2026-00001"
        assert next_document_number("RE", 2026, width=6) == "RE-2026-000001"
        assert next_document_number("RE", 2026, width=6) == "RE-2026-000002"
        assert next_document_number("RE", 2027, width=6) == "RE-2027-000001"


def test_invoices_and_credit_notes_have_their_own_gap_free_sequences(german_order, modules, today):
    first = services.order_confirm(order=german_order)
    second = services.order_confirm(order=make_order(make_partner(company="Zweit GmbH"), ("DHCP", "purchase", 0)))
    note = services.credit_note_issue(invoice=second, reason="Doppelt bestellt")
    assert (first.number, second.number, note.number) == ("RE-2026-000001", "RE-2026-000002", "GS-2026-000001")


def test_a_refused_issue_leaves_no_gap(german_order, modules, today):
    # A line whose module has no version cannot get a key: the confirmation is refused whole.
    broken = make_order(make_partner(company="Ohne Version GmbH"), ("DHCP", "purchase", 0))
    Product.objects.get(article="DHCP").versions.all().delete()
    with pytest.raises(OrderRefused, match="keine Modulversion"):
        services.order_confirm(order=broken)
    broken.refresh_from_db()
    assert broken.state == "draft" and not Invoice.objects.exists()
    assert services.order_confirm(order=german_order).number == "RE-2026-000001"


# --- a German invoice from a confirmed order (GEN-2, ORD-2, ORD-8) -----------------------------


def test_confirming_issues_keys_delivery_note_and_invoice_in_that_order(german_order, today):
    invoice = services.order_confirm(order=german_order)
    german_order.refresh_from_db()
    assert german_order.state == "fulfilled"
    # 3.840,00 + 135,20 = 3.975,20 €; VAT 19 % = 755,288 → 755,29 €; gross 4.730,49 €.
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("3975.20"), D("755.29"), D("4730.49"))
    assert (invoice.vat_category, invoice.payment_means, invoice.due_date) == ("S", "transfer", date(2026, 12, 5))
    assert invoice.payment_terms == "Zahlbar ohne Abzug bis 05.12.2026 per Überweisung."
    assert (invoice.buyer_name, invoice.buyer_vat_id, invoice.email) == (
        "Muster Kommunikation GmbH",
        "DE123456788",
        "buchhaltung@muster.test",
    )
    lines = list(invoice.lines.all())
    assert [(li.article, li.quantity, li.unit_price, li.net_total, li.vat_percent) for li in lines] == [
        ("CALLREC", D("1"), D("3840.00"), D("3840.00"), D("19.00")),
        ("INTERCOM", D("1"), D("135.20"), D("135.20"), D("19.00")),
    ]
    inst = lines[0].order_line.installation  # each line names its installation (ORD-1)
    assert lines[0].description == (
        f"Call Recording, Staffel 81-150 Benutzer, Kauf, {inst.customer.company} · {inst.identifier}"
    )
    assert (lines[0].period_start, lines[0].period_end) == (TODAY, TODAY)
    # Keys issued and linked to the order lines; one delivery note to the delivery e-mail.
    keys = License.objects.filter(order_reference=german_order.reference)
    assert sorted(keys.values_list("product__article", flat=True)) == ["CALLREC", "INTERCOM"]
    assert all(line.order_line.licenses.count() == 1 for line in lines)
    assert DeliveryNote.objects.get().recipient_email == "technik@muster.test"
    # ORD-2: the delivery note's e-mail row is written before the invoice's.
    rows = list(OutboxMessage.objects.order_by("pk").values_list("kind", "recipients"))
    assert rows == [("delivery-note", ["technik@muster.test"]), ("invoice", ["buchhaltung@muster.test"])]


def test_confirming_twice_issues_once(german_order, today):
    first = services.order_confirm(order=german_order)
    again = services.order_confirm(order=Order.objects.get(pk=german_order.pk))
    assert again.pk == first.pk
    assert Invoice.objects.count() == 1 and License.objects.count() == 2
    assert OutboxMessage.objects.count() == 2


def test_an_order_is_invoiced_once_by_the_database(german_order, today):
    invoice = services.order_confirm(order=german_order)
    duplicate = Invoice.objects.values().get(pk=invoice.pk)
    duplicate.update(id=None, number="RE-2026-000099", pdf="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.bulk_create([Invoice(**duplicate)])


def test_a_cancelled_order_cannot_be_confirmed(german_order, today):
    services.order_cancel(order=german_order)
    with pytest.raises(OrderRefused, match="storniert"):
        services.order_confirm(order=german_order)


def test_invoice_email_carries_the_stored_pdf_byte_identical_on_resend(german_order, today, send_outbox, mailoutbox):
    invoice = services.order_confirm(order=german_order)
    stored = services.invoice_pdf_bytes(invoice)
    assert send_outbox() == 2
    services.invoice_resend(invoice=invoice)
    assert send_outbox() == 1
    mails = [m for m in mailoutbox if m.subject.startswith("Rechnung")]
    assert [m.subject for m in mails] == [f"Rechnung {invoice.number} – Bestellung {german_order.reference}"] * 2
    assert [m.attachments[0][1] for m in mails] == [stored, stored]
    assert "4.730,49 €" in mails[0].body


def test_pdf_shows_number_and_gross(german_order, today):
    invoice = services.order_confirm(order=german_order)
    text = pdf_text(invoice)
    assert "RE-2026-000001" in text and "4.730,49 €" in text and "755,29 €" in text


def test_invoice_document_matches_the_database_to_the_cent(german_order, today):
    invoice = services.order_confirm(order=german_order)
    doc = selectors.invoice_document(invoice)
    assert (doc.net_total, doc.vat_total, doc.gross_total) == (D("3975.20"), D("755.29"), D("4730.49"))
    assert [(b.category, b.percent, b.basis, b.amount) for b in doc.vat_breakdown] == [
        ("S", D("19.00"), D("3975.20"), D("755.29"))
    ]
    assert (doc.kind, doc.payment.means, doc.order_reference) == ("invoice", "58", german_order.reference)
    assert doc.buyer.vat_id == "DE123456788" and doc.seller.vat_id == "DE136695976"


def test_vat_is_rounded_once_per_rate_not_per_line(modules, clock):
    # Signed on the 1st, so the order bills the first whole month (SUB-2/SUB-3).
    # Intercom 24 months: 7,00 € × 0,8 = 5,60 €/month; Blacklist PRO 24 months: 9,29 € × 0,8 = 7,432
    # → 7,43 €. Net 13,03 €; VAT on the sum: 13,03 × 19 % = 2,4757 → 2,48 € (per line it would be
    # 1,064 → 1,06 plus 1,4117 → 1,41 = 2,47 €). Gross 15,51 €.
    clock.set(date(2026, 12, 1))
    order = make_order(make_partner(), ("INTERCOM", "subscription", 24), ("BLACKLIST", "subscription", 24))
    invoice = services.order_confirm(order=order)
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("13.03"), D("2.48"), D("15.51"))
    # No mandate → transfer; the service period is the first billing month, December.
    assert invoice.payment_means == "transfer"
    assert {(li.unit, li.period_start, li.period_end) for li in invoice.lines.all()} == {
        ("MON", date(2026, 12, 1), date(2026, 12, 31))
    }


def test_eu_reverse_charge_invoice(modules, today):
    austrian = make_partner(
        company="Alpen Telefonie GmbH", country="AT", vat_id="ATU13585627", city="Wien", postal_code="1010"
    )
    invoice = services.order_confirm(order=make_order(austrian, ("INTERCOM", "purchase", 0)))
    # 169,00 € − 20 % = 135,20 € net, reverse charge 0 %: gross 135,20 €.
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("135.20"), D("0.00"), D("135.20"))
    assert invoice.vat_category == "AE" and "Reverse Charge" in invoice.vat_note
    assert invoice.lines.get().vat_percent == D("0.00")
    doc = selectors.invoice_document(invoice)
    assert doc.vat_breakdown[0].category == "AE" and "§ 13b UStG" in doc.vat_breakdown[0].exemption_reason
    text = pdf_text(invoice)
    assert "Reverse Charge" in text
    assert text.count("Steuerschuldnerschaft des Leistungsempfängers") == 1  # once, in its box


def test_subscription_up_to_50_euros_is_debited_with_the_mandate(modules, today):
    partner = make_partner()
    services.sepa_mandate_create(
        partner=partner, iban="DE89370400440532013000", reference="MUSTER-0001", signed_on=date(2025, 3, 10)
    )
    invoice = services.order_confirm(order=make_order(partner, ("BLACKLIST", "subscription", 12)))
    # 12,21 € × 0,8 = 9,768 → 9,77 € a month ≤ 50,00 € → direct debit. Billed with the order: the
    # partial November (SUB-2), 10/30 × 9,77 = 3,2566… → 3,26 € net; VAT 0,6194 → 0,62 €; gross 3,88 €.
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("3.26"), D("0.62"), D("3.88"))
    assert (invoice.payment_means, invoice.mandate_reference, invoice.debtor_iban) == (
        "direct_debit",
        "MUSTER-0001",
        "DE89370400440532013000",
    )
    # Announced for 21.11. + 14 days = 05.12.2026, a Saturday: collected on the next TARGET2
    # business day, Monday 07.12.2026 (ORD-8 / SEPA: the file asks for exactly that day).
    assert invoice.payment_terms == "Der Betrag wird am 07.12.2026 per SEPA-Basislastschrift eingezogen."
    assert invoice.due_date == date(2026, 12, 7)
    assert selectors.invoice_document(invoice).payment.means == "59"


def test_prepayment_partner(modules, today):
    partner = make_partner(prepayment_required=True)
    invoice = services.order_confirm(order=make_order(partner, ("INTERCOM", "purchase", 0)))
    assert invoice.payment_means == "prepayment"
    assert invoice.payment_terms.startswith("Vorkasse")


def test_partner_mandate_selector(db):
    assert selectors.partner_mandate(make_partner()) is None
    partner = make_partner()
    services.sepa_mandate_create(
        partner=partner, iban="DE89370400440532013000", reference="M-1", signed_on=date(2025, 3, 10)
    )
    mandate = selectors.partner_mandate(partner)
    assert (mandate.iban, mandate.reference) == ("DE89370400440532013000", "M-1")


# --- immutability (INV-1) ------------------------------------------------------------------


def test_issued_invoice_refuses_changes_and_deletion(german_order, today):
    invoice = services.invoice_pdf_ensure(services.order_confirm(order=german_order))
    invoice.net_total = D("1.00")
    with pytest.raises(InvoiceImmutable, match="net_total"):
        invoice.save()
    invoice.refresh_from_db()
    invoice.buyer_name = "Jemand anders"
    with pytest.raises(InvoiceImmutable, match="buyer_name"):
        invoice.save()
    invoice.refresh_from_db()
    with pytest.raises(InvoiceImmutable):
        invoice.delete()
    line = invoice.lines.first()
    line.unit_price = D("0.00")
    with pytest.raises(InvoiceImmutable):
        line.save()
    invoice.pdf.name = "invoices/other.pdf"
    with pytest.raises(InvoiceImmutable, match="pdf"):
        invoice.save()
    # What may change: state, paid amount, reminder.
    invoice.refresh_from_db()
    invoice.state = "overdue"
    invoice.save()
    assert Invoice.objects.get().state == "overdue"


def test_bulk_updates_and_deletes_cannot_change_issued_documents(german_order, today):
    """Issue 9: queryset update()/delete() (and bulk_update) bypass save(); the queryset refuses
    them for protected fields, and lets the services' payment bookkeeping through."""
    invoice = services.invoice_pdf_ensure(services.order_confirm(order=german_order))
    issued = Invoice.objects.filter(pk=invoice.pk)
    with pytest.raises(InvoiceImmutable, match="gross_total, net_total"):
        issued.update(net_total=D("1.00"), gross_total=D("1.19"))
    with pytest.raises(InvoiceImmutable, match="buyer_name"):
        Invoice.objects.update(buyer_name="Jemand anders")
    invoice.number = "RE-2026-999999"
    with pytest.raises(InvoiceImmutable, match="number"), transaction.atomic():
        Invoice.objects.bulk_update([invoice], ["number"])
    with pytest.raises(InvoiceImmutable, match="nie ersetzt"):
        issued.update(pdf="invoices/other.pdf")
    with pytest.raises(InvoiceImmutable, match="nie gelöscht"):
        issued.delete()
    with pytest.raises(InvoiceImmutable, match="nie gelöscht"):
        InvoiceLine.objects.filter(invoice=invoice).delete()
    with pytest.raises(InvoiceImmutable, match="nie geändert"):
        InvoiceLine.objects.filter(invoice=invoice).update(unit_price=D("0.00"))
    stored = Invoice.objects.get()
    assert (stored.number, stored.net_total, stored.gross_total, stored.buyer_name) == (
        "RE-2026-000001",
        D("3975.20"),
        D("4730.49"),
        "Muster Kommunikation GmbH",
    )
    assert stored.pdf.name == f"invoices/2026/{stored.number}.pdf" and stored.lines.count() == 2
    # Allowed, as the daily overdue job and payments do it: state, paid amount, reminder.
    assert issued.update(state="overdue", reminder_sent_at=clock_now(), paid_amount=D("10.00")) == 1
    assert Invoice.objects.get().state == "overdue"
    # Deleting nothing is not refused (an empty filter in a clean-up).
    assert Invoice.objects.filter(pk=-1).delete() == (0, {})


def clock_now():
    from vendorportal import clock

    return clock.now()


def test_database_checks_gross_is_net_plus_vat(german_order, today):
    invoice = services.order_confirm(order=german_order)
    # Django's plain QuerySet.update, past InvoiceQuerySet's guard: the database's own checks.
    with pytest.raises(IntegrityError), transaction.atomic():
        QuerySet.update(Invoice.objects.filter(pk=invoice.pk), gross_total=D("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        QuerySet.update(Invoice.objects.filter(pk=invoice.pk), kind="credit_note")  # a credit note needs its invoice


# --- credit notes --------------------------------------------------------------------------


def test_full_credit_note_cancels_the_invoice(german_order, today, send_outbox, mailoutbox):
    invoice = services.order_confirm(order=german_order)
    note = services.credit_note_issue(invoice=invoice, reason="Bestellung irrtümlich")
    assert (note.kind, note.number, note.credited_invoice_id) == ("credit_note", "GS-2026-000001", invoice.pk)
    assert (note.net_total, note.vat_total, note.gross_total) == (D("3975.20"), D("755.29"), D("4730.49"))
    invoice.refresh_from_db()
    assert invoice.state == "cancelled" and invoice.get_state_display() == "storniert"
    doc = selectors.invoice_document(note)
    assert (doc.kind, doc.preceding_invoice) == ("credit_note", "RE-2026-000001")
    assert "GS-2026-000001" in pdf_text(note) and "4.730,49 €" in pdf_text(note)
    send_outbox()
    # INV-1: it takes back the whole invoice, so it is a Stornorechnung naming the invoice and its date
    assert "Stornorechnung GS-2026-000001 zur Rechnung RE-2026-000001 vom 21.11.2026" in [m.subject for m in mailoutbox]
    assert "Stornorechnung GS-2026-000001" in pdf_text(note)
    assert "Stornorechnung zur Rechnung RE-2026-000001 vom 21.11.2026." in pdf_text(note)
    with pytest.raises(InvoiceRefused, match="bereits vollständig storniert"):
        services.credit_note_issue(invoice=invoice, reason="nochmal")


def test_partial_credit_notes_then_the_rest_add_up_to_the_invoice(german_order, today):
    invoice = services.order_confirm(order=german_order)
    callrec, intercom = invoice.lines.all()
    part = services.credit_note_issue(invoice=invoice, lines=[(intercom, 1)], reason="Intercom nicht benötigt")
    # 135,20 € net, VAT 25,688 → 25,69 €, gross 160,89 €.
    assert (part.net_total, part.vat_total, part.gross_total) == (D("135.20"), D("25.69"), D("160.89"))
    invoice.refresh_from_db()
    assert invoice.state == "open"
    assert selectors.invoice_amount_due(invoice) == D("4569.60")  # 4.730,49 − 160,89
    with pytest.raises(InvoiceRefused, match="höchstens noch 0"):
        services.credit_note_issue(invoice=invoice, lines=[(intercom, 1)], reason="zu viel")
    rest = services.credit_note_issue(invoice=invoice, reason="Rest")
    # What is left: 3.840,00 € net and 755,29 − 25,69 = 729,60 € VAT → 4.569,60 €.
    assert (rest.net_total, rest.vat_total, rest.gross_total) == (D("3840.00"), D("729.60"), D("4569.60"))
    assert [li.article for li in rest.lines.all()] == ["CALLREC"]
    invoice.refresh_from_db()
    assert invoice.state == "cancelled"


def test_credit_note_refuses_more_than_invoiced_and_writes_nothing(german_order, today):
    invoice = services.order_confirm(order=german_order)
    callrec = invoice.lines.first()
    with pytest.raises(InvoiceRefused, match="höchstens noch 1, nicht 2"):
        services.credit_note_issue(invoice=invoice, lines=[(callrec, 2)], reason="zu viel")
    with pytest.raises(InvoiceRefused, match="Grund"):
        services.credit_note_issue(invoice=invoice, reason="  ")
    assert not Invoice.objects.filter(kind="credit_note").exists()


# --- payments -------------------------------------------------------------------------------


def test_partial_then_full_payment(german_order, today, clock):
    invoice = services.order_confirm(order=german_order)
    services.payment_record(invoice=invoice, amount=D("1000.00"), paid_on=TODAY)
    invoice.refresh_from_db()
    assert (invoice.state, invoice.paid_amount, selectors.invoice_amount_due(invoice)) == (
        "open",
        D("1000.00"),
        D("3730.49"),  # 4.730,49 − 1.000,00
    )
    with pytest.raises(InvoiceRefused, match="Offen sind noch 3.730,49 €"):
        services.payment_record(invoice=invoice, amount=D("3730.50"), paid_on=TODAY)
    services.payment_record(invoice=invoice, amount=D("3730.49"), paid_on=TODAY)
    invoice.refresh_from_db()
    assert (invoice.state, invoice.paid_amount, Payment.objects.count()) == ("paid", D("4730.49"), 2)
    with pytest.raises(InvoiceRefused, match="bezahlt"):
        services.payment_record(invoice=invoice, amount=D("1.00"), paid_on=TODAY)


def test_payment_refusals(german_order, today):
    invoice = services.order_confirm(order=german_order)
    with pytest.raises(InvoiceRefused, match="Zukunft"):
        services.payment_record(invoice=invoice, amount=D("1.00"), paid_on=TODAY + timedelta(days=1))
    with pytest.raises(InvoiceRefused, match="größer 0"):
        services.payment_record(invoice=invoice, amount=D("0.00"), paid_on=TODAY)
    note = services.credit_note_issue(invoice=invoice, lines=[(invoice.lines.last(), 1)], reason="x")
    with pytest.raises(InvoiceRefused, match="nicht auf Rechnungskorrekturen"):
        services.payment_record(invoice=note, amount=D("1.00"), paid_on=TODAY)


def test_payment_after_partial_credit_settles_the_rest(german_order, today):
    invoice = services.order_confirm(order=german_order)
    services.credit_note_issue(invoice=invoice, lines=[(invoice.lines.last(), 1)], reason="Intercom")
    services.payment_record(invoice=invoice, amount=D("4569.60"), paid_on=TODAY)  # 4.730,49 − 160,89
    invoice.refresh_from_db()
    assert invoice.state == "paid"


# --- overdue and the Zahlungserinnerung (the first dunning level, issue 18) ----------------------


def test_overdue_after_due_date_and_one_reminder_seven_days_later(german_order, today, clock, send_outbox, mailoutbox):
    invoice = services.order_confirm(order=german_order)  # due 05.12.2026
    send_outbox()
    clock.set(date(2026, 12, 5))
    assert services.invoices_overdue() == services.OverdueResult(0, 0)  # due today: not yet overdue
    clock.set(date(2026, 12, 6))
    assert services.invoices_overdue() == services.OverdueResult(1, 0)
    clock.set(date(2026, 12, 11))
    assert services.invoices_overdue() == services.OverdueResult(0, 0)  # 6 days after: no reminder yet
    clock.set(date(2026, 12, 12))
    assert services.invoices_overdue() == services.OverdueResult(0, 1)  # 7 days after the due date
    assert services.invoices_overdue() == services.OverdueResult(0, 0)  # once
    clock.set(date(2026, 12, 20))
    assert services.invoices_overdue() == services.OverdueResult(0, 0)
    assert send_outbox() == 1
    (reminder,) = [m for m in mailoutbox if "Zahlungserinnerung" in m.subject]
    assert reminder.subject == "Zahlungserinnerung: Rechnung RE-2026-000001"
    assert "am 05.12.2026" in reminder.body and "offenen Betrag von 4.730,49 € bis zum 22.12.2026" in reminder.body
    assert reminder.to == ["buchhaltung@muster.test"]
    assert [a[0] for a in reminder.attachments] == ["Zahlungserinnerung-RE-2026-000001.pdf", "RE-2026-000001.pdf"]
    invoice.refresh_from_db()
    assert invoice.state == "overdue" and invoice.reminder_sent_at is not None
    assert OutboxMessage.objects.filter(kind="dunning-notice").count() == 1


def test_paid_invoices_are_never_reminded(german_order, today, clock):
    invoice = services.order_confirm(order=german_order)
    services.payment_record(invoice=invoice, amount=D("4730.49"), paid_on=TODAY)
    clock.set(date(2026, 12, 31))
    assert services.invoices_overdue() == services.OverdueResult(0, 0)


def test_overdue_task_records_a_job_run(german_order, today, clock):
    from billing.tasks import invoices_overdue_daily
    from vendorportal.celery import app
    from vendorportal.models import JobRun

    services.order_confirm(order=german_order)
    clock.set(date(2026, 12, 12))
    assert invoices_overdue_daily() == 1
    assert JobRun.objects.get(name="invoices-overdue").summary.startswith(
        "überfällig markiert: 1; Zahlungserinnerungen: 1; 1. Mahnungen: 0; letzte Mahnungen: 0"
    )
    assert app.conf.beat_schedule["invoices-overdue-daily"]["task"] == "billing.tasks.invoices_overdue_daily"


def test_lines_are_kept_when_the_order_line_is_repriced_later(german_order, today):
    invoice = services.order_confirm(order=german_order)
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 2
