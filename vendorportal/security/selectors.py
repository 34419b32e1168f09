"""Reads about a staff member's second factor."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from vendorportal.security.models import StaffGroupPolicy

SECOND_FACTOR_VERIFY = "verify"  # has a device, this session has not given its code
SECOND_FACTOR_SETUP = "setup"  # a group makes 2FA mandatory and there is no device yet


def otp_required_for(user) -> bool:
    """True if one of the user's groups makes two-factor login mandatory."""
    return StaffGroupPolicy.objects.filter(group__user=user, otp_required=True).exists()


def confirmed_devices(user) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id"))


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_missing(user) -> str | None:
    """What a logged-in staff member's session still owes before any staff page opens:
    :data:`SECOND_FACTOR_VERIFY`, :data:`SECOND_FACTOR_SETUP` or ``None`` (nothing).

    A session is verified when django-otp's ``OTPMiddleware`` found a device in it (the
    login with code, the code page or the set-up page put it there).
    """
    if not user.is_authenticated or not user.is_staff:
        return None
    is_verified = getattr(user, "is_verified", None)  # set on request.user by OTPMiddleware
    if is_verified is not None and is_verified():
        return None
    # Both questions in one query: this runs on every page of an unverified staff session.
    has_device, required = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values_list(
            Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            Exists(StaffGroupPolicy.objects.filter(group__user=OuterRef("pk"), otp_required=True)),
        )
        .get()
    )
    if has_device:
        return SECOND_FACTOR_VERIFY
    if required:
        return SECOND_FACTOR_SETUP
    return None
