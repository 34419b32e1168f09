"""Reads about partners, customers and installations, scoped to a partner for portal use."""
from __future__ import annotations

from licensing.models import Installation, Partner, PartnerUser


def partner_for_user(user) -> Partner | None:
    """The partner a portal login belongs to, or None (staff without partner, anonymous)."""
    if not getattr(user, "is_authenticated", False):
        return None
    membership = PartnerUser.objects.select_related("partner").filter(user=user).first()
    return membership.partner if membership else None


def installations_for_partner(partner: Partner):
    return (
        Installation.objects.for_partner(partner)
        .select_related("customer", "secondary_of")
        .order_by("customer__company", "identifier")
    )
