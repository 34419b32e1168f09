"""``issue_license --module CODE --server-key SK --version V [--demo-days N]``.

Issues a key through the same service the admin uses (audited, delivery note created)
and prints the key alone on the first line. Refusals: clear message, exit 2, nothing written.
"""

import sys

from django.core.management.base import BaseCommand
from django.db import transaction

from licensing import rules
from licensing.models import Installation, License, ModuleVersion, Product
from licensing.services.licenses import license_issue
from vendorportal.errors import PortalError
from vendorportal.formats import format_date


class Command(BaseCommand):
    help = "Stellt einen Modullizenzschlüssel aus (mit Lieferschein) und gibt den Schlüssel aus."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # ``--version`` is the licensed module version here, not Django's own version flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--module", required=True, help="Artikelnummer des Moduls, z. B. CALLREC")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--server-key", help="Serverlizenzschlüssel einer erfassten Installation")
        target.add_argument("--hardware-id", help="Hardware-ID einer erfassten Free Edition")
        parser.add_argument("--version", required=True, help="lizenzierte Modulversion, z. B. 2.1")
        parser.add_argument("--demo-days", type=int, help="Demo-Schlüssel mit dieser Laufzeit in Tagen (LIC-6)")
        parser.add_argument(
            "--kind",
            choices=[k for k, _l in License.KIND_CHOICES],
            help="Lizenzart (Standard: Kauf, mit --demo-days: Demo)",
        )
        parser.add_argument(
            "--also-server-key", action="append", default=[], help="weiterer Serverlizenzschlüssel (Redundanz, LIC-9)"
        )
        parser.add_argument("--order", default="", help="Bestell- oder Positionsnummer")

    def _refuse(self, message: str) -> None:
        self.stderr.write(str(message))
        sys.exit(2)

    def _installation(self, kind: str, value: str) -> Installation:
        try:
            identifier = rules.normalize_identifier(kind, value)
        except rules.IdentifierFormatError as exc:
            self._refuse(exc.message)
        inst = (
            Installation.objects.filter(identifier_kind=kind, identifier=identifier)
            .select_related("customer__partner")
            .first()
        )
        if inst is None:
            self._refuse(f"Keine Installation mit {identifier} erfasst. Bitte zuerst die Installation anlegen.")
        return inst

    def handle(self, *args, **options):
        product = Product.objects.filter(article=options["module"].strip().upper()).first()
        if product is None:
            self._refuse(
                f"Unbekanntes Modul „{options['module']}“. Artikelnummern listet: python manage.py export_articles"
            )
        kind_of_id = rules.SERVER_KEY if options["server_key"] else rules.HARDWARE_ID
        installation = self._installation(kind_of_id, options["server_key"] or options["hardware_id"])
        also = [self._installation(rules.SERVER_KEY, sk) for sk in options["also_server_key"]]
        version = ModuleVersion.objects.filter(product=product, version=options["version"].strip()).first()
        if version is None:
            known = ", ".join(product.versions.values_list("version", flat=True)) or "keine"
            self._refuse(f"{product.name} hat keine Version „{options['version']}“ (bekannt: {known}).")
        kind = options["kind"] or (License.DEMO if options["demo_days"] is not None else License.PURCHASE)
        try:
            with transaction.atomic():
                lic = license_issue(
                    product=product,
                    installation=installation,
                    version=version,
                    kind=kind,
                    demo_days=options["demo_days"],
                    also_installations=also,
                    order_reference=options["order"],
                )
        except PortalError as exc:
            self._refuse(exc.message)
        self.stdout.write(lic.key)
        note = lic.delivery_notes.first()
        self.stdout.write(
            f"{product.name} {version.version} für {installation.identifier} ({lic.get_kind_display()}"
            + (f", gültig bis {format_date(lic.valid_until)}" if lic.valid_until else "")
            + (f"); Lieferschein {note.number} an {note.recipient_email}" if note else ")")
        )
