"""Pricing an order: value objects and pure functions over :mod:`billing.rules`.

The service (:func:`billing.services.order_price`) reads the data — the prices valid on
the order date (CAT-1), the installation's tier (CAT-2), the bundles, the partner's
conditions — and passes it in as plain values; nothing here touches the database, so
every rule combination is testable without one.

A line's price is built in steps, each shown to the partner with a German label:
list price (per licence; Teams Presence Sync: started 5-user blocks × block price,
CAT-4; tier upgrade: difference of the tiers' purchase prices, ORD-6) → bundle discount
(ORD-3) → volume discount (ORD-4) → partner conditions (ORD-5) → upgrade discounts
(ORD-7: service plan, then time since the purchase). The discounts multiply (GEN-3).

**Decision (GEN-2, rounding per line):** the discounted price of one licence is rounded
half up to cents once, and the line total is quantity × that unit price — so every
invoice line reads "quantity × unit price = total" to the cent, as EN 16931 (INV-4)
defines a line's net amount. Step subtotals are shown rounded to cents; each step's
change is the difference of the rounded subtotals, so the shown changes add up exactly
to the unit price. Discount steps of 0 % are not shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from billing import rules
from vendorportal.formats import english_active
from vendorportal.money import ZERO, format_eur, round_cents

LIST = "list"
BUNDLE = "bundle"
VOLUME = "volume"
PARTNER = "partner"
UPGRADE_PLAN = "upgrade_plan"
UPGRADE_TIME = "upgrade_time"

UNIT_ONCE = "once"
UNIT_MONTH = "month"
UNIT_YEAR = "year"
UNIT_ORDER = (UNIT_ONCE, UNIT_MONTH, UNIT_YEAR)


def format_percent(percent: Decimal) -> str:
    """A percentage in the reader's language: German 10 → "10 %", 12.5 → "12,5 %";
    English "10%", "12.5%" (docs/i18n.md)."""
    text = f"{Decimal(percent).normalize():f}"
    return f"{text}%" if english_active() else text.replace(".", ",") + " %"


def unit_label(unit: str) -> str:
    return {UNIT_ONCE: _("einmalig"), UNIT_MONTH: _("monatlich"), UNIT_YEAR: _("jährlich")}.get(unit, unit)


@dataclass(frozen=True)
class PriceStep:
    """One step of a line's price, per licence: what it is, its percentage (None for the
    list price), the amount it adds or takes off and the price after it (both in cents)."""

    code: str
    label: str
    percent: Decimal | None
    change: Decimal
    subtotal: Decimal

    @property
    def display(self) -> str:
        """ "Bundle-Rabatt 10 %: −24,90 € → 224,10 €" — the step as a partner reads it."""
        head = self.label if self.percent is None else f"{self.label} {format_percent(self.percent)}"
        sign = "−" if self.change < 0 else ""
        return f"{head}: {sign}{format_eur(abs(self.change))} → {format_eur(self.subtotal)}"


@dataclass(frozen=True)
class LineRequest:
    """What is ordered on one line, as plain values (from an :class:`billing.models.OrderLine`)."""

    key: Hashable
    article: str
    name: str
    kind: str  # rules.PURCHASE | rules.SUBSCRIPTION
    term_months: int = 0
    tier: str = ""
    quantity: int = 1
    users: int | None = None  # Teams Presence Sync only (CAT-4)
    per_started_5_users: bool = False
    as_package: bool = False
    upgrade_kind: str = ""  # "" | "tier" | "version"
    from_tier: str = ""  # tier upgrade: the licensed tier
    purchased_on: date | None = None  # version upgrade: purchase of the previous version
    service_plan: str = ""  # version upgrade: the installation's service plan
    installation: Hashable = None  # the line's installation: bundles count per installation (ORD-3)


@dataclass(frozen=True)
class ListPrice:
    """The list price a line is priced from (CAT-1): per licence, or per 5-user block."""

    amount: Decimal
    unit: str  # once | month | year
    from_amount: Decimal | None = None  # tier upgrade: purchase price of the licensed tier


@dataclass(frozen=True)
class LineBreakdown:
    """The priced line: the percentages applied, the steps and the totals (GEN-2, GEN-3)."""

    key: Hashable
    article: str
    name: str
    kind: str
    term_months: int
    tier: str
    quantity: int
    users: int | None
    unit: str
    list_price: Decimal  # per licence, before discounts
    bundle_percent: Decimal
    volume_percent: Decimal
    partner_percent: Decimal
    upgrade_plan_percent: Decimal
    upgrade_time_percent: Decimal
    steps: tuple[PriceStep, ...]
    unit_net: Decimal  # per licence, rounded half up to cents
    line_net: Decimal  # quantity × unit_net
    installation: str = ""  # the line's installation identifier, as shown (ORD-1)
    customer: str = ""  # its end customer
    delivery_email: str = ""  # where its delivery note goes (ORD-2)

    @property
    def factor(self) -> Decimal:
        return rules.combine_discounts(*self.percents)

    @property
    def percents(self) -> tuple[Decimal, ...]:
        return (
            self.bundle_percent,
            self.volume_percent,
            self.partner_percent,
            self.upgrade_plan_percent,
            self.upgrade_time_percent,
        )


def list_step_label(
    *,
    kind: str,
    term_months: int,
    tier: str,
    users: int | None,
    block_price: Decimal | None,
    upgrade_kind: str = "",
    from_tier: str = "",
) -> str:
    """The German label of a line's first step: what its list price is."""
    if upgrade_kind == "tier":
        return _("Staffel-Upgrade %(from)s → %(to)s Benutzer: Differenz der Kaufpreise") % {
            "from": from_tier,
            "to": tier,
        }
    parts = [
        _("Kauf") if kind == rules.PURCHASE else _("Abo, %(months)s Monate Mindestlaufzeit") % {"months": term_months}
    ]
    if kind == rules.SUBSCRIPTION and term_months == 1:
        parts[0] = _("Abo, 1 Monat Mindestlaufzeit")
    if tier:
        parts.append(_("Staffel %(tier)s Benutzer") % {"tier": tier})
    if users is not None and block_price is not None:
        blocks = rules.started_user_blocks(users)
        parts.append(
            _("%(users)s Benutzer = %(blocks)s angefangene 5er-Blöcke à %(price)s")
            % {"users": users, "blocks": blocks, "price": format_eur(block_price)}
        )
    head = _("Listenpreis der neuen Version") if upgrade_kind == "version" else _("Listenpreis")
    return f"{head} ({', '.join(parts)})"


def build_steps(
    list_price: Decimal, list_label: str, discounts: Iterable[tuple[str, str, Decimal]]
) -> tuple[tuple[PriceStep, ...], Decimal]:
    """Steps from the list price through every discount (GEN-3) and the unit net price,
    rounded half up to cents once (GEN-2). ``discounts`` are (code, label, percent)."""
    steps = [PriceStep(LIST, list_label, None, round_cents(list_price), round_cents(list_price))]
    exact = list_price
    shown = round_cents(list_price)
    for code, label, percent in discounts:
        if not percent:
            continue
        exact = rules.apply_discounts(exact, percent)
        rounded = round_cents(exact)
        steps.append(PriceStep(code, label, percent, rounded - shown, rounded))
        shown = rounded
    return tuple(steps), round_cents(exact)


def discount_steps(
    *, bundle: Decimal, volume: Decimal, partner: Decimal, plan: Decimal, time: Decimal, service_plan: str = ""
) -> list[tuple[str, str, Decimal]]:
    """The discount steps in the order they are applied, with their German labels."""
    return [
        (BUNDLE, _("Bundle-Rabatt (alle Module eines Bundles in dieser Bestellung)"), bundle),
        (VOLUME, _("Mengenrabatt (mindestens 10 Lizenzen eines Moduls)"), volume),
        (PARTNER, _("Partnerkondition"), partner),
        (UPGRADE_PLAN, _("Upgrade-Rabatt Service-Plan %(plan)s") % {"plan": (service_plan or "").capitalize()}, plan),
        (UPGRADE_TIME, _("Upgrade-Zeitrabatt (Zeit seit dem Kauf der Vorversion)"), time),
    ]


def price_line(
    request: LineRequest,
    price: ListPrice,
    *,
    order_date: date,
    bundle_percent: Decimal = ZERO,
    volume_percent: Decimal = ZERO,
    partner_percent: Decimal = ZERO,
) -> LineBreakdown:
    """One line's price breakdown from its list price and the order-wide discounts."""
    plan_percent = time_percent = ZERO
    block_price = None
    if request.upgrade_kind == "tier":
        list_price = rules.tier_upgrade_price(
            from_tier=request.from_tier, to_tier=request.tier, from_price=price.from_amount, to_price=price.amount
        )
    elif request.per_started_5_users:
        block_price = price.amount
        list_price = price.amount * rules.started_user_blocks(request.users)
    else:
        list_price = price.amount
    if request.upgrade_kind == "version":
        plan_percent = rules.upgrade_plan_discount_percent(request.service_plan)
        time_percent = rules.upgrade_time_discount_percent(request.purchased_on, order_date)
    label = list_step_label(
        kind=request.kind,
        term_months=request.term_months,
        tier=request.tier,
        users=request.users,
        block_price=block_price,
        upgrade_kind=request.upgrade_kind,
        from_tier=request.from_tier,
    )
    steps, unit_net = build_steps(
        list_price,
        label,
        discount_steps(
            bundle=bundle_percent,
            volume=volume_percent,
            partner=partner_percent,
            plan=plan_percent,
            time=time_percent,
            service_plan=request.service_plan,
        ),
    )
    return LineBreakdown(
        key=request.key,
        article=request.article,
        name=request.name,
        kind=request.kind,
        term_months=request.term_months,
        tier=request.tier,
        quantity=request.quantity,
        users=request.users,
        unit=price.unit,
        list_price=round_cents(list_price),
        bundle_percent=bundle_percent,
        volume_percent=volume_percent,
        partner_percent=partner_percent,
        upgrade_plan_percent=plan_percent,
        upgrade_time_percent=time_percent,
        steps=steps,
        unit_net=unit_net,
        line_net=unit_net * request.quantity,
    )


def price_lines(
    requests: Iterable[LineRequest],
    prices: Mapping[Hashable, ListPrice],
    *,
    order_date: date,
    bundles: Mapping[str, Iterable[str]],
    partner_percent: Decimal,
) -> list[LineBreakdown]:
    """Price every line of an order: the bundle (ORD-3) and volume (ORD-4) discounts
    depend on the other lines, so the whole order is priced at once.

    Decision ORD-1/ORD-4: volume counts the licences of one module over the whole order —
    every installation — for new purchases, and for package subscriptions of the same
    term (ORD-4); a bundle is complete when all its modules are bought for one
    installation (ORD-3). Upgrades count for neither discount — they buy no new module.
    """
    requests = list(requests)
    purchased: dict[Hashable, list[str]] = defaultdict(list)
    for r in requests:
        if r.kind == rules.PURCHASE and not r.upgrade_kind:
            purchased[r.installation].append(r.article)
    volume: dict[tuple, int] = defaultdict(int)
    for r in requests:
        if not r.upgrade_kind:
            volume[_volume_key(r)] += r.quantity
    return [
        price_line(
            r,
            prices[r.key],
            order_date=order_date,
            bundle_percent=rules.bundle_discount_percent(
                r.article, r.kind, bundles, purchased[r.installation], is_upgrade=bool(r.upgrade_kind)
            ),
            volume_percent=ZERO
            if r.upgrade_kind
            else rules.volume_discount_percent(r.kind, volume[_volume_key(r)], r.as_package),
            partner_percent=partner_percent,
        )
        for r in requests
    ]


def _volume_key(r: LineRequest) -> tuple:
    if r.kind == rules.PURCHASE:
        return (r.article, r.kind)
    return (r.article, r.kind, r.term_months, r.as_package)


# --- the order ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Net per VAT rate, VAT per rate (GEN-2) and gross of the lines of one price unit."""

    unit: str
    net_by_rate: dict[Decimal, Decimal]
    vat_by_rate: dict[Decimal, Decimal]
    net: Decimal
    vat: Decimal
    gross: Decimal

    @property
    def label(self) -> str:
        return unit_label(self.unit)


@dataclass(frozen=True)
class OrderBreakdown:
    """An order's lines with their steps and its totals — one-off amounts apart from
    monthly and yearly ones, as they are invoiced apart."""

    lines: tuple[LineBreakdown, ...]
    treatment: rules.VatTreatment
    vat_percent: Decimal
    totals: tuple[Totals, ...]

    def total(self, unit: str) -> Totals | None:
        return next((t for t in self.totals if t.unit == unit), None)


def order_breakdown(
    lines: Iterable[LineBreakdown], treatment: rules.VatTreatment, vat_percent: Decimal
) -> OrderBreakdown:
    """Totals per price unit with VAT on the sum of the line totals per rate (GEN-2)."""
    lines = tuple(lines)
    totals = []
    for unit in UNIT_ORDER:
        nets = [(line.line_net, vat_percent) for line in lines if line.unit == unit]
        if not nets:
            continue
        net_by_rate = rules.net_by_rate(nets)
        vat_by_rate = rules.vat_amounts(nets)
        net = sum(net_by_rate.values(), ZERO)
        vat = sum(vat_by_rate.values(), ZERO)
        totals.append(Totals(unit, net_by_rate, vat_by_rate, net, vat, net + vat))
    return OrderBreakdown(lines, treatment, vat_percent, tuple(totals))


def stored_breakdown(line) -> LineBreakdown:
    """The breakdown of a priced :class:`billing.models.OrderLine` from its stored values
    (what the partner and staff see later, even after prices changed)."""
    block_price = None
    if line.users is not None and line.list_price:
        block_price = line.list_price / rules.started_user_blocks(line.users)
    from_tier = line.upgrade_from.tier if line.upgrade_kind == "tier" and line.upgrade_from_id else ""
    if getattr(line, "swp_kind", ""):
        # Softwarepflege: the price of licensing's quote (SWP-3…SWP-7), no module discounts.
        label = _("Preis laut Softwarepflege-Angebot (%(kind)s)") % {"kind": line.get_swp_kind_display()}
    else:
        label = list_step_label(
            kind=line.kind,
            term_months=line.term_months,
            tier=line.tier,
            users=line.users,
            block_price=block_price,
            upgrade_kind=line.upgrade_kind,
            from_tier=from_tier,
        )
    steps, _unit_net = build_steps(
        line.list_price,
        label,
        discount_steps(
            bundle=line.bundle_discount_percent,
            volume=line.volume_discount_percent,
            partner=line.partner_discount_percent,
            plan=line.upgrade_plan_percent,
            time=line.upgrade_time_percent,
            service_plan=line.service_plan,
        ),
    )
    return LineBreakdown(
        key=line.pk,
        article=line.product.article,
        name=line.product.name,
        kind=line.kind,
        term_months=line.term_months,
        tier=line.tier,
        quantity=line.quantity,
        users=line.users,
        unit=line.price_unit,
        list_price=line.list_price,
        bundle_percent=line.bundle_discount_percent,
        volume_percent=line.volume_discount_percent,
        partner_percent=line.partner_discount_percent,
        upgrade_plan_percent=line.upgrade_plan_percent,
        upgrade_time_percent=line.upgrade_time_percent,
        steps=steps,
        unit_net=line.unit_net,
        line_net=line.line_net,
        installation=line.installation.identifier,
        customer=line.installation.customer.company,
        delivery_email=line.delivery_email,
    )
