"""``python manage.py datev_export --month YYYY-MM --out FILE [--debtors FILE]`` — the
month's invoices, corrections and payments as a DATEV Buchungsstapel (EXTF) for the tax
adviser, and the debtors' master data beside it (default: ``EXTF_Debitoren_YYYY-MM.csv`` in
the folder of ``--out``). A month not over yet or a malformed argument: a German message and
exit code 2, nothing written."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.datev import datev_export
from billing.finance import datev_filename
from vendorportal import clock
from vendorportal.errors import PortalError
from vendorportal.money import format_eur
from vendorportal.periods import parse_month


class Command(BaseCommand):
    help = "DATEV-Buchungsstapel (EXTF) eines abgeschlossenen Monats für die Steuerberatung schreiben."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, metavar="JJJJ-MM", help="der Monat, z. B. 2026-11")
        parser.add_argument("--out", required=True, metavar="DATEI", help="Datei für den Buchungsstapel")
        parser.add_argument("--debtors", default="", metavar="DATEI", help="Datei für die Debitoren-Stammdaten")

    def _fail(self, message: str):
        raise CommandError(message, returncode=2)

    def handle(self, *args, month: str, out: str, debtors: str, **options):
        first = parse_month(month)
        if first is None:
            self._fail(_("Bitte den Monat als JJJJ-MM angeben, z. B. --month 2026-11."))
        month = f"{first:%Y-%m}"
        out_path = Path(out)
        if not out_path.parent.is_dir():
            self._fail(_("Den Ordner %(folder)s gibt es nicht.") % {"folder": out_path.parent})
        debtors_path = Path(debtors) if debtors else out_path.parent / datev_filename("Debitoren", month)
        try:
            export = datev_export(month=first, today=clock.today(), created=clock.now(), by="datev_export")
        except PortalError as refused:
            self._fail(str(refused.message))
        try:
            out_path.write_bytes(export.bookings)
            debtors_path.write_bytes(export.debtors)
        except OSError as exc:
            self._fail(_("Die Datei konnte nicht geschrieben werden: %(error)s") % {"error": exc.strerror or exc})
        self.stdout.write(
            ngettext(
                "%(count)s Buchung (Soll %(debit)s, Haben %(credit)s) nach %(out)s; Debitoren nach %(debtors)s.",
                "%(count)s Buchungen (Soll %(debit)s, Haben %(credit)s) nach %(out)s; Debitoren nach %(debtors)s.",
                len(export.rows),
            )
            % {
                "count": len(export.rows),
                "debit": format_eur(export.debit_total),
                "credit": format_eur(export.credit_total),
                "out": out_path,
                "debtors": debtors_path,
            }
        )
