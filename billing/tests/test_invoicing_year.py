"""A year of monthly runs over the demo data, driven by the clock: every period billed once (INV-3).

The demo is loaded on 22.11.2026, so its subscriptions start on 01.12.2026 (SUB-1). Counted
by hand over the twelve months December 2026 … November 2027:

- DEMO-ABO-0001 Call Recording, monthly: 12 periods (one per month), 12 × 58,84 €;
- DEMO-ABO-0002 ADSYNC, quarterly from 01.12.: starts 01.12., 01.03., 01.06., 01.09. → 4 periods
  of 3 × 16,63 = 49,89 €;
- DEMO-ABO-0003/0004, the package, monthly: 12 + 12 = 24 periods;
- DEMO-SP-0001 Premium, one plan year 01.12.2026–30.11.2027: 1 period of 828,00 €;
together 41 periods. The run on 01.02.2027 "dies" (is skipped): the March run bills February
and March; every run is started twice and the catch-up tick runs after it.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from billing.models import BilledPeriod, Invoice
from billing.services import invoicing
from vendorportal.parties.models import Partner
from vendorportal.periods import add_months

pytestmark = pytest.mark.django_db

EXPECTED = {"DEMO-ABO-0001": 12, "DEMO-ABO-0002": 4, "DEMO-ABO-0003": 12, "DEMO-ABO-0004": 12}


def test_a_year_of_monthly_runs_bills_every_demo_period_exactly_once(clock):
    clock.set(date(2026, 11, 22))
    call_command("load_demo", stdout=io.StringIO())
    muster = Partner.objects.get(company="Muster Kommunikation GmbH")
    before = set(Invoice.objects.values_list("pk", flat=True))

    months = [add_months(date(2026, 12, 1), n) for n in range(12)]
    for month in months:
        clock.set(month)
        if month == date(2027, 2, 1):
            continue  # the February run died; March catches up
        invoicing.invoicing_run(month=month)
        assert invoicing.invoicing_run(month=month).invoices == []  # started twice
        assert invoicing.due_partner_ids(month=month) == []  # the catch-up tick finds nothing

    periods = BilledPeriod.objects.filter(subscription__reference__startswith="DEMO-ABO-")
    assert dict(Counter(periods.values_list("subscription__reference", flat=True))) == EXPECTED
    starts = sorted(periods.filter(subscription__reference="DEMO-ABO-0002").values_list("period_start", flat=True))
    assert starts == [date(2026, 12, 1), date(2027, 3, 1), date(2027, 6, 1), date(2027, 9, 1)]
    monthly = sorted(periods.filter(subscription__reference="DEMO-ABO-0001").values_list("period_start", flat=True))
    assert monthly == months  # each month once, February included
    plan_years = BilledPeriod.objects.filter(service_plan__reference="DEMO-SP-0001")
    assert list(plan_years.values_list("period_start", "period_end", "amount")) == [
        (date(2026, 12, 1), date(2027, 11, 30), Decimal("828.00"))
    ]
    assert periods.count() + plan_years.count() == 41

    run_invoices = Invoice.objects.exclude(pk__in=before).filter(partner=muster)
    assert run_invoices.count() == 11  # one per run that billed: February's periods went with March
    march = run_invoices.get(issue_date=date(2027, 3, 1))
    assert sorted(march.lines.filter(article="CALLREC").values_list("period_start", flat=True)) == [
        date(2027, 2, 1),
        date(2027, 2, 1),
        date(2027, 3, 1),
        date(2027, 3, 1),
    ]  # the monthly CALLREC of both installations for February and March
    numbers = sorted(
        Invoice.objects.filter(kind="invoice", number__startswith="RE-2027-").values_list("number", flat=True)
    )
    assert numbers == [f"RE-2027-{n:06d}" for n in range(1, len(numbers) + 1)]  # no gap
