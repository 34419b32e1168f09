"""Lockout page (django-axes)."""
from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login attempt gets (``AXES_LOCKOUT_CALLABLE``): a German page in the
    portal's look with status 429, for the portal and the admin login alike."""
    hours = int(settings.AXES_COOLOFF_TIME.total_seconds() // 3600)
    context = {
        "title": _("Anmeldung gesperrt"),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "hours": hours,
        "back_url": request.path,
    }
    return render(request, "security/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
