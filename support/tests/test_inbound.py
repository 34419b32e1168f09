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
    assert answer.from_email == "Support Fluxpunkt (Demo) <support@vendor.example>"  # SUPPORT_FROM_EMAIL


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
        if command == "FETCH" and args[1] == "(RFC822.SIZE)":
            return "OK", [b"7 (UID 7 RFC822.SIZE %d)" % len(self.messages[args[0]])]
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


# --- RFC 3834: no answer to machines, no ticket reopened --------------------------------------

BOUNCE = (
    b"Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.partner.test>\r\n"
    b"To: support@vendor.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    b"Message-ID: <bounce-1@mx.partner.test>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver.\r\n"
    b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.partner.test\r\n\r\n"
    b"Final-Recipient: rfc822; alt@partner.test\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n"
)


def automatic_mail(sender, subject, header, value, message_id) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, "support@vendor.example", subject, message_id
    msg[header] = value
    msg.set_content("Ich bin bis 14.12. nicht im Büro.")
    return bytes(msg)


def test_bounce_from_mailer_daemon_gets_no_answer(maildir):
    maildir.add(BOUNCE)
    result = inbound.fetch_support_mail()
    assert (result.automatic, result.unknown) == (1, 0)
    assert not OutboxMessage.objects.exists() and not Ticket.objects.exists()
    row = InboundMail.objects.get()
    assert (row.outcome, row.error) == ("automatic", "Return-Path: <>")


@pytest.mark.parametrize(
    "header,value",
    [
        ("Auto-Submitted", "auto-replied"),
        ("Precedence", "bulk"),
        ("List-Id", "<news.example.test>"),
        ("List-Unsubscribe", "<mailto:leave@example.test>"),
        ("X-Autoreply", "yes"),
    ],
)
def test_automatic_mail_from_an_unknown_sender_gets_no_answer(maildir, header, value):
    """Two auto-responders answering each other: ours stays silent."""
    maildir.add(automatic_mail("fremd@example.test", "Abwesend: Ihre Nachricht", header, value, "<auto@x>"))
    assert inbound.fetch_support_mail().automatic == 1
    assert not OutboxMessage.objects.exists()
    assert InboundMail.objects.get().outcome == "automatic"


def test_out_of_office_reply_is_kept_on_the_solved_ticket_without_reopening_it(login, maildir):
    from support import rules, services

    maildir.add(mail("technik@partner.test", "Frage", message_id="<q@p>"))
    inbound.fetch_support_mail()
    ticket = Ticket.objects.get()
    services.ticket_set_status(ticket=ticket, status=rules.SOLVED)
    outbox_before = OutboxMessage.objects.count()
    maildir.add(
        automatic_mail(
            "technik@partner.test", f"Abwesend: [{ticket.number}] Frage", "Auto-Submitted", "auto-replied", "<ooo@p>"
        )
    )

    assert inbound.fetch_support_mail().automatic == 1

    ticket.refresh_from_db()
    assert ticket.status == rules.SOLVED
    assert OutboxMessage.objects.count() == outbox_before  # neither partner nor staff get a mail
    entry = ticket.messages.last()
    assert (entry.internal, entry.from_staff, entry.author_email) == (False, False, "technik@partner.test")
    assert entry.body == (
        "Automatische Antwort (Auto-Submitted: auto-replied) — nicht beantwortet, Ticketstatus unverändert."
        "\n\nIch bin bis 14.12. nicht im Büro."
    )


def test_automatic_mail_of_a_partner_opens_no_ticket(login, maildir):
    maildir.add(automatic_mail("technik@partner.test", "Newsletter", "Precedence", "list", "<news@p>"))
    assert inbound.fetch_support_mail().automatic == 1
    assert not Ticket.objects.exists() and not OutboxMessage.objects.exists()


# --- every mail ends as a ticket, a reply or a visible entry ---------------------------------


def test_unknown_charset_still_opens_a_ticket_with_the_text(login, maildir):
    maildir.add(
        b"From: technik@partner.test\r\nTo: support@vendor.example\r\nSubject: Umlaute\r\n"
        b"Message-ID: <cs@p>\r\nContent-Type: text/plain; charset=x-unbekannt\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nDer Schl\xfcssel f\xfcr 49 \x80 fehlt.\r\n"
    )
    assert inbound.fetch_support_mail().tickets == 1
    assert Ticket.objects.get().messages.get().body == "Der Schlüssel für 49 € fehlt."


def test_html_only_mail_is_stored_as_readable_text(login, maildir):
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "technik@partner.test", "HTML", "<html@p>"
    msg.set_content(
        "<html><head><style>body{font:12px}</style></head><body><p>Hallo,</p>"
        "<p>Lizenz &quot;ADSYNC&quot; &amp; Update<br>fehlt.</p><script>x()</script></body></html>",
        subtype="html",
    )
    maildir.add(bytes(msg))
    inbound.fetch_support_mail()
    assert Ticket.objects.get().messages.get().body == 'Hallo,\n\nLizenz "ADSYNC" & Update\nfehlt.'


def test_broken_multipart_keeps_its_text_and_the_raw_original(login, maildir):
    raw = (
        b"From: technik@partner.test\r\nSubject: Kaputt\r\nMessage-ID: <broken@p>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="richtig"\r\n\r\n'
        b"--falsch\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDas Modul h\xc3\xa4ngt.\r\n--falsch--\r\n"
    )
    maildir.add(raw)
    assert inbound.fetch_support_mail().tickets == 1
    ticket = Ticket.objects.get()
    body = ticket.messages.get().body
    assert body.startswith("Das Modul hängt.\n\nDie E-Mail war nicht vollständig lesbar")
    original = ticket.attachments.get()
    assert (original.filename, original.content_type) == ("original.eml", "message/rfc822")
    assert original.file.read() == raw
    assert "StartBoundaryNotFoundDefect" in InboundMail.objects.get().error


def test_mail_takes_as_many_attachments_as_the_portal(login, maildir):
    from support.services import MAX_ATTACHMENTS_PER_MESSAGE

    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "technik@partner.test", "Sieben Dateien", "<seven@p>"
    msg.set_content("Anbei.")
    for n in range(1, 8):
        msg.add_attachment(f"Datei {n}".encode(), maintype="text", subtype="plain", filename=f"notiz{n}.txt")
    maildir.add(bytes(msg))

    inbound.fetch_support_mail()

    ticket = Ticket.objects.get()
    assert MAX_ATTACHMENTS_PER_MESSAGE == 5
    assert sorted(ticket.attachments.values_list("filename", flat=True)) == [f"notiz{n}.txt" for n in range(1, 6)]
    body = ticket.messages.get().body
    assert "notiz6.txt: höchstens 5 Dateien je Nachricht." in body and "notiz7.txt" in body


def test_mail_that_cannot_be_handled_is_kept_and_staff_are_told(login, maildir, monkeypatch):
    raw = mail("technik@partner.test", "Geht schief", message_id="<fail@p>")
    maildir.add(raw)

    def explode(parsed, **kw):
        raise ValueError("kaputt")

    monkeypatch.setattr(inbound, "_handle", explode)
    assert inbound.fetch_support_mail().failed == 1

    row = InboundMail.objects.get()
    assert (row.outcome, row.sender, row.subject) == ("failed", "technik@partner.test", "Geht schief")
    assert row.original.read() == raw
    notice = OutboxMessage.objects.get(kind="support-staff")
    assert notice.recipients == ["support@vendor.example"]
    assert notice.subject == "E-Mail an den Support nicht verarbeitet: Geht schief"
    assert f"/admin/support/inboundmail/{row.pk}/change/" in notice.body and "ValueError('kaputt')" in notice.body


@pytest.mark.parametrize("group_name,status", [("support", 200), ("sales", 403), ("finance", 403)])
def test_the_original_is_downloaded_by_support_only(client, maildir, monkeypatch, group_name, status):
    from django.contrib.auth.models import Group
    from django.urls import reverse

    from vendorportal.parties.tests.factories import UserFactory

    raw = mail("wer@example.test", "Unlesbar", message_id="<dl@p>")
    maildir.add(raw)
    monkeypatch.setattr(inbound, "_handle", lambda parsed, **kw: 1 / 0)
    inbound.fetch_support_mail()
    row = InboundMail.objects.get()
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)

    response = client.get(reverse("admin:support_inboundmail_original", args=[row.pk]))

    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == raw
        page = client.get(reverse("admin:support_inboundmail_change", args=[row.pk])).content.decode()
        assert "Original herunterladen" in page


def test_a_mail_over_the_size_limit_is_not_read_but_recorded_and_announced(login, maildir, settings):
    settings.SUPPORT_MAIL_MAX_BYTES = 4000
    maildir.add(mail("technik@partner.test", "Riesig", message_id="<big@p>", attachment=("dump.zip", b"x" * 6000)))

    assert inbound.fetch_support_mail().failed == 1

    assert not Ticket.objects.exists()
    row = InboundMail.objects.get()
    assert (row.outcome, row.message_id, row.subject) == ("failed", "<big@p>", "Riesig")
    assert row.error.startswith("Zu groß: 0,0 MB, angenommen werden höchstens 0,0 MB (SUPPORT_MAIL_MAX_BYTES).")
    original = row.original.read()
    assert b"Subject: Riesig" in original and b"xxxx" not in original  # the header only
    assert OutboxMessage.objects.get(kind="support-staff").subject == "E-Mail an den Support nicht verarbeitet: Riesig"
    assert inbound.fetch_support_mail().counts()["failed"] == 0  # seen: not again


def test_an_unusable_staff_address_does_not_stop_the_mailbox(login, maildir, monkeypatch, settings):
    settings.SUPPORT_EMAIL = "kein-gueltiger-empfaenger"
    maildir.add(mail("technik@partner.test", "Erste", message_id="<first@p>"))
    maildir.add(mail("fremd@example.test", "Zweite", message_id="<second@p>"))
    original = inbound._handle

    def first_fails(parsed, **kw):
        if kw["subject"] == "Erste":
            raise ValueError("kaputt")
        return original(parsed, **kw)

    monkeypatch.setattr(inbound, "_handle", first_fails)
    result = inbound.fetch_support_mail()
    assert (result.failed, result.unknown) == (1, 1)
    assert not OutboxMessage.objects.filter(kind="support-staff").exists()
    assert InboundMail.objects.get(message_id="<first@p>").original.read().startswith(b"From: technik@partner.test")


def test_a_forwarded_mail_attached_without_a_name_is_kept_as_eml(login, maildir):
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "kunde@example.test", "Fehlermeldung der Anlage"
    inner.set_content("Lizenz ungültig")
    outer = EmailMessage()
    outer["From"], outer["Subject"], outer["Message-ID"] = "technik@partner.test", "WG: Fehler", "<fwd@p>"
    outer.set_content("Siehe weitergeleitete Mail.")
    outer.add_attachment(inner)  # message/rfc822, no file name
    maildir.add(bytes(outer))

    inbound.fetch_support_mail()

    attachment = Ticket.objects.get().attachments.get()
    assert (attachment.filename, attachment.content_type) == ("nachricht.eml", "message/rfc822")
    kept = attachment.file.read()
    assert b"Subject: Fehlermeldung der Anlage" in kept and b"Lizenz ung" in kept
