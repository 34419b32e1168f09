"""Pricing a cart: the rules' article quantities times the prices valid on the order day.

Value objects with ``Decimal`` amounts (GEN-2) and pure functions; the prices are
read by the caller (:func:`licensing.selectors.catalog.purchase_prices`) and passed
in, so pricing many carts costs one query. Billing prices every cart the same way:
:func:`price_cart` turns a ``Counter`` of article → quantity into :class:`PricedCart`.
The PBX Call Assist 5 quote (:class:`CallAssistQuote`) is one such cart with the
coverage it books (SWP-1…SWP-7, SWP-9).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from licensing import rules
from licensing.exceptions import MissingPriceError
from licensing.models import MaintenanceCoverage
from vendorportal.formats import format_date
from vendorportal.money import ZERO, format_eur, round_cents


@dataclass(frozen=True)
class ArticlePrice:
    """The price of one article on a day (CAT-1)."""

    article: str
    name: str
    amount: Decimal
    sample: bool  # from a price list flagged as sample prices (CAT-8)


@dataclass(frozen=True)
class QuoteLine:
    """One article line of a priced cart."""

    article: str
    name: str
    quantity: int
    unit_price: Decimal
    total: Decimal  # quantity × unit price, rounded half up to cents (GEN-2)

    @property
    def unit_price_display(self) -> str:
        return format_eur(self.unit_price)

    @property
    def total_display(self) -> str:
        return format_eur(self.total)


@dataclass(frozen=True)
class PricedCart:
    """A cart with its lines sorted by article, net total and whether any price is a sample."""

    lines: tuple[QuoteLine, ...]
    net_total: Decimal  # the sum of the rounded line totals (GEN-2)
    sample_prices: bool


def price_cart(cart: Counter, prices: dict[str, ArticlePrice], on: date) -> PricedCart:
    """Price a rules cart: lines sorted by article, each total rounded half up (GEN-2),
    the net total as their sum and whether any price is a sample price.

    Raises :class:`MissingPriceError` for an article without a price on ``on``.
    """
    lines = []
    sample = False
    for article in sorted(cart):
        quantity = cart[article]
        price = prices.get(article)
        if price is None:
            raise MissingPriceError(
                _(
                    "Für Artikel %(article)s gibt es am %(date)s keinen Preis. Bitte den Vertrieb "
                    "bitten, ihn in einer gültigen Preisliste zu hinterlegen."
                )
                % {"article": article, "date": format_date(on)},
                code="missing_price",
            )
        lines.append(QuoteLine(article, price.name, quantity, price.amount, round_cents(quantity * price.amount)))
        sample = sample or price.sample
    return PricedCart(tuple(lines), sum((line.total for line in lines), ZERO), sample)


# --- PBX Call Assist 5 (SWP-1…SWP-9) ---------------------------------------------------


@dataclass(frozen=True)
class CallAssistQuote:
    """A priced PBX Call Assist 5 cart for one system (SWP-1…SWP-7, SWP-9).

    ``kind`` is the coverage ledger kind it books (initial, add_users, renewal);
    ``users`` the users the new coverage row covers; ``new_users`` the user licences
    it adds. ``based_on_end``/``based_on_users`` are the system's values the quote
    was computed from: a confirmation refuses a quote that no longer matches them.
    """

    kind: str
    installation_id: int
    serial: str
    order_date: date
    users: int
    new_users: int
    months: int | None
    coverage_start: date
    coverage_end: date
    lapsed_days: int
    surcharge_days: int
    lines: tuple[QuoteLine, ...]
    net_total: Decimal
    sample_prices: bool
    based_on_end: date | None
    based_on_users: int

    @property
    def net_total_display(self) -> str:
        return format_eur(self.net_total)

    @property
    def articles(self) -> Counter:
        """The cart as article → quantity, comparable with the rules' quotes."""
        return Counter({line.article: line.quantity for line in self.lines})

    @property
    def pack_users(self) -> dict[str, int]:
        """Users per pack article bought with this quote (15-pack × 1 → 15 users)."""
        return {
            line.article: line.quantity * rules.PACK_SIZES[line.article]
            for line in self.lines
            if line.article in rules.PACK_SIZES
        }


def renewal_quote_priced(
    *,
    installation_id: int,
    serial: str,
    coverage_end: date,
    users: int,
    months: int,
    today: date,
    prices: dict[str, ArticlePrice],
) -> CallAssistQuote:
    """Priced Softwarepflege renewal of all ``users`` (SWP-4…SWP-7), prices given.

    Raises :class:`rules.MaintenanceRuleError` when the rules refuse it (e.g. lapsed
    longer than 36 months) and :class:`MissingPriceError` without prices.
    """
    renewal = rules.renewal_quote(coverage_end, today, users, months)
    priced = price_cart(renewal.lines, prices, today)
    return CallAssistQuote(
        kind=MaintenanceCoverage.RENEWAL,
        installation_id=installation_id,
        serial=serial,
        order_date=today,
        users=users,
        new_users=0,
        months=months,
        coverage_start=renewal.start,
        coverage_end=renewal.end,
        lapsed_days=renewal.lapsed_days,
        surcharge_days=renewal.lapsed_days if renewal.surcharge else 0,
        lines=priced.lines,
        net_total=priced.net_total,
        sample_prices=priced.sample_prices,
        based_on_end=coverage_end,
        based_on_users=users,
    )
