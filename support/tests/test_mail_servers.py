"""Mail against real servers: Dovecot over IMAPS and aiosmtpd with STARTTLS and implicit
TLS, started on 127.0.0.1 by the fixtures (support/tests/mailservers.py), with a CA and
certificate made here. What a mail administrator checks: the certificate is verified
before the password leaves, every failure is one German line, a silent server ends
within SUPPORT_MAIL_TIMEOUT, and the portal's mails say who they come from, where
answers go and that they are automatic."""

from __future__ import annotations

import email
import imaplib
import io
import os
import ssl
import subprocess
import sys
import time
from email import policy
from email.message import EmailMessage

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction

from support import rules
from support.models import InboundMail, Ticket
from support.tests.factories import PartnerUserFactory
from support.tests.mailservers import dovecot_server, make_tls_files, silent_server, smtp_server
from vendorportal.models import OutboxMessage
from vendorportal.outbox import outbox_enqueue, outbox_send

pytestmark = [
    pytest.mark.django_db,
    # One worker runs the whole module under pytest-xdist: its Dovecot and SMTP servers are
    # module fixtures on the first free port of a small range, and two workers starting them at
    # once raced for the same port.
    pytest.mark.xdist_group("mailservers"),
    # aiosmtpd with implicit TLS: "AUTH while not requiring TLS" means not STARTTLS there.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]


@pytest.fixture(scope="module")
def dovecot():
    with dovecot_server() as server:
        yield server


@pytest.fixture
def imap_settings(settings, dovecot):
    settings.SUPPORT_IMAP_URL = dovecot.url()
    settings.SUPPORT_MAIL_CA_FILE = str(dovecot.tls.ca)
    settings.SUPPORT_MAIL_TIMEOUT = 5
    return settings


def partner_mail(subject: str, message_id: str, *, sender="technik@partner.test", headers=None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@vendor.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content("Das Modul startet nicht.")
    return bytes(msg)


def fetch(**kwargs) -> tuple[int, str, str]:
    """Run the command as staff would; (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("fetch_support_mail", stdout=out, stderr=err, **kwargs)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def dovecot_log(dovecot) -> str:
    return (dovecot.base / "dovecot.log").read_text(errors="replace")


def unseen(dovecot) -> list[bytes]:
    conn = imaplib.IMAP4_SSL(
        "127.0.0.1", dovecot.port, ssl_context=ssl.create_default_context(cafile=str(dovecot.tls.ca)), timeout=5
    )
    try:
        conn.login(dovecot.user, dovecot.password)
        conn.select("INBOX")
        return conn.uid("SEARCH", None, "UNSEEN")[1][0].split()
    finally:
        conn.logout()


# --- IMAP -------------------------------------------------------------------------------------


def test_verified_imaps_reads_the_mailbox_and_marks_it_seen(imap_settings, dovecot):
    login = PartnerUserFactory(user__email="technik@partner.test")
    dovecot.deliver(partner_mail("Modul startet nicht", "<dovecot-1@partner.test>"))

    status, out, err = fetch()

    assert (status, err) == (0, "")
    assert "Neue Tickets: 1" in out
    ticket = Ticket.objects.get()
    assert (ticket.partner, ticket.subject, ticket.channel) == (login.partner, "Modul startet nicht", "email")
    assert unseen(dovecot) == []  # flagged \Seen on the server: the next run reads nothing
    assert "Neue Tickets: 0" in fetch()[1]


def test_certificate_of_an_unknown_ca_is_refused_before_the_password_is_sent(settings, dovecot):
    settings.SUPPORT_IMAP_URL = dovecot.url()
    settings.SUPPORT_MAIL_CA_FILE = ""  # system CAs: they do not know the test CA
    logins_before = dovecot_log(dovecot).count("Login: user=")

    status, out, err = fetch()

    assert status == 2 and out == ""
    assert err.startswith(f"Das Zertifikat des Mailservers 127.0.0.1:{dovecot.port} ist nicht vertrauenswürdig")
    assert "SUPPORT_MAIL_CA_FILE" in err and err.count("\n") == 1
    log = dovecot_log(dovecot)
    assert log.count("Login: user=") == logins_before and "auth failed" not in log


def test_command_line_gives_one_german_line_and_exit_status_2(dovecot, tmp_path):
    """As an administrator runs it: no traceback, one line, non-zero exit."""
    other_ca = make_tls_files(tmp_path)  # a CA that did not sign the server's certificate
    env = {
        **os.environ,
        "SUPPORT_IMAP_URL": dovecot.url(),
        "SUPPORT_MAIL_CA_FILE": str(other_ca.ca),
        "SUPPORT_MAIL_TIMEOUT": "5",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "fetch_support_mail"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert "ist nicht vertrauenswürdig" in done.stderr


def test_wrong_password_is_one_german_line(imap_settings, dovecot):
    imap_settings.SUPPORT_IMAP_URL = dovecot.url(password="falsch")

    status, _out, err = fetch()

    assert status == 2
    assert err.startswith(f"Anmeldung am Support-Postfach 127.0.0.1:{dovecot.port} abgelehnt")
    assert "Benutzername oder Passwort falsch" in err and err.count("\n") == 1


def test_a_password_with_umlauts_logs_in(imap_settings, dovecot):
    imap_settings.SUPPORT_IMAP_URL = dovecot.url(user=dovecot.user_with_umlauts, password=dovecot.password_with_umlauts)
    assert fetch()[:2] == (
        0,
        "Neue Tickets: 0, Antworten: 0, unbekannte Absender: 0, automatische Nachrichten: 0, "
        "schon verarbeitet: 0, nicht verarbeitbar: 0\n",
    )
    imap_settings.SUPPORT_IMAP_URL = dovecot.url(user=dovecot.user_with_umlauts, password="Schlüssel-falsch")
    status, _out, err = fetch()
    assert status == 2 and "Benutzername oder Passwort falsch" in err


def test_missing_folder_is_one_german_line(imap_settings, dovecot):
    imap_settings.SUPPORT_IMAP_URL = dovecot.url(folder="Support%20Eingang")

    status, _out, err = fetch()

    assert status == 2
    assert err.startswith("Den Ordner „Support Eingang“ gibt es im Support-Postfach nicht")
    assert err.count("\n") == 1


def test_a_folder_with_umlauts_is_read(imap_settings, dovecot):
    PartnerUserFactory(user__email="technik@partner.test")
    conn = imaplib.IMAP4_SSL(
        "127.0.0.1", dovecot.port, ssl_context=ssl.create_default_context(cafile=str(dovecot.tls.ca)), timeout=5
    )
    conn.login(dovecot.user, dovecot.password)
    assert conn.create('"Anfragen Pr&APw-fung"')[0] == "OK"  # "Anfragen Prüfung", RFC 3501 § 5.1.3
    assert conn.append('"Anfragen Pr&APw-fung"', None, None, partner_mail("Im Ordner", "<umlaut@p>"))[0] == "OK"
    conn.logout()
    imap_settings.SUPPORT_IMAP_URL = dovecot.url(folder="Anfragen%20Pr%C3%BCfung")

    status, out, err = fetch()

    assert (status, err) == (0, "") and "Neue Tickets: 1" in out
    assert Ticket.objects.get().subject == "Im Ordner"


def test_a_server_that_never_answers_ends_within_the_timeout(imap_settings):
    imap_settings.SUPPORT_MAIL_TIMEOUT = 1
    with silent_server() as port:
        imap_settings.SUPPORT_IMAP_URL = f"imaps://support:geheim@127.0.0.1:{port}/INBOX"
        started = time.monotonic()
        status, _out, err = fetch()
        took = time.monotonic() - started

    assert status == 2
    assert err.startswith(f"Der Mailserver 127.0.0.1:{port} antwortet nicht (nach 1 Sekunden abgebrochen")
    assert 0.9 <= took < 3  # one timeout, not a hang


def test_a_closed_port_is_unreachable(imap_settings, dovecot):
    with silent_server() as port:
        pass  # closed again: nobody listens there now
    imap_settings.SUPPORT_IMAP_URL = f"imaps://support:geheim@127.0.0.1:{port}/INBOX"

    status, _out, err = fetch()

    assert status == 2 and err.startswith(f"Der Mailserver 127.0.0.1:{port} ist nicht erreichbar")


def test_a_mail_over_the_size_limit_is_left_on_the_server_and_announced(imap_settings, dovecot):
    imap_settings.SUPPORT_MAIL_MAX_BYTES = 100 * 1024  # 0,1 MB
    PartnerUserFactory(user__email="technik@partner.test")
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "technik@partner.test", "Speicherabbild", "<big@partner.test>"
    msg.set_content("Anbei das Abbild.")
    msg.add_attachment(os.urandom(150 * 1024), maintype="application", subtype="zip", filename="dump.zip")
    dovecot.deliver(bytes(msg))

    status, out, _err = fetch()

    assert status == 0 and "nicht verarbeitbar: 1" in out
    row = InboundMail.objects.get(message_id="<big@partner.test>")
    # 150 KiB in base64: about 0,2 MB
    assert row.outcome == "failed" and row.error.startswith("Zu groß: 0,2 MB, angenommen werden höchstens 0,1 MB")
    assert len(row.original.read()) < 2000  # the header, not the 200 KB body
    assert not Ticket.objects.exists()
    assert OutboxMessage.objects.filter(kind="support-staff", subject__contains="Speicherabbild").count() == 1


def test_the_periodic_task_records_the_german_error_and_does_not_retry(imap_settings, dovecot):
    from support import tasks
    from support.exceptions import MailboxError
    from vendorportal.models import JobRun

    imap_settings.SUPPORT_IMAP_URL = dovecot.url(password="falsch")
    with pytest.raises(MailboxError):
        tasks.fetch_support_mail.apply(throw=True)
    run = JobRun.objects.get(name="support-mail")
    assert not run.ok and "Benutzername oder Passwort falsch" in run.summary


# --- SMTP -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp_tls(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("smtp-tls"))


def smtp_settings(settings, server, *, starttls: bool):
    settings.EMAIL_BACKEND = "vendorportal.mail_backend.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = server.user, server.password
    settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = starttls, not starttls
    settings.EMAIL_CA_FILE = str(server.tls.ca)
    settings.EMAIL_TIMEOUT = 5


def received(server) -> email.message.EmailMessage:
    assert len(server.messages) == 1
    return email.message_from_bytes(server.messages[0].original_content, policy=policy.default)


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_ticket_mail_goes_out_with_support_sender_reply_to_and_auto_submitted(settings, smtp_tls, mode):
    settings.SUPPORT_FROM_EMAIL = "Support Fluxpunkt <support@vendor.example>"
    settings.SUPPORT_REPLY_TO = "support-postfach@vendor.example"
    login = PartnerUserFactory(user__email="technik@partner.test")
    from support import services

    ticket = services.ticket_open(
        partner=login.partner,
        by=login.user,
        kind=rules.SUPPORT_REQUEST,
        subject="Modul startet nicht",
        body="Bitte helfen.",
        channel=Ticket.EMAIL,
        contact_email="technik@partner.test",
    )
    row = OutboxMessage.objects.get(kind="support-partner", recipients=["technik@partner.test"])
    with smtp_server(smtp_tls, mode) as server:
        smtp_settings(settings, server, starttls=mode == "starttls")
        assert outbox_send(message_id=row.pk)
        sent = received(server)

    assert server.messages[0].rcpt_tos == ["technik@partner.test"]
    assert sent["From"] == "Support Fluxpunkt <support@vendor.example>"
    assert sent["Reply-To"] == "support-postfach@vendor.example"
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["Subject"].startswith(f"[{ticket.number}] ")


def test_every_outbox_mail_says_auto_submitted_and_the_smtp_certificate_is_verified(settings, smtp_tls, tmp_path):
    with transaction.atomic():
        row = outbox_enqueue(
            kind="support-staff",
            dedup_key="smtp-test-staff",
            recipients=["team@vendor.example"],
            subject="Neues Ticket",
            body="Text",
        )
    with smtp_server(smtp_tls, "starttls") as server:
        smtp_settings(settings, server, starttls=True)
        settings.EMAIL_CA_FILE = str(make_tls_files(tmp_path).ca)  # not the CA of this server
        assert not outbox_send(message_id=row.pk)
        row.refresh_from_db()
        assert "CERTIFICATE_VERIFY_FAILED" in row.last_error and server.messages == []

        settings.EMAIL_CA_FILE = str(smtp_tls.ca)
        OutboxMessage.objects.filter(pk=row.pk).update(due_at=row.created_at)
        assert outbox_send(message_id=row.pk)
        sent = received(server)

    assert sent["Auto-Submitted"] == "auto-generated" and sent["Reply-To"] is None  # staff notice: no Reply-To


def test_an_out_of_office_reply_through_the_real_mailbox_neither_answers_nor_reopens(imap_settings, dovecot):
    """The loop of the report: our ticket mail, the partner's auto-responder answers it."""
    from support import services

    login = PartnerUserFactory(user__email="technik@partner.test")
    ticket = services.ticket_open(
        partner=login.partner,
        by=login.user,
        kind=rules.SUPPORT_REQUEST,
        subject="Frage",
        body="Text",
        channel=Ticket.EMAIL,
    )
    services.ticket_set_status(ticket=ticket, status=rules.SOLVED)
    outbox_before = OutboxMessage.objects.count()
    dovecot.deliver(
        partner_mail(
            f"Automatische Antwort: [{ticket.number}] Status geändert",
            "<ooo-1@partner.test>",
            headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
        )
    )

    status, out, _err = fetch()

    ticket.refresh_from_db()
    assert status == 0 and "automatische Nachrichten: 1" in out
    assert ticket.status == rules.SOLVED
    assert OutboxMessage.objects.count() == outbox_before
    assert ticket.messages.last().body.startswith("Automatische Antwort (Auto-Submitted: auto-replied)")
    assert InboundMail.objects.get(message_id="<ooo-1@partner.test>").outcome == "automatic"
