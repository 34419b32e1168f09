"""Invitation e-mail for a new partner login: a link to set the first password.

Uses Django's password-reset token, so the link works once and expires with
``PASSWORD_RESET_TIMEOUT`` (default three days); "Passwort vergessen" sends a new one.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _


def invitation_link(user) -> str:
    path = reverse(
        "portal:password_reset_confirm",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)},
    )
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def invitation_send(*, user) -> None:
    """Queue the invitation; it leaves once the login is committed."""
    body = render_to_string(
        "portal/registration/invitation_email.txt",
        {"user": user, "link": invitation_link(user), "vendor": settings.VENDOR},
    )
    message = EmailMessage(subject=_("Ihr Zugang zum Partnerportal"), body=body, to=[user.email])
    transaction.on_commit(message.send)
