"""Money helpers (RULES GEN-2, GEN-3). ``Decimal`` only, never float."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def D(value: str | int | Decimal) -> Decimal:
    """A Decimal from a string or int; floats are refused because they are inexact."""
    if isinstance(value, float):
        raise TypeError("Money must not be built from float; pass a string.")
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount: {value!r}") from exc


def round_cents(amount: Decimal) -> Decimal:
    """Round half up to whole cents (GEN-2): 14.915 → 14.92, 0.005 → 0.01."""
    return D(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def combine_discounts(*rates: Decimal) -> Decimal:
    """Factor that remains after several percentage discounts (GEN-3: they multiply).

    ``rates`` are fractions: 0.9 and 0.5 leave 0.1 × 0.5 = 0.05 (a combined 95 %).
    """
    factor = Decimal(1)
    for rate in rates:
        rate = D(rate)
        if not Decimal(0) <= rate <= Decimal(1):
            raise ValueError(f"A discount lies between 0 and 1, not {rate}.")
        factor *= Decimal(1) - rate
    return factor


def sum_money(amounts: Iterable[Decimal]) -> Decimal:
    return sum((D(a) for a in amounts), ZERO)


def _grouped(amount: Decimal, thousands: str, decimal: str) -> str:
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{thousands.join(groups)}{decimal}{cents}"


def format_eur_de(amount: Decimal) -> str:
    """Always German: ``Decimal("1299")`` → ``"1.299,00 €"``, ``-12`` → ``"-12,00 €"``."""
    amount = round_cents(amount)
    return f"{'-' if amount < 0 else ''}{_grouped(amount, '.', ',')} €"


def format_eur_en(amount: Decimal) -> str:
    """Always English: ``Decimal("1299")`` → ``"€1,299.00"``, ``-12`` → ``"-€12.00"``."""
    amount = round_cents(amount)
    return f"{'-' if amount < 0 else ''}€{_grouped(amount, ',', '.')}"


def format_eur(amount: Decimal) -> str:
    """An amount for its reader, in the active language (docs/i18n.md): German
    ``"1.299,00 €"``, English ``"€1,299.00"``. Only for showing — machine formats (Factur-X,
    SEPA XML, DATEV, CSV, the API's JSON) write the plain number."""
    from vendorportal.formats import english_active

    return format_eur_en(amount) if english_active() else format_eur_de(amount)


def german_decimal_text(text: str) -> str:
    """An amount as staff type it, in the form ``Decimal`` reads: ``"1.299,50 €"`` →
    ``"1299.50"``, ``"12,5"`` → ``"12.5"``. With a comma the comma is the decimal separator
    and dots group thousands (German); without one the text is read as it is (``"12.50"``),
    so a dot is never silently dropped: ``"1.234"`` stays 1.234 and fails a 2-decimal field."""
    text = text.replace("€", "").replace("\xa0", "").replace(" ", "").strip()
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return text


def parse_german_amount(text: str) -> Decimal:
    """``"1.299,00 €"`` → ``Decimal("1299.00")``; for importing the vendor's documents."""
    cleaned = text.replace("€", "").replace("\xa0", "").strip().replace(".", "").replace(",", ".")
    return D(cleaned)
