"""Support figures (issue 20, panel "Support"): tickets opened and closed per week, the backlog
by state, first-response time, Enterprise SLA compliance per month (SUP-2), billable hours per
month (SUP-5). No money here: support sees this panel. Definitions: docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from cockpit.periods import Period, month_starts, week_starts
from cockpit.selectors._common import Series, as_date, day_after, day_start, zone
from support import rules as support_rules
from support.models import Ticket, TimeEntry
from vendorportal.money import round_cents
from vendorportal.periods import month_end

DONE_STATES = (support_rules.SOLVED, support_rules.CLOSED)
OPEN_STATES = (support_rules.NEW, support_rules.OPEN, support_rules.WAITING)


def _week_labels(mondays: list[date]) -> list[str]:
    return [f"KW {m.isocalendar()[1]:02d}/{m.isocalendar()[0]}" for m in mondays]


def closed_at():
    """SQL: when a ticket that is solved or closed now reached that state — the first history
    entry in a done state after its last entry in an open state (a reopened ticket counts
    when it is closed again)."""
    history = Ticket.history.model.objects.filter(id=OuterRef("pk"))
    last_open = history.filter(status__in=OPEN_STATES).order_by("-history_date").values("history_date")[:1]
    return Subquery(
        history.filter(status__in=DONE_STATES, history_date__gt=Coalesce(Subquery(last_open), F("received_at")))
        .order_by("history_date")
        .values("history_date")[:1]
    )


def tickets_per_week(period: Period, today: date) -> Series:
    """Tickets opened (received) and closed per ISO week, the 12 weeks up to the period's end. Two queries."""
    mondays = week_starts(min(period.end, today))
    low, high = day_start(mondays[0]), day_after(mondays[-1] + timedelta(days=6))
    opened = (
        Ticket.objects.filter(received_at__gte=low, received_at__lt=high)
        .annotate(week=TruncWeek("received_at", tzinfo=zone()))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    closed = (
        Ticket.objects.filter(status__in=DONE_STATES)
        .annotate(done_at=closed_at())
        .filter(done_at__gte=low, done_at__lt=high)
        .annotate(week=TruncWeek("done_at", tzinfo=zone()))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    opened_by = {as_date(r["week"]): r["n"] for r in opened}
    closed_by = {as_date(r["week"]): r["n"] for r in closed}
    return Series(
        labels=_week_labels(mondays),
        series={
            "eröffnet": [opened_by.get(m, 0) for m in mondays],
            "erledigt": [closed_by.get(m, 0) for m in mondays],
        },
    )


@dataclass(frozen=True)
class Desk:
    backlog: dict[str, int]  # state → tickets now in it
    answered: int  # tickets received in the period with a first response
    first_response_hours: Decimal | None  # average, calendar hours

    @property
    def backlog_total(self) -> int:
        return sum(self.backlog.values())


def desk(period: Period) -> Desk:
    """The backlog by state now and the average first-response time of the period's tickets. One query."""
    in_period = Q(received_at__gte=day_start(period.start), received_at__lt=day_after(period.end))
    answered = in_period & Q(first_response_at__isnull=False)
    figures = Ticket.objects.aggregate(
        **{f"s_{s}": Count("pk", filter=Q(status=s)) for s in OPEN_STATES},
        answered=Count("pk", filter=answered),
        response=Avg(
            ExpressionWrapper(F("first_response_at") - F("received_at"), output_field=DurationField()),
            filter=answered,
        ),
    )
    response = figures["response"]
    hours = None
    if response is not None:
        hours = round_cents(Decimal(response.total_seconds()) / 3600).quantize(Decimal("0.1"))
    return Desk(
        backlog={s: figures[f"s_{s}"] for s in OPEN_STATES},
        answered=figures["answered"],
        first_response_hours=hours,
    )


@dataclass(frozen=True)
class SlaMonth:
    month: date
    met: int
    breached: int

    @property
    def rate(self) -> Decimal | None:
        decided = self.met + self.breached
        return None if not decided else round_cents(Decimal(100) * self.met / decided)


def sla_by_month(period: Period, now) -> list[SlaMonth]:
    """Enterprise tickets (those with an SLA due time, SUP-2) received per month, 12 months up to
    the period's end: met = first response by the due time; breached = answered later, or
    unanswered and past due on ``now``; still running = neither (not counted). One query."""
    today = now.astimezone(zone()).date()
    firsts = month_starts(min(period.end, today))
    rows = (
        Ticket.objects.filter(
            sla_due_at__isnull=False,
            received_at__gte=day_start(firsts[0]),
            received_at__lt=day_after(month_end(firsts[-1])),
        )
        .annotate(month=TruncMonth("received_at", tzinfo=zone()))
        .values("month")
        .annotate(
            met=Count("pk", filter=Q(first_response_at__lte=F("sla_due_at"))),
            breached=Count(
                "pk",
                filter=Q(first_response_at__gt=F("sla_due_at")) | Q(first_response_at__isnull=True, sla_due_at__lt=now),
            ),
        )
        .order_by()
    )
    by_month = {as_date(r["month"]): (r["met"], r["breached"]) for r in rows}
    return [SlaMonth(first, *by_month.get(first, (0, 0))) for first in firsts]


def sla_series(months: list[SlaMonth]) -> Series:
    return Series(
        labels=[f"{m.month.month:02d}/{m.month.year}" for m in months],
        series={"SLA eingehalten (%)": [m.rate for m in months]},
    )


def billable_hours_by_month(period: Period, today: date) -> Series:
    """Hours of billable time entries (SUP-5) per month worked, 12 months up to the period's end. One query."""
    firsts = month_starts(min(period.end, today))
    rows = (
        TimeEntry.objects.filter(billable=True, worked_on__gte=firsts[0], worked_on__lte=month_end(firsts[-1]))
        .annotate(month=TruncMonth("worked_on"))
        .values("month")
        .annotate(minutes=Sum("minutes"))
        .order_by()
    )
    minutes = {as_date(r["month"]): r["minutes"] or 0 for r in rows}
    return Series(
        labels=[f"{d.month:02d}/{d.year}" for d in firsts],
        series={"Stunden": [(Decimal(minutes.get(d, 0)) / 60).quantize(Decimal("0.1")) for d in firsts]},
    )
