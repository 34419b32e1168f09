"""Plausibility bounds every area uses (issue 8): dates and user counts a person can mean.

Bad data must be refused where it enters (model ``clean`` for forms, admin and services,
plus a database check constraint where cheap), with a message that says what is allowed.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from vendorportal.formats import format_date

# --- plausibility bounds (issue 8) -------------------------------------------------------
# Contract, release and decommissioning dates of this business lie between 2000-01-01 and
# 2100-12-31: STARFACE modules, Auerswald systems and the licence key format (whose expiry
# counts days from 2000-01-01) all start after 2000, and no term runs past 2100. Anything
# outside is a typo (year 1, 0026 or 9999) that would otherwise sit in ledgers and reports.
PLAUSIBLE_FIRST_DAY = date(2000, 1, 1)
PLAUSIBLE_LAST_DAY = date(2100, 12, 31)
# The largest STARFACE/Auerswald system is licensed for a few thousand users; 100,000 leaves
# room for any real system and refuses a mistyped 10^12.
PLAUSIBLE_MAX_USERS = 100_000


def validate_plausible_date(value) -> None:
    if value is not None and not PLAUSIBLE_FIRST_DAY <= value <= PLAUSIBLE_LAST_DAY:
        raise ValidationError(
            _("Bitte ein Datum zwischen dem %(first)s und dem %(last)s angeben.")
            % {"first": format_date(PLAUSIBLE_FIRST_DAY), "last": format_date(PLAUSIBLE_LAST_DAY)},
            code="implausible_date",
        )


def validate_plausible_users(value) -> None:
    if value is not None and value > PLAUSIBLE_MAX_USERS:
        raise ValidationError(
            _("Mehr als %(max)s Benutzer sind für eine Anlage nicht plausibel.") % {"max": "100.000"},
            code="implausible_users",
        )


def plausible_date_check(field: str, name: str):
    """DB check constraint for :func:`validate_plausible_date` (NULL passes, as in SQL)."""
    from django.db.models import CheckConstraint, Q

    return CheckConstraint(
        condition=Q(**{f"{field}__isnull": True})
        | Q(**{f"{field}__gte": PLAUSIBLE_FIRST_DAY, f"{field}__lte": PLAUSIBLE_LAST_DAY}),
        name=name,
    )
