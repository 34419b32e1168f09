"""The monthly invoicing runs in the admin (INV-3, issue 17): which month's run started when,
whether it finished, and what it billed — read-only, for finance. A run is written only by
:mod:`billing.services.invoicing` (started by the monthly job or ``run_invoicing``, finished
by the check that finds nobody left due).

The model records start and finish only; the figures come from what the run wrote: the
billing periods starting in the month (subscription periods and plan years, INV-3's
``BilledPeriod`` rows), the invoices they stand on, and — for a run not finished yet — the
partners still due, waiting for a worker or failed (a failed partner stays due and the hourly
catch-up queues it again; the job log shows its error).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.models import BilledPeriod, Invoice, InvoicingRun
from billing.services.invoicing import due_partner_ids
from vendorportal.periods import month_end

admin.site.area_add("billing", title=_("Bestellungen und Rechnungen"), order=50, models=["billing.invoicingrun"])


def _month_range(run: InvoicingRun) -> tuple:
    return run.month, month_end(run.month)


@admin.register(InvoicingRun)
class InvoicingRunAdmin(admin.ModelAdmin):
    # One row per month: a handful of counts per row is cheap, and a page holds two years.
    list_display = ["month_label", "started_at", "finished_at", "status", "invoices", "periods", "still_due"]
    list_filter = [("finished_at", admin.EmptyFieldListFilter)]
    list_per_page = 24
    show_full_result_count = False
    fields = ["month_label", "started_at", "finished_at", "status", "invoices", "periods", "still_due"]
    readonly_fields = fields

    # A run is the record of what the job did: nobody adds, changes or deletes one here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Abrechnungsmonat"), ordering="month")
    def month_label(self, run: InvoicingRun) -> str:
        return f"{run.month:%m/%Y}"

    @admin.display(description=_("Status"))
    def status(self, run: InvoicingRun) -> str:
        return str(_("abgeschlossen") if run.finished_at else _("läuft / unvollständig"))

    @admin.display(description=_("Abrechnungszeiträume ab dem Monat"))
    def periods(self, run: InvoicingRun) -> int:
        return BilledPeriod.objects.filter(period_start__range=_month_range(run)).count()

    @admin.display(description=_("Rechnungen"))
    def invoices(self, run: InvoicingRun) -> int:
        return Invoice.objects.filter(lines__billed_period__period_start__range=_month_range(run)).distinct().count()

    @admin.display(description=_("Partner noch fällig (wartend oder fehlgeschlagen)"))
    def still_due(self, run: InvoicingRun) -> int | str:
        # Read for unfinished runs only (all subscriptions and plans once): a finished run found
        # nobody due when it finished; what fell due since belongs to a later run.
        if run.finished_at is not None:
            return "–"
        return len(due_partner_ids(month=run.month))
