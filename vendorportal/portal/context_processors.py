"""Puts the portal's navigation and the login's partner into every template.

Lazy: a page that shows no navigation (the admin) costs no query. Pages outside a
``partner_required`` view (404, 403) still get the partner, so they keep the navigation.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from vendorportal.parties.selectors import partner_user_for
from vendorportal.portal import registry


def portal(request):
    def membership():
        if not hasattr(request, "partner_user"):
            request.partner_user = partner_user_for(getattr(request, "user", None))
        return request.partner_user

    def partner():
        m = membership()
        return m.partner if m is not None else None

    def items(section="main"):
        m = membership()
        is_admin = m is not None and m.role == "admin"
        dashboard = reverse("portal:dashboard")
        out = []
        for entry in registry.nav_entries():
            if entry.section != section or (entry.admin_only and not is_admin):
                continue
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                continue
            out.append({"url": url, "label": entry.label, "active": url != dashboard and request.path.startswith(url)})
        return out

    return {
        "portal_nav": items,
        "portal_account_nav": lambda: items("account"),
        "portal_partner": SimpleLazyObject(partner),
    }
