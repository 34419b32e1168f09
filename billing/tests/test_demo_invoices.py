"""``load_demo`` issues this month's invoices: German, EU reverse charge, direct debit and a credit note."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from billing import services
from billing.models import Invoice
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db
D = Decimal


def test_demo_has_this_months_invoices(clock):
    clock.set(date(2026, 11, 21))
    call_command("load_demo", stdout=io.StringIO())
    docs = {(i.buyer_name, i.kind): i for i in Invoice.objects.filter(issue_date__year=2026, issue_date__month=11)}
    german = Invoice.objects.get(kind="invoice", order__lines__installation__identifier="KNZL7-CL0UD-55K3Y-TUE01")
    # Intercom 169,00 € − 20 % (Certified) = 135,20 €; 19 % = 25,688 → 25,69 €; gross 160,89 €.
    assert (german.vat_category, german.gross_total, german.payment_means) == ("S", D("160.89"), "transfer")
    austrian = docs[("Alpen Telefonie GmbH", "invoice")]
    assert (austrian.vat_category, austrian.vat_total, austrian.gross_total) == ("AE", D("0.00"), D("135.20"))
    debit = Invoice.objects.get(kind="invoice", order__lines__installation__identifier="BRZL1-A7K2M-Q9X4T-2025P")
    # AURORA 29,00 € − 20 % = 23,20 € a month ≤ 50 €; the order bills the partial November (SUB-2):
    # 10/30 × 23,20 = 7,733… → 7,73 €; 19 % = 1,4687 → 1,47 €; gross 9,20 €; mandate MUSTER-0001.
    assert (debit.payment_means, debit.mandate_reference, debit.gross_total) == (
        "direct_debit",
        "MUSTER-0001",
        D("9.20"),
    )
    note = Invoice.objects.get(kind="credit_note")
    # DHCP Server 169,00 € − 20 % = 135,20 € + 25,69 € = 160,89 €, credited in full.
    assert note.gross_total == D("160.89") and note.credited_invoice.state == "cancelled"
    # Each document's e-mail is in the outbox (its send renders the PDF if the demo's on_commit
    # render did not run), and the PDF every reader gets is a PDF.
    for doc in Invoice.objects.all():
        assert OutboxMessage.objects.filter(document_id=doc.pk, kind__in=["invoice", "credit-note"]).exists()
    assert all(services.invoice_pdf_bytes(i).startswith(b"%PDF") for i in Invoice.objects.all())
