"""Stored documents (invoices, credit notes, delivery notes, reports, uploaded proofs) have
no public URL.

They live in ``MEDIA_ROOT`` (``var/media/``), a private folder: no URL pattern, no
WhiteNoise root and no web server may serve it (docs/security.md). Before issue 17
``/media/…`` served it to any staff login, a password-only session of an enrolled
staff member included, under sequential names (``invoices/2026/RE-2026-000001.pdf``).

:class:`ProtectedFileStorage` is the project's default storage: its ``url()`` points at
the staff download view :func:`vendorportal.admin_documents.stored_document_view`, which
finds the row that holds the file and checks the staff member's view permission on its
model (and, through the admin and the 2FA middleware, the second factor). So every link
the admin renders for a file field — read-only displays, the "Derzeit:" link of a file
input, report links — goes through that check without each page knowing. Partners get
their documents only through the portal's own partner-scoped download views.

Support attachments have their own storage outside ``MEDIA_ROOT`` (``support.storage``)
and their own checked views; they are not served here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import models
from django.urls import reverse


class ProtectedFileStorage(FileSystemStorage):
    """``MEDIA_ROOT`` on disk; ``url()`` is the checked staff download, never a file URL."""

    def url(self, name):
        return reverse("admin:stored_document", kwargs={"name": name})


@dataclass(frozen=True)
class StoredFileHolder:
    """A model row that holds a stored file in one of its file fields."""

    model: type[models.Model]
    field_name: str
    instance: models.Model


def _document_fields() -> list[tuple[type[models.Model], str]]:
    """Every file field of every concrete model that stores in the default storage."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue  # same rows as the concrete model, found there
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField) and field.storage is default_storage:
                found.append((model, field.name))
    return found


def stored_file_holders(name: str) -> list[StoredFileHolder]:
    """The rows whose file field names the stored file ``name`` (normally one).

    A name no row holds (a stray file, a guessed path) has no holder and is never served.
    """
    if not name or "\x00" in name:
        return []
    holders = []
    for model, field_name in _document_fields():
        instance = model._default_manager.filter(**{field_name: name}).first()
        if instance is not None:
            holders.append(StoredFileHolder(model=model, field_name=field_name, instance=instance))
    return holders
