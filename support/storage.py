"""Where ticket attachments live: a private folder outside MEDIA_ROOT, never under a URL.

Files are served only by the authorising views (portal and admin), never by a static
or media handler. The folder is ``SUPPORT_ATTACHMENTS_ROOT`` (default
``var/support-attachments``), read at each access so tests can point it elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage


def attachments_root() -> Path:
    configured = getattr(settings, "SUPPORT_ATTACHMENTS_ROOT", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "support-attachments"


class PrivateAttachmentStorage(FileSystemStorage):
    """A file system storage without ``base_url``: ``url()`` refuses, nothing is public."""

    @property
    def base_location(self):
        return str(attachments_root())

    @property
    def location(self):
        return str(attachments_root().resolve())

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise ValueError("Support attachments have no public URL; they are served by authorising views.")


_storage = PrivateAttachmentStorage()


def attachment_storage() -> PrivateAttachmentStorage:
    """Callable for ``FileField(storage=…)`` so migrations do not freeze the location."""
    return _storage
