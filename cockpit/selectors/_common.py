"""What every cockpit selector shares: series containers, Berlin day bounds, money output."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import DecimalField

from vendorportal.money import ZERO, round_cents

MONEY_OUT = DecimalField(max_digits=16, decimal_places=2)


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in Europe/Berlin."""
    return datetime.combine(day, time.min, tzinfo=zone())


def day_after(day: date) -> datetime:
    """The first moment after ``day`` (an exclusive bound for datetimes) in Europe/Berlin."""
    return day_start(day + timedelta(days=1))


def money(value) -> Decimal:
    """An aggregate's money value as cents (None → 0,00). SQLite sums decimals as floats;
    rounding to cents here gives the exact figure for sums of cent amounts."""
    return round_cents(Decimal(str(value))) if value is not None else ZERO


def as_date(value) -> date:
    """A Trunc… result as a date (PostgreSQL/SQLite give datetimes for datetime columns), or a
    date column read without Django's converters (SQLite gives ``"2026-11-01"``)."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.astimezone(zone()).date() if value.tzinfo else value.date()
    return value


def fenced(queryset):
    """``queryset`` made DISTINCT, for an ``aggregate()`` over a correlated subquery annotation.

    Django aggregates over an annotated queryset as ``SELECT agg(x) FILTER (…), … FROM (SELECT
    (subquery) AS x, pk …)``. SQLite (and PostgreSQL) flatten that inner SELECT and copy the
    subquery into every aggregate that names ``x``: twelve weekly counts ran the subquery twelve
    times per row. A DISTINCT inner query (over rows unique by their pk, so it changes no
    result) is not flattened: the subquery runs once per row."""
    return queryset.distinct()


@dataclass
class Series:
    """One chart's numbers: ``labels`` along the x axis and one list of values per named series.
    ``money`` says whether the values are euros (shown only to finance, sales, superusers)."""

    labels: list[str]
    series: dict[str, list] = field(default_factory=dict)
    money: bool = False
