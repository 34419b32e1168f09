"""``python manage.py finance_report --journal YYYY-MM`` / ``--open-items YYYY-MM-DD`` —
the scheduled finance reports by hand (the same service as the beat jobs).

Once per period like the jobs: a month's journal or a week's open items that were sent
already are not sent again (the command says so, exit 0). A month that is not over, a
day in the future or a malformed argument ends with a German message and exit code 2.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from billing.finance import finance_journal_send, finance_open_items_send
from vendorportal import clock
from vendorportal.errors import PortalError
from vendorportal.formats import format_date
from vendorportal.money import format_eur
from vendorportal.periods import parse_month


class Command(BaseCommand):
    help = "Rechnungsausgangsbuch eines Monats oder offene Posten zu einem Tag per E-Mail an die Buchhaltung senden."

    def add_arguments(self, parser):
        parser.add_argument("--journal", default="", metavar="JJJJ-MM", help="Rechnungsausgangsbuch dieses Monats")
        parser.add_argument("--open-items", default="", metavar="JJJJ-MM-TT", help="offene Posten zu diesem Tag")

    def _fail(self, message: str):
        raise CommandError(message, returncode=2)

    def handle(self, *args, journal: str, open_items: str, **options):
        if bool(journal) == bool(open_items):
            self._fail("Bitte genau eines angeben: --journal JJJJ-MM oder --open-items JJJJ-MM-TT.")
        today = clock.today()
        try:
            if journal:
                first = parse_month(journal)
                if first is None:
                    self._fail("Bitte den Monat als JJJJ-MM angeben, z. B. --journal 2026-11.")
                report, created = finance_journal_send(year=first.year, month=first.month, today=today)
            else:
                try:
                    on = date.fromisoformat(open_items)
                except ValueError:
                    self._fail("Bitte den Tag als JJJJ-MM-TT angeben, z. B. --open-items 2026-11-23.")
                if on > today:
                    self._fail(f"Der {format_date(on)} liegt in der Zukunft.")
                report, created = finance_open_items_send(on=on)
        except PortalError as refused:
            self._fail(str(refused.message))
        documents = ngettext("%(n)s Beleg", "%(n)s Belege", report.document_count) % {"n": report.document_count}
        summary = f"{report}: {documents}, {format_eur(report.gross_total)}"
        if created:
            self.stdout.write(f"{summary}; E-Mail an {', '.join(settings.FINANCE_EMAILS)} zum Versand eingeplant.")
        else:
            self.stdout.write(f"{summary}; wurde bereits gesendet, keine zweite E-Mail.")
