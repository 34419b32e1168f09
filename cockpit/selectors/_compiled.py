"""The cockpit's queries compiled to SQL once per input, not on every request (issue 20).

Django builds the SQL of an aggregate with dozens of conditional sums (twelve months, twelve
weeks, a movement) anew on every call: resolving every ``Q`` and expression costs 5–25 ms of
Python per query, as much as SQLite needs to run some of them. The SQL text depends only on
the selector's inputs (the period, today), never on the rows, so it is kept per process here,
keyed by the selector and those inputs, and the next request runs the same text on the rows
as they are then. Nothing about the data is kept: every figure is still read from the database
on every request.

``now`` (a timestamp that differs on every request) is a *live* parameter: the query is
compiled once with a marker timestamp in its place and the marker's positions in the SQL
parameters are filled with the request's ``now`` each time.

:class:`vendorportal.prepared.PreparedRead` does the same for model rows read by one id (the
invoicing run, payments); the cockpit's queries are aggregates, which Django compiles only on
the way to the database, hence the recording cursor below.

Values come back as the database driver gives them (SQLite: float sums, ``int`` counts), not
through Django's converters; the selectors pass every money value through
:func:`cockpit.selectors._common.money` and every count is an ``int`` either way.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import connections
from django.db.models import DateTimeField, QuerySet

KEEP = 512  # compiled queries per process (a few per period and day looked at)
# A timestamp no selector meets in real data; its adapted value marks ``now``'s places.
NOW_MARKER = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)

_compiled: OrderedDict[tuple, tuple] = OrderedDict()
_lock = threading.Lock()


class _Captured(Exception):
    def __init__(self, sql: str, params):
        super().__init__(sql)
        self.sql, self.params = sql, tuple(params or ())


class _Recorder:
    """A cursor that takes the query Django would run and stops there."""

    def execute(self, sql, params=None):
        raise _Captured(sql, params)

    def close(self):
        pass


def _capture(db: str, run: Callable):
    """The SQL and parameters ``run`` would send to the database, without sending them: the
    connection hands out a recording cursor meanwhile (the connection object is this thread's
    own, so other threads are not touched; nothing reaches the database, its query log or
    execute wrappers). ``None`` when Django answers without asking the database (an empty
    ``__in``)."""
    connection = connections[db]
    # Connected first: what Django asks the server once per connection (PostgreSQL's version)
    # must not meet the recording cursor. The query runs on this connection right after anyway.
    connection.ensure_connection()
    connection.cursor = connection.chunked_cursor = _Recorder
    try:
        run()
    except _Captured as captured:
        return captured
    finally:
        del connection.cursor, connection.chunked_cursor
    return None


def _live(db: str, value: datetime):
    return DateTimeField().get_db_prep_value(value, connections[db], prepared=False)


def _entry(key: tuple, build: Callable, shape: str):
    db_key = (shape, *key)
    with _lock:
        entry = _compiled.get(db_key)
        if entry is not None:
            _compiled.move_to_end(db_key)
            return entry
    queryset, run, names = build()
    db = queryset.db
    captured = _capture(db, run)
    if captured is None:
        return None
    marker = _live(db, NOW_MARKER)
    slots = tuple(n for n, p in enumerate(captured.params) if p == marker)
    entry = (db, connections[db].vendor, captured.sql, captured.params, slots, names)
    with _lock:
        _compiled[db_key] = entry
        while len(_compiled) > KEEP:
            _compiled.popitem(last=False)
    return entry


def _execute(entry, now: datetime | None) -> list[tuple]:
    db, vendor, sql, params, slots, _names = entry
    if slots:
        if now is None:
            raise ValueError("this query needs now")
        live = _live(db, now)
        params = tuple(live if n in slots else p for n, p in enumerate(params))
    assert connections[db].vendor == vendor
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def aggregate(key: tuple, build: Callable[..., tuple[QuerySet, dict]], *, now: datetime | None = None) -> dict:
    """``queryset.aggregate(**sums)`` for ``build(now=…) → (queryset, sums)``, compiled once per
    ``key`` (which names the selector and every input but ``now``)."""

    def compile_it():
        queryset, sums = build(NOW_MARKER) if now is not None else build()
        return queryset, lambda: queryset.aggregate(**sums), list(sums)

    entry = _entry(key, compile_it, "aggregate")
    if entry is None:
        queryset, sums = build(now) if now is not None else build()
        return queryset.aggregate(**sums)
    (row,) = _execute(entry, now)
    return dict(zip(entry[-1], row, strict=True))


def values(key: tuple, build: Callable[..., QuerySet], *, now: datetime | None = None) -> list[dict]:
    """``list(queryset)`` of a ``values()`` queryset built by ``build(now=…)``, compiled once per ``key``."""

    def compile_it():
        queryset = build(NOW_MARKER) if now is not None else build()
        query = queryset.query
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return queryset, lambda: list(queryset), names

    entry = _entry(key, compile_it, "values")
    if entry is None:
        return list(build(now) if now is not None else build())
    names = entry[-1]
    return [dict(zip(names, row, strict=True)) for row in _execute(entry, now)]


def forget() -> None:
    """Drop every compiled query (tests)."""
    with _lock:
        _compiled.clear()
