"""Who must use a second factor. Devices themselves are django-otp's ``TOTPDevice``."""

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffGroupPolicy(models.Model):
    """Login rules of one staff group; editable by superusers only (see admin)."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="login_policy", verbose_name=_("Gruppe"))
    otp_required = models.BooleanField(
        _("Zwei-Faktor-Anmeldung Pflicht"),
        default=False,
        help_text=_(
            "Mitglieder dieser Gruppe können die Verwaltung erst nutzen, wenn sie sich mit einem "
            "Bestätigungscode aus ihrer Authenticator-App angemeldet haben."
        ),
    )

    class Meta:
        verbose_name = _("Anmelderegel einer Mitarbeitergruppe")
        verbose_name_plural = _("Anmelderegeln der Mitarbeitergruppen")

    def __str__(self) -> str:
        return str(self.group)
