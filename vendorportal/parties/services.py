"""Writes about parties (STYLE 3): keyword-only, atomic, validated.

Partner logins are created and changed only here, so a login made by sales can never
carry staff flags, groups or permissions.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vendorportal.errors import PortalError
from vendorportal.parties.models import Partner, PartnerUser

User = get_user_model()


class PartyError(PortalError):
    """A change to partners, customers or partner logins that the portal refuses."""


def _refuse_staff(user) -> None:
    if user.is_staff or user.is_superuser:
        raise PartyError(_("Dieser Zugang ist ein Mitarbeiterkonto. Mitarbeiterkonten verwalten nur Administratoren."))


@transaction.atomic
def partner_user_create(
    *,
    partner: Partner,
    role: str,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    is_active: bool = True,
    password: str | None = None,
) -> PartnerUser:
    """A new portal login for ``partner``. Without ``password`` an invitation goes out to ``email``."""
    user = User(
        username=username.strip(),
        email=email.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        is_active=is_active,
        is_staff=False,
        is_superuser=False,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.full_clean()
            user.save()
            membership = PartnerUser(user=user, partner=partner, role=role)
            membership.full_clean()
            membership.save()
    except IntegrityError:
        raise PartyError(_("Der Benutzername „%(name)s“ ist schon vergeben.") % {"name": username}) from None
    except ValidationError as exc:
        raise PartyError(" ".join(exc.messages)) from None
    if not password:
        from vendorportal.portal.invitations import invitation_send

        invitation_send(user=user)
    return membership


@transaction.atomic
def partner_user_update(
    *,
    partner_user: PartnerUser,
    partner: Partner,
    role: str,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    is_active: bool = True,
    password: str | None = None,
) -> PartnerUser:
    """Change a partner's portal login; staff accounts are refused whatever the caller sends."""
    membership = PartnerUser.objects.select_for_update().select_related("user").get(pk=partner_user.pk)
    user = membership.user
    _refuse_staff(user)
    user.username, user.email = username.strip(), email.strip()
    user.first_name, user.last_name, user.is_active = first_name.strip(), last_name.strip(), is_active
    if password:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save(update_fields=["username", "email", "first_name", "last_name", "is_active", "password"])
            membership.partner, membership.role = partner, role
            membership.full_clean()
            membership.save()
    except IntegrityError:
        raise PartyError(_("Der Benutzername „%(name)s“ ist schon vergeben.") % {"name": username}) from None
    return membership
