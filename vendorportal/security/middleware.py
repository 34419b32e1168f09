"""Keeps staff out of the admin until their second factor is verified where it must be."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse

from vendorportal.security.selectors import has_confirmed_device, otp_required_for


class StaffOtpPolicyMiddleware:
    """For admin pages (after ``OTPMiddleware``): a staff member whose session is not OTP-verified

    * but who has a confirmed device (e.g. logged in through the portal's password-only
      form) is sent to the code page;
    * who belongs to a group with ``StaffGroupPolicy.otp_required`` and has no device is
      sent to the set-up page.

    Everyone else passes. The login, logout and 2FA pages themselves stay reachable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        target = self._redirect_target(request)
        if target is not None:
            return HttpResponseRedirect(target)
        return self.get_response(request)

    @staticmethod
    def _redirect_target(request) -> str | None:
        path = request.path
        if not path.startswith(reverse("admin:index")):
            return None
        exempt = {
            reverse(name)
            for name in ("admin:login", "admin:logout", "security:setup", "security:setup-qr", "security:verify")
        }
        if path in exempt:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_staff or user.is_verified():
            return None
        if has_confirmed_device(user):
            return f"{reverse('security:verify')}?{urlencode({'next': request.get_full_path()})}"
        if otp_required_for(user):
            return reverse("security:setup")
        return None
