from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = _("Lizenzen")

    def ready(self):
        from licensing import views
        from vendorportal.portal import registry

        registry.nav_add(url_name="portal:systems", label=_("Auerswald-Systeme"), order=30)
        registry.panel_add(
            key="licensing.installations", template="portal/panels/installations.html",
            context=views.installations_panel, order=20,
        )
