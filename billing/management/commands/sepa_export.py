"""``python manage.py sepa_export [--through YYYY-MM-DD] --out FILE`` (ORD-8).

Writes the pain.008 direct-debit file of every open direct-debit invoice announced for a day
up to ``--through`` (default: today + 14 days) and records it as a batch (admin:
SEPA-Lastschriftdateien). Each debit is collected on exactly the day its invoice announced —
one payment block per day and sequence type; there is no "collection date" to choose, so
nothing can contradict an announcement. A debit whose day has passed or is too near to reach
the bank in time is announced again first (new day, e-mail to the partner). Nothing due:
says so, writes no file, exit 0. Bad arguments or a refusal: a German message, exit 2,
nothing written.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from billing import services
from billing.services.mandates import sepa_export_default_through
from vendorportal import clock
from vendorportal.errors import PortalError
from vendorportal.formats import format_date
from vendorportal.money import format_eur


class Command(BaseCommand):
    help = "SEPA-Lastschriftdatei (pain.008) aller bis zu einem Tag angekündigten Lastschriften schreiben."

    def add_arguments(self, parser):
        parser.add_argument(
            "--through",
            help="Einzüge bis einschließlich JJJJ-MM-TT (Standard: heute + 14 Tage); jede Lastschrift am angekündigten Tag",
        )
        parser.add_argument("--out", required=True, help="Datei, in die das pain.008-XML geschrieben wird")

    def fail(self, message: str):
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args, **options):
        through = sepa_export_default_through(clock.today())
        if options["through"]:
            try:
                through = date.fromisoformat(options["through"])
            except ValueError:
                self.fail(f"„{options['through']}“ ist kein Datum: bitte als JJJJ-MM-TT angeben, z. B. 2026-12-05.")
        out = Path(options["out"])
        if out.exists():
            self.fail(f"{out} gibt es schon; bitte einen neuen Dateinamen angeben (nichts überschrieben).")
        if not out.parent.is_dir():
            self.fail(f"Den Ordner {out.parent} gibt es nicht.")
        try:
            batch = services.sepa_export(through=through)
        except PortalError as refused:
            self.fail(refused.message)
        if batch is None:
            self.stdout.write(f"Keine angekündigten Lastschriften bis {format_date(through)}: keine Datei geschrieben.")
            return
        out.write_text(batch.xml, encoding="utf-8")
        days = sorted({item.collection_date for item in batch.items.all()})
        self.stdout.write(
            ngettext("%(n)s Lastschrift", "%(n)s Lastschriften", batch.count)
            % {"n": batch.count}
            + f" über {format_eur(batch.total)}, Einzug am "
            f"{', '.join(format_date(day) for day in days)}, in {out} ({batch.message_id})."
        )
