"""``python manage.py run_invoicing --month YYYY-MM``: the monthly invoicing run (INV-3) by hand.

Runs the same job as the 1st-of-month Celery run, in this process, partner by partner in
the same per-partner transactions, recorded as a job run ("invoicing"). Prints what it
billed (invoices, periods, net and gross totals), or that nothing was left to bill. Running
it again, or twice at once, bills nothing twice. A bad month: a German message, exit 2.
Partners that failed are listed and the exit status is 1 (the next run bills them).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from billing.services.invoicing import JOB_NAME, invoicing_run, parse_month
from vendorportal.errors import PortalError
from vendorportal.jobs import recorded_job
from vendorportal.money import format_eur


class Command(BaseCommand):
    help = "Monatliche Abrechnung der Abos und Service-Pläne für einen Monat ausführen (INV-3)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="abzurechnender Monat, JJJJ-MM, z. B. 2026-12")

    def handle(self, *args, **options):
        try:
            month = parse_month(options["month"])
        except PortalError as refused:
            self.stderr.write(str(refused.message))
            sys.exit(2)
        with recorded_job(JOB_NAME) as run:
            result = invoicing_run(month=month)
            run.summary = result.summary()
        self.stdout.write(result.summary())
        for invoice in result.invoices:
            self.stdout.write(
                f"  {invoice.number}  {invoice.buyer_name}: netto {format_eur(invoice.net_total)}, "
                f"brutto {format_eur(invoice.gross_total)}"
            )
        if result.failed:
            sys.exit(1)
