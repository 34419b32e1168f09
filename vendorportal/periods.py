"""Date helpers shared by every app. Pure functions over ``datetime.date``.

Periods in this project have *inclusive* ends: a period from 2026-01-01 to
2026-12-31 includes both days.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from functools import lru_cache

from dateutil.relativedelta import relativedelta

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_month(text: str | None) -> date | None:
    """``"2026-11"`` (as staff type it in a form or a command) → 1 November 2026; ``None`` for
    anything else: only ASCII digits (not ``"٢٠٢٦-١١"``), nothing after it (not a line break),
    a month 01–12 and a year from 2000 (no document is older)."""
    match = _MONTH.fullmatch((text or "").strip())
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if year < 2000 or not 1 <= month <= 12:
        return None
    return date(year, month, 1)


def add_months(day: date, months: int) -> date:
    """The same day number ``months`` later, clamped to the month's last day.

    2026-01-31 + 1 → 2026-02-28. Not a period end: see :func:`month_period_end`.
    """
    return day + relativedelta(months=months)


# Cached: pure, and a run over thousands of subscriptions asks the same few starts and
# lengths again and again (relativedelta is slow); an error (months < 1) is not cached.
@lru_cache(maxsize=8192)
def month_period_end(start: date, months: int) -> date:
    """Last day (inclusive) of a ``months``-month period that begins on ``start``.

    RULES GEN-1 (§ 188 II BGB): the period ends with the day of the n-th following
    month that precedes the day numbered like the start day; when that month has
    no such day, it ends on that month's last day.
    2026-01-15, 1 → 2026-02-14; 2026-03-01, 1 → 2026-03-31; 2026-01-31, 1 → 2026-02-28.
    """
    if months < 1:
        raise ValueError("A month period lasts at least one month.")
    same_day = add_months(start, months)
    if same_day.day == start.day:
        # The n-th month has the start's day number: end the day before it.
        return same_day - timedelta(days=1)
    # The n-th month is too short (31st → February …): relativedelta clamped to
    # the last day of that month, which is where § 188 III BGB ends the period.
    return same_day


def months_passed_within(start: date, months: int, on: date) -> bool:
    """True when "less than ``months`` months have passed since ``start``" on day ``on``.

    RULES GEN-1: that holds while ``on <= month_period_end(start, months)``.
    """
    return on <= month_period_end(start, months)


def month_end(day: date) -> date:
    """Last day of ``day``'s calendar month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def first_of_next_month(day: date) -> date:
    """First day of the month after ``day``'s month."""
    return month_end(day) + timedelta(days=1)


def days_between(earlier: date, later: date) -> int:
    """Plain date difference ``later - earlier`` in days (may be negative)."""
    return (later - earlier).days
