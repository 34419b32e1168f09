from axes import apps as axes_apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp import apps as otp_totp_apps


class SecurityConfig(AppConfig):
    """Logins: lockout page, optional TOTP two-factor login for staff, per-group 2FA policy."""

    name = "vendorportal.security"
    label = "security"
    verbose_name = _("Anmeldung und Sicherheit")


# The two libraries' admin groups, named in German on the admin index (otherwise "Axes", "Otp_Totp").
class AxesConfig(axes_apps.AppConfig):
    verbose_name = _("Anmeldesperren")


class TotpConfig(otp_totp_apps.DefaultConfig):
    verbose_name = _("Zwei-Faktor-Geräte")
