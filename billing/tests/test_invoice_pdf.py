"""The invoice / credit-note PDF (INV-2) and its embedded Factur-X XML (INV-4), read back
as a user and as an e-invoicing system would: the page text with pypdf, the XML with
``facturx.get_xml_from_pdf``. Amounts are worked out by hand in ``conftest.py``.
"""

from __future__ import annotations

import dataclasses
import io
from decimal import Decimal

import facturx
import pypdf
import pytest
from lxml import etree

from billing.facturx import NS, validate_en16931
from billing.invoice_pdf import invoice_pdf


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def embedded_xml(pdf: bytes) -> tuple[str, etree._Element, bytes]:
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    return filename, etree.fromstring(xml), xml


@pytest.fixture(scope="module")
def rendered():
    """Render each sample once for the module (≈ 0.15 s each)."""
    cache = {}

    def render(doc):
        if doc.number not in cache:
            cache[doc.number] = invoice_pdf(doc)
        return cache[doc.number]

    return render


def test_domestic_invoice_shows_lines_vat_and_totals_in_german(domestic_invoice_doc, rendered):
    (text,) = page_texts(rendered(domestic_invoice_doc))
    assert "Rechnung RE-2026-000123" in text
    assert "Rechnungsdatum 21.11.2026" in text
    # seller and buyer with their VAT IDs
    assert "Telefonbau Schmidt GmbH" in text
    assert "70565 Stuttgart" in text
    assert "Ihre USt-IdNr. DE811569869" in text
    assert "Unsere USt-IdNr. DE136695976" in text
    assert "Steuernummer 74000/12345" in text
    assert "Bestellung B-2026-000042" in text
    # line 1: 1 × 1.299,00 € = 1.299,00 € on 21.11.2026; line 2: 3 × 44,75 € = 134,25 €
    assert "ADSYNC" in text and "Active Directory" in text
    assert "21.11.2026 1 Stk. 1.299,00 € 1.299,00 €" in text
    assert "01.12.2026 –\n28.02.2027" in text
    assert "3 Monate 44,75 € 134,25 €" in text
    # 1.433,25 net; 1.433,25 × 0,19 = 272,3175 → 272,32; 1.705,57 gross
    assert "Summe netto 1.433,25 €" in text
    assert "USt. 19 % auf 1.433,25 € 272,32 €" in text
    assert "Rechnungsbetrag brutto 1.705,57 €" in text
    # terms and bank details
    assert "Zahlbar bis 05.12.2026 ohne Abzug." in text
    assert "IBAN DE89 3704 0044 0532 0130 00" in text
    assert "BIC COBADEFFXXX" in text
    assert "Vielen Dank für Ihren Auftrag." in text
    assert "Steuerschuldnerschaft" not in text
    assert "Seite 1 von 1" in text


def test_embedded_xml_is_factur_x_and_agrees_with_the_document(domestic_invoice_doc, rendered):
    filename, root, xml = embedded_xml(rendered(domestic_invoice_doc))
    assert filename == "factur-x.xml"
    totals = root.xpath("//ram:SpecifiedTradeSettlementHeaderMonetarySummation", namespaces=NS)[0]

    def amount(element, path):
        (value,) = element.xpath(path, namespaces=NS)
        return Decimal(value.text)

    assert amount(totals, "ram:LineTotalAmount") == domestic_invoice_doc.net_total == Decimal("1433.25")
    assert amount(totals, "ram:TaxTotalAmount") == domestic_invoice_doc.vat_total == Decimal("272.32")
    assert amount(totals, "ram:GrandTotalAmount") == domestic_invoice_doc.gross_total == Decimal("1705.57")
    items = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    assert [
        (
            int(item.xpath("string(.//ram:LineID)", namespaces=NS)),
            item.xpath("string(.//ram:SellerAssignedID)", namespaces=NS),
            Decimal(item.xpath("string(.//ram:BilledQuantity)", namespaces=NS)),
            amount(item, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount"),
            amount(item, ".//ram:LineTotalAmount"),
        )
        for item in items
    ] == [
        (line.position, line.article, line.quantity, line.unit_price, line.net_total)
        for line in domestic_invoice_doc.lines
    ]
    assert validate_en16931(xml) == []


def test_pdf_is_pdf_a_3b_with_the_factur_x_metadata(domestic_invoice_doc, rendered):
    reader = pypdf.PdfReader(io.BytesIO(rendered(domestic_invoice_doc)))
    catalog = reader.trailer["/Root"]
    assert "/OutputIntents" in catalog  # sRGB, from WeasyPrint's PDF/A-3b variant
    (filespec,) = [spec.get_object() for spec in catalog["/AF"]]
    assert filespec["/F"] == "factur-x.xml"
    assert filespec["/AFRelationship"] == "/Data"
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    assert reader.metadata.title == "Rechnung RE-2026-000123"


def test_one_pass_pdf_declares_the_factur_x_schema_and_agrees_with_its_info(domestic_invoice_doc, rendered):
    """WeasyPrint writes the attachment and the Factur-X XMP itself (no second pypdf pass):
    the XMP declares the fx extension schema, the XML is text/xml, and the document
    information says what the XMP says (PDF/A)."""
    from lxml import etree

    reader = pypdf.PdfReader(io.BytesIO(rendered(domestic_invoice_doc)))
    catalog = reader.trailer["/Root"]
    (filespec,) = [spec.get_object() for spec in catalog["/AF"]]
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    assert catalog["/Names"]["/EmbeddedFiles"]["/Names"][0] == "factur-x.xml"
    metadata = catalog["/Metadata"].get_object()
    assert "/Filter" not in metadata  # XMP readable without decompressing
    root = etree.fromstring(metadata.get_data())
    ns = {
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
        "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
        "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
        "dc": "http://purl.org/dc/elements/1.1/",
        "pdf": "http://ns.adobe.com/pdf/1.3/",
        "xmp": "http://ns.adobe.com/xap/1.0/",
    }
    assert root.xpath("//pdfaSchema:namespaceURI/text()", namespaces=ns) == [ns["fx"]]
    assert root.xpath("//pdfaSchema:prefix/text()", namespaces=ns) == ["fx"]
    assert sorted(root.xpath("//pdfaProperty:name/text()", namespaces=ns)) == [
        "ConformanceLevel",
        "DocumentFileName",
        "DocumentType",
        "Version",
    ]
    assert root.xpath("//fx:DocumentType/text()", namespaces=ns) == ["INVOICE"]
    info = reader.metadata
    assert root.xpath("//dc:title//rdf:li/text()", namespaces=ns) == [info.title] == ["Rechnung RE-2026-000123"]
    assert root.xpath("//dc:creator//rdf:li/text()", namespaces=ns) == [info.author]
    assert root.xpath("//dc:description//rdf:li/text()", namespaces=ns) == [info.subject]
    assert root.xpath("//pdf:Producer/text()", namespaces=ns) == [info.producer]
    assert root.xpath("//pdf:Keywords/text()", namespaces=ns) == [info["/Keywords"]]
    assert root.xpath("//xmp:CreatorTool/text()", namespaces=ns) == [info.creator]
    created = root.xpath("//xmp:CreateDate/text()", namespaces=ns)[0]  # e.g. 2026-11-21T11:00:00+00:00
    assert info["/CreationDate"] == "D:" + created[:19].replace("-", "").replace("T", "").replace(":", "") + "+00'00'"


def test_reverse_charge_invoice_prints_the_legal_note(reverse_charge_invoice_doc, rendered):
    pdf = rendered(reverse_charge_invoice_doc)
    (text,) = page_texts(pdf)
    assert "Wiener Telefonie GmbH" in text
    assert "ÖSTERREICH" in text
    assert "Ihre USt-IdNr. ATU12345675" in text
    assert "Steuerschuldnerschaft des Leistungsempfängers" in text
    # 1 × 1.299,00 €, no VAT: gross = net
    assert "USt. 0 % auf 1.299,00 € 0,00 €" in text
    assert "Rechnungsbetrag brutto 1.299,00 €" in text
    _, root, xml = embedded_xml(pdf)
    assert (
        root.xpath(
            "string(//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode)", namespaces=NS
        )
        == "AE"
    )
    assert validate_en16931(xml) == []


def test_non_eu_invoice_prints_not_taxable(non_eu_invoice_doc, rendered):
    (text,) = page_texts(rendered(non_eu_invoice_doc))
    assert "SCHWEIZ" in text
    assert "Nicht im Inland steuerbare Leistung" in text
    # 12 × 15,90 € = 190,80 €
    assert "12 Monate 15,90 € 190,80 €" in text
    assert "Rechnungsbetrag brutto 190,80 €" in text


def test_direct_debit_invoice_is_a_sepa_pre_notification(direct_debit_invoice_doc, rendered):
    pdf = rendered(direct_debit_invoice_doc)
    (text,) = page_texts(pdf)
    assert "SEPA-Lastschrift – Vorabankündigung" in text
    # 44,75 € + 8,50 € (44,75 × 0,19 = 8,5025 → 8,50) = 53,25 €
    assert "USt. 19 % auf 44,75 € 8,50 €" in text
    assert "Wir ziehen den Betrag von 53,25 € am 27.11.2026 von Ihrem Konto DE75 XXXX XXXX XXXX XX61 99" in text
    assert "Mandatsreferenz VP-MANDAT-000042" in text
    assert "Gläubiger-ID DE98ZZZ09999999999" in text
    assert "DE75512108001245126199" not in text.replace(" ", "")  # the account is printed masked
    assert "Bitte überweisen" not in text
    _, root, _ = embedded_xml(pdf)
    assert root.xpath("string(//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode)", namespaces=NS) == "59"


def test_correction_is_a_rechnungskorrektur_naming_the_corrected_invoice(credit_note_doc, rendered):
    """INV-1 decision: 159,76 € of an invoice of 1.705,57 € is a partial correction — a
    "Rechnungskorrektur", never a "Gutschrift" (§ 14 Abs. 2 UStG: self-billing)."""
    pdf = rendered(credit_note_doc)
    (text,) = page_texts(pdf)
    assert "Rechnungskorrektur GS-2026-000007" in text
    assert "Datum der Korrektur 25.11.2026" in text
    assert "Rechnungskorrektur zur Rechnung RE-2026-000123 vom 21.11.2026." in text
    assert "Gutschrift" not in text
    # 3 × 44,75 € = 134,25 €; VAT 25,51 €; 159,76 €
    assert "USt. 19 % auf 134,25 € 25,51 €" in text
    assert "Korrekturbetrag brutto 159,76 €" in text
    assert "Bitte überweisen" not in text
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata.title == "Rechnungskorrektur GS-2026-000007"
    _, root, xml = embedded_xml(pdf)
    assert root.xpath("string(//rsm:ExchangedDocument/ram:TypeCode)", namespaces=NS) == "381"
    # BG-3: the preceding invoice's number (BT-25) and date (BT-26)
    (reference,) = root.xpath("//ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument", namespaces=NS)
    assert reference.xpath("string(ram:IssuerAssignedID)", namespaces=NS) == "RE-2026-000123"
    assert reference.xpath("string(ram:FormattedIssueDateTime/qdt:DateTimeString)", namespaces=NS) == "20261121"
    assert validate_en16931(xml) == []


def test_a_correction_that_takes_back_the_whole_invoice_is_a_stornorechnung(credit_note_doc):
    doc = dataclasses.replace(credit_note_doc, cancels_invoice=True)
    pdf = invoice_pdf(doc)
    (text,) = page_texts(pdf)
    text = " ".join(text.split())
    assert "Stornorechnung GS-2026-000007" in text
    assert "Stornorechnung zur Rechnung RE-2026-000123 vom 21.11.2026." in text
    assert "Die Rechnung wird hiermit vollständig storniert." in text
    assert "Gutschrift" not in text
    _, root, xml = embedded_xml(pdf)
    assert root.xpath("string(//rsm:ExchangedDocument/ram:TypeCode)", namespaces=NS) == "381"
    assert validate_en16931(xml) == []


def test_every_invoice_page_names_register_directors_and_bank(long_invoice_doc, rendered, settings):
    """§ 14 Abs. 4 UStG / § 35a GmbHG: legal form, seat, register court and number, every
    managing director, VAT ID, tax number and the bank account — on each page, from settings."""
    pages = page_texts(rendered(long_invoice_doc))
    assert len(pages) >= 2
    for text in pages:
        flat = " ".join(text.split())
        assert "Rechtsform: GmbH · Sitz: Nürtingen" in flat
        assert "Registergericht: Amtsgericht Stuttgart" in flat
        assert "Registernummer: HRB 999999" in flat
        assert "Geschäftsführer: Erika Musterfrau, Max Mustermann" in flat
        assert "USt-IdNr. DE136695976" in flat
        assert "Steuernummer 74/123/45678" in flat
        assert "Bank: Deutsche Kreditbank AG (Demo)" in flat
        assert "IBAN DE02 1203 0000 0000 2020 51" in flat
        assert "BIC BYLADEM1001" in flat
        assert "Gläubiger-ID DE98ZZZ09999999999" in flat


def test_the_legal_footer_follows_the_settings(credit_note_doc, settings):
    settings.VENDOR = {
        **settings.VENDOR,
        "register_court": "Amtsgericht Ulm",
        "register_number": "HRB 724242",
        "managing_directors": ["Dr. Anna Beispiel"],
        "bank_name": "Volksbank Musterstadt eG",
    }
    (text,) = page_texts(invoice_pdf(credit_note_doc))
    flat = " ".join(text.split())
    assert "Registergericht: Amtsgericht Ulm" in flat and "Registernummer: HRB 724242" in flat
    assert "Geschäftsführer: Dr. Anna Beispiel" in flat
    assert "Bank: Volksbank Musterstadt eG" in flat


def test_long_invoice_repeats_the_table_header_and_numbers_its_pages(long_invoice_doc, rendered):
    pdf = rendered(long_invoice_doc)
    pages = page_texts(pdf)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"Seite {number} von {len(pages)}" in text
    table_pages = [text for text in pages if "ART-" in text]
    assert len(table_pages) >= 2
    for text in table_pages:
        assert "Pos. Artikel Beschreibung" in text and "Einzelpreis" in text
    everything = "\n".join(pages)
    for position in range(1, 41):
        assert f"ART-{position:03d}" in everything
    # 10 + 11 + … + 49 = 40 × 59 / 2 = 1.180,00 €; × 0,19 = 224,20 €; 1.404,20 €
    assert "Summe netto 1.180,00 €" in pages[-1]
    assert "Rechnungsbetrag brutto 1.404,20 €" in pages[-1]
    _, root, _ = embedded_xml(pdf)
    assert len(root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)) == 40


def test_a_malformed_document_is_not_embedded(domestic_invoice_doc):
    """The XSD check at embedding stops an e-invoice that would be rejected."""
    import dataclasses

    broken = dataclasses.replace(domestic_invoice_doc, lines=())  # CII needs at least one line
    with pytest.raises(Exception, match="not valid against the official XML Schema Definition"):
        invoice_pdf(broken)
