"""The one place that keeps staff out until their second factor is verified where it must be.

Every URL of the project is covered, not only ``/admin/``: the admin, stored documents,
support attachments, exports, the job schedule and the portal pages a staff login can
reach (password change, the dashboard). An attack run found stored invoices and
delivery notes served to a password-only session of an enrolled staff member because
only ``/admin/`` was checked (issue 17); a URL list to protect would go stale, a list of
the few pages that must stay open does not.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse

from vendorportal.security.selectors import SECOND_FACTOR_SETUP, SECOND_FACTOR_VERIFY, second_factor_missing

# What a session that still owes its second factor may reach: logging in or out, and the
# two-factor pages themselves (the code page, the set-up page and its QR image), plus the
# language switch. Everything else is redirected there.
OPEN_URL_NAMES = (
    "admin:login",
    "admin:logout",
    "portal:logout",
    "security:setup",
    "security:setup-qr",
    "security:verify",
    "set_language",
)


def open_paths() -> frozenset[str]:
    return frozenset(reverse(name) for name in OPEN_URL_NAMES)


class StaffOtpPolicyMiddleware:
    """After ``OTPMiddleware``, for every request: a staff member whose session is not
    OTP-verified

    * but who has a confirmed device (e.g. logged in through the portal's password-only
      form) is sent to the code page, with the page asked for as ``next``;
    * who belongs to a group with ``StaffGroupPolicy.otp_required`` and has no device is
      sent to the set-up page (enrolment).

    Everyone else passes: anonymous visitors, partner logins (they have no device; the
    two-factor pages are staff pages), staff without a device and without a policy, and
    verified sessions. The pages in :data:`OPEN_URL_NAMES` stay reachable.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._open_paths: frozenset[str] | None = None

    def __call__(self, request):
        target = self._redirect_target(request)
        if target is not None:
            return HttpResponseRedirect(target)
        return self.get_response(request)

    def _redirect_target(self, request) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_staff:
            return None
        if self._open_paths is None:  # reversed once the URLconf is loaded
            self._open_paths = open_paths()
        if request.path in self._open_paths:
            return None
        missing = second_factor_missing(user)
        if missing == SECOND_FACTOR_VERIFY:
            return f"{reverse('security:verify')}?{urlencode({'next': request.get_full_path()})}"
        if missing == SECOND_FACTOR_SETUP:
            return reverse("security:setup")
        return None
