"""Installations of a partner, scoped for portal use (the parties themselves are the core's)."""

from __future__ import annotations

from licensing.models import Installation


def installations_for_partner(partner):
    return (
        Installation.objects.for_partner(partner)
        .select_related("customer", "secondary_of")
        .order_by("customer__company", "identifier")
    )
