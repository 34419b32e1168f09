"""Reads of one fixed shape on a hot path, compiled by the ORM once per process (issue 17).

Compiling a queryset — resolving joins, annotations and subqueries, quoting every column —
costs Django 0.3–1 ms of CPU, more than SQLite needs to answer it. The monthly invoicing run
asks the same few questions of every one of thousands of partners, only the partner's id
changing. :class:`PreparedRead` builds the queryset once, with a marker in place of the id,
keeps the SQL the ORM made of it (for this database's vendor, ``FOR UPDATE`` included) and
the positions of the marker among its parameters; each call runs that SQL with the real id
through ``Model.objects.raw``, which converts the model's own columns as the ORM does
(dates, decimals). Annotations come back as the database gives them, unconverted: keep them
to strings, ids and flags (an ``Exists`` is ``0``/``1`` on SQLite, ``False``/``True`` on
PostgreSQL — test truthiness only).

The SQL is the ORM's own, so a model change (a renamed column, a new field) changes it with
the next process; nothing here is written by hand.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import RawQuerySet

# An id no table holds: found among the compiled parameters and replaced by the real one.
MARKER = -7_340_155_219_883


class PreparedRead:
    """``PreparedRead(lambda key: Model.objects.filter(fk_id=key)…)``; ``read(key)`` → the
    rows as model instances (a :class:`RawQuerySet`). The builder must use ``key`` at least
    once and no other parameter that changes between calls."""

    def __init__(self, build: Callable[[int], QuerySet]):
        self._build = build
        self._compiled: dict[tuple[str, str], tuple[type, str, tuple, tuple[int, ...]]] = {}

    def _compile(self, alias: str):
        queryset = self._build(MARKER)
        sql, params = queryset.query.get_compiler(alias).as_sql()
        slots = tuple(i for i, value in enumerate(params) if type(value) is int and value == MARKER)
        if not slots:
            raise ValueError("PreparedRead: the query does not use its key")
        return queryset.model, sql, tuple(params), slots

    def __call__(self, key: int, *, using: str = DEFAULT_DB_ALIAS) -> RawQuerySet:
        # Compiled inside the caller's transaction on first use (a select_for_update compiles
        # only there), per alias and vendor (the SQL differs between SQLite and PostgreSQL).
        cache_key = (using, connections[using].vendor)
        compiled = self._compiled.get(cache_key)
        if compiled is None:
            compiled = self._compiled[cache_key] = self._compile(using)
        model, sql, params, slots = compiled
        values = list(params)
        for slot in slots:
            values[slot] = key
        return RawQuerySet(sql, model=model, params=values, using=using)
