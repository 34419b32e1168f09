"""``python manage.py import_bank_statement FILE`` — a camt.053 bank statement (.001.02 or
.001.08) settles the invoices its credits name (:mod:`billing.services.bank`). The same file
twice changes nothing; a malformed file is refused whole (German message, exit code 2)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from billing import camt
from billing.services.bank import bank_statement_import
from vendorportal.errors import PortalError


class Command(BaseCommand):
    help = "Kontoauszug (camt.053) einlesen: Zahlungseingänge den offenen Rechnungen zuordnen."

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="DATEI", help="der Kontoauszug als camt.053-XML")

    def handle(self, *args, file: str, **options):
        path = Path(file)
        try:
            # At most one byte more than a statement may have: a wrong path (a 5 GB backup,
            # /dev/zero) is refused by its size without being read into memory first.
            with path.open("rb") as handle:
                content = handle.read(camt.MAX_BYTES + 1)
        except OSError as exc:
            raise CommandError(
                _("Die Datei %(file)s kann nicht gelesen werden: %(error)s") % {"file": file, "error": exc.strerror},
                returncode=2,
            ) from None
        try:
            result = bank_statement_import(content=content, file_name=path.name)
        except PortalError as refused:
            raise CommandError(str(refused.message), returncode=2) from None
        self.stdout.write(result.summary())
