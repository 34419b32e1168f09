"""Finance reports sent by the scheduled jobs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models._common import MONEY
from billing.models.sepa import SepaBatch


def finance_report_path(instance: FinanceReport, filename: str) -> str:
    return f"finance-reports/{instance.report_date:%Y}/{filename}"


class FinanceReport(models.Model):
    """A scheduled PDF report to finance, one per kind and period: the monthly invoice
    journal (Rechnungsausgangsbuch, period ``2026-11``) and the weekly open items
    (Offene Posten, period ``2026-W48``).

    The PDF is rendered once, stored and e-mailed through the outbox with the files it
    went out with (the journal: the month's SEPA files); a resend attaches the same bytes.
    The unique (kind, period) makes a re-run or a second worker write no second report
    and no second e-mail.
    """

    JOURNAL = "journal"
    OPEN_ITEMS = "open_items"
    KIND_CHOICES = [(JOURNAL, _("Rechnungsausgangsbuch")), (OPEN_ITEMS, _("Offene Posten"))]

    kind = models.CharField(_("Art"), max_length=12, choices=KIND_CHOICES)
    period = models.CharField(_("Zeitraum"), max_length=8, help_text=_("Monat 2026-11 oder ISO-Woche 2026-W48"))
    report_date = models.DateField(_("Stichtag"))
    pdf = models.FileField(_("PDF"), upload_to=finance_report_path, editable=False)
    # GoBD: the SHA-256 of the stored PDF, written with it (vendorportal.documents).
    pdf_sha256 = models.CharField(_("SHA-256 des PDF"), max_length=64, blank=True, editable=False)
    document_count = models.PositiveIntegerField(_("Anzahl Belege"))
    gross_total = models.DecimalField(_("Summe brutto"), **MONEY)
    sepa_batches = models.ManyToManyField(
        SepaBatch, blank=True, related_name="finance_reports", verbose_name=_("SEPA-Dateien im Anhang")
    )
    created_at = models.DateTimeField(_("erstellt am"))
    # The journal's DATEV files for the tax adviser (issue 18), made once with the report so a
    # resend attaches the same bytes: the Buchungsstapel and the debtors' master data.
    datev_bookings = models.FileField(
        _("DATEV-Buchungsstapel"), upload_to=finance_report_path, blank=True, editable=False
    )
    datev_debtors = models.FileField(_("DATEV-Debitoren"), upload_to=finance_report_path, blank=True, editable=False)

    class Meta:
        ordering = ["-report_date", "kind"]
        verbose_name = _("Finanzbericht")
        verbose_name_plural = _("Finanzberichte")
        permissions = [("datev_financereport", _("DATEV-Export herunterladen"))]
        constraints = [
            models.UniqueConstraint(fields=["kind", "period"], name="financereport_once_per_period"),
            models.CheckConstraint(condition=Q(kind__in=["journal", "open_items"]), name="financereport_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period}"

    @property
    def filename(self) -> str:
        slug = "rechnungsausgangsbuch" if self.kind == self.JOURNAL else "offene-posten"
        return f"{slug}-{self.period}.pdf"
