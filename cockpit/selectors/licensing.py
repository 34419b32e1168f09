"""Licensing figures (issue 20, panel "Lizenzen und Softwarepflege"): the Softwarepflege renewal
rate, systems whose Softwarepflege expires within 60 days or has lapsed (SWP-8 states), and
subscription keys blocked after a subscription ended. Definitions: docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q

from cockpit.periods import Period
from cockpit.selectors import _compiled as compiled
from cockpit.selectors._common import day_after, day_start, fenced
from licensing import rules as licensing_rules
from licensing.constants import AUERSWALD
from licensing.models import Installation, License, MaintenanceCoverage
from licensing.selectors.systems import coverage_end_subquery
from vendorportal.money import round_cents


@dataclass(frozen=True)
class Renewals:
    due: int  # systems whose Softwarepflege ended in the period
    renewed: int  # of those, renewed since (a later coverage exists)

    @property
    def rate(self) -> Decimal | None:
        return None if not self.due else round_cents(Decimal(100) * self.renewed / self.due)


def _state_conditions(today: date) -> dict[str, Q]:
    """The SWP-8 states as conditions on ``swp_end`` (the rules' own date windows)."""
    conditions = {}
    for state, (low, high) in licensing_rules.maintenance_state_windows(today).items():
        q = Q(swp_end__isnull=False)
        if low is not None:
            q &= Q(swp_end__gte=low)
        if high is not None:
            q &= Q(swp_end__lte=high)
        conditions[state] = q
    return conditions


@dataclass(frozen=True)
class SwpOverview:
    renewals: Renewals
    states: dict[str, int]


def swp_overview(period: Period, today: date) -> SwpOverview:
    """:func:`swp_renewals` and :func:`swp_states` in one query: the systems whose coverage ended
    in the period and the Auerswald systems, each with its latest coverage end computed once."""
    ending = MaintenanceCoverage.objects.filter(installation=OuterRef("pk"), end__gte=period.start, end__lte=period.end)
    auerswald = Q(vendor=AUERSWALD)
    figures = compiled.aggregate(
        ("swp", period.start, period.end, today),
        lambda: (
            fenced(
                Installation.objects.filter(auerswald | Exists(ending)).annotate(
                    swp_end=coverage_end_subquery(), ending=Exists(ending)
                )
            ),
            {
                "due": Count("pk", filter=Q(ending=True)),
                "renewed": Count("pk", filter=Q(ending=True, swp_end__gt=period.end)),
                **{state: Count("pk", filter=auerswald & q) for state, q in _state_conditions(today).items()},
            },
        ),
    )
    renewals = Renewals(due=figures.pop("due"), renewed=figures.pop("renewed"))
    return SwpOverview(renewals=renewals, states=figures)


def swp_renewals(period: Period) -> Renewals:
    """Systems with a Softwarepflege coverage ending in the period, and how many of them are
    covered beyond the period's end since (renewed in term, SWP-4, or retroactively, SWP-5/6:
    their latest coverage end lies after the period). One query (with :func:`swp_states`)."""
    return swp_overview(period, period.end).renewals


def swp_states(today: date) -> dict[str, int]:
    """Auerswald systems per SWP-8 state on ``today`` (expiring = within 60 days; lapsed ≤ 3
    months; lapsed with surcharge; not renewable), by the rules' date windows. One query."""
    return fenced(Installation.objects.filter(vendor=AUERSWALD).annotate(swp_end=coverage_end_subquery())).aggregate(
        **{state: Count("pk", filter=q) for state, q in _state_conditions(today).items()}
    )


@dataclass(frozen=True)
class BlockedKeys:
    in_period: int
    total: int


def subscription_keys_blocked(period: Period) -> BlockedKeys:
    """Subscription keys blocked (after their subscription ended, SUB-5): in the period, and all
    now. One query (the cockpit asks for it with the licences per month: revenue.licence_overview)."""
    figures = License.objects.filter(kind=License.SUBSCRIPTION, state=License.BLOCKED).aggregate(
        total=Count("pk"),
        in_period=Count(
            "pk", filter=Q(state_changed_at__gte=day_start(period.start), state_changed_at__lt=day_after(period.end))
        ),
    )
    return BlockedKeys(in_period=figures["in_period"], total=figures["total"])
