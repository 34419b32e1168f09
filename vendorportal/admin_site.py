"""The staff admin site: its index groups models by area, not by Django app."""
from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

# Area → (app_label, model name) in the order shown. Models not listed fall into
# their app's own group, so nothing registered is ever hidden.
AREAS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        _("Partner und Kunden"),
        [
            ("licensing", "partnerlevel"),
            ("licensing", "partner"),
            ("licensing", "partneruser"),
            ("licensing", "customer"),
        ],
    ),
    (
        _("Installationen"),
        [
            ("licensing", "installation"),
        ],
    ),
    (
        _("Modullizenzen"),
        [
            ("licensing", "license"),
            ("licensing", "deliverynote"),
            ("licensing", "nfrlock"),
            ("licensing", "insightownuse"),
        ],
    ),
    (
        _("Auerswald-Systeme und Softwarepflege"),
        [
            ("licensing", "auerswaldsystem"),
            ("licensing", "systemlicense"),
            ("licensing", "tryout"),
            ("licensing", "reinitialisation"),
            ("licensing", "maintenancecoverage"),
            ("licensing", "maintenancenotice"),
        ],
    ),
    (
        _("Katalog und Preise"),
        [
            ("licensing", "product"),
            ("licensing", "bundle"),
            ("licensing", "pricelist"),
            ("licensing", "price"),
            ("licensing", "moduleversion"),
            ("licensing", "pbxversion"),
        ],
    ),
    (
        _("Benutzer und Rechte"),
        [("auth", "user"), ("auth", "group")],
    ),
    (
        _("Betrieb"),
        [("vendorportal", "jobrun"), ("vendorportal", "outboxmessage"), ("vendorportal", "documentsequence")],
    ),
]


class VendorAdminSite(admin.AdminSite):
    site_header = _("Lizenzportal – Verwaltung")
    site_title = _("Lizenzportal")
    index_title = _("Übersicht nach Bereichen")

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label:
            return app_list
        by_key = {}
        for app in app_list:
            for model in app["models"]:
                by_key[(app["app_label"], model["object_name"].lower())] = (app, model)
        grouped = []
        used = set()
        for title, keys in AREAS:
            models = [by_key[k][1] for k in keys if k in by_key]
            used.update(k for k in keys if k in by_key)
            if models:
                first_app = by_key[next(k for k in keys if k in by_key)][0]
                grouped.append({**first_app, "name": title, "models": models})
        for app in app_list:
            rest = [m for m in app["models"] if (app["app_label"], m["object_name"].lower()) not in used]
            if rest:
                grouped.append({**app, "models": rest})
        return grouped
