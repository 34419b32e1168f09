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


def customers_for_partner(partner: Partner):
    return partner.customers.order_by("company")
