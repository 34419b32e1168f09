"""The portal shell's pages: login, logout, password change and reset, dashboard, errors.

Django's own auth views with German templates (STYLE 5: views stay thin).
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from vendorportal.portal import registry
from vendorportal.portal.access import partner_required
from vendorportal.portal.invitations import password_reset_send


class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": _("Anmeldung Partnerportal")}


class PortalLogoutView(auth_views.LogoutView):
    pass


class PortalPasswordChangeView(auth_views.PasswordChangeView):
    template_name = "portal/registration/password_change_form.html"
    success_url = reverse_lazy("portal:password_change_done")
    extra_context = {"title": _("Passwort ändern")}


class PortalPasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "portal/registration/password_change_done.html"
    extra_context = {"title": _("Passwort geändert")}


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's form, but the e-mail goes through the outbox (STYLE 13), link made at sending."""

    def get_users(self, email):
        # Partner logins only (staff passwords are the superusers' business), including
        # invited logins that have no password yet and whose invitation ran out.
        from vendorportal.parties.models import PartnerUser

        memberships = PartnerUser.objects.select_related("user").filter(
            user__email__iexact=email, user__is_active=True, user__is_staff=False, user__is_superuser=False
        )
        return [m.user for m in memberships]

    def save(self, **kwargs):
        for user in self.get_users(self.cleaned_data["email"]):
            password_reset_send(user=user)


class PortalPasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/registration/password_reset_form.html"
    form_class = OutboxPasswordResetForm
    success_url = reverse_lazy("portal:password_reset_done")
    extra_context = {"title": _("Passwort vergessen")}


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/registration/password_reset_done.html"
    extra_context = {"title": _("E-Mail unterwegs")}


class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/registration/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")
    extra_context = {"title": _("Neues Passwort setzen")}


class PortalPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/registration/password_reset_complete.html"
    extra_context = {"title": _("Passwort gesetzt")}


@partner_required
def dashboard(request):
    """Each area's panel, in the order the areas registered them; the shell knows none by name."""
    panels = []
    for panel in registry.panels():
        context = panel.context(request, request.partner)
        if context is not None:
            panels.append({"template": panel.template, "context": context})
    return render(
        request, "portal/dashboard.html", {"partner": request.partner, "panels": panels, "title": _("Übersicht")}
    )


# --- error pages (handler403/404/500 in vendorportal.urls) ------------------------------


def _in_admin(request) -> bool:
    return request.path.startswith("/admin/") and request.user.is_authenticated and request.user.is_staff


def _admin_error(request, title, message, status: int):
    """The admin's error page with the admin's own header, user links and navigation (without
    the site's context it showed Django's "Django administration" and no way to log out)."""
    from django.contrib import admin

    context = {**admin.site.each_context(request), "title": title, "message": message}
    return render(request, "admin/error.html", context, status=status)


def error_403(request, exception=None):
    if _in_admin(request):
        # Staff stay in the admin's look, with a way back to its index.
        message = _(
            "Für diese Seite fehlt Ihrer Mitarbeitergruppe die Berechtigung. Rechte vergeben die Administratoren."
        )
        return _admin_error(request, _("Kein Zugriff"), message, 403)
    return render(request, "403.html", {"title": _("Kein Zugriff")}, status=403)


def error_404(request, exception=None):
    if _in_admin(request):
        message = _(
            "Diesen Eintrag gibt es nicht (mehr). Vielleicht wurde er gelöscht oder die Adresse ist unvollständig."
        )
        return _admin_error(request, _("Nicht gefunden"), message, 404)
    return render(request, "404.html", {"title": _("Seite nicht gefunden")}, status=404)


def error_500(request):
    # No context processors, no database: whatever broke must not break the error page too.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render())
