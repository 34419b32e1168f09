from django.core.management.base import BaseCommand

from support.inbound import fetch_support_mail


class Command(BaseCommand):
    help = "Liest das Support-Postfach (IMAP über TLS oder Maildir unter var/) und legt Tickets und Antworten an."

    def handle(self, *args, **options):
        result = fetch_support_mail()
        self.stdout.write(
            f"Neue Tickets: {result.tickets}, Antworten: {result.replies}, unbekannte Absender: {result.unknown}, "
            f"schon verarbeitet: {result.skipped}, nicht verarbeitbar: {result.failed}"
        )
