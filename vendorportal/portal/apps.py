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
