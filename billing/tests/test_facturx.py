"""The Factur-X EN 16931 XML (INV-4): what it says, the XSD and the EN 16931 schematron.

No database: the documents are the plain values of ``billing/tests/conftest.py``, whose
docstring works out every amount by hand.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import facturx
import pytest
from lxml import etree

from billing.facturx import GUIDELINE_EN16931, NS, invoice_xml, validate_en16931, xsd_errors

SAMPLES = [
    "domestic_invoice_doc",
    "reverse_charge_invoice_doc",
    "non_eu_invoice_doc",
    "direct_debit_invoice_doc",
    "credit_note_doc",
    "long_invoice_doc",
]


def parse(doc):
    return etree.fromstring(invoice_xml(doc))


def texts(root, path):
    return [element.text for element in root.xpath(path, namespaces=NS)]


def text(root, path):
    (value,) = texts(root, path)
    return value


SETTLEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
TOTALS = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
AGREEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
LINES = "//ram:IncludedSupplyChainTradeLineItem"


def test_domestic_invoice_totals_in_the_xml_are_the_hand_worked_ones(domestic_invoice_doc):
    # 1 × 1.299,00 + 3 × 44,75 = 1.299,00 + 134,25 = 1.433,25 net;
    # 1.433,25 × 0,19 = 272,3175 → 272,32 VAT; 1.433,25 + 272,32 = 1.705,57 gross.
    root = parse(domestic_invoice_doc)
    assert text(root, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == GUIDELINE_EN16931
    assert text(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID") == "RE-2026-000123"
    assert text(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert text(root, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20261121"
    assert text(root, f"{TOTALS}/ram:LineTotalAmount") == "1433.25"
    assert text(root, f"{TOTALS}/ram:TaxBasisTotalAmount") == "1433.25"
    assert text(root, f"{TOTALS}/ram:TaxTotalAmount") == "272.32"
    assert root.xpath(f"{TOTALS}/ram:TaxTotalAmount/@currencyID", namespaces=NS) == ["EUR"]
    assert text(root, f"{TOTALS}/ram:GrandTotalAmount") == "1705.57"
    assert text(root, f"{TOTALS}/ram:DuePayableAmount") == "1705.57"
    assert text(root, f"{SETTLEMENT}/ram:InvoiceCurrencyCode") == "EUR"
    # one VAT breakdown row: 19 % on 1.433,25
    assert texts(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CategoryCode") == ["S"]
    assert text(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:BasisAmount") == "1433.25"
    assert text(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CalculatedAmount") == "272.32"
    assert text(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:RateApplicablePercent") == "19.00"
    assert text(root, "//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == "B-2026-000042"
    assert text(root, f"{AGREEMENT}/ram:BuyerReference") == "Bestellung Herr Maier"
    assert texts(root, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content") == ["Vielen Dank für Ihren Auftrag."]


def test_domestic_invoice_lines_carry_quantity_unit_price_total_vat_and_period(domestic_invoice_doc):
    root = parse(domestic_invoice_doc)
    lines = root.xpath(LINES, namespaces=NS)
    assert len(lines) == 2
    first, second = lines
    assert text(first, ".//ram:LineID") == "1"
    assert text(first, ".//ram:SellerAssignedID") == "ADSYNC"
    assert text(first, ".//ram:SpecifiedTradeProduct/ram:Name") == (
        "Active Directory Synchronisation (81-150 Benutzer), Kauf"
    )
    assert text(first, ".//ram:BilledQuantity") == "1"
    assert first.xpath(".//ram:BilledQuantity/@unitCode", namespaces=NS) == ["C62"]
    assert text(first, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") == "1299.00"
    assert text(first, ".//ram:LineTotalAmount") == "1299.00"
    assert text(second, ".//ram:BilledQuantity") == "3"
    assert second.xpath(".//ram:BilledQuantity/@unitCode", namespaces=NS) == ["MON"]
    assert text(second, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") == "44.75"
    assert text(second, ".//ram:LineTotalAmount") == "134.25"  # 3 × 44,75
    assert text(second, ".//ram:ApplicableTradeTax/ram:CategoryCode") == "S"
    assert text(second, ".//ram:ApplicableTradeTax/ram:RateApplicablePercent") == "19.00"
    assert text(second, ".//ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString") == "20261201"
    assert text(second, ".//ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString") == "20270228"
    # BT-72: the earliest service day of the lines (the purchase, delivered on 21.11.2026)
    assert text(root, "//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString") == "20261121"


def test_seller_and_buyer_are_named_with_their_vat_ids(domestic_invoice_doc):
    root = parse(domestic_invoice_doc)
    seller = f"{AGREEMENT}/ram:SellerTradeParty"
    buyer = f"{AGREEMENT}/ram:BuyerTradeParty"
    assert text(root, f"{seller}/ram:Name") == "Fluxpunkt Module GmbH (Demo)"
    assert text(root, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE136695976"
    assert text(root, f"{seller}/ram:PostalTradeAddress/ram:CountryID") == "DE"
    assert text(root, f"{buyer}/ram:Name") == "Telefonbau Schmidt GmbH"
    assert text(root, f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE811569869"
    assert text(root, f"{buyer}/ram:PostalTradeAddress/ram:CityName") == "Stuttgart"


def test_transfer_names_the_payee_account_and_due_date(domestic_invoice_doc):
    root = parse(domestic_invoice_doc)
    means = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
    assert text(root, f"{means}/ram:TypeCode") == "58"
    assert text(root, f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == "DE89370400440532013000"
    assert text(root, f"{means}/ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID") == "COBADEFFXXX"
    assert text(root, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == "20261205"
    assert text(root, "//ram:SpecifiedTradePaymentTerms/ram:Description") == "Zahlbar bis 05.12.2026 ohne Abzug."
    assert text(root, f"{SETTLEMENT}/ram:PaymentReference") == "RE-2026-000123"


def test_reverse_charge_uses_category_ae_with_exemption_and_the_buyers_vat_id(reverse_charge_invoice_doc):
    root = parse(reverse_charge_invoice_doc)
    assert text(root, f"{LINES}//ram:ApplicableTradeTax/ram:CategoryCode") == "AE"
    assert text(root, f"{LINES}//ram:ApplicableTradeTax/ram:RateApplicablePercent") == "0.00"
    tax = f"{SETTLEMENT}/ram:ApplicableTradeTax"
    assert text(root, f"{tax}/ram:CategoryCode") == "AE"
    assert text(root, f"{tax}/ram:ExemptionReasonCode") == "VATEX-EU-AE"
    assert text(root, f"{tax}/ram:ExemptionReason") == "Steuerschuldnerschaft des Leistungsempfängers"
    assert text(root, f"{tax}/ram:BasisAmount") == "1299.00"
    assert text(root, f"{tax}/ram:CalculatedAmount") == "0.00"
    assert text(root, f"{TOTALS}/ram:GrandTotalAmount") == "1299.00"
    assert text(root, f"{AGREEMENT}/ram:BuyerTradeParty//ram:ID[@schemeID='VA']") == "ATU12345675"
    assert text(root, f"{AGREEMENT}/ram:BuyerTradeParty//ram:CountryID") == "AT"


def test_exemption_text_defaults_when_the_document_gives_none(reverse_charge_invoice_doc):
    row = dataclasses.replace(reverse_charge_invoice_doc.vat_breakdown[0], exemption_reason="")
    root = parse(dataclasses.replace(reverse_charge_invoice_doc, vat_breakdown=(row,)))
    assert text(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReason") == (
        "Steuerschuldnerschaft des Leistungsempfängers"
    )


def test_outside_the_eu_is_category_o_without_rate_and_without_vat_ids(non_eu_invoice_doc):
    root = parse(non_eu_invoice_doc)
    assert texts(root, "//ram:CategoryCode") == ["O", "O"]  # the line and the breakdown
    assert root.xpath("//ram:RateApplicablePercent", namespaces=NS) == []  # BR-O-05
    assert text(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == "VATEX-EU-O"
    # BR-O-02: no VAT ID at all, although both parties have one; the seller is named by its
    # tax number and its Handelsregister entry (BR-CO-26)
    assert root.xpath("//ram:ID[@schemeID='VA']", namespaces=NS) == []
    assert text(root, "//ram:SellerTradeParty//ram:ID[@schemeID='FC']") == "74000/12345"
    assert text(root, "//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == (
        "HRB 123456, Amtsgericht Stuttgart"
    )
    # 12 × 15,90 = 190,80, nothing on top
    assert text(root, f"{TOTALS}/ram:GrandTotalAmount") == "190.80"
    assert text(root, f"{TOTALS}/ram:TaxTotalAmount") == "0.00"


def test_direct_debit_names_mandate_creditor_id_and_debtor_account(direct_debit_invoice_doc):
    root = parse(direct_debit_invoice_doc)
    means = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
    assert text(root, f"{means}/ram:TypeCode") == "59"
    assert text(root, f"{means}/ram:PayerPartyDebtorFinancialAccount/ram:IBANID") == "DE75512108001245126199"
    assert root.xpath(f"{means}/ram:PayeePartyCreditorFinancialAccount", namespaces=NS) == []
    assert text(root, f"{SETTLEMENT}/ram:CreditorReferenceID") == "DE98ZZZ09999999999"
    assert text(root, "//ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID") == "VP-MANDAT-000042"
    # the collection date of the pre-notification
    assert text(root, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == "20261127"
    # 44,75 × 0,19 = 8,5025 → 8,50; 44,75 + 8,50 = 53,25
    assert text(root, f"{TOTALS}/ram:TaxTotalAmount") == "8.50"
    assert text(root, f"{TOTALS}/ram:DuePayableAmount") == "53.25"


def test_credit_note_is_type_381_and_references_the_invoice(credit_note_doc):
    root = parse(credit_note_doc)
    assert text(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert text(root, "//rsm:ExchangedDocument/ram:ID") == "GS-2026-000007"
    assert text(root, f"{SETTLEMENT}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "RE-2026-000123"
    assert text(root, "//ram:InvoiceReferencedDocument//qdt:DateTimeString") == "20261121"
    # 3 × 44,75 = 134,25; × 0,19 = 25,5075 → 25,51; gross 159,76
    assert text(root, f"{TOTALS}/ram:TaxTotalAmount") == "25.51"
    assert text(root, f"{TOTALS}/ram:GrandTotalAmount") == "159.76"


@pytest.mark.parametrize("sample", SAMPLES)
def test_xml_passes_the_factur_x_en16931_xsd(sample, request):
    xml = invoice_xml(request.getfixturevalue(sample))
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert xsd_errors(xml) == []
    assert facturx.get_level(etree.fromstring(xml), "factur-x") == "en16931"


@pytest.mark.parametrize("sample", SAMPLES)
def test_xml_meets_the_en16931_business_rules(sample, request):
    assert validate_en16931(invoice_xml(request.getfixturevalue(sample))) == []


def test_wrong_gross_total_is_reported(domestic_invoice_doc):
    # 1.433,25 + 272,32 = 1.705,57, not 1.705,58
    wrong = dataclasses.replace(domestic_invoice_doc, gross_total=Decimal("1705.58"))
    messages = validate_en16931(invoice_xml(wrong))
    assert any(message.startswith("[BR-CO-15]") for message in messages), messages
    assert any("SpecifiedTradeSettlementHeaderMonetarySummation" in message for message in messages)


def test_vat_that_is_not_the_sum_of_the_breakdown_is_reported(domestic_invoice_doc):
    # the breakdown says 272,32 (1.433,25 × 19 %), the total claims 272,31
    wrong = dataclasses.replace(domestic_invoice_doc, vat_total=Decimal("272.31"), gross_total=Decimal("1705.56"))
    messages = validate_en16931(invoice_xml(wrong))
    assert any(message.startswith("[BR-CO-14]") for message in messages), messages


def test_line_totals_that_do_not_add_up_are_reported(domestic_invoice_doc):
    # the lines add up to 1.433,25; a net total of 1.433,00 contradicts them
    wrong = dataclasses.replace(domestic_invoice_doc, net_total=Decimal("1433.00"))
    messages = validate_en16931(invoice_xml(wrong))
    assert any(message.startswith("[BR-CO-10]") for message in messages), messages


def test_reverse_charge_without_the_buyers_vat_id_is_reported(reverse_charge_invoice_doc):
    buyer = dataclasses.replace(reverse_charge_invoice_doc.buyer, vat_id="")
    messages = validate_en16931(invoice_xml(dataclasses.replace(reverse_charge_invoice_doc, buyer=buyer)))
    assert any(message.startswith("[BR-AE-02]") for message in messages), messages


def test_transfer_without_the_payee_iban_is_reported(domestic_invoice_doc):
    payment = dataclasses.replace(domestic_invoice_doc.payment, payee_iban="")
    messages = validate_en16931(invoice_xml(dataclasses.replace(domestic_invoice_doc, payment=payment)))
    # the payment account identifier (BT-84) is missing: CII-SR-470 (BIC alone is not an account)
    assert any("(BT-84)" in message for message in messages), messages


def test_xml_that_does_not_parse_is_one_message():
    messages = validate_en16931(b"<rsm:CrossIndustryInvoice")
    assert len(messages) == 1
    assert messages[0].startswith("XML is not well-formed")


def test_xsd_errors_name_the_broken_element(domestic_invoice_doc):
    xml = invoice_xml(domestic_invoice_doc).replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    (message,) = xsd_errors(xml)
    assert "IssueDateTime" in message  # the element found where TypeCode was expected
