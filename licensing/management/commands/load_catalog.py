from django.core.management.base import BaseCommand, CommandError

from licensing.services.catalog import CatalogImportError, catalog_load


class Command(BaseCommand):
    help = "Lädt Produkte und die Preisliste Stand 09/2022 aus licensing/data (idempotent)."

    def handle(self, *args, **options):
        try:
            result = catalog_load()
        except CatalogImportError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Katalog: {result.products_created} Produkte und {result.prices_created} Preise neu, "
            f"{result.unchanged} unverändert."
        )
