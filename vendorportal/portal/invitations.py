"""E-mails of the portal shell that carry a set-password link: the invitation of a new
partner login and "Passwort vergessen".

Both go through the outbox (STYLE 13) as kinds that store no text: the link (Django's
password-reset token: works once, expires with ``PASSWORD_RESET_TIMEOUT``, three days by
default) is made when the worker sends the e-mail and never written to the database, so
staff who can read the outbox cannot use it. A resend makes a fresh link.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from vendorportal import clock
from vendorportal.i18n import language_for_user
from vendorportal.outbox import outbox_enqueue

INVITATION = "portal-invitation"
PASSWORD_RESET = "portal-password-reset"


def set_password_link(user) -> str:
    path = reverse(
        "portal:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _user_of(message):
    return get_user_model().objects.get(pk=message.document_id)


def invited_by(user) -> str:
    """Who invited a new partner login, as the invitation names it: the partner admin whose
    invitation created it ("Erika Muster (Muster Kommunikation GmbH)"), read from the change
    log the invitation wrote; "" when staff created the login (the vendor invites then)."""
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from vendorportal.parties.models import PartnerUser

    membership = PartnerUser.objects.filter(user=user).select_related("partner").first()
    if membership is None:
        return ""
    entry = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(PartnerUser),
            object_id=str(membership.pk),
            action_flag=ADDITION,
        )
        .select_related("user")
        .order_by("action_time", "pk")
        .first()
    )
    inviter = entry.user if entry is not None else None
    if inviter is None or not PartnerUser.objects.filter(user=inviter, partner=membership.partner).exists():
        return ""
    name = inviter.get_full_name() or inviter.get_username()
    return f"{name} ({membership.partner.company})"


def invitation_compose(message) -> tuple[str, str]:
    user = _user_of(message)
    with translation.override(language_for_user(user)):  # the login's language (issue 21)
        body = render_to_string(
            "portal/registration/invitation_email.txt",
            {"user": user, "link": set_password_link(user), "vendor": settings.VENDOR, "invited_by": invited_by(user)},
        )
        return _("Ihr Zugang zum Partnerportal"), body


def password_reset_compose(message) -> tuple[str, str]:
    user = _user_of(message)
    with translation.override(language_for_user(user)):  # the login's language (issue 21)
        body = render_to_string(
            "portal/registration/password_reset_email.txt",
            {"username": user.get_username(), "link": set_password_link(user)},
        )
        return _("Neues Passwort für das Partnerportal"), body


def invitation_send(*, user) -> None:
    """Queue the invitation in the caller's transaction (the one that creates the login)."""
    outbox_enqueue(
        kind=INVITATION,
        dedup_key=f"{INVITATION}:{user.pk}:{clock.now():%Y%m%d%H%M%S%f}",
        recipients=[user.email],
        document=user,
    )


def password_reset_send(*, user) -> None:
    """At most one "Passwort vergessen" e-mail per login and quarter hour: a form sent ten
    times in a row does not flood the partner's mailbox."""
    now = clock.now()
    window = f"{now:%Y%m%d%H}{now.minute // 15}"
    with transaction.atomic():
        outbox_enqueue(
            kind=PASSWORD_RESET,
            dedup_key=f"{PASSWORD_RESET}:{user.pk}:{window}",
            recipients=[user.email],
            document=user,
        )
