"""The partner portal: own views (STYLE 5) — check access, call a selector/service, render."""
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from licensing.selectors.parties import installations_for_partner, partner_for_user


class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": _("Anmeldung Partnerportal")}


class PortalLogoutView(auth_views.LogoutView):
    pass


def _partner_or_403(request):
    partner = partner_for_user(request.user)
    if partner is None:
        raise PermissionDenied(_("Dieses Konto gehört zu keinem Partner. Mitarbeiter des Herstellers nutzen /admin/."))
    return partner


@login_required
def dashboard(request):
    partner = _partner_or_403(request)
    return render(
        request,
        "portal/dashboard.html",
        {"partner": partner, "installations": installations_for_partner(partner), "title": _("Übersicht")},
    )
