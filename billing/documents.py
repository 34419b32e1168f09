"""What an invoice or credit note says, as plain values: the contract between the invoice
models (which build it, :func:`billing.selectors.invoice_document`) and everything that
renders it — the PDF (INV-2), the embedded Factur-X / ZUGFeRD XML (INV-4), the export for
the tax adviser and SEPA direct debits (ORD-8).

No ORM, no formatting: amounts are ``Decimal`` with two places (GEN-2), dates are
``date``; the renderers format (``vendorportal.money.format_eur``,
``vendorportal.formats.format_date``). Totals are computed once, by billing's rules,
before a document is built; renderers never recompute them, so PDF, XML and database
agree to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

INVOICE = "invoice"  # Rechnung, UNTDID 1001 type code 380
# Rechnungskorrektur or Stornorechnung of an own invoice, type code 381 (never "Gutschrift",
# INV-1 decision: § 14 Abs. 2 UStG keeps that word for self-billing).
CREDIT_NOTE = "credit_note"

PAYMENT_TRANSFER = "58"  # UNTDID 4461: SEPA credit transfer
PAYMENT_DIRECT_DEBIT = "59"  # SEPA direct debit


@dataclass(frozen=True)
class Party:
    """Seller or buyer as the document names them."""

    name: str
    street: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2, e.g. "DE"
    vat_id: str = ""  # with country prefix, e.g. "DE136695976"; "" when there is none
    email: str = ""
    tax_number: str = ""  # Steuernummer of the seller, where no VAT ID may be shown (category O)
    # Handelsregister entry of the seller, e.g. "HRB 123456, Amtsgericht Stuttgart" (EN 16931 BT-30);
    # names the seller in the XML of category-O invoices, which may carry no VAT ID (BR-O-02, BR-CO-26)
    legal_registration: str = ""
    # Seat, register and managing directors in one sentence (§ 35a GmbHG; EN 16931 BT-33,
    # "Seller additional legal information"), e.g. "Sitz Nürtingen, HRB 999999, Amtsgericht Stuttgart, …"
    legal_info: str = ""


@dataclass(frozen=True)
class DocumentLine:
    position: int  # 1, 2, 3 … as printed
    article: str  # the vendor's article number
    description: str  # German text of the line, e.g. "Call Recording (81-150 Benutzer), Kauf"
    quantity: Decimal  # e.g. Decimal("1"), Decimal("12") for months
    unit: str  # UN/ECE rec 20 unit code: "C62" (piece), "MON" (month), "ANN" (year), "DAY"
    unit_price: Decimal  # net, after every discount (GEN-3), two places
    net_total: Decimal  # quantity × unit_price, rounded half up to cents (GEN-2)
    vat_category: str  # "S" standard, "AE" reverse charge, "O" not subject to VAT (EN 16931 BT-151)
    vat_percent: Decimal  # e.g. Decimal("19.00"); Decimal("0.00") for AE and O
    period_start: date | None = None  # service period of the line (INV-2), inclusive
    period_end: date | None = None  # inclusive


@dataclass(frozen=True)
class VatBreakdown:
    """One row of the VAT summary (EN 16931 BG-23): per category and rate."""

    category: str
    percent: Decimal
    basis: Decimal  # sum of the net line totals of this category and rate
    amount: Decimal  # VAT on the basis, rounded half up to cents (GEN-2)
    exemption_reason: str = ""  # German legal note for AE/O, e.g. reverse charge


@dataclass(frozen=True)
class Payment:
    """How the document is paid (ORD-8)."""

    means: str  # PAYMENT_TRANSFER or PAYMENT_DIRECT_DEBIT
    due_date: date | None  # transfer: pay by; direct debit: the collection date (pre-notification)
    terms: str  # German sentence printed on the document, e.g. "Zahlbar bis 06.12.2026 ohne Abzug."
    payee_iban: str = ""  # the vendor's account for transfers
    payee_bic: str = ""
    creditor_id: str = ""  # SEPA creditor identifier (direct debit)
    mandate_reference: str = ""  # direct debit: the partner's mandate
    debtor_iban: str = ""  # direct debit: the partner's account (printed masked)


@dataclass(frozen=True)
class InvoiceDocument:
    kind: str  # INVOICE or CREDIT_NOTE
    number: str  # e.g. "RE-2026-000123", "GS-2026-000007"
    issue_date: date
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    net_total: Decimal  # sum of the line net totals
    vat_total: Decimal  # sum of the breakdown amounts
    gross_total: Decimal  # net_total + vat_total
    payment: Payment
    currency: str = "EUR"
    language: str = "de"  # the partner's (issue 21): labels of the PDF; the Factur-X XML has none
    order_reference: str = ""  # the partner's order / the portal's order number (BT-13)
    buyer_reference: str = ""  # Leitweg-ID or the partner's reference (BT-10); "" if none
    preceding_invoice: str = ""  # corrections: number of the invoice it corrects (BT-25)
    preceding_invoice_date: date | None = None  # BT-26
    # Corrections: True for a Stornorechnung (takes back the whole invoice), False for a
    # Rechnungskorrektur (billing.rules.correction_kind).
    cancels_invoice: bool = False
    # A "Rechnung über Nebenforderungen" (issue 18): charges only, category O.
    charges_only: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)  # German notes printed and embedded (BT-22)


def unit_label(quantity: Decimal, unit: str) -> str:
    """The German unit printed after a line's quantity (readable lines, INV-2): "1 Monat",
    "3 Monate", "1 Jahr", "2 Jahre", "1,5 Std."; a piece is "Stk.". Through ngettext, so the
    plural form follows the language (formatting of the number is the renderer's)."""
    from django.utils.translation import ngettext, npgettext

    count = int(quantity) if quantity == quantity.to_integral_value() else 2  # 1,5 takes the plural
    # Context "Einheit": gettext keeps one entry per msgid, so without it the labels "Monat",
    # "Jahr", "Tag" (filters, columns, the cockpit's period picker) read "month", "year", "day".
    labels = {
        "MON": lambda n: npgettext("Einheit", "Monat", "Monate", n),
        "ANN": lambda n: npgettext("Einheit", "Jahr", "Jahre", n),
        "DAY": lambda n: npgettext("Einheit", "Tag", "Tage", n),
        "HUR": lambda n: ngettext("Std.", "Std.", n),
        "C62": lambda n: ngettext("Stk.", "Stk.", n),
    }
    label = labels.get(unit)
    return label(count) if label else unit
