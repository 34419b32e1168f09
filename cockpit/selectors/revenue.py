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

from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth

from billing.models import Invoice, ServicePlan, Subscription, SubscriptionPriceChange
from cockpit.periods import Period, month_starts
from cockpit.selectors._common import MONEY_OUT, Series, as_date, day_after, day_start, money, zone
from licensing.models import License
from vendorportal.money import ZERO, round_cents
from vendorportal.periods import month_end

DEMO_CONVERSION_DAYS = 60


def _in_force(day: date, prefix: str = "") -> Q:
    started = "signed_on"
    return Q(**{f"{prefix}{started}__lte": day}) & (
        Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": day})
    )


def _monthly_on(day: date):
    """SQL: the subscription's monthly amount on ``day`` — price per licence of the latest tier
    change effective by then, else the price at signing (SUB-7), times its licences."""
    change = (
        SubscriptionPriceChange.objects.filter(subscription=OuterRef("pk"), effective_from__lte=day)
        .order_by("-effective_from")
        .values("monthly_price")[:1]
    )
    return Coalesce(Subquery(change, output_field=MONEY_OUT), F("monthly_price")) * F("quantity")


def _plan_in_force(day: date) -> Q:
    return Q(starts_on__lte=day) & (Q(ends_on__isnull=True) | Q(ends_on__gte=day))


def _trend_sums(days: list[date]) -> dict:
    return {
        f"d{n}": Sum(Case(When(_in_force(day), then=_monthly_on(day)), default=Value(ZERO)), output_field=MONEY_OUT)
        for n, day in enumerate(days)
    }


def _plan_trend_sums(days: list[date]) -> dict:
    return {
        f"d{n}": Sum(
            Case(When(_plan_in_force(day), then=F("yearly_price")), default=Value(ZERO)), output_field=MONEY_OUT
        )
        for n, day in enumerate(days)
    }


def mrr_on_days(days: list[date]) -> list[Decimal]:
    """MRR on each of ``days``: two queries in all (subscriptions, service plans)."""
    if not days:
        return []
    subs = Subscription.objects.aggregate(**_trend_sums(days))
    plans = ServicePlan.objects.aggregate(**_plan_trend_sums(days))
    return [money(subs[f"d{n}"]) + round_cents(money(plans[f"d{n}"]) / 12) for n in range(len(days))]


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
    """How MRR moved from the day before the period to its last day: start + new + expansion
    − contraction − churn = end (all amounts ≥ 0)."""

    start: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    end: Decimal

    @property
    def net(self) -> Decimal:
        return self.new + self.expansion - self.contraction - self.churn


def _movement_querysets(period: Period, extra_subs: dict, extra_plans: dict) -> tuple[dict, dict]:
    """New (not in force the day before the period, in force on its last day), expansion and
    contraction (in force on both days, monthly amount up or down — a tier change, SUB-7),
    churn (in force the day before, ended by the last day); plus the ``extra`` sums, in the
    same two queries."""
    before, last = period.start - timedelta(days=1), period.end
    subs = Subscription.objects.annotate(
        was=Case(When(_in_force(before), then=_monthly_on(before)), default=Value(None), output_field=MONEY_OUT),
        now=Case(When(_in_force(last), then=_monthly_on(last)), default=Value(None), output_field=MONEY_OUT),
    ).aggregate(
        m_start=Sum("was"),
        m_end=Sum("now"),
        m_new=Sum(Case(When(was__isnull=True, now__isnull=False, then=F("now"))), output_field=MONEY_OUT),
        m_churn=Sum(Case(When(was__isnull=False, now__isnull=True, then=F("was"))), output_field=MONEY_OUT),
        m_expansion=Sum(Case(When(now__gt=F("was"), then=F("now") - F("was"))), output_field=MONEY_OUT),
        m_contraction=Sum(Case(When(now__lt=F("was"), then=F("was") - F("now"))), output_field=MONEY_OUT),
        **extra_subs,
    )
    plans = ServicePlan.objects.aggregate(
        m_start=Sum(Case(When(_plan_in_force(before), then=F("yearly_price"))), output_field=MONEY_OUT),
        m_new=Sum(
            Case(When(~_plan_in_force(before) & _plan_in_force(last), then=F("yearly_price"))), output_field=MONEY_OUT
        ),
        m_churn=Sum(
            Case(When(_plan_in_force(before) & ~_plan_in_force(last), then=F("yearly_price"))), output_field=MONEY_OUT
        ),
        **extra_plans,
    )
    return subs, plans


def _movement(subs: dict, plans: dict) -> MrrMovement:
    def plan(key: str) -> Decimal:
        return round_cents(money(plans[key]) / 12)

    start = money(subs["m_start"]) + plan("m_start")
    new = money(subs["m_new"]) + plan("m_new")
    churn = money(subs["m_churn"]) + plan("m_churn")
    expansion, contraction = money(subs["m_expansion"]), money(subs["m_contraction"])
    # The plans' twelfths are rounded one by one; the end is the start moved, so the movement adds up.
    end = start + new + expansion - contraction - churn
    return MrrMovement(start=start, new=new, expansion=expansion, contraction=contraction, churn=churn, end=end)


def mrr_movement(period: Period) -> MrrMovement:
    """The MRR movement of the period (see :func:`_movement_querysets`). Two queries."""
    return _movement(*_movement_querysets(period, {}, {}))


@dataclass(frozen=True)
class MrrOverview:
    trend: Series
    now: Decimal
    movement: MrrMovement


def mrr_overview(period: Period, today: date) -> MrrOverview:
    """The 12-month trend, today's MRR and the period's movement in two queries (the cockpit)."""
    firsts, days = _trend_days(period, today)
    days = [*days, today]
    subs, plans = _movement_querysets(period, _trend_sums(days), _plan_trend_sums(days))
    values = [money(subs[f"d{n}"]) + round_cents(money(plans[f"d{n}"]) / 12) for n in range(len(days))]
    trend = Series(labels=[f"{d.month:02d}/{d.year}" for d in firsts], series={"MRR": values[:-1]}, money=True)
    return MrrOverview(trend=trend, now=values[-1], movement=_movement(subs, plans))


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
    rows = (
        Invoice.objects.filter(issue_date__gte=period.start, issue_date__lte=period.end)
        .values("partner_id", "partner__company")
        .annotate(net=Sum(signed_net()))
        .order_by("-net", "partner__company")[:limit]
    )
    return [PartnerRevenue(r["partner_id"], r["partner__company"], money(r["net"])) for r in rows]


LICENCE_KINDS = (License.PURCHASE, License.SUBSCRIPTION, License.DEMO, License.GOODWILL)


def licences_by_month(period: Period, today: date) -> Series:
    """Licence keys issued per calendar month (Berlin time) by kind, 12 months up to the period's end."""
    firsts = month_starts(min(period.end, today))
    rows = (
        License.objects.filter(issued_at__gte=day_start(firsts[0]), issued_at__lt=day_after(month_end(firsts[-1])))
        .annotate(month=TruncMonth("issued_at", tzinfo=zone()))
        .values("month", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(as_date(r["month"]), r["kind"]): r["n"] for r in rows}
    labels = dict(License.KIND_CHOICES)
    return Series(
        labels=[f"{d.month:02d}/{d.year}" for d in firsts],
        series={str(labels[k]): [counts.get((d, k), 0) for d in firsts] for k in LICENCE_KINDS},
    )


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
    figures = (
        License.objects.filter(
            kind=License.DEMO, issued_at__gte=day_start(period.start), issued_at__lt=day_after(period.end)
        )
        .annotate(paid_soon=Exists(paid))
        .aggregate(
            demos=Count("pk"),
            converted=Count("pk", filter=Q(paid_soon=True)),
            open=Count("pk", filter=Q(paid_soon=False, issued_at__gt=window_over)),
        )
    )
    return Conversion(demos=figures["demos"], converted=figures["converted"], open=figures["open"])
