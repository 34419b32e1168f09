from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The partner API under /api/v1/ (issue 19): a second door to the portal's rooms — the
    same services and partner-scoped selectors, never a second implementation. It sits above
    licensing, billing and support (it may import them; none imports it)."""

    name = "api"
    verbose_name = _("Partner-API")

    def ready(self):
        from vendorportal import audit  # noqa: F401  (connects the history signal)
        from vendorportal.portal.registry import nav_add

        nav_add(url_name="portal:api_tokens", label=_("API-Zugänge"), order=95, admin_only=True, section="account")
