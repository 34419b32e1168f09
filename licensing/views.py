"""Licensing's contributions to the portal shell: its dashboard panels (STYLE 5: thin)."""

from __future__ import annotations

from licensing.selectors.parties import installations_for_partner


def installations_panel(request, partner) -> dict:
    """The partner's installations with identifier, edition, users, tier and version."""
    return {"installations": installations_for_partner(partner)}
