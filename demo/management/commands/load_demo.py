from django.core.management.base import BaseCommand, CommandError

from demo.loader import demo_load
from vendorportal.errors import PortalError


class Command(BaseCommand):
    help = "Lädt Katalog und Demodaten (idempotent: ein zweiter Lauf ändert nichts)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="Zugangsdaten nicht ausgeben")

    def handle(self, *args, **options):
        try:
            logins = demo_load()
        except PortalError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("Katalog und Demodaten sind geladen.")
        if not options["quiet_logins"]:
            for login in logins:
                self.stdout.write(f"  {login.role:<45} {login.username:<10} / {login.password:<16} {login.where}")
