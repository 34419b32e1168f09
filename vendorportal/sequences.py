"""Taking the next document number (see :class:`vendorportal.models.DocumentSequence`)."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from .models import DocumentSequence


def _increment(prefix: str, year: int, count: int) -> int | None:
    """``UPDATE … SET last_number = last_number + count … RETURNING last_number``: one
    statement that takes the numbers and reads the new last one (SQLite ≥ 3.35 and
    PostgreSQL both support ``RETURNING``). ``None`` when the sequence has no row yet."""
    table = connection.ops.quote_name(DocumentSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_number = last_number + %s WHERE prefix = %s AND year = %s RETURNING last_number",
            [count, prefix, year],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def next_document_numbers(prefix: str, year: int, count: int, *, width: int = 5) -> list[str]:
    """``count`` consecutive numbers (``["LS-2026-00001", "LS-2026-00002"]``); must run
    inside the transaction that stores the documents.

    ``width`` is the number of digits: 5 for delivery notes (their numbers stay as
    they were), 6 for invoices and credit notes (``"RE-2026-000123"``, INV-1).

    The increment is one ``UPDATE … RETURNING``: the row stays locked until the
    surrounding transaction ends, so two workers never get the same number and a
    rolled-back document leaves no gap.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Document numbers are taken inside the transaction that stores the document.")
    if count < 1:
        raise ValueError("count must be at least 1")
    last = _increment(prefix, year, count)
    if last is None:
        try:
            with transaction.atomic():
                DocumentSequence.objects.create(prefix=prefix, year=year, last_number=count)
            last = count
        except IntegrityError:  # created concurrently by another worker: count on from theirs
            last = _increment(prefix, year, count)
    return [f"{prefix}-{year}-{number:0{width}d}" for number in range(last - count + 1, last + 1)]


def next_document_number(prefix: str, year: int, *, width: int = 5) -> str:
    """``"LS-2026-00001"``: the next number of one document (see :func:`next_document_numbers`)."""
    return next_document_numbers(prefix, year, 1, width=width)[0]
