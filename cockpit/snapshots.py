"""Summing the revenue of closed months once (issue 20, :mod:`cockpit.models`).

The nightly job :func:`revenue_months_sum` sums every closed month that has no sum yet — from
the first document (at least five years back, the longest period the cockpit shows) to the
last closed month — and drops the sums that are no longer exact. :func:`fresh_months` is what
the cockpit reads: the sums still exact.

A month is *closed* from the second day after its end: on 2 December November is closed, on
1 December not yet (a document written just before midnight may still be committing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, Min, OuterRef, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import Invoice, InvoiceLine
from cockpit.models import RevenueMonth, RevenueMonthLine
from vendorportal import clock
from vendorportal.money import round_cents
from vendorportal.periods import add_months, month_end

# Empty months are summed this far back, so that a new installation's twelve-month chart and
# a five-year period read sums, not lines.
BACK_MONTHS = 60
# The line of a month without any document (cockpit.models.RevenueMonthLine).
NOTHING = {"article": "", "invoice__vat_category": "", "invoice__kind": "", "net": 0}


def closed_before(today: date) -> date:
    """The first day of the first month that is not closed on ``today``."""
    return (today - timedelta(days=1)).replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    """The first days of the months from ``first``'s month to ``last``'s month."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def _documents_after_check():
    """A document issued within the month with an id above the one it was checked against."""
    return Exists(
        Invoice.objects.filter(
            pk__gt=OuterRef("last_document"), issue_date__gte=OuterRef("month"), issue_date__lte=OuterRef("last_day")
        )
    )


def fresh_months():
    """The summed months whose sum is still exact (a query, for the cockpit to read in)."""
    return RevenueMonth.objects.filter(~_documents_after_check())


@dataclass
class SumResult:
    summed: list[date] = field(default_factory=list)
    dropped: list[date] = field(default_factory=list)

    def summary(self) -> str:
        def months(days):
            return ", ".join(f"{d:%m/%Y}" for d in days)

        lines = [
            ngettext("%(n)s Monat summiert", "%(n)s Monate summiert", len(self.summed)) % {"n": len(self.summed)}
            + (f" ({months(self.summed[:3])}{' …' if len(self.summed) > 3 else ''})" if self.summed else "")
        ]
        if self.dropped:
            lines.append(
                _("Summe verworfen, ein Beleg wurde nachträglich im Monat ausgestellt: %(months)s")
                % {"months": months(self.dropped)}
            )
        return "\n".join(lines)


def revenue_months_sum(today: date | None = None) -> SumResult:
    """Drop the sums no longer exact, sum every closed month without one, and record that the
    remaining sums were checked against every document written so far. Idempotent: a second
    run the same day sums nothing; two runs at once write each month once (the second one's
    months are refused by the unique month and it sums nothing)."""
    today = today or clock.today()
    limit = closed_before(today)
    result = SumResult()
    # Read the highest id first: whatever is written from now on has a higher one and is
    # checked by the cockpit and by the next run.
    documents = Invoice.objects.aggregate(high=Max("pk"), first=Min("issue_date"))
    high = documents["high"] or 0
    with transaction.atomic():
        stale = RevenueMonth.objects.filter(_documents_after_check()) | RevenueMonth.objects.filter(month__gte=limit)
        result.dropped = sorted(stale.values_list("month", flat=True))
        RevenueMonth.objects.filter(month__in=result.dropped).delete()
        RevenueMonth.objects.update(last_document=high)
    first = add_months(limit, -BACK_MONTHS)
    if documents["first"] is not None:
        first = min(first, documents["first"].replace(day=1))
    have = set(RevenueMonth.objects.values_list("month", flat=True))
    missing = [m for m in months_between(first, limit - timedelta(days=1)) if m not in have]
    if not missing:
        return result
    rows = (
        InvoiceLine.objects.filter(
            invoice__pk__lte=high,
            invoice__issue_date__gte=missing[0],
            invoice__issue_date__lte=month_end(missing[-1]),
        )
        .values("article", "invoice__vat_category", "invoice__kind", month=TruncMonth("invoice__issue_date"))
        .annotate(net=Sum("net_total"))
        .order_by()
    )
    lines: dict[date, list[dict]] = {m: [] for m in missing}
    for row in rows:
        month = row["month"]
        if month in lines:  # a month between the missing ones keeps its sum
            lines[month].append(row)
    now = clock.now()
    try:
        with transaction.atomic():
            headers = RevenueMonth.objects.bulk_create(
                RevenueMonth(month=m, last_day=month_end(m), last_document=high, summed_at=now) for m in missing
            )
            RevenueMonthLine.objects.bulk_create(
                RevenueMonthLine(
                    month=header,
                    article=row["article"],
                    vat_category=row["invoice__vat_category"],
                    kind=row["invoice__kind"],
                    net=round_cents(row["net"]),
                )
                for header in headers
                for row in (lines[header.month] or [NOTHING])
            )
    except IntegrityError:  # another run summed them meanwhile
        return result
    result.summed = missing
    return result
