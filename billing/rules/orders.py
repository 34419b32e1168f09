"""Rules of orders and prices: combined discounts (GEN-3), Teams Presence Sync blocks (CAT-4),
delivery (ORD-2), bundle, volume and partner discounts (ORD-3…ORD-5), tier and paid upgrades
(ORD-6, ORD-7) and cancelling (ORD-9).

Pure functions over ``date``, ``Decimal`` and plain values (STYLE 2): no ORM, no ``now()``,
no I/O. Percentages are percent values (``Decimal("10")`` = 10 %), amounts net EUR.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from billing.exceptions import BillingInputError, TierUpgradeRefused
from billing.rules.invoices import HUNDRED
from licensing.rules import tier_rank
from vendorportal.money import ZERO, D, round_cents
from vendorportal.periods import months_passed_within

# --- GEN-3: combined discounts -----------------------------------------------------------


def _percent(value) -> Decimal:
    percent = D(value)
    if not ZERO <= percent <= HUNDRED:
        raise BillingInputError(_("Ein Rabatt liegt zwischen 0 und 100 %%, nicht bei %(value)s %%.") % {"value": value})
    return percent


def combine_discounts(*percents) -> Decimal:
    """The factor left after several percentage discounts: they multiply (GEN-3).

    90 % and 50 % → 0,1 × 0,5 = 0,05 (a combined 95 %); 10 % and 10 % → 0,81; none → 1.
    """
    factor = Decimal(1)
    for percent in percents:
        factor *= (HUNDRED - _percent(percent)) / HUNDRED
    return factor


def combined_percent(*percents) -> Decimal:
    """The single discount percentage equal to several combined ones (GEN-3): 10, 10 → 19."""
    return (Decimal(1) - combine_discounts(*percents)) * HUNDRED


def apply_discounts(price, *percents) -> Decimal:
    """``price`` after all ``percents`` (GEN-3), exact: the caller rounds once per line (GEN-2).

    1299 with 90 % and 50 % → 64,95. A price is never negative, nor is the result.
    """
    price = D(price)
    if price < 0:
        raise BillingInputError(_("Ein Preis ist nie negativ."))
    return price * combine_discounts(*percents)


# --- CAT-4: Teams Presence Sync ------------------------------------------------------------

USERS_PER_BLOCK = 5


def started_user_blocks(users: int) -> int:
    """Teams Presence Sync is priced per *started* block of 5 users (CAT-4): 12 → 3, 5 → 1, 6 → 2."""
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise BillingInputError(_("Bitte die Anzahl der Benutzer angeben (mindestens 1)."))
    return math.ceil(users / USERS_PER_BLOCK)


# --- ORD-2: where the keys go ----------------------------------------------------------------


def delivery_recipient(*, installation_email: str, customer_email: str, order_email: str) -> str:
    """The delivery e-mail of one installation's keys (ORD-2): the installation's own
    delivery e-mail, else its customer's, else the order's (which defaults to the
    partner's). So a partner ordering for many customers has each end customer's keys
    delivered straight to that customer. ("", "it@kunde.test", "technik@partner.test") →
    "it@kunde.test"."""
    for email in (installation_email, customer_email, order_email):
        if email and email.strip():
            return email.strip()
    return ""


# --- ORD-3: bundle discount ------------------------------------------------------------------

BUNDLE_DISCOUNT_PERCENT = Decimal("10")
PURCHASE = "purchase"
SUBSCRIPTION = "subscription"


def complete_bundles(bundles: Mapping[str, Iterable[str]], purchased: Iterable[str]) -> list[str]:
    """Names of the bundles all of whose modules are bought in this order (ORD-3), sorted.

    ``purchased`` are the articles bought (new purchases, not upgrades) in the order for
    one installation (decision ORD-1/ORD-4: bundles count per installation). A bundle
    without modules is never complete.
    """
    bought = set(purchased)
    return sorted(name for name, articles in bundles.items() if (members := set(articles)) and members <= bought)


def bundle_discount_percent(
    article: str, kind: str, bundles: Mapping[str, Iterable[str]], purchased: Iterable[str], is_upgrade: bool = False
) -> Decimal:
    """10 % off a module's price when every module of a bundle it belongs to is bought in
    the same order (ORD-3). Purchase only: never for subscriptions (they can be ended
    module by module), nor for upgrades (they buy no module). Not stacked when the
    module belongs to two complete bundles."""
    if kind != PURCHASE or is_upgrade:
        return ZERO
    for name in complete_bundles(bundles, purchased):
        if article in set(bundles[name]):
            return BUNDLE_DISCOUNT_PERCENT
    return ZERO


# --- ORD-4: volume discount ------------------------------------------------------------------

VOLUME_MIN_LICENSES = 10
VOLUME_DISCOUNT_PERCENT = Decimal("10")


def volume_discount_percent(kind: str, licenses_of_module: int, as_package: bool = False) -> Decimal:
    """10 % when at least 10 licences of the same module are bought in one order (ORD-4).

    Decision ORD-1/ORD-4: ``licenses_of_module`` counts that module over every installation
    of the order (a licence is bound to one server key: ten licences are ten installations).

    Subscriptions only when booked as a package (common term and start, cancelled only
    as a whole). 9 → 0, 10 → 10; subscription of 12 not as a package → 0.
    """
    if licenses_of_module < VOLUME_MIN_LICENSES:
        return ZERO
    if kind == SUBSCRIPTION and not as_package:
        return ZERO
    return VOLUME_DISCOUNT_PERCENT


# --- ORD-5: partner conditions -----------------------------------------------------------------


def partner_discount_percent(
    *, grants_conditions: bool, level_percent, status_confirmed_on: date | None, order_date: date
) -> Decimal:
    """The partner purchase condition that applies to an order (ORD-5): the level's discount
    when the level grants partner conditions ("Certified" and up) AND the partner status
    was confirmed on or before the order date; otherwise end-customer prices (0 %)."""
    if not grants_conditions or status_confirmed_on is None or status_confirmed_on > order_date:
        return ZERO
    return _percent(level_percent)


# --- ORD-6: tier upgrade ------------------------------------------------------------------------


def tier_upgrade_price(*, from_tier: str, to_tier: str, from_price, to_price) -> Decimal:
    """A tier upgrade costs the difference of the two tiers' purchase prices (ORD-6);
    never negative. Refused (:class:`TierUpgradeRefused`) unless ``to_tier`` is higher.

    Call Recording 21-40 (1.200,00 €) → 41-80 (2.400,00 €): 1.200,00 €.
    """
    if tier_rank(to_tier) <= tier_rank(from_tier):
        raise TierUpgradeRefused(
            _(
                "Ein Staffel-Upgrade führt nur in eine höhere Benutzerstaffel: Die Lizenz gilt bereits für "
                "%(from)s Benutzer, gewünscht ist %(to)s."
            )
            % {"from": from_tier, "to": to_tier},
            code="tier_not_higher",
        )
    return max(ZERO, round_cents(D(to_price) - D(from_price)))


# --- ORD-7: paid upgrade ---------------------------------------------------------------------

PLAN_FREE = "free"
PLAN_BASIC = "basic"
PLAN_PREMIUM = "premium"
PLAN_ENTERPRISE = "enterprise"
PLAN_DISCOUNT_PERCENT = {
    PLAN_FREE: Decimal("0"),
    PLAN_BASIC: Decimal("0"),
    PLAN_PREMIUM: Decimal("50"),
    PLAN_ENTERPRISE: Decimal("90"),
}
# (months, discount): "less than n months since the purchase" → discount; later: 10 %.
UPGRADE_TIME_DISCOUNTS = ((3, Decimal("100")), (6, Decimal("50")), (12, Decimal("25")))
UPGRADE_TIME_DISCOUNT_LATER = Decimal("10")


def upgrade_plan_discount_percent(plan: str) -> Decimal:
    """Service plan discount on a paid upgrade (ORD-7): Premium 50 %, Enterprise 90 %, else 0."""
    key = (plan or "").strip().lower()
    if key not in PLAN_DISCOUNT_PERCENT:
        raise BillingInputError(
            _("Unbekannter Service-Plan „%(plan)s“; möglich sind free, basic, premium und enterprise.") % {"plan": plan}
        )
    return PLAN_DISCOUNT_PERCENT[key]


def upgrade_time_discount_percent(purchased_on: date, upgraded_on: date) -> Decimal:
    """Time discount on a paid upgrade by the months since the previous version was bought
    (ORD-7, GEN-1): < 3 months 100 %, < 6 months 50 %, < 12 months 25 %, later 10 %.

    "Less than n months since S" on day T means T ≤ month_period_end(S, n): bought
    2026-01-15 → 100 % through 2026-04-14, 50 % through 2026-07-14, 25 % through
    2027-01-14, 10 % from 2027-01-15 on.
    """
    if upgraded_on < purchased_on:
        raise BillingInputError(_("Ein Upgrade kann nicht vor dem Kauf der Vorversion liegen."))
    for months, percent in UPGRADE_TIME_DISCOUNTS:
        if months_passed_within(purchased_on, months, upgraded_on):
            return percent
    return UPGRADE_TIME_DISCOUNT_LATER


def upgrade_price(list_price: Decimal, purchased_on: date, upgraded_on: date, plan: str) -> Decimal:
    """Price of a paid upgrade (ORD-7) = new purchase price × (1 − plan discount) ×
    (1 − time discount), rounded half up to cents (GEN-2, GEN-3).

    Seed example: 1.299,00 €, Enterprise, bought almost 6 months ago → 1299 × 0,1 × 0,5 = 64,95 €.
    Subscriptions upgrade free of charge; this price is for purchased licences.
    """
    return round_cents(
        apply_discounts(
            list_price, upgrade_plan_discount_percent(plan), upgrade_time_discount_percent(purchased_on, upgraded_on)
        )
    )


# --- ORD-9: no withdrawal; cancel only until the key exists --------------------------------------

ORDER_DRAFT = "draft"
ORDER_CONFIRMED = "confirmed"
ORDER_FULFILLED = "fulfilled"
ORDER_CANCELLED = "cancelled"


def cancel_refusal(*, state: str, keys_generated: bool) -> str | None:
    """Why an order cannot be cancelled, or None when it can (ORD-9, LIC-8).

    Business customers have no right of withdrawal; an order can be cancelled only
    until its key is generated: a draft or a confirmed order without keys can.
    """
    if state == ORDER_CANCELLED:
        return _("Die Bestellung ist bereits storniert.")
    if keys_generated or state == ORDER_FULFILLED:
        return _(
            "Die Lizenzschlüssel dieser Bestellung sind bereits erzeugt; eine Stornierung ist nicht mehr möglich "
            "(kein Widerrufsrecht für Geschäftskunden). Bitte den Vertrieb wegen einer Rechnungskorrektur ansprechen."
        )
    return None
