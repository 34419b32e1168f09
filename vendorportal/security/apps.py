from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    """Logins: lockout page, optional TOTP two-factor login for staff, per-group 2FA policy."""

    name = "vendorportal.security"
    label = "security"
    verbose_name = _("Anmeldung und Sicherheit")
