"""SUP-4 over HTTP and e-mail: log data recognised by content (archives, log-like text),
by name and by the partner's mark stays locked for staff until a DPA (AV-Vertrag) is on
file; the portal says why."""

import mailbox
import uuid
from datetime import date
from email.message import EmailMessage

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from licensing.models import Product
from support import inbound
from support.models import Attachment, Ticket
from support.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory, make_facts
from vendorportal import roles
from vendorportal.parties.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40
SYSLOG = (
    b"Mar  2 10:15:01 pbx kernel: eth0 link up\n"
    b"Mar  2 10:15:02 pbx asterisk[812]: Registration from '<sip:201@pbx>' failed\n"
    b"Mar  2 10:15:09 pbx systemd[1]: Started Session 4 of user root.\n"
)
TRACE = b'Exception in thread "main" java.lang.NullPointerException\n\tat de.x.Foo.bar(Foo.java:42)\n'


@pytest.fixture
def login():
    return PartnerUserFactory(user__email="technik@partner.test")


@pytest.fixture
def installation(login, modules):  # modules: the catalog the ticket form checks versions against
    return InstallationFactory(customer=CustomerFactory(partner=login.partner))


@pytest.fixture
def support_staff():
    user = UserFactory(username="staff-support", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.SUPPORT))
    return user


def post_ticket(client, installation, files, **extra):
    product = Product.objects.filter(kind="module").order_by("article").first()
    data = {
        "token": uuid.uuid4().hex,
        "installation": installation.pk,
        "urgency": "normal",
        "subject": "Modul hängt",
        "pbx_version": "8.2.0.5",
        "product": product.pk,
        "module_version": "2.1",
        "body": "Siehe Anhang.",
        "files": files,
        **extra,
    }
    response = client.post(reverse("portal:support_ticket_new"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Ticket.objects.get()


def test_log_files_by_content_and_name_are_locked_until_a_dpa(client, login, installation, support_staff, clock):
    clock.set(date(2026, 11, 21))
    client.force_login(login.user)
    ticket = post_ticket(
        client,
        installation,
        [
            SimpleUploadedFile("logs.zip", ZIP),
            SimpleUploadedFile("protokoll.txt", b"Anlage neu gestartet."),
            SimpleUploadedFile("syslog.txt", SYSLOG),
            SimpleUploadedFile("serverlog.txt", TRACE),
            SimpleUploadedFile("brief.txt", b"Sehr geehrte Damen und Herren, bitte um Hilfe."),
        ],
    )
    reasons = dict(ticket.attachments.values_list("filename", "log_reason"))
    assert reasons == {
        "logs.zip": "archive",
        "protokoll.txt": "name",
        "syslog.txt": "log_lines",
        "serverlog.txt": "stack_trace",
        "brief.txt": "",
    }
    # The partner sees why each file is locked.
    page = client.get(reverse("portal:support_ticket", args=[ticket.pk])).content.decode()
    assert page.count("für den Support gesperrt bis zum AV-Vertrag") == 4
    assert "Archiv (ZIP, GZ, TAR, 7Z): der Inhalt kann Logdaten enthalten" in page
    assert "enthält Zeilen mit Zeitstempel oder Log-Level" in page
    assert "enthält einen Stacktrace" in page
    assert "der Dateiname weist auf Logdaten hin" in page

    client.force_login(support_staff)
    by_name = {a.filename: a for a in ticket.attachments.all()}

    def staff_get(name):
        return client.get(reverse("admin:support_ticket_attachment", args=[ticket.pk, by_name[name].pk]))

    for name in ("logs.zip", "protokoll.txt", "syslog.txt", "serverlog.txt"):
        response = staff_get(name)
        assert response.status_code == 403 and "kein AV-Vertrag" in response.content.decode(), name
    assert staff_get("brief.txt").status_code == 200

    make_facts(installation.customer, dpa=date(2026, 11, 21))
    response = staff_get("logs.zip")
    assert response.status_code == 200 and b"".join(response.streaming_content) == ZIP
    client.force_login(login.user)
    page = client.get(reverse("portal:support_ticket", args=[ticket.pk])).content.decode()
    assert "gesperrt bis zum AV-Vertrag" not in page


def test_the_partner_marks_a_reply_s_files_as_log_data(client, login, installation, clock):
    clock.set(date(2026, 11, 21))
    client.force_login(login.user)
    ticket = post_ticket(client, installation, [SimpleUploadedFile("bild.png", b"\x89PNG\r\n\x1a\n\x00\x00")])
    assert not ticket.attachments.get().is_log
    page = client.get(reverse("portal:support_ticket", args=[ticket.pk])).content.decode()
    assert "enthält Logdaten" in page  # the checkbox on the reply form
    response = client.post(
        reverse("portal:support_ticket", args=[ticket.pk]),
        {
            "token": uuid.uuid4().hex,
            "body": "Noch ein Bildschirmfoto der Konsole.",
            "log_data": "on",
            "files": [SimpleUploadedFile("konsole.png", b"\x89PNG\r\n\x1a\n\x00\x01")],
        },
    )
    assert response.status_code == 302
    marked = ticket.attachments.get(filename="konsole.png")
    assert (marked.is_log, marked.log_reason) == (True, "marked")
    page = client.get(reverse("portal:support_ticket", args=[ticket.pk])).content.decode()
    assert "vom Partner als Logdaten markiert" in page


def test_the_new_ticket_form_s_mark_locks_its_files(client, login, installation):
    client.force_login(login.user)
    ticket = post_ticket(client, installation, [SimpleUploadedFile("notiz.txt", b"Hallo")], log_data="on")
    assert ticket.attachments.get().log_reason == "marked"


def test_staff_files_are_never_locked(login, installation, support_staff):
    from support import services

    client_ticket = services.ticket_open(
        partner=login.partner, by=login.user, kind="feature", subject="Wunsch", body="Bitte.", installation=installation
    )
    services.ticket_reply(
        ticket=client_ticket,
        by=support_staff,
        body="Anbei",
        from_staff=True,
        internal=True,
        files=[SimpleUploadedFile("debug.zip", ZIP)],
    )
    assert Attachment.objects.get().is_log is False


def mail_with(attachments) -> bytes:
    msg = EmailMessage()
    msg["From"] = "technik@partner.test"
    msg["To"] = "support@vendor.example"
    msg["Subject"] = "Anlage hängt"
    msg["Message-ID"] = "<logs@partner.test>"
    msg.set_content("Logs anbei.")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return bytes(msg)


def test_mail_attachments_go_through_the_same_check(login, settings):
    box = mailbox.Maildir(settings.SUPPORT_MAILDIR, create=True)
    box.add(
        mail_with(
            [
                ("logs.zip", ZIP),
                ("anlage.txt", SYSLOG),
                ("serverlog.txt", b"kurz"),
                ("bild.png", b"\x89PNG\r\n\x1a\n\x00\x00"),
            ]
        )
    )
    inbound.fetch_support_mail()
    ticket = Ticket.objects.get()
    assert dict(ticket.attachments.values_list("filename", "log_reason")) == {
        "logs.zip": "archive",
        "anlage.txt": "log_lines",
        "serverlog.txt": "name",
        "bild.png": "",
    }
    assert ticket.attachments.get(filename="anlage.txt").file.read() == SYSLOG  # read back whole after the sniff
