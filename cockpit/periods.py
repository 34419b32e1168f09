"""The cockpit's period picker: month, quarter, year or a custom range, all with inclusive ends.

Pure functions over ``date``: the view passes the query parameters and today in, and gets a
:class:`Period` back, or the default period and a German message when the input is unusable
(never an error page). Query parameters: ``zeitraum`` = ``monat`` | ``quartal`` | ``jahr`` |
``frei``; ``stichtag`` (ISO date) picks the month/quarter/year that contains it; ``von`` and
``bis`` (ISO dates) the custom range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from vendorportal.formats import format_date
from vendorportal.periods import month_end

MONTH, QUARTER, YEAR, CUSTOM = "monat", "quartal", "jahr", "frei"
KINDS = (MONTH, QUARTER, YEAR, CUSTOM)
# A custom range longer than this is refused: the monthly series are built for years, not decades.
MAX_CUSTOM_DAYS = 5 * 366
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return f"{self.start.month:02d}/{self.start.year}"
        if self.kind == QUARTER:
            return _("Q%(q)s/%(year)s") % {"q": (self.start.month - 1) // 3 + 1, "year": self.start.year}
        if self.kind == YEAR:
            return str(self.start.year)
        return f"{format_date(self.start)} – {format_date(self.end)}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def query(self) -> dict[str, str]:
        """The query parameters that select this period again (links, CSV downloads)."""
        if self.kind == CUSTOM:
            return {"zeitraum": CUSTOM, "von": self.start.isoformat(), "bis": self.end.isoformat()}
        return {"zeitraum": self.kind, "stichtag": self.start.isoformat()}

    def previous(self) -> Period:
        return containing(self.kind, self.start - timedelta(days=1)) if self.kind != CUSTOM else self

    def next(self) -> Period:
        return containing(self.kind, self.end + timedelta(days=1)) if self.kind != CUSTOM else self


def containing(kind: str, day: date) -> Period:
    """The calendar month, quarter or year (``kind``) that contains ``day``."""
    if kind == MONTH:
        return Period(MONTH, day.replace(day=1), month_end(day))
    if kind == QUARTER:
        first_month = (day.month - 1) // 3 * 3 + 1
        start = date(day.year, first_month, 1)
        return Period(QUARTER, start, month_end(date(day.year, first_month + 2, 1)))
    if kind == YEAR:
        return Period(YEAR, date(day.year, 1, 1), date(day.year, 12, 31))
    raise ValueError(kind)


def default_period(today: date) -> Period:
    """The last complete month: on the 2nd of December the cockpit shows November."""
    return containing(MONTH, today.replace(day=1) - timedelta(days=1))


def _iso(text: str | None) -> date | None:
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if EARLIEST <= day <= date(2999, 12, 31) else None


def parse_period(params, today: date) -> tuple[Period, str]:
    """(period, German problem or "") from the query parameters ``params`` (a dict-like)."""
    kind = (params.get("zeitraum") or "").strip()
    if not kind:
        return default_period(today), ""
    if kind not in KINDS:
        return default_period(today), _("Unbekannter Zeitraum „%(kind)s“; gezeigt wird der Vormonat.") % {
            "kind": kind[:20]
        }
    if kind == CUSTOM:
        start, end = _iso(params.get("von")), _iso(params.get("bis"))
        if start is None or end is None:
            return default_period(today), _(
                "Bitte Beginn und Ende des Zeitraums als Datum angeben; gezeigt wird der Vormonat."
            )
        if end < start:
            return default_period(today), _(
                "Das Ende des Zeitraums liegt vor seinem Beginn; gezeigt wird der Vormonat."
            )
        if (end - start).days + 1 > MAX_CUSTOM_DAYS:
            return default_period(today), _(
                "Ein freier Zeitraum umfasst höchstens fünf Jahre; gezeigt wird der Vormonat."
            )
        return Period(CUSTOM, start, end), ""
    raw = params.get("stichtag")
    if raw:
        day = _iso(raw)
        if day is None:
            return default_period(today), _("„%(value)s“ ist kein gültiges Datum; gezeigt wird der Vormonat.") % {
                "value": raw[:20]
            }
    else:
        day = today
    return containing(kind, day), ""


def month_starts(end: date, count: int = 12) -> list[date]:
    """The first days of the ``count`` calendar months that end with ``end``'s month, oldest first."""
    firsts = []
    year, month = end.year, end.month
    for _n in range(count):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def week_starts(end: date, count: int = 12) -> list[date]:
    """The Mondays of the ``count`` ISO weeks that end with ``end``'s week, oldest first."""
    monday = end - timedelta(days=end.weekday())
    return [monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]
