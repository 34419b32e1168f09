"""Inbound support e-mail: Maildir by default, IMAP over TLS with a fake server class."""

import mailbox
import ssl
from email.message import EmailMessage

import pytest
from django.core.management import call_command

from support import inbound
from support.exceptions import MailboxError
from support.models import InboundMail, Ticket
from support.tests.factories import PartnerUserFactory
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db


def mail(sender, subject, body="Bitte um Hilfe.", message_id="<1@partner.test>", attachment=None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@vendor.example"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    if attachment:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return bytes(msg)


@pytest.fixture
def login():
    return PartnerUserFactory(user__email="Technik@Partner.test")


@pytest.fixture
def maildir(settings):
    return mailbox.Maildir(settings.SUPPORT_MAILDIR, create=True)


def test_known_sender_opens_a_ticket_with_private_attachment(login, maildir, settings):
    maildir.add(mail("Technik <technik@partner.test>", "Modul hängt", attachment=("modul.log", b"ERR")))
    call_command("fetch_support_mail")
    ticket = Ticket.objects.get()
    assert (ticket.partner, ticket.channel, ticket.subject, ticket.contact_email) == (
        login.partner,
        "email",
        "Modul hängt",
        "technik@partner.test",
    )
    attachment = ticket.attachments.get()
    assert attachment.is_log and attachment.file.read() == b"ERR"
    assert attachment.file.path.startswith(settings.SUPPORT_ATTACHMENTS_ROOT)
    assert InboundMail.objects.get().outcome == "ticket"


def test_same_message_is_processed_once(login, maildir):
    raw = mail("technik@partner.test", "Frage")
    maildir.add(raw)
    maildir.add(raw)  # delivered twice
    result = inbound.fetch_support_mail()
    assert (result.tickets, result.skipped) == (1, 1)
    assert inbound.fetch_support_mail().counts() == {
        "tickets": 0,
        "replies": 0,
        "unknown": 0,
        "automatic": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert Ticket.objects.count() == 1


def test_subject_with_ticket_number_becomes_a_reply(login, maildir):
    maildir.add(mail("technik@partner.test", "Frage", message_id="<a@p>"))
    inbound.fetch_support_mail()
    ticket = Ticket.objects.get()
    maildir.add(mail("technik@partner.test", f"AW: [{ticket.number}] Frage", body="Hier die Info", message_id="<b@p>"))
    assert inbound.fetch_support_mail().replies == 1
    assert Ticket.objects.count() == 1 and ticket.messages.last().body.startswith("Hier die Info")


def test_ticket_number_of_another_partner_opens_a_new_ticket(login, maildir):
    other = PartnerUserFactory(user__email="x@other.test")
    maildir.add(mail("x@other.test", "Andere", message_id="<o@p>"))
    inbound.fetch_support_mail()
    foreign = Ticket.objects.get(partner=other.partner)
    maildir.add(mail("technik@partner.test", f"[{foreign.number}] Trick", message_id="<t@p>"))
    inbound.fetch_support_mail()
    assert foreign.messages.count() == 1
    assert Ticket.objects.filter(partner=login.partner).count() == 1


def test_unknown_sender_gets_a_polite_answer(maildir):
    maildir.add(mail("fremd@example.test", "Hallo"))
    result = inbound.fetch_support_mail()
    assert result.unknown == 1 and not Ticket.objects.exists()
    answer = OutboxMessage.objects.get(kind="support-unknown-sender")
    assert answer.recipients == ["fremd@example.test"] and "/portal/support/" in answer.body


def test_malformed_message_never_stops_the_run(login, maildir, monkeypatch):
    maildir.add(b"\x00\x01 not a mail at all")
    maildir.add(mail("technik@partner.test", "Gute Mail", message_id="<good@p>"))
    original = inbound._handle

    def explode_on_garbage(parsed, **kw):
        if kw["subject"] != "Gute Mail":
            raise ValueError("kaputt")
        return original(parsed, **kw)

    monkeypatch.setattr(inbound, "_handle", explode_on_garbage)
    result = inbound.fetch_support_mail()
    assert result.tickets == 1 and result.failed == 1
    assert Ticket.objects.get().subject == "Gute Mail"


def test_refused_attachment_is_noted_not_fatal(login, maildir):
    maildir.add(mail("technik@partner.test", "Mit exe", attachment=("setup.exe", b"MZ")))
    inbound.fetch_support_mail()
    ticket = Ticket.objects.get()
    assert not ticket.attachments.exists() and "setup.exe" in ticket.messages.get().body


class FakeImap:
    """Stands in for imaplib.IMAP4_SSL: remembers what was asked."""

    instances = []

    def __init__(self, host, port, ssl_context=None, timeout=None):
        self.host, self.port, self.calls = host, port, []
        self.ssl_context, self.timeout = ssl_context, timeout
        self.messages = {b"7": mail("technik@partner.test", "Per IMAP", message_id="<imap@p>")}
        FakeImap.instances.append(self)

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def select(self, folder):
        self.calls.append(("select", folder))
        return "OK", [b"1"]

    def uid(self, command, *args):
        self.calls.append(("uid", command, *args))
        if command == "SEARCH":
            return "OK", [b" ".join(self.messages)]
        if command == "FETCH":
            return "OK", [(b"7 (BODY[] {100}", self.messages[args[0]])]
        return "OK", [b""]

    def close(self):
        self.calls.append(("close",))

    def logout(self):
        self.calls.append(("logout",))


def test_imap_over_tls_when_configured(login, settings):
    settings.SUPPORT_IMAP_URL = "imaps://support%40vendor.example:geheim@imap.vendor.example/Support"
    result = inbound.fetch_support_mail(inbound.default_source(imap_class=FakeImap))
    imap = FakeImap.instances[-1]
    assert result.tickets == 1 and Ticket.objects.get().subject == "Per IMAP"
    assert (imap.host, imap.port) == ("imap.vendor.example", 993)
    assert ("login", "support@vendor.example", "geheim") in imap.calls and ("select", '"Support"') in imap.calls
    assert imap.ssl_context.verify_mode == ssl.CERT_REQUIRED and imap.ssl_context.check_hostname
    assert imap.timeout == settings.SUPPORT_MAIL_TIMEOUT
    assert ("uid", "STORE", "7", "+FLAGS", "(\\Seen)") in imap.calls and imap.calls[-1] == ("logout",)


def test_plain_imap_is_refused(settings):
    settings.SUPPORT_IMAP_URL = "imap://user:pw@imap.vendor.example/INBOX"
    with pytest.raises(MailboxError, match="imaps://"):
        inbound.default_source(imap_class=FakeImap)
