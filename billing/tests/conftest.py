"""Sample invoices and credit notes as plain :class:`billing.documents.InvoiceDocument`
values (no database): what the invoice models will hand to the PDF and the Factur-X XML.

Every amount is worked out by hand from GEN-2 (net per line rounded half up; VAT per rate
on the sum of the line totals of that rate, rounded half up):

- ``domestic_invoice_doc`` (German buyer, 19 %):
  line 1: 1 × 1.299,00 € = 1.299,00 €; line 2: 3 × 44,75 € = 134,25 €
  → net 1.433,25 €; VAT 1.433,25 × 0,19 = 272,3175 → 272,32 €; gross 1.705,57 €.
- ``reverse_charge_invoice_doc`` (Austrian buyer ATU12345675, AE):
  1 × 1.299,00 € → net 1.299,00 €, VAT 0,00 €, gross 1.299,00 €.
- ``non_eu_invoice_doc`` (Swiss buyer, O): 12 × 15,90 € = 190,80 € → VAT 0,00 €, gross 190,80 €.
- ``direct_debit_invoice_doc`` (subscription ≤ 50,00 € net, ORD-8): 1 × 44,75 € → net 44,75 €;
  VAT 44,75 × 0,19 = 8,5025 → 8,50 €; gross 53,25 €, collected on 27.11.2026.
- ``credit_note_doc`` for line 2 of the domestic invoice: 3 × 44,75 € = 134,25 €;
  VAT 134,25 × 0,19 = 25,5075 → 25,51 €; gross 159,76 €.
- ``long_invoice_doc``: 40 lines of 1 × 10,00 € … 1 × 49,00 € (10 + 11 + … + 49)
  = 40 × (10 + 49) / 2 = 1.180,00 € net; VAT 1.180 × 0,19 = 224,20 €; gross 1.404,20 €.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.documents import (
    CREDIT_NOTE,
    INVOICE,
    PAYMENT_DIRECT_DEBIT,
    PAYMENT_TRANSFER,
    DocumentLine,
    InvoiceDocument,
    Party,
    Payment,
    VatBreakdown,
)

D = Decimal

SELLER = Party(
    name="Fluxpunkt Module GmbH (Demo)",
    street="Musterstraße 1",
    postal_code="72622",
    city="Nürtingen",
    country="DE",
    vat_id="DE136695976",
    email="vertrieb@vendor.example",
    tax_number="74000/12345",
    legal_registration="HRB 123456, Amtsgericht Stuttgart",
)
GERMAN_BUYER = Party(
    name="Telefonbau Schmidt GmbH",
    street="Industriestraße 5",
    postal_code="70565",
    city="Stuttgart",
    country="DE",
    vat_id="DE811569869",
    email="buchhaltung@telefonbau-schmidt.example",
)
AUSTRIAN_BUYER = Party(
    name="Wiener Telefonie GmbH",
    street="Mariahilfer Straße 10",
    postal_code="1060",
    city="Wien",
    country="AT",
    vat_id="ATU12345675",
)
SWISS_BUYER = Party(
    name="Zürcher Kommunikation AG",
    street="Bahnhofstrasse 1",
    postal_code="8001",
    city="Zürich",
    country="CH",
    vat_id="CHE-116.281.710 MWST",
)
VENDOR_IBAN = "DE89370400440532013000"
VENDOR_BIC = "COBADEFFXXX"
REVERSE_CHARGE = "Steuerschuldnerschaft des Leistungsempfängers"
NOT_TAXABLE = "Nicht im Inland steuerbare Leistung"


def transfer(due: date | None, terms: str) -> Payment:
    return Payment(means=PAYMENT_TRANSFER, due_date=due, terms=terms, payee_iban=VENDOR_IBAN, payee_bic=VENDOR_BIC)


def purchase_line(position=1, category="S", percent="19.00") -> DocumentLine:
    return DocumentLine(
        position=position,
        article="ADSYNC",
        description="Active Directory Synchronisation (81-150 Benutzer), Kauf",
        quantity=D("1"),
        unit="C62",
        unit_price=D("1299.00"),
        net_total=D("1299.00"),
        vat_category=category,
        vat_percent=D(percent),
        period_start=date(2026, 11, 21),
        period_end=date(2026, 11, 21),
    )


def subscription_line(position=2, months=3) -> DocumentLine:
    return DocumentLine(
        position=position,
        article="CALLREC",
        description="Call Recording (21-40 Benutzer), Abo 24 Monate",
        quantity=D(months),
        unit="MON",
        unit_price=D("44.75"),
        net_total=D("44.75") * months,
        vat_category="S",
        vat_percent=D("19.00"),
        period_start=date(2026, 12, 1),
        period_end={3: date(2027, 2, 28), 1: date(2026, 12, 31)}[months],
    )


def make_domestic_invoice() -> InvoiceDocument:
    return InvoiceDocument(
        kind=INVOICE,
        number="RE-2026-000123",
        issue_date=date(2026, 11, 21),
        seller=SELLER,
        buyer=GERMAN_BUYER,
        lines=(purchase_line(1), subscription_line(2)),
        vat_breakdown=(VatBreakdown(category="S", percent=D("19.00"), basis=D("1433.25"), amount=D("272.32")),),
        net_total=D("1433.25"),
        vat_total=D("272.32"),
        gross_total=D("1705.57"),
        payment=transfer(date(2026, 12, 5), "Zahlbar bis 05.12.2026 ohne Abzug."),
        order_reference="B-2026-000042",
        buyer_reference="Bestellung Herr Maier",
        notes=("Vielen Dank für Ihren Auftrag.",),
    )


def make_reverse_charge_invoice() -> InvoiceDocument:
    return InvoiceDocument(
        kind=INVOICE,
        number="RE-2026-000124",
        issue_date=date(2026, 11, 21),
        seller=SELLER,
        buyer=AUSTRIAN_BUYER,
        lines=(purchase_line(1, category="AE", percent="0.00"),),
        vat_breakdown=(
            VatBreakdown(
                category="AE", percent=D("0.00"), basis=D("1299.00"), amount=D("0.00"), exemption_reason=REVERSE_CHARGE
            ),
        ),
        net_total=D("1299.00"),
        vat_total=D("0.00"),
        gross_total=D("1299.00"),
        payment=transfer(date(2026, 12, 5), "Zahlbar bis 05.12.2026 ohne Abzug."),
    )


def make_non_eu_invoice() -> InvoiceDocument:
    line = DocumentLine(
        position=1,
        article="TEAMS-SYNC",
        description="Teams Presence Sync (6-10 Benutzer), Abo 12 Monate",
        quantity=D("12"),
        unit="MON",
        unit_price=D("15.90"),
        net_total=D("190.80"),
        vat_category="O",
        vat_percent=D("0.00"),
        period_start=date(2027, 1, 1),
        period_end=date(2027, 12, 31),
    )
    return InvoiceDocument(
        kind=INVOICE,
        number="RE-2026-000125",
        issue_date=date(2026, 11, 21),
        seller=SELLER,
        buyer=SWISS_BUYER,
        lines=(line,),
        vat_breakdown=(
            VatBreakdown(
                category="O", percent=D("0.00"), basis=D("190.80"), amount=D("0.00"), exemption_reason=NOT_TAXABLE
            ),
        ),
        net_total=D("190.80"),
        vat_total=D("0.00"),
        gross_total=D("190.80"),
        payment=transfer(date(2026, 12, 5), "Zahlbar bis 05.12.2026 ohne Abzug."),
    )


def make_direct_debit_invoice() -> InvoiceDocument:
    return InvoiceDocument(
        kind=INVOICE,
        number="RE-2026-000126",
        issue_date=date(2026, 11, 21),
        seller=SELLER,
        buyer=GERMAN_BUYER,
        lines=(subscription_line(1, months=1),),
        vat_breakdown=(VatBreakdown(category="S", percent=D("19.00"), basis=D("44.75"), amount=D("8.50")),),
        net_total=D("44.75"),
        vat_total=D("8.50"),
        gross_total=D("53.25"),
        payment=Payment(
            means=PAYMENT_DIRECT_DEBIT,
            due_date=date(2026, 11, 27),
            terms="Der Betrag wird am 27.11.2026 per SEPA-Lastschrift eingezogen.",
            creditor_id="DE98ZZZ09999999999",
            mandate_reference="VP-MANDAT-000042",
            debtor_iban="DE75512108001245126199",
        ),
    )


def make_credit_note() -> InvoiceDocument:
    return InvoiceDocument(
        kind=CREDIT_NOTE,
        number="GS-2026-000007",
        issue_date=date(2026, 11, 25),
        seller=SELLER,
        buyer=GERMAN_BUYER,
        lines=(subscription_line(1),),
        vat_breakdown=(VatBreakdown(category="S", percent=D("19.00"), basis=D("134.25"), amount=D("25.51")),),
        net_total=D("134.25"),
        vat_total=D("25.51"),
        gross_total=D("159.76"),
        payment=transfer(None, "Der Betrag wird Ihrem Konto innerhalb von 14 Tagen gutgeschrieben."),
        preceding_invoice="RE-2026-000123",
        preceding_invoice_date=date(2026, 11, 21),
    )


def make_long_invoice() -> InvoiceDocument:
    lines = tuple(
        DocumentLine(
            position=i + 1,
            article=f"ART-{i + 1:03d}",
            description=f"Modul Nummer {i + 1} mit einer etwas längeren Beschreibung, Kauf",
            quantity=D("1"),
            unit="C62",
            unit_price=D(10 + i),
            net_total=D(10 + i),
            vat_category="S",
            vat_percent=D("19.00"),
            period_start=date(2026, 11, 21),
            period_end=date(2026, 11, 21),
        )
        for i in range(40)
    )
    return InvoiceDocument(
        kind=INVOICE,
        number="RE-2026-000127",
        issue_date=date(2026, 11, 21),
        seller=SELLER,
        buyer=GERMAN_BUYER,
        lines=lines,
        vat_breakdown=(VatBreakdown(category="S", percent=D("19.00"), basis=D("1180.00"), amount=D("224.20")),),
        net_total=D("1180.00"),
        vat_total=D("224.20"),
        gross_total=D("1404.20"),
        payment=transfer(date(2026, 12, 5), "Zahlbar bis 05.12.2026 ohne Abzug."),
    )


@pytest.fixture
def domestic_invoice_doc():
    return make_domestic_invoice()


@pytest.fixture
def reverse_charge_invoice_doc():
    return make_reverse_charge_invoice()


@pytest.fixture
def non_eu_invoice_doc():
    return make_non_eu_invoice()


@pytest.fixture
def direct_debit_invoice_doc():
    return make_direct_debit_invoice()


@pytest.fixture
def credit_note_doc():
    return make_credit_note()


@pytest.fixture
def long_invoice_doc():
    return make_long_invoice()


# The real-worker tools of the core's tests (billing's invoicing run starts workers too).
from vendorportal.tests.conftest import worker_tools  # noqa: E402, F401
