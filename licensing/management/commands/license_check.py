"""``license_check KEY --server-key SK [--module CODE] [--installed-version V]`` (LIC-3).

First line: the verdict code alone; second line: what to do. Exit 0 for ``valid``,
1 for any other verdict, 2 for unusable arguments (then only a German message on
stderr) — the same codes as the verifier's own command line.
"""

import re
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandParser

from licensing import rules, verifier
from licensing.services.licenses import license_diagnose
from vendorportal.errors import PortalError

# argparse's own (English) messages, said in German; anything else keeps argparse's
# wording behind a German lead-in.
_ARGPARSE_MESSAGES = [
    (re.compile(r"the following arguments are required: (.+)"), "Es fehlt: {0}."),
    (re.compile(r"one of the arguments (.+) is required"), "Bitte genau eine dieser Angaben machen: {0}."),
    (re.compile(r"argument (\S+): not allowed with argument (\S+)"), "{0} und {1} schließen sich aus."),
    (re.compile(r"argument (\S+): expected one argument"), "{0} braucht einen Wert."),
    (re.compile(r"unrecognized arguments: (.+)"), "Unbekannte Angaben: {0}."),
]


def _german(message: str) -> str:
    for pattern, german in _ARGPARSE_MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            return german.format(*match.groups())
    return f"Ungültiger Aufruf: {message}"


class GermanArgumentParser(CommandParser):
    """Argument errors: a German message and exit 2, whether run from the shell or
    through ``call_command`` (Django's parser would raise an English CommandError there)."""

    def error(self, message):
        sys.stderr.write(
            f"{_german(message)}\nAufruf: manage.py license_check SCHLÜSSEL (--server-key SK | --hardware-id HW) "
            "[--module CODE] [--installed-version V] [--today JJJJ-MM-TT]\n"
        )
        sys.exit(2)


class Command(BaseCommand):
    help = "Prüft einen Modullizenzschlüssel gegen einen Serverlizenzschlüssel und sagt, warum er (nicht) passt."

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = GermanArgumentParser  # BaseCommand has no hook for the parser class
        return parser

    def add_arguments(self, parser):
        parser.add_argument("key", help="Modullizenzschlüssel (Leerzeichen, Bindestriche, Groß-/Kleinschreibung egal)")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--server-key", help="Serverlizenzschlüssel der Anlage")
        target.add_argument("--hardware-id", help="Hardware-ID (STARFACE Free Edition)")
        parser.add_argument("--module", help="Artikelnummer des Moduls (aus export_articles), z. B. CALLREC")
        parser.add_argument("--installed-version", help="installierte Modulversion, z. B. 2.1")
        parser.add_argument("--today", help="Stichtag JJJJ-MM-TT (Standard: heute)")

    def _refuse(self, message: str) -> None:
        self.stderr.write(str(message))
        sys.exit(2)

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"])
            except ValueError:
                self._refuse(f"--today: „{options['today']}“ ist kein Datum im Format JJJJ-MM-TT, z. B. 2026-11-21.")
        if options["installed_version"] is not None:
            try:
                verifier.parse_version(options["installed_version"])
            except ValueError:
                self._refuse(
                    f"--installed-version: „{options['installed_version']}“ ist keine Versionsnummer; "
                    "bitte ein bis drei Zahlen mit Punkt angeben, z. B. 2.1 oder 9.0.1."
                )
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
        except PortalError as exc:
            self._refuse(exc.message)
        self.stdout.write(diagnosis.verdict)
        self.stdout.write(diagnosis.message)
        if diagnosis.verdict != rules.VERDICT_VALID:
            sys.exit(1)
