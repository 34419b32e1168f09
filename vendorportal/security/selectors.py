"""Reads about a staff member's second factor."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from vendorportal.security.models import StaffGroupPolicy


def otp_required_for(user) -> bool:
    """True if one of the user's groups makes two-factor login mandatory."""
    return StaffGroupPolicy.objects.filter(group__user=user, otp_required=True).exists()


def confirmed_devices(user) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id"))


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()
