"""Operational records shared by all apps."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One run of a scheduled or manual job, so staff can see that jobs really ran."""

    name = models.CharField(_("Job"), max_length=80, db_index=True)
    started_at = models.DateTimeField(_("gestartet"))
    finished_at = models.DateTimeField(_("beendet"), null=True, blank=True)
    ok = models.BooleanField(_("erfolgreich"), default=False)
    summary = models.TextField(_("Ergebnis"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("Job-Lauf")
        verbose_name_plural = _("Job-Läufe")

    def __str__(self) -> str:
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M}"
