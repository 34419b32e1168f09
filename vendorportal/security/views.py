"""Lockout page (django-axes) and the staff two-factor pages."""

from __future__ import annotations

import io
from base64 import b32encode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import logout
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.qr import write_qrcode_image

from vendorportal.security.forms import TokenForm
from vendorportal.security.selectors import has_confirmed_device, otp_required_for
from vendorportal.security.services import (
    TokenInvalid,
    login_failure_record,
    totp_device_confirm,
    totp_device_pending,
    totp_token_check,
)


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


def _admin_context(request, title):
    return {**admin.site.each_context(request), "title": title}


@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """Register an authenticator app: show its secret as QR code and text, confirm with a code."""
    user = request.user
    if has_confirmed_device(user):
        context = {**_admin_context(request, _("Zwei-Faktor-Anmeldung")), "already": True}
        return render(request, "security/otp_setup.html", context)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = totp_device_confirm(user=user, token=form.cleaned_data["otp_token"])
        except TokenInvalid as exc:
            form.add_error("otp_token", exc.message)
        else:
            otp_login(request, device)
            messages.success(
                request, _("Die Zwei-Faktor-Anmeldung ist eingerichtet. Ab jetzt fragt die Anmeldung nach dem Code.")
            )
            return redirect("admin:index")
    device = totp_device_pending(user=user)
    secret = b32encode(device.bin_key).decode()
    context = {
        **_admin_context(request, _("Zwei-Faktor-Anmeldung einrichten")),
        "form": form,
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "required": otp_required_for(user),
    }
    return render(request, "security/otp_setup.html", context)


def otp_setup_qr(request):
    """The pending device's otpauth:// URI as SVG QR code (a same-origin image, so CSP allows it).

    Reachable before the code is given (enrolment needs it), so it shows nothing to an
    account that has a device already: the set-up page would not confirm a second one."""
    if has_confirmed_device(request.user):
        raise Http404
    device = totp_device_pending(user=request.user)
    out = io.BytesIO()
    write_qrcode_image(device.config_url, out)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


@require_http_methods(["GET", "POST"])
def otp_verify(request):
    """Ask a logged-in staff member with a device for the current code."""
    user = request.user
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if not has_confirmed_device(user):
        return redirect("security:setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = totp_token_check(user=user, token=form.cleaned_data["otp_token"])
        except TokenInvalid as exc:
            login_failure_record(request=request, username=user.get_username())
            if getattr(request, "axes_locked_out", False):
                logout(request)  # AxesMiddleware answers with the lockout page
                return HttpResponse(status=429)
            form.add_error("otp_token", exc.message)
        else:
            otp_login(request, device)
            return redirect(next_url or "admin:index")
    context = {**_admin_context(request, _("Bestätigungscode eingeben")), "form": form, "next": next_url}
    return render(request, "security/otp_verify.html", context)
