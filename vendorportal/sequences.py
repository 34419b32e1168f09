"""Taking the next document number (see :class:`vendorportal.models.DocumentSequence`)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import DocumentSequence


def next_document_number(prefix: str, year: int) -> str:
    """``"LS-2026-00001"``; must run inside the transaction that stores the document.

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
            return f"{prefix}-{year}-00001"
        except IntegrityError:  # created concurrently by another worker: count on from theirs
            rows.update(last_number=F("last_number") + 1)
    number = rows.values_list("last_number", flat=True).get()
    return f"{prefix}-{year}-{number:05d}"
