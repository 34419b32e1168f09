"""Reads about parties (STYLE 3); portal reads are scoped to the partner."""

from __future__ import annotations

from vendorportal.parties.models import Partner, PartnerUser


def partner_user_for(user) -> PartnerUser | None:
    """The partner membership of a portal login, or None (staff, anonymous, inactive login)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return PartnerUser.objects.select_related("partner", "partner__level").filter(user=user).first()


def partner_for_user(user) -> Partner | None:
    """The partner a portal login belongs to, or None (staff without partner, anonymous)."""
    membership = partner_user_for(user)
    return membership.partner if membership else None


def partner_admin_names(partner: Partner) -> list[str]:
    """Names of the partner's active administrator logins (full name, else user name): whom a
    member asks to order or to manage logins."""
    admins = (
        PartnerUser.objects.filter(partner=partner, role=PartnerUser.ADMIN, user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__username")
    )
    return [a.user.get_full_name() or a.user.get_username() for a in admins]


def customers_for_partner(partner: Partner):
    return partner.customers.order_by("company")
