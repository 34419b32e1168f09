"""Finance figures (issue 20, panel "Finanzen"): revenue per month by product group and VAT
treatment, open items with ageing buckets, overdue amount, DSO, the direct-debit share and
returns, the last invoicing run. Definitions: docs/metrics.md.

Revenue is net, by issue date: invoices count positive, corrections (Rechnungskorrektur /
Stornorechnung, INV-1) negative — as the monthly journal counts them (billing.finance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from billing import rules as billing_rules
from billing.finance import AGEING_BUCKETS, AGEING_LABELS, NOT_DUE
from billing.models import BankEntry, BilledPeriod, Invoice, InvoiceLine, InvoicingRun
from cockpit.models import RevenueMonthLine
from cockpit.periods import Period, month_starts
from cockpit.selectors import _compiled as compiled
from cockpit.selectors._common import MONEY_OUT, Series, as_date, money
from cockpit.snapshots import fresh_months, months_between
from licensing.models import Product
from vendorportal.models import JobRun
from vendorportal.money import ZERO, round_cents
from vendorportal.periods import first_of_next_month, month_end

OTHER_GROUP = "other"
DSO_DAYS = 90


def product_group_labels() -> dict[str, str]:
    return {**{k: str(v) for k, v in Product.KIND_CHOICES}, OTHER_GROUP: _("Sonstiges (z. B. Supportzeit)")}


def vat_treatment_labels() -> dict[str, str]:
    return {
        billing_rules.VAT_CODE_STANDARD: _("Inland (USt.)"),
        billing_rules.VAT_CODE_REVERSE_CHARGE: _("EU Reverse Charge"),
        billing_rules.VAT_CODE_NOT_SUBJECT: _("Drittland, nicht steuerbar"),
    }


@dataclass(frozen=True)
class Revenue:
    total: Decimal
    by_group: dict[str, Decimal]  # label → net
    by_vat: dict[str, Decimal]  # label → net
    by_month: Series  # 12 months by product group


def month_bucket(field: str, firsts: list[date]) -> Case:
    """SQL: the index ``n`` of the month ``firsts[n]`` (consecutive months) that ``field`` (a date)
    falls in, -1 outside them. One CASE per row instead of a conditional sum per month and row
    (SQLite pays for every conditional sum on every row)."""
    whens = [When(**{f"{field}__gt": month_end(firsts[-1]), "then": Value(-1)})]
    whens += [When(**{f"{field}__gte": first, "then": Value(n)}) for n, first in reversed(list(enumerate(firsts)))]
    return Case(*whens, default=Value(-1), output_field=IntegerField())


def _month_ranges(months: list[date]) -> Q:
    """SQL: ``invoice__issue_date`` within one of ``months`` (consecutive ones as one range)."""
    condition, run = Q(), []
    for month in [*months, None]:
        if run and (month is None or month != first_of_next_month(run[-1])):
            condition |= Q(invoice__issue_date__gte=run[0], invoice__issue_date__lte=month_end(run[-1]))
            run = []
        if month is not None:
            run.append(month)
    return condition


def revenue(period: Period, today: date) -> Revenue:
    """Net revenue of the period by product group and VAT treatment, and per month by product
    group for the 12 months up to the period's end.

    Closed months are read from their sums (:mod:`cockpit.snapshots`, one query for all of
    them, only sums still exact); the lines are summed only for the months without one and
    for a month the period covers in part (a custom range) — per article, VAT treatment,
    document kind and month, from two covering indexes. A last query names the articles'
    product groups (``Product.kind``; "other" for an article that is no catalog product, such
    as support time). So two queries when every month is summed, three otherwise."""
    firsts = month_starts(min(period.end, today) if period.start <= today else period.end)
    low, high = min(firsts[0], period.start), max(month_end(firsts[-1]), period.end)
    months = months_between(low, high)
    summed = compiled.values(
        ("revenue.summed", months[0], months[-1]),
        lambda: RevenueMonthLine.objects.filter(
            month__in=fresh_months().filter(month__gte=months[0], month__lte=months[-1])
        ).values("month__month", "article", "vat_category", "kind", "net"),
    )
    # A month the period covers in part is summed from its lines (its sum is the whole month's).
    partial = {period.start.replace(day=1)} if period.start.day != 1 else set()
    if period.end != month_end(period.end):
        partial.add(period.end.replace(day=1))
    rows = []
    for r in summed:
        month = as_date(r["month__month"])
        if month in partial:
            continue
        index = firsts.index(month) if month in firsts else -1
        within = period.start <= month and month_end(month) <= period.end
        rows.append(
            {
                "article": r["article"],
                "invoice__vat_category": r["vat_category"],
                "invoice__kind": r["kind"],
                "month": index,
                "net": r["net"],
                "period": r["net"] if within else None,
                "_month": month,
            }
        )
    live = [m for m in months if m in partial or m not in {r["_month"] for r in rows}]
    if live:
        # Grouped by document kind too, so the sums are plain column sums; corrections are
        # subtracted below, per group (a handful of rows), not per line. (The product kind as a
        # subquery in this query would run once per line: SQLite groups by it.)
        rows += compiled.values(
            ("revenue.lines", period.start, period.end, tuple(firsts), tuple(live)),
            lambda: (
                InvoiceLine.objects.filter(_month_ranges(live))
                .values(
                    "article",
                    "invoice__vat_category",
                    "invoice__kind",
                    month=month_bucket("invoice__issue_date", firsts),
                )
                .annotate(
                    net=Sum("net_total"),
                    period=Sum(
                        "net_total",
                        filter=Q(invoice__issue_date__gte=period.start, invoice__issue_date__lte=period.end),
                    ),
                )
                .order_by()
            ),
        )
    rows = [r for r in rows if r["article"] or r["invoice__kind"]]  # not the line of a month summed to nothing
    kinds = dict(Product.objects.filter(article__in={r["article"] for r in rows}).values_list("article", "kind"))
    groups, vats = product_group_labels(), vat_treatment_labels()
    by_group: dict[str, Decimal] = {}
    by_vat: dict[str, Decimal] = {}
    monthly: dict[str, list[Decimal]] = {}
    for r in rows:  # one row per article, VAT treatment, kind and month: a few hundred, not the lines
        group = groups[kinds.get(r["article"], OTHER_GROUP)]
        sign = -1 if r["invoice__kind"] == Invoice.CREDIT_NOTE else 1
        if r["period"] is not None:
            amount = sign * money(r["period"])
            by_group[group] = by_group.get(group, ZERO) + amount
            vat = vats.get(r["invoice__vat_category"], r["invoice__vat_category"])
            by_vat[vat] = by_vat.get(vat, ZERO) + amount
        months_of_group = monthly.setdefault(group, [ZERO] * len(firsts))
        if r["month"] >= 0:
            months_of_group[r["month"]] += sign * money(r["net"])
    order = list(groups.values())
    chart = Series(
        labels=[f"{d.month:02d}/{d.year}" for d in firsts],
        series={g: monthly[g] for g in order if g in monthly},
        money=True,
    )
    return Revenue(total=sum(by_group.values(), ZERO), by_group=by_group, by_vat=by_vat, by_month=chart)


def revenue_in(period: Period, today: date | None = None) -> Revenue:
    return revenue(period, today or period.end)


def revenue_by_month(period: Period, today: date) -> Series:
    """Net revenue per calendar month by product group, 12 months up to the period's end."""
    return revenue(period, today).by_month


@dataclass(frozen=True)
class Receivables:
    """Open items on ``on``: what is still due of every open or overdue invoice (gross less its
    corrections less payments), by ageing bucket of its due date (billing.finance)."""

    on: date
    buckets: dict[str, Decimal]
    count: int
    billed_gross_90: Decimal  # gross invoiced less corrections in the 90 days up to ``on``
    period_invoices: int
    period_direct_debits: int
    period_gross: Decimal
    period_direct_debit_gross: Decimal

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def overdue(self) -> Decimal:
        return sum((v for k, v in self.buckets.items() if k != NOT_DUE), ZERO)

    @property
    def dso(self) -> Decimal | None:
        """Days sales outstanding: open receivables ÷ gross billed in the last 90 days × 90."""
        if self.billed_gross_90 <= 0:
            return None
        return (self.total / self.billed_gross_90 * DSO_DAYS).quantize(Decimal("0.1"))

    @property
    def direct_debit_share(self) -> Decimal | None:
        """Share (%) of the period's invoices collected by SEPA direct debit, by count."""
        if not self.period_invoices:
            return None
        return round_cents(Decimal(100) * self.period_direct_debits / self.period_invoices)

    def bucket_rows(self) -> list[tuple[str, str, Decimal]]:
        return [(b, AGEING_LABELS[b], self.buckets[b]) for b in AGEING_BUCKETS]


def ageing_bucket(today: date, due: str = "due") -> Case:
    """SQL: the ageing bucket (billing.finance.ageing_bucket) on ``today`` of an invoice by its
    due date ``due`` (annotated: the issue date when there is none, prepayment)."""
    day = timedelta(days=1)
    return Case(
        When(**{f"{due}__gte": today, "then": Value(NOT_DUE)}),
        When(**{f"{due}__gte": today - 30 * day, "then": Value("1_30")}),
        When(**{f"{due}__gte": today - 60 * day, "then": Value("31_60")}),
        When(**{f"{due}__gte": today - 90 * day, "then": Value("61_90")}),
        default=Value("over_90"),
        output_field=CharField(),
    )


def receivables(period: Period, today: date) -> Receivables:
    """Open items by ageing bucket, DSO and the period's direct-debit share. Two queries: the
    open invoices' gross less payments less their corrections summed per ageing bucket (one
    CASE per row), and the documents of the last 90 days and of the period for DSO and the
    direct-debit share. (An invoice whose payments and corrections cover it is paid or
    cancelled, so not open.) Each reads only its own rows, through an index: one query over
    the union of them paid for every conditional sum on every row."""
    open_states = [Invoice.OPEN, Invoice.OVERDUE]
    recent = Q(issue_date__gt=today - timedelta(days=DSO_DAYS), issue_date__lte=today)
    in_period = Q(kind=Invoice.INVOICE, issue_date__gte=period.start, issue_date__lte=period.end)
    signed_gross = Case(
        When(kind=Invoice.CREDIT_NOTE, then=-F("gross_total")), default=F("gross_total"), output_field=MONEY_OUT
    )
    dd = Q(payment_means=billing_rules.DIRECT_DEBIT)
    # What is still due of an open invoice: gross less payments less its corrections (a
    # subquery per open invoice through the index on the corrected invoice; most have none).
    corrections = (
        Invoice.objects.filter(kind=Invoice.CREDIT_NOTE, credited_invoice=OuterRef("pk"))
        .values("credited_invoice")
        .annotate(gross=Sum("gross_total"))
        .values("gross")
    )
    still_due = ExpressionWrapper(
        F("gross_total") - F("paid_amount") - Coalesce(Subquery(corrections, output_field=MONEY_OUT), ZERO),
        output_field=MONEY_OUT,
    )
    open_items = {
        r["bucket"]: r
        for r in compiled.values(
            ("receivables.open", today),
            lambda: (
                Invoice.objects.filter(kind=Invoice.INVOICE, state__in=open_states, issue_date__lte=today)
                .annotate(due=Coalesce("due_date", "issue_date"))
                .values(bucket=ageing_bucket(today))
                .annotate(count=Count("pk"), unpaid=Sum(still_due))
                .order_by()
            ),
        )
    }
    figures = compiled.aggregate(
        ("receivables.figures", today, period.start, period.end),
        lambda: (
            Invoice.objects.filter(recent | in_period),
            {
                "billed90": Sum(signed_gross, filter=recent),
                "period_invoices": Count("pk", filter=in_period),
                "period_dd": Count("pk", filter=in_period & dd),
                "period_gross": Sum("gross_total", filter=in_period),
                "period_dd_gross": Sum("gross_total", filter=in_period & dd),
            },
        ),
    )
    return Receivables(
        on=today,
        buckets={b: money(open_items[b]["unpaid"] if b in open_items else None) for b in AGEING_BUCKETS},
        count=sum(r["count"] for r in open_items.values()),
        billed_gross_90=money(figures["billed90"]),
        period_invoices=figures["period_invoices"],
        period_direct_debits=figures["period_dd"],
        period_gross=money(figures["period_gross"]),
        period_direct_debit_gross=money(figures["period_dd_gross"]),
    )


@dataclass(frozen=True)
class Returns:
    count: int
    amount: Decimal


def direct_debit_returns(period: Period) -> Returns:
    """Returned direct debits (Rücklastschriften) booked in the period, from the bank statements."""
    figures = BankEntry.objects.filter(
        state=BankEntry.RETURNED, booked_on__gte=period.start, booked_on__lte=period.end
    ).aggregate(count=Count("pk"), amount=Sum("amount"))
    return Returns(count=figures["count"], amount=money(figures["amount"]))


@dataclass(frozen=True)
class RunFigures:
    month: date
    started_at: datetime
    finished_at: datetime | None
    invoices: int  # invoices written by the run (with a billed period of its month)
    net: Decimal
    failed_jobs: int  # invoicing job runs that ended with an error since the run started

    @property
    def waiting(self) -> bool:
        """Not finished: the hourly catch-up still finds partners due (INV-3)."""
        return self.finished_at is None


def last_invoicing_run() -> RunFigures | None:
    """The latest monthly invoicing run: two queries (the run; its invoices and failed jobs)."""
    failed = (
        JobRun.objects.filter(name__startswith="invoicing", ok=False, started_at__gte=OuterRef("started_at"))
        .values("ok")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    run = InvoicingRun.objects.annotate(failed=Subquery(failed)).order_by("-month").first()
    if run is None:
        return None
    billed = BilledPeriod.objects.filter(period_start__lte=month_end(run.month), created_at__gte=run.started_at).values(
        "invoice_line__invoice"
    )
    figures = Invoice.objects.filter(pk__in=billed).aggregate(invoices=Count("pk"), net=Sum("net_total"))
    return RunFigures(
        month=run.month,
        started_at=run.started_at,
        finished_at=run.finished_at,
        invoices=figures["invoices"],
        net=money(figures["net"]),
        failed_jobs=run.failed or 0,
    )
