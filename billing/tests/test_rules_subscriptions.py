"""SUB-1…SUB-6, SUB-8 as pure rules, with the dates and amounts of RULES.md section 6 worked by hand."""

from datetime import date
from decimal import Decimal

import pytest

from billing import rules
from billing.exceptions import BillingInputError


@pytest.mark.parametrize(
    ("signed", "start"),
    [
        (date(2026, 11, 21), date(2026, 12, 1)),  # SUB-1: first of the next month
        (date(2026, 12, 1), date(2026, 12, 1)),  # signed on the 1st → that day
        (date(2026, 12, 31), date(2027, 1, 1)),  # across the year
        (date(2028, 2, 29), date(2028, 3, 1)),
    ],
)
def test_term_start(signed, start):
    assert rules.term_start(signed) == start


@pytest.mark.parametrize(
    ("price", "signed", "charge"),
    [
        ("44.75", date(2026, 11, 21), "14.92"),  # RULES SUB-2: 10/30 × 44,75 = 14,9166…
        ("44.75", date(2026, 11, 1), "0.00"),  # signed on the 1st: no partial month
        ("31.00", date(2027, 1, 31), "1.00"),  # last day of a 31-day month: 1/31
        ("29.00", date(2028, 2, 15), "15.00"),  # leap February: 15 of 29 days left
        ("10.00", date(2027, 2, 15), "5.00"),  # 14 of 28 days left → 5,00
        ("0.10", date(2026, 11, 30), "0.00"),  # 1/30 × 0,10 = 0,0033 → 0,00 (half up)
        ("0.15", date(2026, 11, 30), "0.01"),  # 1/30 × 0,15 = 0,005 → 0,01 (half up)
    ],
)
def test_first_month_charge(price, signed, charge):
    assert rules.first_month_charge(Decimal(price), signed) == Decimal(charge)


def test_first_month_charge_refuses_negative_price():
    with pytest.raises(BillingInputError):
        rules.first_month_charge(Decimal("-1"), date(2026, 11, 21))


@pytest.mark.parametrize(
    ("notice", "end"),
    [
        (date(2028, 11, 10), date(2028, 11, 30)),  # RULES SUB-5 examples
        (date(2028, 11, 20), date(2028, 12, 31)),
        (date(2027, 3, 1), date(2028, 11, 30)),
        (date(2028, 11, 16), date(2028, 11, 30)),  # exactly 14 days before the end
        (date(2028, 11, 17), date(2028, 12, 31)),  # 13 days: one period later
    ],
)
def test_earliest_end_monthly(notice, end):
    assert rules.earliest_end(date(2026, 12, 1), 24, 1, notice) == end


def test_earliest_end_follows_the_billing_interval():
    # Quarterly from 2026-12-01: quarters end 28.02., 31.05., 31.08., 30.11. The 24-month term
    # ends 2028-11-30; a notice on 2028-11-20 is too late for it → next quarter end 2029-02-28.
    assert rules.earliest_end(date(2026, 12, 1), 24, 3, date(2028, 11, 20)) == date(2029, 2, 28)
    # Yearly, 12-month term from 2027-01-01: notice 2027-12-20 → 2028-12-31.
    assert rules.earliest_end(date(2027, 1, 1), 12, 12, date(2027, 12, 20)) == date(2028, 12, 31)
    # 1-month term, monthly: notice 2027-01-10 on a term from 2027-01-01 → 2027-01-31.
    assert rules.earliest_end(date(2027, 1, 1), 1, 1, date(2027, 1, 10)) == date(2027, 1, 31)


def test_billing_periods_are_aligned_to_the_term_start():
    periods = list(rules.billing_periods(date(2026, 12, 1), 24, 3, date(2027, 3, 1)))
    assert [(p.start, p.end) for p in periods] == [
        (date(2026, 12, 1), date(2027, 2, 28)),
        (date(2027, 3, 1), date(2027, 5, 31)),
    ]


def test_whole_term_in_advance_then_month_by_month():
    periods = list(rules.billing_periods(date(2026, 12, 1), 12, rules.BILL_WHOLE_TERM, date(2028, 1, 1)))
    assert [(p.start, p.end) for p in periods] == [
        (date(2026, 12, 1), date(2027, 11, 30)),  # the whole minimum term
        (date(2027, 12, 1), date(2027, 12, 31)),  # SUB-4: then monthly
        (date(2028, 1, 1), date(2028, 1, 31)),
    ]
    assert rules.billing_period_on(date(2026, 12, 1), 12, 1, date(2026, 11, 30)) is None


@pytest.mark.parametrize(
    ("notice", "end"),
    [
        (date(2027, 3, 10), date(2027, 3, 31)),  # SUB-6: 14 days to the end of a calendar month
        (date(2027, 3, 17), date(2027, 3, 31)),  # 31.03. − 14 days = 17.03.: still in time
        (date(2027, 3, 18), date(2027, 4, 30)),
        (date(2027, 2, 14), date(2027, 2, 28)),
        (date(2027, 2, 15), date(2027, 3, 31)),
    ],
)
def test_special_termination_end(notice, end):
    assert rules.special_termination_end(notice) == end


def test_service_plan_years_and_notice():
    assert rules.service_plan_year(date(2026, 12, 1), date(2027, 12, 15)) == rules.Period(
        date(2027, 12, 1), date(2028, 11, 30)
    )
    # SUB-8: 3 months' notice to the end of a plan year (plan year ends 30.11.).
    assert rules.service_plan_earliest_end(date(2026, 12, 1), date(2027, 8, 31)) == date(2027, 11, 30)
    assert rules.service_plan_earliest_end(date(2026, 12, 1), date(2027, 9, 1)) == date(2028, 11, 30)
    assert rules.service_plan_earliest_end(date(2026, 12, 1), date(2026, 12, 1)) == date(2027, 11, 30)
