"""Operational records shared by all apps."""
from django.db import models
from django.utils import timezone
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
        # In the time zone the admin shows its fields in (Europe/Berlin), German format.
        return f"{self.name} {timezone.localtime(self.started_at):%d.%m.%Y %H:%M}"


class DocumentSequence(models.Model):
    """Gap-free numbering of documents per prefix and year (INV-1, delivery notes).

    A number is taken inside the transaction that creates the document, with the
    row locked (``select_for_update``), so a rolled-back document leaves no gap and
    two workers never get the same number.
    """

    prefix = models.CharField(_("Präfix"), max_length=8)
    year = models.PositiveSmallIntegerField(_("Jahr"))
    last_number = models.PositiveIntegerField(_("letzte Nummer"), default=0)

    class Meta:
        verbose_name = _("Nummernkreis")
        verbose_name_plural = _("Nummernkreise")
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="documentsequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_number}"
