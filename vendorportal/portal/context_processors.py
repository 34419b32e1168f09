"""Puts the portal's navigation into every template (the apps' entries, see registry)."""
from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from vendorportal.portal import registry


def portal(request):
    def items():
        membership = getattr(request, "partner_user", None)
        is_admin = membership is not None and membership.role == "admin"
        out = []
        for entry in registry.nav_entries():
            if entry.admin_only and not is_admin:
                continue
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                continue
            out.append({"url": url, "label": entry.label, "active": request.path.startswith(url) and url != reverse("portal:dashboard")})
        return out

    return {"portal_nav": items}
