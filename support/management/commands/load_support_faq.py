from django.core.management.base import BaseCommand

from support.knowledge import faq_load


class Command(BaseCommand):
    help = "Lädt die FAQ (Seed 000) als öffentliche Wissensartikel (idempotent)."

    def handle(self, *args, **options):
        created = faq_load()
        self.stdout.write(f"Wissensartikel angelegt: {created}")
