"""``python manage.py export_articles`` — the partner article CSV (CAT-7) on stdout."""

import csv
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from licensing.exports import ARTICLE_COLUMNS, article_csv_row
from licensing.selectors.catalog import article_rows
from vendorportal import clock
from vendorportal.formats import format_date


class Command(BaseCommand):
    help = "Schreibt die Artikeldaten mit Preisen (CSV, Punkt als Dezimaltrenner) auf die Standardausgabe."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Stichtag YYYY-MM-DD (Standard: heute)")

    def handle(self, *args, **options):
        if options["date"]:
            try:
                on = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date: „{options['date']}“ ist kein Datum im Format JJJJ-MM-TT.") from None
        else:
            on = clock.today()
        rows = article_rows(on)
        if not rows:
            raise CommandError(
                f"Am {format_date(on)} gilt keine Preisliste. Erst „python manage.py load_catalog“ ausführen."
            )
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(ARTICLE_COLUMNS)
        writer.writerows(article_csv_row(row) for row in rows)
