"""Helpers the API's router modules share: paging with a per-page hook, the acting login,
ids in range, stored documents as downloads."""

from __future__ import annotations

from io import BytesIO

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from ninja.pagination import CursorPagination

MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer are refused before they reach the database
PAGE = {"page_size": 50, "max_page_size": 100}


class PageCursorPagination(CursorPagination):
    """Cursor pagination whose ``enrich(rows, request)`` sees the page's rows once: values
    that need the whole page (its billed periods, …) are read in one query per page, never
    one per row — so a list keeps its query count whatever the data size."""

    def __init__(self, *, enrich=None, **kwargs):
        self.enrich = enrich
        super().__init__(**kwargs)

    def paginate_queryset(self, queryset, pagination, request, **params):
        page = super().paginate_queryset(queryset, pagination, request, **params)
        if self.enrich is not None:
            self.enrich(page[self.items_attribute], request)
        return page


def acting_user(request):
    """The login the services record as ``by``: the partner admin who created the token."""
    return request.api_token.created_by


def stored_pdf(document, *, filename: str) -> FileResponse:
    """A stored, issued document byte for byte (its checksum verified), or 404."""
    from vendorportal.documents import DocumentChanged, document_bytes

    if not document.pdf:
        raise Http404(_("Zu diesem Dokument ist noch kein PDF gespeichert."))
    try:
        content = document_bytes(document)
    except (FileNotFoundError, DocumentChanged):
        raise Http404(_("Das gespeicherte PDF ist nicht verfügbar; der Support ist informiert.")) from None
    return FileResponse(BytesIO(content), as_attachment=True, filename=filename, content_type="application/pdf")
