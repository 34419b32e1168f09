from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class VendorPortalConfig(AppConfig):
    name = "vendorportal"
    verbose_name = _("Betrieb")


class VendorAdminConfig(AdminConfig):
    """The staff admin, with its index grouped by area (see vendorportal.admin_site)."""

    default_site = "vendorportal.admin_site.VendorAdminSite"
