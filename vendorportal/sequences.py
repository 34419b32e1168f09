"""Taking the next document number (see :class:`vendorportal.models.DocumentSequence`)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import DocumentSequence


def next_document_number(prefix: str, year: int, *, width: int = 5) -> str:
    """``"LS-2026-00001"``; must run inside the transaction that stores the document.

    ``width`` is the number of digits: 5 for delivery notes (their numbers stay as
    they were), 6 for invoices and credit notes (``"RE-2026-000123"``, INV-1).

    The increment is one ``UPDATE … SET last_number = last_number + 1``: the row
    stays locked until the surrounding transaction ends, so two workers never get
    the same number and a rolled-back document leaves no gap.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Document numbers are taken inside the transaction that stores the document.")
    rows = DocumentSequence.objects.filter(prefix=prefix, year=year)
    if not rows.update(last_number=F("last_number") + 1):
        try:
            with transaction.atomic():
                DocumentSequence.objects.create(prefix=prefix, year=year, last_number=1)
            return f"{prefix}-{year}-{1:0{width}d}"
        except IntegrityError:  # created concurrently by another worker: count on from theirs
            rows.update(last_number=F("last_number") + 1)
    number = rows.values_list("last_number", flat=True).get()
    return f"{prefix}-{year}-{number:0{width}d}"
