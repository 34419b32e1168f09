"""The monthly invoicing runs (INV-3): which month's run was started and whether it finished."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class InvoicingRun(models.Model):
    """One invoicing run of a month: started by the monthly job or ``run_invoicing``, finished
    once a check finds no partner left to bill for that month.

    The hourly catch-up finishes every run not finished yet, of any month (a run of a past
    month whose worker was killed, a run started ahead for next month), not only the current
    month's (billing.services.invoicing.invoicing_catch_up).
    """

    month = models.DateField(_("Abrechnungsmonat"), unique=True, help_text=_("der Monatserste"))
    started_at = models.DateTimeField(_("gestartet"))
    finished_at = models.DateTimeField(_("abgeschlossen"), null=True, blank=True)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("Abrechnungslauf")
        verbose_name_plural = _("Abrechnungsläufe")

    def __str__(self) -> str:
        return f"{self.month:%m/%Y}"
