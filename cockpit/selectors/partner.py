"""The partner portal dashboard's charts (issue 20), scoped to one partner: its own spend per
month and its upcoming renewals. One query each; definitions in docs/metrics.md."""

from __future__ import annotations

from datetime import date

from django.db.models import Case, Count, F, Q, Sum, When

from billing.models import Invoice, ServicePlan
from cockpit.periods import month_starts
from cockpit.selectors._common import MONEY_OUT, Series, money
from licensing.constants import AUERSWALD
from licensing.models import Installation
from licensing.selectors.systems import coverage_end_subquery
from vendorportal.periods import add_months, month_end

RENEWAL_MONTHS = 6


def partner_spend_by_month(partner, today: date) -> Series:
    """Net of the partner's invoices per month issued, corrections negative, the 12 months up to today's."""
    firsts = month_starts(today)
    net = Case(When(kind=Invoice.CREDIT_NOTE, then=-F("net_total")), default=F("net_total"), output_field=MONEY_OUT)
    figures = Invoice.objects.filter(partner=partner, issue_date__gte=firsts[0], issue_date__lte=today).aggregate(
        **{
            f"m{n}": Sum(net, filter=Q(issue_date__gte=first, issue_date__lte=month_end(first)))
            for n, first in enumerate(firsts)
        }
    )
    return Series(
        labels=[f"{d.month:02d}/{d.year}" for d in firsts],
        series={"Ausgaben netto": [money(figures[f"m{n}"]) for n in range(len(firsts))]},
        money=True,
    )


def partner_renewals_by_month(partner, today: date) -> Series:
    """What comes up for renewal in this and the next five months: Auerswald systems whose
    Softwarepflege ends (latest coverage end, SWP-4) and service-plan years that end (SUB-8:
    plan years run from ``starts_on``; a plan with notice given is not counted). Two queries."""
    firsts = [add_months(today.replace(day=1), n) for n in range(RENEWAL_MONTHS)]
    swp = (
        Installation.objects.filter(vendor=AUERSWALD, customer__partner=partner)
        .annotate(swp_end=coverage_end_subquery())
        .aggregate(
            **{
                f"m{n}": Count("pk", filter=Q(swp_end__gte=max(first, today), swp_end__lte=month_end(first)))
                for n, first in enumerate(firsts)
            }
        )
    )
    # A plan year ends the day before an anniversary of the start: in the start's month, or
    # the month before when the plan starts on the 1st (the usual case).
    plans = ServicePlan.objects.filter(partner=partner, ends_on__isnull=True, starts_on__lte=today).aggregate(
        **{
            f"m{n}": Count(
                "pk",
                filter=Q(starts_on__day=1, starts_on__month=first.month % 12 + 1)
                | (~Q(starts_on__day=1) & Q(starts_on__month=first.month)),
            )
            for n, first in enumerate(firsts)
        }
    )
    return Series(
        labels=[f"{d.month:02d}/{d.year}" for d in firsts],
        series={
            "Softwarepflege": [swp[f"m{n}"] for n in range(len(firsts))],
            "Service-Pläne": [plans[f"m{n}"] for n in range(len(firsts))],
        },
    )
