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
from vendorportal.parties.models import Customer, Partner, PartnerUser

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


# --- changes partners make themselves in the portal ------------------------------------
#
# Each records who made it (STYLE: every change lands in the history staff see): the
# customer's simple-history row carries ``history_user``; a login has no history table,
# so its changes go to the admin's log of the PartnerUser (its "Historie" page).


def _log_partner_user_change(*, membership: PartnerUser, by, message: str, added: bool = False) -> None:
    from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

    if by is None:
        return
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[membership],
        action_flag=ADDITION if added else CHANGE,
        change_message=message,
        single_object=True,
    )


CUSTOMER_FIELDS = ("company", "street", "postal_code", "city", "country", "delivery_email")


def _customer_save(customer: Customer, *, by, fields: dict) -> Customer:
    for name in CUSTOMER_FIELDS:
        setattr(customer, name, (fields.get(name) or "").strip())
    customer.full_clean()  # ValidationError per field: the portal form shows it at its field
    customer._history_user = by
    customer.save()
    return customer


@transaction.atomic
def customer_create(
    *,
    partner: Partner,
    company: str,
    street: str = "",
    postal_code: str = "",
    city: str = "",
    country: str = "DE",
    delivery_email: str = "",
    by,
) -> Customer:
    """A new end customer of ``partner``, entered by one of its logins (``by``); with a
    ``delivery_email`` its keys go straight to it (ORD-2)."""
    fields = dict(
        company=company,
        street=street,
        postal_code=postal_code,
        city=city,
        country=country,
        delivery_email=delivery_email,
    )
    return _customer_save(Customer(partner=partner), by=by, fields=fields)


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    company: str,
    street: str = "",
    postal_code: str = "",
    city: str = "",
    country: str = "DE",
    delivery_email: str = "",
    by,
) -> Customer:
    """Change a customer's name, address and delivery e-mail; partner and contract dates stay as they are."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    fields = dict(
        company=company,
        street=street,
        postal_code=postal_code,
        city=city,
        country=country,
        delivery_email=delivery_email,
    )
    return _customer_save(locked, by=by, fields=fields)


@transaction.atomic
def partner_user_invite(
    *, partner: Partner, email: str, role: str, first_name: str = "", last_name: str = "", by
) -> PartnerUser:
    """A partner admin invites a colleague: a login named by its e-mail address, without a
    password; the invitation e-mail (outbox, with a set-password link) goes out with it."""
    email = email.strip()
    if User.objects.filter(username__iexact=email).exists() or User.objects.filter(email__iexact=email).exists():
        raise PartyError(_("Für %(email)s gibt es schon einen Zugang.") % {"email": email})
    membership = partner_user_create(
        partner=partner, role=role, username=email.lower(), email=email, first_name=first_name, last_name=last_name
    )
    _log_partner_user_change(
        membership=membership,
        by=by,
        added=True,
        message=_("Im Partnerportal eingeladen (%(email)s).") % {"email": email},
    )
    return membership


@transaction.atomic
def partner_user_deactivate(*, partner_user: PartnerUser, by) -> PartnerUser:
    """A partner admin switches off a login of its own partner: never its own, never the last
    active administrator. The partner's administrators are locked first, so two admins
    deactivating each other at once cannot leave the partner without one (PostgreSQL)."""
    admins = list(
        PartnerUser.objects.select_for_update()
        .filter(partner_id=partner_user.partner_id, role=PartnerUser.ADMIN, user__is_active=True)
        .values_list("pk", flat=True)
    )
    membership = PartnerUser.objects.select_for_update().select_related("user").get(pk=partner_user.pk)
    user = membership.user
    _refuse_staff(user)
    if by is not None and user.pk == by.pk:
        raise PartyError(_("Den eigenen Zugang können Sie nicht deaktivieren."))
    if not user.is_active:
        raise PartyError(_("Der Zugang %(name)s ist bereits deaktiviert.") % {"name": user.get_username()})
    if membership.pk in admins and len(admins) == 1:
        raise PartyError(
            _("%(name)s ist der letzte aktive Administrator Ihres Partnerkontos.") % {"name": user.get_username()}
        )
    user.is_active = False
    user.save(update_fields=["is_active"])
    _log_partner_user_change(membership=membership, by=by, message=_("Im Partnerportal deaktiviert."))
    return membership


@transaction.atomic
def partner_language_set(*, partner: Partner, language: str, by=None) -> Partner:
    """The language of the partner's documents and e-mails (issue 21); the partner's history
    (simple_history) records who changed it."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    partner.language = language
    partner._history_user = by if getattr(by, "pk", None) else None
    try:
        partner.full_clean()
    except ValidationError as exc:
        raise PartyError(_("Diese Sprache gibt es nicht.")) from exc
    partner.save(update_fields=["language"])
    return partner
