"""Rules of subscriptions and service plans: terms and billing periods (SUB-1…SUB-5, SUB-8)
and the special termination right (SUB-6).

Pure functions over ``date``, ``Decimal`` and plain values (STYLE 2): no ORM, no ``now()``,
no I/O.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from billing.exceptions import BillingInputError
from vendorportal.formats import format_date
from vendorportal.money import ZERO, D, round_cents
from vendorportal.periods import add_months, first_of_next_month, month_end, month_period_end

# --- SUB-1…SUB-5, SUB-8: subscription terms and billing periods ----------------------------------

#: Billing intervals in months (SUB-3). ``BILL_WHOLE_TERM`` bills the whole remaining minimum
#: term in advance; after the minimum term such a subscription is billed month by month (SUB-4).
BILL_MONTHLY = 1
BILL_QUARTERLY = 3
BILL_HALF_YEARLY = 6
BILL_YEARLY = 12
BILL_WHOLE_TERM = 0
BILLING_INTERVALS = (BILL_MONTHLY, BILL_QUARTERLY, BILL_HALF_YEARLY, BILL_YEARLY, BILL_WHOLE_TERM)
MINIMUM_TERMS = (1, 12, 24, 36)
NOTICE_DAYS = 14  # SUB-5, SUB-6
SERVICE_PLAN_NOTICE_MONTHS = 3  # SUB-8
SERVICE_PLAN_RETROACTIVE_BEFORE = date(2022, 1, 1)  # SUB-8


@dataclass(frozen=True)
class Period:
    """A billing period, both ends inclusive (GEN-1)."""

    start: date
    end: date


def term_start(signed_on: date) -> date:
    """SUB-1: the minimum term starts on the 1st of the month after signing; signed on the
    1st, it starts that day. 2026-11-21 → 2026-12-01; 2026-12-01 → 2026-12-01."""
    return signed_on if signed_on.day == 1 else first_of_next_month(signed_on)


def first_month_charge(monthly_price: Decimal, signed_on: date) -> Decimal:
    """SUB-2: signing day to month end, day-exact: the month's price less the share of the
    days before the signing day, rounded half up to cents. 44,75 € signed 2026-11-21:
    20 of 30 days elapsed → 10/30 × 44,75 = 14,9166… → 14,92 €. Signed on the 1st → 0,00 €
    (the term starts that day and the month is a regular period)."""
    price = D(monthly_price)
    if price < 0:
        raise BillingInputError(_("Ein Monatspreis kann nicht negativ sein."))
    if signed_on.day == 1:
        return ZERO
    days_in_month = calendar.monthrange(signed_on.year, signed_on.month)[1]
    remaining = days_in_month - (signed_on.day - 1)
    return round_cents(price * remaining / days_in_month)


def minimum_term_end(term_start: date, minimum_months: int) -> date:
    """Last day of the minimum term (GEN-1): 2026-12-01 + 24 months → 2028-11-30."""
    if minimum_months not in MINIMUM_TERMS:
        raise BillingInputError(_("Mindestlaufzeiten sind 1, 12, 24 oder 36 Monate."))
    return month_period_end(term_start, minimum_months)


def _interval_months(billing_months: int, minimum_months: int, period_start: date, term_start: date) -> int:
    if billing_months not in BILLING_INTERVALS:
        raise BillingInputError(_("Abrechnungsintervalle sind 1, 3, 6 oder 12 Monate oder die ganze Mindestlaufzeit."))
    if billing_months == BILL_WHOLE_TERM:
        return minimum_months if period_start == term_start else BILL_MONTHLY
    return billing_months


def billing_periods(term_start: date, minimum_months: int, billing_months: int, until: date):
    """SUB-3/SUB-4: the billing periods of a subscription, aligned to the term start, from the
    first one up to the one that contains ``until`` (a generator of :class:`Period`).

    Monthly from 2026-12-01: 2026-12-01…2026-12-31, 2027-01-01…2027-01-31, …; quarterly:
    2026-12-01…2027-02-28, 2027-03-01…2027-05-31, …; whole term (24 months): 2026-12-01…
    2028-11-30, then month by month. After the minimum term the interval stays (SUB-4).
    """
    start = term_start
    while start <= until:
        end = month_period_end(start, _interval_months(billing_months, minimum_months, start, term_start))
        yield Period(start, end)
        start = end + timedelta(days=1)


def billing_period_on(term_start: date, minimum_months: int, billing_months: int, day: date) -> Period | None:
    """The billing period that contains ``day``; None before the term starts."""
    periods = list(billing_periods(term_start, minimum_months, billing_months, day))
    return periods[-1] if periods else None


def first_unbilled_period_start(
    term_start: date,
    minimum_months: int,
    billing_months: int,
    *,
    today: date,
    billed_starts,
    ends_on: date | None = None,
) -> date | None:
    """SUB-7 (decision): the start of the billing period a tier change applies from — the
    first period that begins after the one running ``today`` (ORD-6: "from the next billing
    period"; before the term starts, the first period) and is not billed yet. Periods billed
    in advance keep their price, so the new price is never dated into an invoiced period.
    ``billed_starts`` are the starts of the periods already billed; None when the
    subscription ends before such a period.

    Quarterly from 2027-01-01, 01.01.–31.03.2027 billed: on 2026-12-20 → 2027-04-01 (the
    quarter that begins 01.01. is invoiced already); on 2027-02-10 → 2027-04-01. Monthly from
    2026-12-01, nothing billed, on 2026-12-05 → 2027-01-01.
    """
    billed = set(billed_starts)
    horizon = max([today, *billed]) + timedelta(days=800)  # two periods of at most 36 months
    for period in billing_periods(term_start, minimum_months, billing_months, horizon):
        if period.start <= today:
            continue  # the running period (or an earlier one) keeps its price
        if ends_on is not None and period.start > ends_on:
            return None
        if period.start not in billed:
            return period.start
    return None  # pragma: no cover  (a period of ≤ 36 months always starts before the horizon)


def earliest_end(term_start: date, minimum_months: int, billing_months: int, notice_on: date) -> date:
    """SUB-5: the last day of a subscription for a notice received on ``notice_on``: the first
    billing-period end E with E ≥ end of the minimum term and ``notice_on`` ≤ E − 14 days.

    Term 2026-12-01…2028-11-30 (24 months), monthly: notice 2028-11-10 → 2028-11-30;
    2028-11-20 → 2028-12-31; 2027-03-01 → 2028-11-30.
    """
    minimum_end = minimum_term_end(term_start, minimum_months)
    horizon = max(minimum_end, notice_on + timedelta(days=NOTICE_DAYS))
    for period in billing_periods(term_start, minimum_months, billing_months, horizon + timedelta(days=400)):
        if period.end >= minimum_end and notice_on <= period.end - timedelta(days=NOTICE_DAYS):
            return period.end
    raise AssertionError("unreachable: billing periods are at most 36 months long")  # pragma: no cover


def special_termination_end(notice_on: date) -> date:
    """SUB-6: under the special termination right a subscription ends at the end of a
    calendar month with 14 days' notice: notice 2027-03-10 → 2027-03-31; 2027-03-20 →
    2027-04-30 (2027-03-31 − 14 days = 2027-03-17 < 20th)."""
    end = month_end(notice_on)
    if notice_on > end - timedelta(days=NOTICE_DAYS):
        end = month_end(end + timedelta(days=1))
    return end


def service_plan_year(starts_on: date, day: date) -> Period:
    """SUB-8: the plan year that contains ``day`` (plan years are aligned to the plan's start,
    billed yearly in advance): start 2026-12-01, day 2027-12-15 → 2027-12-01…2028-11-30."""
    if day < starts_on:
        raise BillingInputError(_("Der Service-Plan hat an diesem Tag noch nicht begonnen."))
    period = Period(starts_on, month_period_end(starts_on, 12))
    while period.end < day:
        start = period.end + timedelta(days=1)
        period = Period(start, month_period_end(start, 12))
    return period


def service_plan_earliest_end(starts_on: date, notice_on: date) -> date:
    """SUB-8: notice of 3 months to the end of a plan year. Plan from 2026-12-01: notice on
    2027-08-31 → ends 2027-11-30; on 2027-09-01 → 2028-11-30."""
    year = service_plan_year(starts_on, max(notice_on, starts_on))
    while notice_on > add_months(year.end + timedelta(days=1), -SERVICE_PLAN_NOTICE_MONTHS) - timedelta(days=1):
        start = year.end + timedelta(days=1)
        year = Period(start, month_period_end(start, 12))
    return year.end


# --- SUB-6: special termination right -------------------------------------------------------

SPECIAL_TERMINATION_AFTER_MONTHS = 3  # SUB-6


def pbx_version_key(number: str) -> tuple[int, ...]:
    """A PBX version number as a comparable tuple: "9.0.0.4" → (9, 0, 0, 4); "9.1" → (9, 1).

    PBX versions have up to four parts (licensing's module-version parser takes three);
    trailing zeros do not matter: "9.0" and "9.0.0" compare equal.
    """
    try:
        parts = [int(piece) for piece in (number or "").strip().split(".")]
    except ValueError:
        raise BillingInputError(
            _("„%(number)s“ ist keine Versionsnummer (Zahlen mit Punkten, z. B. 9.0.0.4).") % {"number": number}
        ) from None
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def new_highest_pbx_versions(versions: Iterable[tuple[str, date]]) -> list[tuple[str, date]]:
    """SUB-6: the releases that were a *new* PBX version — a number higher than every version
    released before it — in release order. A later patch of an older major line is not:
    8.2.0.5 (2025-06-24), 9.0.0.4 (2026-10-06), 8.2.0.6 (2026-11-02) → 8.2.0.5, 9.0.0.4."""
    highest: tuple[int, ...] | None = None
    new = []
    for number, released_on in sorted(versions, key=lambda v: (v[1], pbx_version_key(v[0]))):
        key = pbx_version_key(number)
        if highest is None or key > highest:
            new.append((number, released_on))
            highest = key
    return new


@dataclass(frozen=True)
class SpecialTerminationGround:
    """Why a subscription may be ended early (SUB-6): the new PBX version, its release and
    the day from which the missing compatible module version gives the right."""

    pbx_version: str
    released_on: date
    right_from: date


def special_termination_ground(
    *,
    new_versions: Iterable[tuple[str, date]],
    compatible_since: Mapping[str, date | None],
    signed_on: date,
    minimum_end: date,
    on: date,
) -> SpecialTerminationGround | None:
    """SUB-6: does a subscription have the special termination right on day ``on``?

    ``new_versions``: :func:`new_highest_pbx_versions`; ``compatible_since``: per PBX version
    the release of the first module version tested with it (None: none yet). The right
    exists on ``on`` when ``on`` lies in the minimum term (signing … minimum-term end) and
    for a new PBX version released on R, three months have passed (``on`` ≥ R + 3 months)
    and no compatible module version was published by ``on``. It lapses once one is.

    **Decision:** the day the right arises (R + 3 months) must itself fall on or after the
    signing day — a customer who signed when the three months had already passed without a
    compatible version knew it, and gets no right from that version.

    9.0.0.4 released 2026-10-06, signed 2026-11-21, 24 months: the right exists from
    2027-01-06 until a compatible module version is published.
    """
    if not signed_on <= on <= minimum_end:
        return None
    for number, released_on in new_versions:
        right_from = add_months(released_on, SPECIAL_TERMINATION_AFTER_MONTHS)
        if right_from < signed_on or right_from > on:
            continue
        compatible = compatible_since.get(number)
        if compatible is None or compatible > on:
            return SpecialTerminationGround(number, released_on, right_from)
    return None


def months_in_period(start: date, end: date) -> int:
    """How many months a billing period of whole months spans (SUB-3, GEN-1):
    2026-12-01…2027-02-28 → 3; 2026-12-01…2026-12-31 → 1. Refuses a period that is not whole months."""
    for months in range(1, 37):
        if month_period_end(start, months) == end:
            return months
    raise BillingInputError(
        _("%(start)s–%(end)s ist kein Zeitraum aus ganzen Monaten.")
        % {"start": format_date(start), "end": format_date(end)}
    )
