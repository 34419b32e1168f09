"""Support figures (issue 20, panel "Support"): tickets opened and closed per week, the backlog
by state, first-response time, Enterprise SLA compliance per month (SUP-2), billable hours per
month (SUP-5). No money here: support sees this panel. Definitions: docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, F, FloatField, Func, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from cockpit.periods import Period, month_starts, week_starts
from cockpit.selectors import _compiled as compiled
from cockpit.selectors._common import Series, day_after, day_start, fenced, zone
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
    history = Ticket.history.model.objects
    # Nested in the query over the history rows below: OuterRef("id") is that row's ticket id
    # (OuterRef("pk") there would be the history row's own key and find nothing that fits).
    last_open = (
        history.filter(id=OuterRef("id"), status__in=OPEN_STATES).order_by("-history_date").values("history_date")[:1]
    )
    return Subquery(
        history.filter(
            id=OuterRef("pk"),
            status__in=DONE_STATES,
            history_date__gt=Coalesce(Subquery(last_open), F("received_at")),
        )
        .order_by("history_date")
        .values("history_date")[:1]
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


@dataclass(frozen=True)
class Desk:
    backlog: dict[str, int]  # state → tickets now in it
    answered: int  # tickets received in the period with a first response
    first_response_hours: Decimal | None  # average, calendar hours

    @property
    def backlog_total(self) -> int:
        return sum(self.backlog.values())


@dataclass(frozen=True)
class SupportOverview:
    opened: Series  # per week
    sla: list[SlaMonth]
    desk: Desk


class SecondsBetween(Func):
    """SQL: the seconds from the second timestamp to the first, as a float. Django's own
    ``end - start`` is a Python function per row on SQLite (~10 µs each, a month's tickets are
    thousands); ``julianday`` is SQLite's own, ``EXTRACT(EPOCH …)`` PostgreSQL's."""

    arity = 2
    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _between(field: str, low, high) -> Q:
    return Q(**{f"{field}__gte": low, f"{field}__lt": high})


def support_overview(period: Period, now) -> SupportOverview:
    """Tickets opened per ISO week (12 weeks), Enterprise SLA per month (12 months), the backlog
    now and the period's first-response time: one scan of the tickets, counts per week and
    month by plain comparisons.

    SLA (SUP-2): tickets with an SLA due time, by month received. Met = first response by the
    due time; breached = answered later, or unanswered and past due on ``now``; a ticket whose
    clock still runs is not counted."""
    today = now.astimezone(zone()).date()
    mondays = week_starts(min(period.end, today))
    firsts = month_starts(min(period.end, today))

    def build(now):
        sla = Q(sla_due_at__isnull=False)
        met = Q(first_response_at__lte=F("sla_due_at"))
        breached = Q(first_response_at__gt=F("sla_due_at")) | Q(first_response_at__isnull=True, sla_due_at__lt=now)
        in_period = _between("received_at", day_start(period.start), day_after(period.end))
        answered = in_period & Q(first_response_at__isnull=False)
        sums = {}
        for n, monday in enumerate(mondays):
            sums[f"w{n}"] = Count(
                "pk", filter=_between("received_at", day_start(monday), day_after(monday + timedelta(days=6)))
            )
        for n, first in enumerate(firsts):
            # The SLA condition first: most tickets have none, and SQL's AND stops there.
            month = sla & _between("received_at", day_start(first), day_after(month_end(first)))
            sums[f"met{n}"] = Count("pk", filter=month & met)
            sums[f"breached{n}"] = Count("pk", filter=month & breached)
        sums |= {f"s_{s}": Count("pk", filter=Q(status=s)) for s in OPEN_STATES}
        sums["answered"] = Count("pk", filter=answered)
        sums["response"] = Avg(SecondsBetween("first_response_at", "received_at"), filter=answered)
        return Ticket.objects.all(), sums

    figures = compiled.aggregate(("support", period.start, period.end, today), build, now=now)
    response = figures["response"]
    hours = None
    if response is not None:
        hours = (Decimal(str(response)) / 3600).quantize(Decimal("0.1"))
    return SupportOverview(
        opened=Series(
            labels=_week_labels(mondays), series={"eröffnet": [figures[f"w{n}"] for n in range(len(mondays))]}
        ),
        sla=[SlaMonth(first, figures[f"met{n}"], figures[f"breached{n}"]) for n, first in enumerate(firsts)],
        desk=Desk(
            backlog={s: figures[f"s_{s}"] for s in OPEN_STATES},
            answered=figures["answered"],
            first_response_hours=hours,
        ),
    )


def closed_per_week(period: Period, today: date) -> list[int]:
    """Tickets closed per ISO week (see :func:`closed_at`), the 12 weeks up to the period's end. One query."""
    mondays = week_starts(min(period.end, today))
    # Only tickets with a history entry in a done state since the first week can have been
    # closed in the 12 weeks (closed_at is such an entry): the subquery runs for those, not
    # for every ticket ever closed.
    recently_done = Ticket.history.model.objects.filter(
        status__in=DONE_STATES, history_date__gte=day_start(mondays[0])
    ).values("id")
    figures = compiled.aggregate(
        ("closed_per_week", tuple(mondays)),
        lambda: (
            fenced(Ticket.objects.filter(status__in=DONE_STATES, pk__in=recently_done).annotate(done_at=closed_at())),
            {
                f"w{n}": Count("pk", filter=_between("done_at", day_start(m), day_after(m + timedelta(days=6))))
                for n, m in enumerate(mondays)
            },
        ),
    )
    return [figures[f"w{n}"] for n in range(len(mondays))]


def tickets_per_week(period: Period, now) -> Series:
    """Tickets opened (received) and closed per ISO week, the 12 weeks up to the period's end. Two queries."""
    overview = support_overview(period, now)
    opened = overview.opened
    closed = closed_per_week(period, now.astimezone(zone()).date())
    return Series(labels=opened.labels, series={"eröffnet": opened.series["eröffnet"], "erledigt": closed})


def desk(period: Period, now) -> Desk:
    """The backlog by state now and the average first-response time of the period's tickets. One query."""
    return support_overview(period, now).desk


def sla_by_month(period: Period, now) -> list[SlaMonth]:
    """Enterprise SLA compliance per month received, 12 months up to the period's end. One query."""
    return support_overview(period, now).sla


def sla_series(months: list[SlaMonth]) -> Series:
    return Series(
        labels=[f"{m.month.month:02d}/{m.month.year}" for m in months],
        series={"SLA eingehalten (%)": [m.rate for m in months]},
    )


def billable_hours_by_month(period: Period, today: date) -> Series:
    """Hours of billable time entries (SUP-5) per month worked, 12 months up to the period's end. One query."""
    firsts = month_starts(min(period.end, today))
    figures = compiled.aggregate(
        ("billable_hours", tuple(firsts)),
        lambda: (
            TimeEntry.objects.filter(billable=True),
            {
                f"m{n}": Sum("minutes", filter=Q(worked_on__gte=first, worked_on__lte=month_end(first)))
                for n, first in enumerate(firsts)
            },
        ),
    )
    return Series(
        labels=[f"{d.month:02d}/{d.year}" for d in firsts],
        series={
            "Stunden": [(Decimal(figures[f"m{n}"] or 0) / 60).quantize(Decimal("0.1")) for n in range(len(firsts))]
        },
    )
