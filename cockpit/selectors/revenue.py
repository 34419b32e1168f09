"""Recurring revenue and sales figures (issue 20, panel "Umsatz und Vertrieb"): MRR now and for
the last 12 months, its movement in a period, ARR, the top partners by revenue, licences issued
per month by kind and the demo-to-paid conversion. Definitions: docs/metrics.md.

MRR counts subscriptions (monthly price in force × licences, SUB-4/SUB-7) and Premium/
Enterprise service plans (yearly price ÷ 12, SUB-8) *in force* on a day: signed on or before it,
not ended before it (``ends_on`` is the last day, GEN-1 inclusive ends). Every figure is one
aggregate query with conditional sums, however many subscriptions there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, Count, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce

from billing.models import Invoice, ServicePlan, Subscription, SubscriptionPriceChange
from cockpit.periods import Period, month_starts
from cockpit.selectors import _compiled as compiled
from cockpit.selectors._common import MONEY_OUT, Series, day_after, day_start, fenced, money
from cockpit.selectors.licensing import BlockedKeys
from licensing.models import License
from vendorportal.money import round_cents
from vendorportal.periods import month_end

DEMO_CONVERSION_DAYS = 60


def _in_force(day: date, prefix: str = "") -> Q:
    started = "signed_on"
    return Q(**{f"{prefix}{started}__lte": day}) & (
        Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": day})
    )


def _plan_in_force(day: date) -> Q:
    return Q(starts_on__lte=day) & (Q(ends_on__isnull=True) | Q(ends_on__gte=day))


# How the database does it without a subquery per subscription and day: the monthly amount of
# a subscription on day D is its price at signing × licences (SUB-4), plus — when a tier change
# is effective by D (SUB-7) — the difference of the latest such change to that price. So MRR(D)
# = Σ base amounts of the subscriptions in force (one scan of the subscriptions, plain column
# comparisons) + Σ, over the tier changes that are the latest effective by D of a subscription
# in force, (change price − price at signing) × licences (one scan of the few tier changes).


def _base_amount():
    return ExpressionWrapper(F("monthly_price") * F("quantity"), output_field=MONEY_OUT)


def _base_sums(days: dict[str, date], movement: tuple[date, date] | None) -> dict:
    """Aggregates over Subscription: ``key`` → Σ base amounts in force on that day; with
    ``movement`` = (A, B) also the base amounts of the new and the churned subscriptions."""
    sums = {key: Sum(_base_amount(), filter=_in_force(day), output_field=MONEY_OUT) for key, day in days.items()}
    if movement:
        a, b = movement
        sums["m_new"] = Sum(_base_amount(), filter=~_in_force(a) & _in_force(b), output_field=MONEY_OUT)
        sums["m_churn"] = Sum(_base_amount(), filter=_in_force(a) & ~_in_force(b), output_field=MONEY_OUT)
    return sums


def _change_rows():
    """The tier changes with what their sums need, each subquery once per change row."""
    later = SubscriptionPriceChange.objects.filter(
        subscription=OuterRef("subscription"), effective_from__gt=OuterRef("effective_from")
    ).order_by("effective_from")
    earlier = SubscriptionPriceChange.objects.filter(
        subscription=OuterRef("subscription"), effective_from__lt=OuterRef("effective_from")
    ).order_by("-effective_from")
    return SubscriptionPriceChange.objects.annotate(
        next_from=Subquery(later.values("effective_from")[:1]),
        before=Coalesce(
            Subquery(earlier.values("monthly_price")[:1], output_field=MONEY_OUT), F("subscription__monthly_price")
        ),
        delta=ExpressionWrapper(
            (F("monthly_price") - F("subscription__monthly_price")) * F("subscription__quantity"),
            output_field=MONEY_OUT,
        ),
        step=ExpressionWrapper(
            (F("monthly_price") - F("before")) * F("subscription__quantity"), output_field=MONEY_OUT
        ),
    )


def _latest_by(day: date) -> Q:
    """The change is the latest of its subscription effective by ``day``."""
    return Q(effective_from__lte=day) & (Q(next_from__isnull=True) | Q(next_from__gt=day))


def _delta_sums(days: dict[str, date], movement: tuple[date, date] | None) -> dict:
    """Aggregates over the tier changes (see above); with ``movement`` also the deltas of new and
    churned subscriptions, and expansion/contraction: every tier change effective in (A, B] of
    a subscription in force on A and on B, by its step up or down from the price before it."""
    sums = {
        key: Sum("delta", filter=_latest_by(day) & _in_force(day, "subscription__"), output_field=MONEY_OUT)
        for key, day in days.items()
    }
    if movement:
        a, b = movement
        both = _in_force(a, "subscription__") & _in_force(b, "subscription__")
        within = Q(effective_from__gt=a, effective_from__lte=b) & both
        sums["m_new"] = Sum(
            "delta",
            filter=_latest_by(b) & ~_in_force(a, "subscription__") & _in_force(b, "subscription__"),
            output_field=MONEY_OUT,
        )
        sums["m_churn"] = Sum(
            "delta",
            filter=_latest_by(a) & _in_force(a, "subscription__") & ~_in_force(b, "subscription__"),
            output_field=MONEY_OUT,
        )
        sums["m_expansion"] = Sum("step", filter=within & Q(step__gt=0), output_field=MONEY_OUT)
        sums["m_contraction"] = Sum(-F("step"), filter=within & Q(step__lt=0), output_field=MONEY_OUT)
    return sums


def _plan_sums(days: dict[str, date], movement: tuple[date, date] | None) -> dict:
    sums = {key: Sum("yearly_price", filter=_plan_in_force(day), output_field=MONEY_OUT) for key, day in days.items()}
    if movement:
        a, b = movement
        sums["m_new"] = Sum("yearly_price", filter=~_plan_in_force(a) & _plan_in_force(b), output_field=MONEY_OUT)
        sums["m_churn"] = Sum("yearly_price", filter=_plan_in_force(a) & ~_plan_in_force(b), output_field=MONEY_OUT)
    return sums


def _mrr_sums(days: dict[str, date], movement: tuple[date, date] | None = None) -> dict[str, Decimal]:
    """Every requested sum in three queries: subscriptions, tier changes, service plans."""
    key = (tuple(days.items()), movement)
    base = compiled.aggregate(("mrr.base", *key), lambda: (Subscription.objects.all(), _base_sums(days, movement)))
    deltas = compiled.aggregate(("mrr.deltas", *key), lambda: (_change_rows(), _delta_sums(days, movement)))
    plans = compiled.aggregate(("mrr.plans", *key), lambda: (ServicePlan.objects.all(), _plan_sums(days, movement)))
    result = {}
    for key in base:
        result[key] = money(base[key]) + money(deltas[key]) + round_cents(money(plans[key]) / 12)
    if movement:
        result["m_expansion"] = money(deltas["m_expansion"])
        result["m_contraction"] = money(deltas["m_contraction"])
    return result


def mrr_on_days(days: list[date]) -> list[Decimal]:
    """MRR on each of ``days``: three queries in all."""
    if not days:
        return []
    sums = _mrr_sums({f"d{n}": day for n, day in enumerate(days)})
    return [sums[f"d{n}"] for n in range(len(days))]


def mrr_now(today: date) -> Decimal:
    return mrr_on_days([today])[0]


def _trend_days(period: Period, today: date) -> tuple[list[date], list[date]]:
    firsts = month_starts(min(period.end, today))
    return firsts, [min(month_end(first), today) for first in firsts]


def mrr_trend(period: Period, today: date) -> Series:
    """MRR at the end of each of the 12 months up to the period's end (today for a month not over)."""
    firsts, days = _trend_days(period, today)
    values = mrr_on_days(days)
    return Series(labels=[f"{d.month:02d}/{d.year}" for d in firsts], series={"MRR": values}, money=True)


@dataclass(frozen=True)
class MrrMovement:
    """How MRR moved from the day before the period (A) to its last day (B): start + new +
    expansion − contraction − churn = end (all amounts ≥ 0)."""

    start: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    end: Decimal

    @property
    def net(self) -> Decimal:
        return self.new + self.expansion - self.contraction - self.churn


def _movement(sums: dict[str, Decimal]) -> MrrMovement:
    start, new, churn = sums["m_start"], sums["m_new"], sums["m_churn"]
    expansion, contraction = sums["m_expansion"], sums["m_contraction"]
    # Service plans' twelfths are rounded per sum; the end is the start moved, so it adds up.
    end = start + new + expansion - contraction - churn
    return MrrMovement(start=start, new=new, expansion=expansion, contraction=contraction, churn=churn, end=end)


def mrr_movement(period: Period) -> MrrMovement:
    """New (not in force on A, in force on B: its amount on B), churn (in force on A, not on
    B: its amount on A), expansion and contraction (tier changes effective in the period of
    subscriptions in force on both days). Three queries."""
    a = period.start - timedelta(days=1)
    return _movement(_mrr_sums({"m_start": a}, (a, period.end)))


@dataclass(frozen=True)
class MrrOverview:
    trend: Series
    now: Decimal
    movement: MrrMovement


def mrr_overview(period: Period, today: date) -> MrrOverview:
    """The 12-month trend, today's MRR and the period's movement in three queries (the cockpit)."""
    firsts, days = _trend_days(period, today)
    a = period.start - timedelta(days=1)
    keys = {f"d{n}": day for n, day in enumerate(days)} | {"now": today, "m_start": a}
    sums = _mrr_sums(keys, (a, period.end))
    trend = Series(
        labels=[f"{d.month:02d}/{d.year}" for d in firsts],
        series={"MRR": [sums[f"d{n}"] for n in range(len(days))]},
        money=True,
    )
    return MrrOverview(trend=trend, now=sums["now"], movement=_movement(sums))


def signed_net():
    """SQL: an invoice's net with the sign it has in revenue (corrections negative)."""
    return Case(When(kind=Invoice.CREDIT_NOTE, then=-F("net_total")), default=F("net_total"), output_field=MONEY_OUT)


@dataclass(frozen=True)
class PartnerRevenue:
    partner_id: int
    company: str
    net: Decimal


def top_partners(period: Period, limit: int = 10) -> list[PartnerRevenue]:
    """Partners by net revenue in the period (invoices minus corrections by issue date)."""
    rows = compiled.values(
        ("top_partners", period.start, period.end, limit),
        lambda: (
            Invoice.objects.filter(issue_date__gte=period.start, issue_date__lte=period.end)
            .values("partner_id", "partner__company")
            .annotate(net=Sum(signed_net()))
            .order_by("-net", "partner__company")[:limit]
        ),
    )
    return [PartnerRevenue(r["partner_id"], r["partner__company"], money(r["net"])) for r in rows]


LICENCE_KINDS = (License.PURCHASE, License.SUBSCRIPTION, License.DEMO, License.GOODWILL)


@dataclass(frozen=True)
class LicenceOverview:
    by_month: Series
    blocked: BlockedKeys


def licence_overview(period: Period, today: date) -> LicenceOverview:
    """:func:`licences_by_month` and the blocked subscription keys (SUB-5: blocked after their
    subscription ended; in the period by ``state_changed_at``, and in all) in one query: a
    count per kind and month, and the blocked ones as two more counts (plain comparisons, no
    date function per row)."""
    firsts = month_starts(min(period.end, today))
    blocked = Q(kind=License.SUBSCRIPTION, state=License.BLOCKED)
    rows = compiled.values(
        ("licences", period.start, period.end, tuple(firsts)),
        lambda: (
            License.objects.filter(
                Q(issued_at__gte=day_start(firsts[0]), issued_at__lt=day_after(month_end(firsts[-1]))) | blocked
            )
            .values("kind")
            .annotate(
                **{
                    f"m{n}": Count(
                        "pk", filter=Q(issued_at__gte=day_start(first), issued_at__lt=day_after(month_end(first)))
                    )
                    for n, first in enumerate(firsts)
                },
                blocked=Count("pk", filter=blocked),
                blocked_in_period=Count(
                    "pk",
                    filter=blocked
                    & Q(state_changed_at__gte=day_start(period.start), state_changed_at__lt=day_after(period.end)),
                ),
            )
            .order_by()
        ),
    )
    counts = {r["kind"]: r for r in rows}
    labels = dict(License.KIND_CHOICES)
    chart = Series(
        labels=[f"{d.month:02d}/{d.year}" for d in firsts],
        series={
            str(labels[k]): [counts[k][f"m{n}"] if k in counts else 0 for n in range(len(firsts))]
            for k in LICENCE_KINDS
        },
    )
    keys = BlockedKeys(
        in_period=sum(r["blocked_in_period"] for r in counts.values()), total=sum(r["blocked"] for r in counts.values())
    )
    return LicenceOverview(by_month=chart, blocked=keys)


def licences_by_month(period: Period, today: date) -> Series:
    """Licence keys issued per calendar month (Berlin time) by kind, 12 months up to the period's
    end. One query (with the blocked keys, :func:`licence_overview`)."""
    return licence_overview(period, today).by_month


@dataclass(frozen=True)
class Conversion:
    demos: int
    converted: int
    open: int  # not converted, and the 60 days are not over yet

    @property
    def rate(self) -> Decimal | None:
        decided = self.demos - self.open
        return None if decided <= 0 else round_cents(Decimal(100) * self.converted / decided)


def demo_conversion(period: Period, today: date) -> Conversion:
    """Demo keys issued in the period, and those followed within 60 days by a paid key (purchase
    or subscription) of the same module on the same installation. One query."""
    paid = License.objects.filter(
        installation=OuterRef("installation"),
        product=OuterRef("product"),
        kind__in=[License.PURCHASE, License.SUBSCRIPTION],
        issued_at__gte=OuterRef("issued_at"),
        issued_at__lte=OuterRef("issued_at") + timedelta(days=DEMO_CONVERSION_DAYS),
    )
    window_over = day_start(today) - timedelta(days=DEMO_CONVERSION_DAYS)
    figures = compiled.aggregate(
        ("demo_conversion", period.start, period.end, window_over),
        lambda: (
            fenced(
                License.objects.filter(
                    kind=License.DEMO, issued_at__gte=day_start(period.start), issued_at__lt=day_after(period.end)
                ).annotate(paid_soon=Exists(paid))
            ),
            {
                "demos": Count("pk"),
                "converted": Count("pk", filter=Q(paid_soon=True)),
                "open": Count("pk", filter=Q(paid_soon=False, issued_at__gt=window_over)),
            },
        ),
    )
    return Conversion(demos=figures["demos"], converted=figures["converted"], open=figures["open"])
