"""The staff admin site: its index groups models by area, not by Django app.

Each app declares its own areas in its admin module (``admin.site.area_add(...)``), so the
core knows no app by name. Models not in any area fall into their app's own group, so
nothing registered is ever hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import admin
from django.contrib.admin import options
from django.db import models
from django.utils.translation import gettext_lazy as _

from vendorportal.form_fields import GermanDecimalField

# Every decimal (money) field of every admin form reads a comma as the decimal separator
# (issue 21). Set before any ModelAdmin is built: each copies these defaults when created.
options.FORMFIELD_FOR_DBFIELD_DEFAULTS[models.DecimalField] = {"form_class": GermanDecimalField}


@dataclass
class Area:
    title: str
    order: int
    models: list[tuple[str, str]] = field(default_factory=list)


class VendorAdminSite(admin.AdminSite):
    site_header = _("Lizenzportal – Verwaltung")
    site_title = _("Lizenzportal")
    index_title = _("Übersicht nach Bereichen")
    # Login with the TOTP code for staff who set up two-factor login (docs/security.md).
    login_template = "security/admin_login.html"

    @property
    def login_form(self):
        # Imported late: this module is loaded before the apps (and auth's models) are ready.
        from vendorportal.security.forms import StaffAuthenticationForm

        return StaffAuthenticationForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._areas: dict[str, Area] = {}

    def area_add(self, key: str, *, title, order: int, models: list[str]) -> None:
        """Show ``models`` ("app_label.model") under ``title``; ``order`` sorts the areas.

        Calling it again with the same key appends models to that area.
        """
        area = self._areas.setdefault(key, Area(title=title, order=order))
        area.models.extend(tuple(m.lower().split(".")) for m in models)

    def logout(self, request, extra_context=None):
        """Staff who log out land on the admin's login again, not on the partner portal's
        (``LOGOUT_REDIRECT_URL`` is the portal's)."""
        from django.contrib.auth.views import LogoutView
        from django.urls import reverse

        request.current_app = self.name
        context = {**self.each_context(request), "has_permission": False, **(extra_context or {})}
        return LogoutView.as_view(next_page=reverse("admin:login", current_app=self.name), extra_context=context)(
            request
        )

    def admin_view(self, view, cacheable=False):
        """Every admin page (lists, forms, the apps' own views) first refuses query parameters
        no list can use — absurd date drill-down years, numbers beyond 64 bits — with a German
        message and the list without them, instead of a 500 (issue 17)."""
        from functools import wraps

        from django.contrib import messages
        from django.http import HttpResponseRedirect

        from vendorportal.input_guard import admin_list_params_problem

        protected = super().admin_view(view, cacheable)

        @wraps(protected)
        def guarded(request, *args, **kwargs):
            problem = admin_list_params_problem(request.GET) if request.GET else ""
            if problem and request.user.is_active and request.user.is_staff:
                messages.error(request, problem)
                return HttpResponseRedirect(request.path)
            return protected(request, *args, **kwargs)

        return guarded

    def get_urls(self):
        from django.urls import path

        from cockpit.views import chart_csv_view
        from vendorportal.admin_documents import stored_document_view
        from vendorportal.admin_schedule import job_schedule_view

        return [
            # The cockpit's charts as CSV (issue 20); the panel rights are checked in the view.
            path("cockpit/<slug:chart>.csv", self.admin_view(chart_csv_view), name="cockpit_csv"),
            # Read-only page of the periodic jobs and their recipients (every staff member).
            path("zeitplan/", self.admin_view(job_schedule_view), name="job_schedule"),
            # Stored documents (MEDIA_ROOT), for staff with the view right on their row
            # (vendorportal.stored_files: the default storage's url() points here).
            path("dokumente/<path:name>", self.admin_view(stored_document_view), name="stored_document"),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        """The start page is the cockpit (issue 20): the figures of the staff member's panels for
        a chosen period, with the model list by area below it, one click away."""
        from cockpit.views import cockpit_context

        return super().index(request, {**cockpit_context(request), **(extra_context or {})})

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
        for area in sorted(self._areas.values(), key=lambda a: a.order):
            keys = [k for k in area.models if k in by_key]
            if keys:
                used.update(keys)
                first_app = by_key[keys[0]][0]
                grouped.append({**first_app, "name": area.title, "models": [by_key[k][1] for k in keys]})
        for app in app_list:
            rest = [m for m in app["models"] if (app["app_label"], m["object_name"].lower()) not in used]
            if rest:
                grouped.append({**app, "models": rest})
        return grouped


class SuperuserOnly:
    """Staff accounts, groups and permissions are for superusers only (issue 8, STYLE 15).

    Whatever rights a group may hold in the database, nobody else sees, adds, changes,
    deletes or sets passwords of users or groups here: a right on ``auth.user`` would
    let its holder make itself superuser. Partner logins have their own form.
    """

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
