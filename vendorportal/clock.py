"""The one place the portal reads the time from (STYLE 16).

Views, services, tasks and commands call :func:`today` / :func:`now` instead of
``timezone.localdate()`` / ``timezone.now()``. Tests set the time with the
``clock`` fixture (``clock.set(date(2026, 11, 21))``) so no test depends on the day
it runs, and a run across midnight cannot flake.

``today()`` is the calendar day in Europe/Berlin (``TIME_ZONE``), the day the
rules of RULES.md GEN-1 count with.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone

_frozen: datetime | None = None


def now() -> datetime:
    """The current moment, timezone-aware (UTC inside, like ``timezone.now()``)."""
    return _frozen if _frozen is not None else timezone.now()


def today() -> date:
    """Today's date in the portal's time zone (Europe/Berlin)."""
    return timezone.localdate(now())


def freeze(moment: datetime | date | None) -> None:
    """Fix the clock at ``moment`` (a date means noon Berlin time that day); ``None`` releases it.

    For tests and for re-running a job "as of" a day; never called by production code paths.
    """
    global _frozen
    if moment is None:
        _frozen = None
        return
    if isinstance(moment, datetime):
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        _frozen = moment
    else:
        _frozen = timezone.make_aware(datetime.combine(moment, time(12, 0)))
