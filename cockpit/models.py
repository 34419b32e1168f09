"""Revenue of closed months, summed once (issue 20).

A month's revenue — the net of the lines of the documents issued in it, per article, VAT
category and document kind — no longer changes once the month is over: documents are issued
with the day they are issued on and are never changed or deleted afterwards (INV-1). The
nightly job (:mod:`cockpit.snapshots`) sums every closed month once; the cockpit reads these
sums instead of the month's lines and asks the lines only for months not summed yet (the
current month, and the last one on the 1st).

A sum is used only while it is still exact: ``last_document`` is the highest document id the
month was checked against, and a document with a higher id issued within the month (which the
services never write) makes the cockpit ignore the sum and the next night's job sum the month
again.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RevenueMonth(models.Model):
    month = models.DateField(_("Monat"), unique=True, help_text=_("Der Erste des Monats."))
    last_day = models.DateField(_("letzter Tag"))
    last_document = models.BigIntegerField(_("geprüft bis Beleg-ID"))
    summed_at = models.DateTimeField(_("summiert am"))

    class Meta:
        verbose_name = _("Monatsumsatz")
        verbose_name_plural = _("Monatsumsätze")
        ordering = ["month"]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y}"


class RevenueMonthLine(models.Model):
    """Net of the month's document lines of one article, VAT category and document kind. A
    month without any document has one line with an empty article and 0,00 (so that a month
    summed to nothing is told apart from a month not summed)."""

    month = models.ForeignKey(RevenueMonth, on_delete=models.CASCADE, related_name="lines")
    article = models.CharField(_("Artikel"), max_length=40, blank=True)
    vat_category = models.CharField(_("Steuerkategorie"), max_length=2, blank=True)
    kind = models.CharField(_("Art"), max_length=12, blank=True)
    net = models.DecimalField(_("Netto"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("Monatsumsatz-Zeile")
        verbose_name_plural = _("Monatsumsatz-Zeilen")
        constraints = [
            models.UniqueConstraint(fields=["month", "article", "vat_category", "kind"], name="revenue_month_line_once")
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.article or '–'} {self.vat_category} {self.kind}: {self.net}"
