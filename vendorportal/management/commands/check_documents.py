"""``python manage.py check_documents``: is every issued document's file there and unchanged?

Exit 0 with the count when all are; exit 1 with a German list of the missing and changed
documents otherwise (GoBD; vendorportal.documents). ``--record`` also records the result as
the job run the admin index shows (what the daily job does).
"""

from django.core.management.base import BaseCommand

from vendorportal.documents import documents_check, documents_check_job


class Command(BaseCommand):
    help = "Prüft die gespeicherten PDF-Dateien aller ausgestellten Belege (vorhanden, SHA-256 unverändert)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--record", action="store_true", help="Ergebnis als Job-Lauf speichern (Hinweis in der Verwaltung)."
        )

    def handle(self, *args, **options):
        result = documents_check_job() if options["record"] else documents_check()
        if result.ok:
            self.stdout.write(result.summary())
            return
        self.stderr.write(result.summary())
        raise SystemExit(1)
