"""Staff download of a stored document (``/admin/dokumente/<name>``), the only way to a file
in ``MEDIA_ROOT`` over the web (see :mod:`vendorportal.stored_files`).

``admin_view`` has checked the active staff login and the 2FA middleware the second
factor; here the staff member must also be allowed to view the row that holds the file
(its model admin's view permission: an invoice needs ``billing.view_invoice``, a
delivery note ``licensing.view_deliverynote``, a finance report
``billing.view_financereport``). A name no row holds is 404, whoever asks.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseNotFound
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from vendorportal.stored_files import StoredFileHolder, stored_file_holders


def _may_view(request, holder: StoredFileHolder) -> bool:
    if admin.site.is_registered(holder.model):
        return admin.site.get_model_admin(holder.model).has_view_permission(request, holder.instance)
    opts = holder.model._meta
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('view', opts)}")


@require_safe
def stored_document_view(request, name: str):
    holders = stored_file_holders(name)
    if not holders:
        raise Http404(_("Dieses Dokument gibt es nicht."))
    if not any(_may_view(request, holder) for holder in holders):
        raise PermissionDenied
    try:
        stored = default_storage.open(name, "rb")
    except (FileNotFoundError, SuspiciousFileOperation):
        # Plain text, so staff read the reason (Http404's text shows only with DEBUG).
        return HttpResponseNotFound(
            _("Die Datei %(name)s fehlt im Speicher.") % {"name": name}, content_type="text/plain; charset=utf-8"
        )
    filename = PurePosixPath(name).name
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    # PDFs open in the browser; any other upload (a proof may be anything) is a download,
    # never rendered as a page of the portal's origin.
    return FileResponse(
        stored, filename=filename, content_type=content_type, as_attachment=content_type != "application/pdf"
    )
