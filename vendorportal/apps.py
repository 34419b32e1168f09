from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class VendorPortalConfig(AppConfig):
    name = "vendorportal"
    verbose_name = _("Betrieb")

    def ready(self):
        from vendorportal import i18n, lookups  # noqa: F401 — i18n: the login signal keeps the language
        from vendorportal.roles import roles_after_migrate

        # Integer lookups never send a number the column cannot hold (issue 17).
        lookups.register()

        # Sent once per app after every migrate/flush; ours runs once, after the last app.
        post_migrate.connect(roles_after_migrate, sender=self, dispatch_uid="vendorportal.roles")


class VendorAdminConfig(AdminConfig):
    """The staff admin, with its index grouped by area (see vendorportal.admin_site)."""

    default_site = "vendorportal.admin_site.VendorAdminSite"
