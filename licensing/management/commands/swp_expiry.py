"""``python manage.py swp_expiry [--today YYYY-MM-DD]``: the daily Softwarepflege job by hand (SWP-8)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from licensing import rules
from licensing.services.maintenance_job import NOTICE_TITLES, maintenance_expiry_run
from vendorportal import clock
from vendorportal.formats import format_date


class Command(BaseCommand):
    help = (
        "Schreibt die fälligen Softwarepflege-Hinweise (60/30/21 Tage, abgelaufen, Säumniszuschlag) "
        "wie der tägliche Job, je Partner eine E-Mail in die ausgehenden E-Mails; jeder Hinweis geht je "
        "System und Pflegeende nur einmal hinaus."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            metavar="JJJJ-MM-TT",
            help="Stichtag im Format JJJJ-MM-TT (Standard: heute, Europe/Berlin).",
        )

    def handle(self, *args, **options):
        text = options.get("today")
        if text:
            try:
                today = date.fromisoformat(text.strip())
            except ValueError:
                raise CommandError(
                    f"„{text}“ ist kein gültiges Datum. Bitte im Format JJJJ-MM-TT angeben, z. B. 2026-11-23. "
                    "Es wurde nichts versendet."
                ) from None
        else:
            today = clock.today()
        result = maintenance_expiry_run(today=today)
        self.stdout.write(f"Softwarepflege-Hinweise zum {format_date(today)}:")
        for kind in rules.NOTICE_KINDS:
            self.stdout.write(f"  {NOTICE_TITLES[kind]}: {result.counts[kind]}")
        self.stdout.write(f"  insgesamt: {sum(result.counts.values())}")
        # Sent by the worker (or the outbox job every 5 minutes), not by this command.
        self.stdout.write(f"E-Mails an Partner zum Versand eingeplant: {result.emails}")
        for line in result.refused:
            self.stdout.write(f"  ohne gültige Liefer-E-Mail (Hinweise folgen im nächsten Lauf): {line}")
