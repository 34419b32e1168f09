"""Rules of dunning (issue 18): levels and deadlines, the B2B flat fee (§ 288 Abs. 5 BGB), the
base rate's half-years (§ 247 BGB) and default interest by day (§ 288 Abs. 2 BGB).

Pure functions over ``date``, ``Decimal`` and plain values (STYLE 2): no ORM, no ``now()``,
no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from billing.exceptions import BillingInputError
from billing.rules.invoices import HUNDRED
from vendorportal.formats import format_date
from vendorportal.money import ZERO, D, round_cents

# --- Dunning (issue 18): levels, deadlines, the B2B flat fee and default interest -----------------
#
# **Decision (issue 18, dunning):** three levels replace the one friendly reminder —
# Zahlungserinnerung 7 days after the due date, 1. Mahnung 14 days after the Zahlungserinnerung
# was issued, letzte Mahnung 14 days after the 1. Mahnung was issued. Each next level counts from
# the day the previous one was *issued* (a paused or late one pushes the next one back), never
# from the nominal day. Each letter names its own deadline: 10 days after its issue for the first
# two (before the next level is due), 14 days for the letzte Mahnung. Only the letzte Mahnung
# claims money: the flat fee of 40,00 € (§ 288 Abs. 5 BGB, the buyer is a business) and default
# interest of 9 percentage points above the base rate (§ 288 Abs. 2 BGB) up to its issue day;
# interest accruing after it is not claimed automatically.

DUNNING_REMINDER = 1  # Zahlungserinnerung
DUNNING_FIRST = 2  # 1. Mahnung
DUNNING_FINAL = 3  # letzte Mahnung
DUNNING_LEVELS = (DUNNING_REMINDER, DUNNING_FIRST, DUNNING_FINAL)
DUNNING_REMINDER_AFTER_DUE_DAYS = 7
DUNNING_NEXT_LEVEL_DAYS = 14
DUNNING_DEADLINE_DAYS = {DUNNING_REMINDER: 10, DUNNING_FIRST: 10, DUNNING_FINAL: 14}
DUNNING_FLAT_FEE = Decimal("40.00")  # § 288 Abs. 5 BGB
DEFAULT_INTEREST_POINTS = Decimal("9")  # § 288 Abs. 2 BGB: 9 percentage points above the base rate
INTEREST_DAYS_PER_YEAR = 365


def dunning_level_title(level: int) -> str:
    """The German name of a level, as letters, portal and admin show it."""
    return {
        DUNNING_REMINDER: _("Zahlungserinnerung"),
        DUNNING_FIRST: _("1. Mahnung"),
        DUNNING_FINAL: _("letzte Mahnung"),
    }[level]


def dunning_next_level(*, due_date: date, last_level: int, last_issued_on: date | None, today: date) -> int | None:
    """The level an overdue invoice is to get on ``today``, or ``None`` (issue 18, dunning).

    ``last_level`` 0 = none issued yet. Due 10.06.2025: the Zahlungserinnerung on 17.06.2025
    (due + 7), not on 16.06.; after it was issued on 17.06., the 1. Mahnung on 01.07.2025; after that,
    the letzte Mahnung on 15.07.2025; after the letzte Mahnung nothing more. A job that did not
    run on the day issues the level on the next run, and the next level counts from that day.
    Only one level per call: a level skipped by a long pause is never jumped over.
    """
    if last_level not in (0, *DUNNING_LEVELS):
        raise BillingInputError(_("Unbekannte Mahnstufe %(level)s.") % {"level": last_level})
    if last_level == DUNNING_FINAL:
        return None
    if last_level == 0:
        return DUNNING_REMINDER if today >= due_date + timedelta(days=DUNNING_REMINDER_AFTER_DUE_DAYS) else None
    if last_issued_on is None:
        raise BillingInputError(_("Zur letzten Mahnstufe fehlt das Datum."))
    return last_level + 1 if today >= last_issued_on + timedelta(days=DUNNING_NEXT_LEVEL_DAYS) else None


def dunning_deadline(level: int, issued_on: date) -> date:
    """The deadline a level's letter names: Zahlungserinnerung and 1. Mahnung 10 days after
    their issue (17.06.2025 → 27.06.2025), the letzte Mahnung 14 days (15.07.2025 → 29.07.2025)."""
    return issued_on + timedelta(days=DUNNING_DEADLINE_DAYS[level])


def invoice_open_amount(*, gross: Decimal, credited: Decimal, paid: Decimal) -> Decimal:
    """What is still owed on an invoice (INV-1, issue 18): its gross less what its corrections
    (Rechnungskorrektur, Stornorechnung) took back less what was paid; never below 0. The amount
    dunning claims, the letzte Mahnung's interest runs on, and open items, portal and API show.
    4.730,49 € gross, a correction of 160,89 €, 1.000,00 € paid → 3.569,60 €. In cents: a sum the
    database adds up may carry more places (SQLite: 160.890000000000), which a stored amount
    (12 digits) must not."""
    return round_cents(max(D(gross) - D(credited) - D(paid), ZERO))


def dunning_debt_settled(open_amounts: Iterable[Decimal]) -> bool:
    """Is the debt behind a block of subscription keys for late payment settled (issue 18,
    LIC-12)? When nothing is open on any invoice that caused it — paid, taken back by a
    correction, or both (:func:`invoice_open_amount`). [0,00, 0,00] → yes; [0,00, 0,01] → no."""
    return all(D(amount) <= 0 for amount in open_amounts)


def dunning_fee(level: int) -> Decimal:
    """The flat fee a level claims: 40,00 € with the letzte Mahnung (§ 288 Abs. 5 BGB), else 0,00 €."""
    return DUNNING_FLAT_FEE if level == DUNNING_FINAL else ZERO


# The base rate (Basiszinssatz, § 247 BGB) changes on 1 January and 1 July; the Bundesbank
# publishes it for each half-year. A rate is valid from its day until the day before the next
# known one — the newest known rate at most until the end of its half-year: a day beyond that
# has no known rate (finance enters the new one; until then no interest is computed for it).


def half_year_start(day: date) -> date:
    """1 January or 1 July of ``day``'s half-year: 15.05.2025 → 01.01.2025, 06.12.2026 → 01.07.2026."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def half_year_end(day: date) -> date:
    """30 June or 31 December of ``day``'s half-year (inclusive end)."""
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


def base_rate_stale(newest_valid_from: date | None, today: date) -> bool:
    """Is the newest entered base rate older than the current half-year (finance must enter the
    new one)? Newest 01.07.2025: on 31.12.2025 no, on 01.01.2026 yes; none entered: yes."""
    return newest_valid_from is None or newest_valid_from < half_year_start(today)


@dataclass(frozen=True)
class InterestSpan:
    """Days of one base rate inside an interest period (both ends inclusive)."""

    start: date
    end: date
    days: int
    base_rate: Decimal  # percent, may be negative (e.g. −0,88 % in 2016–2022)
    rate: Decimal  # base rate + 9 points
    amount: Decimal  # unrounded share of the interest


@dataclass(frozen=True)
class DefaultInterest:
    principal: Decimal
    start: date  # the day after the due date
    end: date  # the notice day, inclusive
    spans: tuple[InterestSpan, ...]
    amount: Decimal  # rounded half up to cents, once, on the sum of the spans

    @property
    def days(self) -> int:
        return sum(span.days for span in self.spans)


def default_interest(
    *, principal: Decimal, due_date: date, through: date, base_rates: Iterable[tuple[date, Decimal]]
) -> DefaultInterest:
    """Default interest by day (§ 288 Abs. 2 BGB, issue 18): ``principal`` × (base rate + 9) % ×
    days / 365, each day at the base rate valid on it.

    **Convention:** interest runs from the day after the due date (the debtor is in default
    without a reminder when the due date is fixed by the calendar, § 286 Abs. 2 Nr. 1 BGB)
    through the notice day, both inclusive; the year has 365 days (also in leap years); a period
    that spans 1 January or 1 July is split at the rate change; the spans' unrounded shares are
    added and the sum is rounded half up to cents once (GEN-2). ``principal`` is what is open on
    the notice day (a partial payment before it lowers the interest for the whole period — in
    the debtor's favour, and one figure the letter can show).

    Worked example: 4.730,49 € due 10.06.2025, letzte Mahnung on 15.07.2025 →
    11.06.–30.06.2025, 20 days at 2,27 + 9 = 11,27 %: 4.730,49 × 11,27 % × 20 / 365 = 29,212396…;
    01.07.–15.07.2025, 15 days at 1,27 + 9 = 10,27 %: 4.730,49 × 10,27 % × 15 / 365 = 19,965260…;
    sum 49,177656… → 49,18 €. Nothing is due for ``through`` ≤ ``due_date`` (0,00 €).

    ``base_rates``: ``(valid_from, percent)`` pairs in any order. Raises
    :class:`BillingInputError` when a day of the period has no known rate (before the first,
    or after the end of the newest one's half-year).
    """
    principal = D(principal)
    start = due_date + timedelta(days=1)
    if through < start or principal <= 0:
        return DefaultInterest(principal, start, through, (), ZERO)
    rates = sorted((valid_from, D(rate)) for valid_from, rate in base_rates)
    if not rates or rates[0][0] > start:
        raise BillingInputError(_("Für den %(date)s ist kein Basiszinssatz erfasst.") % {"date": format_date(start)})
    spans: list[InterestSpan] = []
    for index, (valid_from, base) in enumerate(rates):
        valid_to = rates[index + 1][0] - timedelta(days=1) if index + 1 < len(rates) else half_year_end(valid_from)
        span_start, span_end = max(start, valid_from), min(through, valid_to)
        if span_start > span_end:
            continue
        days = (span_end - span_start).days + 1
        rate = base + DEFAULT_INTEREST_POINTS
        share = principal * rate / HUNDRED * days / INTEREST_DAYS_PER_YEAR
        spans.append(InterestSpan(span_start, span_end, days, base, rate, share))
    covered_to = spans[-1].end if spans else start - timedelta(days=1)
    if covered_to < through:
        raise BillingInputError(
            _(
                "Für den %(date)s ist kein Basiszinssatz erfasst; bitte den Basiszinssatz des Halbjahres "
                "nachtragen (Deutsche Bundesbank)."
            )
            % {"date": format_date(covered_to + timedelta(days=1))}
        )
    return DefaultInterest(principal, start, through, tuple(spans), round_cents(sum((s.amount for s in spans), ZERO)))
