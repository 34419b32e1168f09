"""Taking the next document number (see :class:`vendorportal.models.DocumentSequence`)."""
from __future__ import annotations

from django.db import IntegrityError, transaction

from .models import DocumentSequence


def next_document_number(prefix: str, year: int) -> str:
    """``"LS-2026-00001"``; must run inside the transaction that stores the document."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Document numbers are taken inside the transaction that stores the document.")
    try:
        with transaction.atomic():
            DocumentSequence.objects.get_or_create(prefix=prefix, year=year)
    except IntegrityError:
        pass  # created concurrently by another worker: fine, lock it below
    sequence = DocumentSequence.objects.select_for_update().get(prefix=prefix, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{prefix}-{year}-{sequence.last_number:05d}"
