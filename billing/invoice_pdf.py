"""The invoice / correction PDF (INV-2) with its embedded Factur-X XML (INV-4).

``invoice_pdf(doc)`` renders ``templates/documents/invoice.html`` through the one PDF
service (:func:`vendorportal.pdf.render_pdf`) as PDF/A-3b in one pass: WeasyPrint embeds
:func:`billing.facturx.invoice_xml` as ``factur-x.xml`` (``text/xml``, AFRelationship
Data, in the catalog's /AF) and a finisher replaces WeasyPrint's XMP packet with the
Factur-X one (``factur-x``'s ``generate_xmp_object``: PDF/A-3B identification, the
Factur-X PDF/A extension schema and ``fx:ConformanceLevel`` EN 16931), with the document
information dictionary set to the same title, author, subject, keywords, creator,
producer and dates. (``facturx.generate_from_binary`` did the same as a second pass that
pypdf parsed and rewrote the whole file for: ≈10 % of the render.) The XSD check of the
XML stays before the render. Both views show the same
:class:`~billing.documents.InvoiceDocument` values; this module only formats them
(``format_eur``, ``format_date``) — no amount is computed here.

The stored PDF is the document of record: the caller stores these bytes once and serves
them again (factur-x stamps the embedding time, so a re-render is not byte-identical).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import translation
from django.utils.translation import gettext as _

from billing import documents
from billing.documents import CREDIT_NOTE, PAYMENT_DIRECT_DEBIT, InvoiceDocument, Party
from billing.facturx import FACTURX_LEVEL, check_xsd, invoice_xml
from vendorportal.formats import english_active, format_date, format_decimal, postal_country
from vendorportal.money import format_eur

TEMPLATE = "documents/invoice.html"
FACTURX_FILENAME = "factur-x.xml"  # the name Factur-X prescribes for the embedded XML

# UN/ECE rec 20 unit codes of DocumentLine.unit as printed after the quantity.
UNIT_LABELS = {"C62": "Stk.", "MON": "Monat(e)", "ANN": "Jahr(e)", "DAY": "Tag(e)", "HUR": "Std."}


def _quantity(value) -> str:
    """A quantity in the reader's language: 3 → "3", 1.5 → German "1,5", English "1.5"."""
    return format_decimal(value)


def _percent(value) -> str:
    """19.00 → German "19 %", 7.50 → "7,5 %"; English "19%", "7.5%"."""
    return f"{_quantity(value)}%" if english_active() else f"{_quantity(value)} %"


def _iban(iban: str) -> str:
    """Printed in groups of four: DE89 3704 0044 0532 0130 00."""
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _masked_iban(iban: str) -> str:
    """The partner's account on a pre-notification: country, check digits and the last
    four characters only, e.g. DE02 XXXX XXXX XXXX XX20 51."""
    compact = iban.replace(" ", "")
    if len(compact) <= 8:
        return _iban(compact)
    return _iban(compact[:4] + "X" * (len(compact) - 8) + compact[-4:])


def _address(party: Party) -> list[str]:
    lines = [party.name, party.street, f"{party.postal_code} {party.city}".strip()]
    if party.country and party.country != "DE":
        lines.append(postal_country(party.country))
    return [line for line in lines if line]


def document_title(doc: InvoiceDocument) -> str:
    """ "Rechnung", "Rechnung über Nebenforderungen", "Rechnungskorrektur" or "Stornorechnung"
    (INV-1: never "Gutschrift")."""
    if doc.kind != CREDIT_NOTE:
        return _("Rechnung über Nebenforderungen") if doc.charges_only else _("Rechnung")
    return _("Stornorechnung") if doc.cancels_invoice else _("Rechnungskorrektur")


def _vat_label(row) -> str:
    return _("USt. %(percent)s auf %(basis)s") % {"percent": _percent(row.percent), "basis": format_eur(row.basis)}


def invoice_context(doc: InvoiceDocument) -> dict:
    """Everything ``invoice.html`` shows, formatted for German readers."""
    credit_note = doc.kind == CREDIT_NOTE
    payment = doc.payment
    direct_debit = payment.means == PAYMENT_DIRECT_DEBIT
    title = document_title(doc)
    with translation.override("de"):  # the German beside the English (issue 21, docs/i18n.md)
        german = {
            "title_de": document_title(doc),
            "number_label_de": _("Belegnummer") if credit_note else _("Rechnungs-Nr."),
            "date_label_de": _("Datum der Korrektur") if credit_note else _("Rechnungsdatum"),
            "vat_labels_de": [_vat_label(row) for row in doc.vat_breakdown],
        }
    return {
        **german,
        "doc": doc,
        "title": title,
        "number_label": _("Belegnummer") if credit_note else _("Rechnungs-Nr."),
        "date_label": _("Datum der Korrektur") if credit_note else _("Rechnungsdatum"),
        "is_credit_note": credit_note,
        "issue_date": format_date(doc.issue_date),
        "preceding_invoice": doc.preceding_invoice,
        "preceding_invoice_date": format_date(doc.preceding_invoice_date, missing=""),
        "seller": doc.seller,
        "buyer": doc.buyer,
        "buyer_address": _address(doc.buyer),
        "lines": [
            {
                "position": line.position,
                "article": line.article,
                "description": line.description,
                "period": (
                    format_date(line.period_start)
                    if line.period_start == line.period_end
                    else f"{format_date(line.period_start)} – {format_date(line.period_end)}"
                )
                if line.period_start or line.period_end
                else "",
                "quantity": _quantity(line.quantity),
                "unit": documents.unit_label(line.quantity, line.unit),  # "1 Monat", "3 Monate"
                "unit_price": format_eur(line.unit_price),
                "net_total": format_eur(line.net_total),
            }
            for line in doc.lines
        ],
        "vat_rows": [
            {"label": _vat_label(row), "label_de": label_de, "amount": format_eur(row.amount)}
            for row, label_de in zip(doc.vat_breakdown, german["vat_labels_de"], strict=True)
        ],
        # Stored in German (§ 14a UStG wording); shown translated, with the German beside it.
        "exemption_notes": [_(row.exemption_reason) for row in doc.vat_breakdown if row.exemption_reason],
        "exemption_notes_de": [
            row.exemption_reason
            for row in doc.vat_breakdown
            if row.exemption_reason and _(row.exemption_reason) != row.exemption_reason
        ],
        "net_total": format_eur(doc.net_total),
        "vat_total": format_eur(doc.vat_total),
        "gross_total": format_eur(doc.gross_total),
        "direct_debit": direct_debit,
        "payment_terms": payment.terms,
        "due_date": format_date(payment.due_date, missing=""),
        "payee_iban": _iban(payment.payee_iban) if payment.payee_iban else "",
        "payee_bic": payment.payee_bic,
        "creditor_id": payment.creditor_id,
        "mandate_reference": payment.mandate_reference,
        "debtor_iban": _masked_iban(payment.debtor_iban) if payment.debtor_iban else "",
        "notes": list(doc.notes),
    }


def _pdf_metadata(doc: InvoiceDocument) -> dict:
    """Document info and XMP title (given, so factur-x need not derive English ones)."""
    title = f"{document_title(doc)} {doc.number}"
    return {
        "author": doc.seller.name,
        "keywords": "Factur-X, ZUGFeRD, EN 16931",
        "title": title,
        "subject": f"{title} {_('vom')} {format_date(doc.issue_date)}, {doc.buyer.name}",
    }


def _facturx_xmp(meta: dict, *, producer: str, creator: str, timestamp: str) -> bytes:
    """The Factur-X XMP packet (factur-x's own builder) with the values the document
    information dictionary carries, so both agree as PDF/A requires."""
    from facturx.facturx import FACTURX_LEVEL2xmp, generate_xmp_object
    from lxml import etree, objectify

    root = generate_xmp_object(
        {
            "pdfa3_flavor": "B",
            "title": meta["title"],
            "author": meta["author"],
            "subject": meta["subject"],
            "producer": producer,
            "creator_tool": creator,
            "timestamp": timestamp,
            "version": "1.0",
            "documenttype": "INVOICE",
            "xml_filename": FACTURX_FILENAME,
            "xmp_level": FACTURX_LEVEL2xmp[FACTURX_LEVEL],
            "urn": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
        }
    )
    pdf_ns = "http://ns.adobe.com/pdf/1.3/"
    producer_element = root.find(f".//{{{pdf_ns}}}Producer")
    producer_element.addnext(objectify.ElementMaker(namespace=pdf_ns, annotate=False).Keywords(meta["keywords"]))
    body = etree.tostring(root, encoding="utf-8").decode("utf-8")
    return f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n{body}\n<?xpacket end="w"?>'.encode()


def _facturx_finisher(meta: dict, moment: datetime):
    """WeasyPrint finisher: the Factur-X XMP and the matching document information."""
    import pydyf
    import weasyprint

    producer = f"WeasyPrint {weasyprint.__version__}"
    creator = meta["creator"]

    def finish(document, pdf) -> None:
        xmp = _facturx_xmp(
            meta, producer=producer, creator=creator, timestamp=moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        )
        stream = pdf.objects[int(pdf.catalog["Metadata"].split()[0])]
        stream.stream = [xmp]
        # PDF/A: XMP metadata streams stay uncompressed, readable by any tool.
        stream.compress = False
        # WeasyPrint 70 lists the attachment's file specification twice in /AF (once from
        # the EmbeddedFiles name tree, once from the objects): Factur-X wants it once.
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))
        pdf_date = pydyf.String(moment.strftime("D:%Y%m%d%H%M%S+00'00'"))
        pdf.info.update(
            {
                "Title": pydyf.String(meta["title"]),
                "Author": pydyf.String(meta["author"]),
                "Subject": pydyf.String(meta["subject"]),
                "Keywords": pydyf.String(meta["keywords"]),
                "Creator": pydyf.String(creator),
                "Producer": pydyf.String(producer),
                "CreationDate": pdf_date,
                "ModDate": pdf_date,
            }
        )

    return finish


def invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The PDF/A-3 invoice or correction (Rechnungskorrektur / Stornorechnung) with ``factur-x.xml`` embedded (INV-2, INV-4)."""
    import base64

    from weasyprint import Attachment
    from weasyprint.urls import URLFetcher

    from vendorportal import clock
    from vendorportal.pdf import render_pdf

    xml = invoice_xml(doc)
    # The XSD check costs ≈1 ms and stops a malformed e-invoice from being issued; the
    # schematron (≈20 ms, Saxon) runs in the tests and in validate_en16931.
    check_xsd(xml)
    moment = clock.now().astimezone(UTC)  # one time stamp for the attachment, XMP and info
    # A data: URL carries the MIME type: the embedded file's /Subtype is text/xml, as
    # Factur-X asks (a plain string would be guessed application/xml from the name).
    attachment = Attachment(
        url="data:text/xml;base64," + base64.b64encode(xml).decode("ascii"),
        url_fetcher=URLFetcher(allowed_protocols={"data"}, fail_on_errors=True),  # no network
        name=FACTURX_FILENAME,
        description="Factur-X Invoice",
        relationship="Data",
        created=moment,
        modified=moment,
    )
    meta = {**_pdf_metadata(doc), "creator": "factur-x python lib (Akretion), WeasyPrint"}
    return render_pdf(
        TEMPLATE,
        invoice_context(doc),
        attachments=[attachment],
        pdf_variant="pdf/a-3b",
        finisher=_facturx_finisher(meta, moment),
    )
