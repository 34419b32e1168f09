"""``python manage.py sepa_export --collection-date YYYY-MM-DD --out FILE`` (ORD-8).

Writes the pain.008 direct-debit file of every due direct-debit invoice not collected yet
and records it as a batch (admin: SEPA-Lastschriftdateien). Nothing due: says so, writes
no file, exit 0. Bad arguments or a refusal: a German message, exit 2, nothing written.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand

from billing import services
from vendorportal.errors import PortalError
from vendorportal.formats import format_date_de
from vendorportal.money import format_eur


class Command(BaseCommand):
    help = "SEPA-Lastschriftdatei (pain.008) aller fälligen Lastschrift-Rechnungen schreiben."

    def add_arguments(self, parser):
        parser.add_argument("--collection-date", required=True, help="Einzugstag, JJJJ-MM-TT")
        parser.add_argument("--out", required=True, help="Datei, in die das pain.008-XML geschrieben wird")

    def fail(self, message: str):
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args, **options):
        try:
            collection_date = date.fromisoformat(options["collection_date"])
        except ValueError:
            self.fail(f"„{options['collection_date']}“ ist kein Datum: bitte als JJJJ-MM-TT angeben, z. B. 2026-12-05.")
        out = Path(options["out"])
        if out.exists():
            self.fail(f"{out} gibt es schon; bitte einen neuen Dateinamen angeben (nichts überschrieben).")
        if not out.parent.is_dir():
            self.fail(f"Den Ordner {out.parent} gibt es nicht.")
        try:
            batch = services.sepa_export(collection_date=collection_date)
        except PortalError as refused:
            self.fail(refused.message)
        if batch is None:
            self.stdout.write(
                f"Keine fälligen Lastschriften bis {format_date_de(collection_date)}: keine Datei geschrieben."
            )
            return
        out.write_text(batch.xml, encoding="utf-8")
        self.stdout.write(
            f"{batch.count} Lastschrift(en) über {format_eur(batch.total)} zum {format_date_de(collection_date)} "
            f"in {out} ({batch.message_id})."
        )
