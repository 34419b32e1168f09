from django.core.management.base import BaseCommand

from support.exceptions import MailboxError
from support.inbound import fetch_support_mail


class Command(BaseCommand):
    help = "Liest das Support-Postfach (IMAP über TLS oder Maildir unter var/) und legt Tickets und Antworten an."

    def handle(self, *args, **options):
        try:
            result = fetch_support_mail()
        except MailboxError as exc:
            # What an administrator has to fix (password, folder, server, certificate): one
            # German line on stderr and exit status 2, no traceback.
            self.stderr.write(exc.message)
            raise SystemExit(2) from None
        self.stdout.write(
            f"Neue Tickets: {result.tickets}, Antworten: {result.replies}, unbekannte Absender: {result.unknown}, "
            f"automatische Nachrichten: {result.automatic}, schon verarbeitet: {result.skipped}, "
            f"nicht verarbeitbar: {result.failed}"
        )
