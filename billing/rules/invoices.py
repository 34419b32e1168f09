"""Rules of invoices: VAT (GEN-2) and document numbers and correction kinds (INV-1).

Pure functions over ``date``, ``Decimal`` and plain values (STYLE 2): no ORM, no ``now()``,
no I/O. In rule-ID order; each docstring names its RULES.md ID.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from billing.exceptions import BillingInputError
from vendorportal.money import ZERO, D, round_cents

HUNDRED = Decimal(100)

# --- GEN-2: VAT --------------------------------------------------------------------------

# EU member states by ISO 3166 code (Greece's VAT IDs start with "EL", its ISO code is "GR").
EU_COUNTRIES = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
VAT_ID_PREFIX = {"GR": "EL"}

# The three treatments and their EN 16931 VAT category codes (UNTDID 5305), which the
# e-invoice (INV-4) carries per line and per rate:
#   S  standard rate — German buyers, and EU buyers without a valid VAT ID;
#   AE reverse charge — EU business buyers with a valid VAT ID outside Germany;
#   O  not subject to VAT — buyers outside the EU. Decision: "O", not "G": "G" is the
#      export of *goods*, while licences and subscriptions are services whose place of
#      supply is the buyer's country (§ 3a (2) UStG), so they are not taxable here at
#      all. EN 16931 BR-O-02 then wants no seller/buyer VAT ID in the XML: the invoice
#      names the seller by its tax number (BT-32) there.
DOMESTIC = "domestic"
REVERSE_CHARGE = "reverse_charge"
NOT_TAXABLE = "not_taxable"
VAT_CODE_STANDARD = "S"
VAT_CODE_REVERSE_CHARGE = "AE"
VAT_CODE_NOT_SUBJECT = "O"
VAT_CODES = (VAT_CODE_STANDARD, VAT_CODE_REVERSE_CHARGE, VAT_CODE_NOT_SUBJECT)


@dataclass(frozen=True)
class VatTreatment:
    """How an invoice to a buyer is taxed (GEN-2): the category, its EN 16931 code and
    the legal note the invoice must print (empty for domestic invoices). The rate of
    the category comes from the VAT rate data valid on the invoice date."""

    category: str  # DOMESTIC | REVERSE_CHARGE | NOT_TAXABLE
    code: str  # EN 16931 VAT category code: S | AE | O
    note: str  # German legal note for the invoice


def valid_vat_id_for(country: str, vat_id: str) -> bool:
    """Whether ``vat_id`` is a well-formed VAT ID with a correct check digit issued by
    EU member state ``country`` (GEN-2). Offline: a VIES lookup is not part of a rule."""
    number = (vat_id or "").replace(" ", "").replace(".", "").replace("-", "").upper()
    expected_prefix = VAT_ID_PREFIX.get(country, country)
    if not number.startswith(expected_prefix):
        return False
    try:
        eu_vat.validate(number)
    except StdnumError:
        return False
    return True


def vat_treatment(buyer_country: str, buyer_vat_id: str, seller_country: str = "DE") -> VatTreatment:
    """The VAT treatment of a sale from ``seller_country`` to a buyer (GEN-2).

    Same country as the seller → domestic VAT (19 % in Germany); another EU country
    with a valid VAT ID of that country → reverse charge (0 %, the invoice says so);
    another EU country without one → domestic VAT as for a consumer; outside the EU →
    not taxable in Germany (0 %). DE, "" → S; AT, ATU13585627 → AE; AT, "" → S;
    CH, CHE-116.281.710 → O.
    """
    buyer = (buyer_country or "").strip().upper()
    seller = (seller_country or "").strip().upper()
    if len(buyer) != 2 or len(seller) != 2:
        raise BillingInputError(_("Bitte das Land des Käufers als zweistelligen ISO-Code angeben, z. B. DE oder AT."))
    if buyer == seller or (buyer in EU_COUNTRIES and not valid_vat_id_for(buyer, buyer_vat_id)):
        return VatTreatment(DOMESTIC, VAT_CODE_STANDARD, "")
    if buyer in EU_COUNTRIES:
        return VatTreatment(
            REVERSE_CHARGE,
            VAT_CODE_REVERSE_CHARGE,
            _(
                "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge): Die Umsatzsteuer schuldet "
                "der Leistungsempfänger (§ 13b UStG, Art. 196 MwStSystRL)."
            ),
        )
    return VatTreatment(
        NOT_TAXABLE,
        VAT_CODE_NOT_SUBJECT,
        _("Nicht im Inland steuerbare Leistung (Leistungsort beim Empfänger, § 3a Abs. 2 UStG)."),
    )


def net_by_rate(lines: Iterable[tuple[Decimal, Decimal]]) -> dict[Decimal, Decimal]:
    """Net totals per VAT rate (GEN-2): the sum of the line totals, each first rounded half
    up to cents, of that rate. Highest rate first. [(10.005, 19), (5, 19)] → {19: 15.01}."""
    totals: dict[Decimal, Decimal] = {}
    for net, rate in lines:
        rate = D(rate)
        totals[rate] = totals.get(rate, ZERO) + round_cents(net)
    return dict(sorted(totals.items(), key=lambda item: item[0], reverse=True))


def vat_amounts(lines: Iterable[tuple[Decimal, Decimal]]) -> dict[Decimal, Decimal]:
    """VAT per rate (GEN-2): rate × the sum of that rate's rounded net line totals, rounded
    half up to cents once per rate — never per line.

    Three lines of 0,05 € at 19 %: 0,15 € × 19 % = 0,0285 → 0,03 € (per line it would be 3 × 0,01 €).
    """
    return {rate: round_cents(net * rate / HUNDRED) for rate, net in net_by_rate(lines).items()}


# --- INV-1: document numbers ---------------------------------------------------------------------

INVOICE_PREFIX = "RE"  # Rechnung
# Rechnungskorrektur / Stornorechnung. The prefix of the number range stays "GS": numbers
# already issued never change (INV-1), and the title, not the prefix, names the document.
CREDIT_NOTE_PREFIX = "GS"
NUMBER_DIGITS = 6


CORRECTION = "correction"  # Rechnungskorrektur: takes back part of an invoice
CANCELLATION = "cancellation"  # Stornorechnung: takes back the whole invoice


def correction_kind(*, correction_gross: Decimal, invoice_gross: Decimal) -> str:
    """What a correction of an own invoice is called (INV-1 decision): a "Stornorechnung"
    when it alone takes back the whole invoice (its gross is the invoice's gross), else a
    "Rechnungskorrektur" — never a "Gutschrift", which § 14 Abs. 2 UStG reserves for
    self-billing. 1.705,57 € of 1.705,57 € → Stornorechnung; 159,76 € of 1.705,57 € → Rechnungskorrektur;
    the last of several corrections that together cancel the invoice → Rechnungskorrektur."""
    return CANCELLATION if correction_gross == invoice_gross else CORRECTION


def document_number(prefix: str, year: int, sequence: int) -> str:
    """An invoice or correction number (INV-1): one sequence per prefix and year.

    ("RE", 2026, 123) → "RE-2026-000123"; ("GS", 2026, 7) → "GS-2026-000007".
    """
    if not prefix.isalpha() or not prefix.isupper():
        raise BillingInputError(_("Ein Nummernkreis-Präfix besteht aus Großbuchstaben, z. B. RE oder GS."))
    if not 1000 <= year <= 9999:
        raise BillingInputError(_("Das Jahr einer Belegnummer hat vier Stellen."))
    if not 1 <= sequence < 10**NUMBER_DIGITS:
        raise BillingInputError(_("Die laufende Nummer liegt zwischen 1 und 999999."))
    return f"{prefix}-{year:04d}-{sequence:0{NUMBER_DIGITS}d}"
