"""GEN-1 month periods (§ 188 II BGB): every worked example of RULES.md and leap years."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vendorportal.periods import first_of_next_month, month_end, month_period_end, months_passed_within, parse_month


@pytest.mark.parametrize(
    "start, months, end",
    [
        # RULES.md GEN-1, verbatim
        (date(2026, 1, 15), 1, date(2026, 2, 14)),
        (date(2026, 1, 15), 6, date(2026, 7, 14)),
        (date(2026, 3, 1), 1, date(2026, 3, 31)),
        (date(2026, 1, 1), 12, date(2026, 12, 31)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 30), 1, date(2026, 2, 28)),  # Feb 2026 has no 29th
        # more leap-year cases, worked out by hand
        (date(2028, 1, 30), 1, date(2028, 2, 29)),  # Feb 2028 has a 29th but no 30th
        (date(2028, 1, 29), 1, date(2028, 2, 28)),  # the 29th exists: end the day before
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # Feb 2029 has no 29th
        (date(2028, 2, 29), 48, date(2032, 2, 28)),  # 2032 is a leap year: day before the 29th
        (date(2024, 2, 29), 1, date(2024, 3, 28)),
        (date(2025, 1, 1), 3, date(2025, 3, 31)),  # SWP-5 lapse window
        (date(2025, 1, 1), 36, date(2027, 12, 31)),
        (date(2026, 12, 1), 24, date(2028, 11, 30)),  # SUB-5 term
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 5, 31), 1, date(2026, 6, 30)),
    ],
)
def test_month_period_end_examples(start, months, end):
    assert month_period_end(start, months) == end


def test_month_period_end_refuses_zero_months():
    with pytest.raises(ValueError):
        month_period_end(date(2026, 1, 1), 0)


def test_less_than_n_months_have_passed():
    # GEN-1: "less than 3 months since 2025-01-01" holds through 2025-03-31.
    assert months_passed_within(date(2025, 1, 1), 3, date(2025, 3, 31))
    assert not months_passed_within(date(2025, 1, 1), 3, date(2025, 4, 1))


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(min_value=1, max_value=60))
def test_consecutive_periods_tile_without_gap(start, months):
    """A period that starts the day after another one ends continues it without a gap:
    the end lies in the n-th month (or the day before the start day in it)."""
    end = month_period_end(start, months)
    assert end >= start
    following = end + timedelta(days=1)
    month_index = (start.year * 12 + start.month - 1) + months
    # The next day is either the start's day number in the n-th month,
    # or the 1st of the month after a too-short n-th month.
    if following.day == start.day:
        assert following.year * 12 + following.month - 1 == month_index
    else:
        assert following.day == 1 and following.year * 12 + following.month - 1 == month_index + 1


def test_calendar_helpers():
    assert month_end(date(2028, 2, 3)) == date(2028, 2, 29)
    assert first_of_next_month(date(2026, 12, 31)) == date(2027, 1, 1)


@pytest.mark.parametrize(
    "text, first",
    [
        ("2026-11", date(2026, 11, 1)),
        (" 2026-01 ", date(2026, 1, 1)),
        ("2000-12", date(2000, 12, 1)),
        ("1999-12", None),  # no document is older
        ("0000-05", None),
        ("2026-13", None),
        ("2026-00", None),
        ("2026-1", None),
        ("11/2026", None),
        ("٢٠٢٦-١١", None),  # Arabic-Indic digits: int() would read them
        ("２０２６-１１", None),  # full-width digits
        ("2026-11\n2026-12", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_month_reads_only_what_staff_type_as_a_month(text, first):
    assert parse_month(text) == first
