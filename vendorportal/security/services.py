"""Changes to a staff member's second factor.

TOTP (RFC 6238) compares with the phone's clock, so django-otp reads the wall
clock here by design; ``vendorportal.clock`` is for business dates.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from vendorportal.errors import PortalError
from vendorportal.security.selectors import confirmed_devices

DEVICE_NAME = "Authenticator-App"


class TokenInvalid(PortalError):
    """The six-digit code matched none of the user's devices."""


def login_failure_record(*, request, username: str) -> None:
    """Count a wrong two-factor code as a failed login for the lockout (django-axes listens to
    this signal), so password plus guessed codes cannot be tried more than 5 times."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def totp_device_pending(*, user) -> TOTPDevice:
    """The user's not yet confirmed device, created on first call and kept until confirmed,
    so reloading the set-up page shows the same secret as the app scanned."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("id").first()
        if device is None:
            device = TOTPDevice(user=user, name=DEVICE_NAME, confirmed=False)
            device.full_clean()
            device.save()
    return device


def totp_device_confirm(*, user, token: str) -> TOTPDevice:
    """Confirm the pending device with a code the app shows; raises :class:`TokenInvalid`."""
    device = totp_device_pending(user=user)
    verified = verify_token(user, device.persistent_id, (token or "").strip())
    if verified is None:
        raise TokenInvalid(_("Der Bestätigungscode stimmt nicht. Bitte geben Sie den aktuellen Code aus der App ein."))
    verified.confirmed = True
    verified.save(update_fields=["confirmed"])
    return verified


def totp_token_check(*, user, token: str) -> TOTPDevice:
    """The confirmed device that accepts ``token``; raises :class:`TokenInvalid`.

    Each device is checked on its own: django-otp throttles per device, after n wrong
    codes in a row the next check waits 2^(n-1) seconds (guessing 10^6 codes is hopeless)."""
    token = (token or "").strip()
    devices = confirmed_devices(user)
    if devices and not any(device.verify_is_allowed()[0] for device in devices):
        raise TokenInvalid(
            _("Zu viele falsche Bestätigungscodes in Folge. Bitte warten Sie einen Moment und versuchen Sie es erneut.")
        )
    if token:
        for device in devices:
            verified = verify_token(user, device.persistent_id, token)
            if verified is not None:
                return verified
    raise TokenInvalid(_("Der Bestätigungscode ist falsch oder abgelaufen."))
