from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The partner portal's shell: login, password, layout, navigation, dashboard.

    It knows no area by name: apps register their navigation entries and dashboard
    panels in their own ``AppConfig.ready`` through :mod:`vendorportal.portal.registry`.
    """

    name = "vendorportal.portal"
    label = "portal"
    verbose_name = _("Partnerportal")

    def ready(self):
        from vendorportal.outbox import register_kind
        from vendorportal.portal import invitations, registry

        registry.nav_add(url_name="portal:logins", label=_("Zugänge"), order=90, admin_only=True, section="account")

        # Set-password links are made when sending and never stored (see invitations).
        for kind, compose, label in [
            (invitations.INVITATION, "invitation_compose", _("Einladung zum Partnerportal")),
            (invitations.PASSWORD_RESET, "password_reset_compose", _("Passwort zurücksetzen")),
        ]:
            register_kind(kind, compose=f"vendorportal.portal.invitations.{compose}", store_text=False, label=label)
