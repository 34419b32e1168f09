"""Taking the next document number (see :class:`vendorportal.models.DocumentSequence`)."""

from __future__ import annotations

from functools import cache

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from .models import DocumentSequence


@cache
def _increment_sql(vendor: str) -> str:
    """``UPDATE … SET last_number = last_number + 1 … RETURNING last_number``: the increment
    and the number it gave in one statement (PostgreSQL; SQLite since 3.35)."""
    ops = connection.ops
    table = ops.quote_name(DocumentSequence._meta.db_table)
    number = ops.quote_name(DocumentSequence._meta.get_field("last_number").column)
    prefix = ops.quote_name(DocumentSequence._meta.get_field("prefix").column)
    year = ops.quote_name(DocumentSequence._meta.get_field("year").column)
    return f"UPDATE {table} SET {number} = {number} + 1 WHERE {prefix} = %s AND {year} = %s RETURNING {number}"


def _increment(prefix: str, year: int) -> int | None:
    """The row's number after adding one, ``None`` when the row does not exist yet."""
    if connection.features.can_return_columns_from_insert:  # the backend knows RETURNING
        with connection.cursor() as cursor:
            cursor.execute(_increment_sql(connection.vendor), [prefix, year])
            row = cursor.fetchone()
        return row[0] if row else None
    rows = DocumentSequence.objects.filter(prefix=prefix, year=year)
    if not rows.update(last_number=F("last_number") + 1):
        return None
    return rows.values_list("last_number", flat=True).get()


def next_document_number(prefix: str, year: int, *, width: int = 5) -> str:
    """``"LS-2026-00001"``; must run inside the transaction that stores the document.

    ``width`` is the number of digits: 5 for delivery notes (their numbers stay as
    they were), 6 for invoices and credit notes (``"RE-2026-000123"``, INV-1).

    The increment is one ``UPDATE … SET last_number = last_number + 1 … RETURNING``: the
    row stays locked until the surrounding transaction ends, so two workers never get
    the same number and a rolled-back document leaves no gap. One query per number (two
    on a database without ``RETURNING``).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Document numbers are taken inside the transaction that stores the document.")
    number = _increment(prefix, year)
    if number is None:
        try:
            with transaction.atomic():
                DocumentSequence.objects.create(prefix=prefix, year=year, last_number=1)
            return f"{prefix}-{year}-{1:0{width}d}"
        except IntegrityError:  # created concurrently by another worker: count on from theirs
            number = _increment(prefix, year)
    return f"{prefix}-{year}-{number:0{width}d}"
