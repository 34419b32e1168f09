"""``license_check KEY --server-key SK [--module CODE] [--installed-version V]`` (LIC-3).

First line: the verdict code alone; second line: what to do. Exit 0 for ``valid``, 1 otherwise.
"""
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from licensing import rules
from licensing.services.licenses import license_diagnose
from vendorportal.errors import PortalError


class Command(BaseCommand):
    help = "Prüft einen Modullizenzschlüssel gegen einen Serverlizenzschlüssel und sagt, warum er (nicht) passt."

    def add_arguments(self, parser):
        parser.add_argument("key", help="Modullizenzschlüssel (Leerzeichen, Bindestriche, Groß-/Kleinschreibung egal)")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--server-key", help="Serverlizenzschlüssel der Anlage")
        target.add_argument("--hardware-id", help="Hardware-ID (STARFACE Free Edition)")
        parser.add_argument("--module", help="Artikelnummer des Moduls (aus export_articles), z. B. CALLREC")
        parser.add_argument("--installed-version", help="installierte Modulversion, z. B. 2.1")
        parser.add_argument("--today", help="Stichtag JJJJ-MM-TT (Standard: heute)")

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(f"--today: „{options['today']}“ ist kein Datum im Format JJJJ-MM-TT.") from None
        kind = rules.SERVER_KEY if options["server_key"] else rules.HARDWARE_ID
        try:
            diagnosis = license_diagnose(
                key_text=options["key"],
                identifier=options["server_key"] or options["hardware_id"],
                identifier_kind=kind,
                module_code=options["module"],
                installed_version=options["installed_version"],
                today=today,
            )
        except (PortalError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(diagnosis.verdict)
        self.stdout.write(diagnosis.message)
        if diagnosis.verdict != rules.VERDICT_VALID:
            sys.exit(1)
