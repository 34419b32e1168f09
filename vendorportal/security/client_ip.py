"""The client address the lockout counts per (django-axes' ``AXES_CLIENT_IP_CALLABLE``)."""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str | None:
    """``REMOTE_ADDR``, or behind ``TRUSTED_PROXIES`` proxies the address the outermost of
    them saw, read from the right of X-Forwarded-For.

    Each proxy appends the address it received the request from, so only the last
    ``TRUSTED_PROXIES`` entries are written by our proxies; anything further left was
    sent by the client and may be forged (a left-most reading would let an attacker
    pick a fresh address for every attempt and never be locked out).
    """
    proxies = settings.TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
