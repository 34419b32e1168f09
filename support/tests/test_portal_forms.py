"""The support desk's portal forms against garbage and double posts (issue 12): every
field filled with garbage comes back with a German message at the field and writes
nothing; the same new-ticket form posted twice opens one ticket (the form's one-time
token, stored on the ticket under a unique constraint per partner)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse

from licensing.models import Product
from support import services
from support.models import Attachment, Ticket, TicketMessage
from support.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    login = PartnerUserFactory(user__email="technik@partner.test")
    client.force_login(login.user)
    return login


@pytest.fixture
def callrec(modules):
    return Product.objects.get(article="CALLREC")


def nothing_written():
    return not (
        Ticket.objects.exists()
        or TicketMessage.objects.exists()
        or Attachment.objects.exists()
        or OutboxMessage.objects.exists()
    )


def field_errors(response) -> dict[str, list[str]]:
    form = response.context["form"]
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def valid_ticket(**fields):
    return {
        "token": uuid.uuid4().hex,
        "urgency": "normal",
        "subject": "Aufzeichnungen brechen ab",
        "pbx_version": "8.2.0.5",
        "module_version": "2.1",
        "body": "Seit gestern brechen alle Aufzeichnungen nach 2 Minuten ab.",
        **fields,
    }


def test_garbage_in_every_field_of_a_new_ticket(client, login, callrec):
    foreign = InstallationFactory(customer=CustomerFactory())
    response = client.post(
        reverse("portal:support_ticket_new"),
        {
            "token": "x" * 200,
            "installation": foreign.pk,
            "urgency": "sofort!!",
            "subject": "B" * 201,
            "pbx_version": "99.9",
            "product": "kein-modul",
            "module_version": "v" * 30,
            "body": "   ",
            "files": [SimpleUploadedFile("setup.exe", b"MZ\x90\x00", content_type="application/octet-stream")],
        },
    )
    assert response.status_code == 200
    assert field_errors(response) == {
        "token": ["Das Formular ist abgelaufen; bitte die Seite neu laden."],
        "installation": ["Diese Installation gibt es bei Ihren Kunden nicht."],
        "urgency": ["Bitte kritisch, hoch, normal oder niedrig wählen."],
        "subject": [
            "Bitte sicherstellen, dass der Wert aus höchstens 200 Zeichen besteht. (Er besteht aus 201 Zeichen.)"
        ],
        "pbx_version": ["Diese STARFACE-Version kennen wir nicht."],
        "product": ["Dieses Modul gibt es nicht."],
        "module_version": [
            "Bitte sicherstellen, dass der Wert aus höchstens 20 Zeichen besteht. (Er besteht aus 30 Zeichen.)"
        ],
        "body": ["Dieses Feld ist zwingend erforderlich."],
        "files": [
            "Dateien vom Typ „.exe“ nehmen wir nicht an. Erlaubt sind: .csv, .eml, .gif, .gz, .jpeg, .jpg, .json, "
            ".log, .pdf, .png, .txt, .xml, .zip."
        ],
    }
    page = response.content.decode()
    # Nine alerts: the hidden token's message on top of the form, eight at their fields.
    assert page.count('role="alert"') == 9 and "Dies ist keine gültige Auswahl" not in page
    assert "Das Formular ist abgelaufen; bitte die Seite neu laden." in page
    assert nothing_written()


def test_garbage_on_bug_report_and_feature_request(client, login, callrec):
    garbage = {
        "token": uuid.uuid4().hex,
        "subject": "\x00",
        "body": "Absturz\x00",
        "product": "-1",
        "module_version": "2.1",
    }
    # NUL bytes are refused for the whole request before any form (issue 17: a German 400).
    response = client.post(reverse("portal:support_bug_report"), garbage)
    assert response.status_code == 400 and "NUL-Byte" in response.content.decode()
    response = client.post(reverse("portal:support_bug_report"), {**garbage, "subject": "", "body": "Absturz"})
    errors = field_errors(response)
    assert errors["subject"] == ["Dieses Feld ist zwingend erforderlich."]
    assert "body" not in errors
    assert errors["product"] == ["Dieses Modul gibt es nicht."]
    assert errors["pbx_version"] == ["Dieses Feld ist zwingend erforderlich."]
    # A feature request has no urgency: a posted one is ignored, not an error.
    response = client.post(
        reverse("portal:support_feature_request"),
        {"subject": "Dunkelmodus", "body": "Bitte", "urgency": "egal", "pbx_version": "1.0"},
    )
    assert field_errors(response) == {
        "token": ["Das Formular ist abgelaufen; bitte die Seite neu laden."],
        "pbx_version": ["Diese STARFACE-Version kennen wir nicht."],
    }
    assert nothing_written()


def test_a_known_module_with_an_unknown_version(client, login, callrec):
    response = client.post(reverse("portal:support_ticket_new"), valid_ticket(product=callrec.pk, module_version="9.9"))
    assert field_errors(response) == {"module_version": ["Version 9.9 von Call Recording gibt es nicht."]}
    assert nothing_written()


def test_garbage_in_the_reply_form_writes_nothing(client, login, callrec):
    ticket = services.ticket_open(
        partner=login.partner, by=login.user, kind="feature", subject="Dunkelmodus", body="Bitte"
    )
    before = (TicketMessage.objects.count(), OutboxMessage.objects.count())
    url = reverse("portal:support_ticket", args=[ticket.pk])
    nul = client.post(url, {"token": "t1", "body": "\x00"})
    assert nul.status_code == 400 and "NUL-Byte" in nul.content.decode()  # issue 17: refused before the form
    response = client.post(
        url,
        {
            "token": "t" * 41,
            "body": "",
            "files": [SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(6)],
        },
    )
    assert response.status_code == 200
    assert field_errors(response) == {
        "token": ["Das Formular ist abgelaufen; bitte die Seite neu laden."],
        "body": ["Dieses Feld ist zwingend erforderlich."],
        "files": ["Höchstens 5 Dateien je Nachricht."],
    }
    assert field_errors(client.post(url, {"token": "t1", "body": "   "})) == {
        "body": ["Dieses Feld ist zwingend erforderlich."]
    }
    assert (TicketMessage.objects.count(), OutboxMessage.objects.count()) == before
    assert not Attachment.objects.exists()


def test_garbage_in_the_query_string_is_ignored(client, login):
    assert client.get(reverse("portal:support_tickets"), {"status": "'; DROP TABLE"}).status_code == 200
    assert client.get(reverse("portal:support_ticket_new"), {"art": "<script>"}).status_code == 200
    response = client.get(reverse("portal:support_kb"), {"q": "ä" * 5000, "tag": "x" * 500})
    assert response.status_code == 200 and "Keine Artikel gefunden." in response.content.decode()
    assert client.get("/portal/support/999999/").status_code == 404
    assert client.get("/portal/wissen/gibt-es-nicht/").status_code == 404


# --- double posts ----------------------------------------------------------------------------


def test_the_same_form_posted_twice_opens_one_ticket(client, login, callrec):
    data = valid_ticket(product=callrec.pk, files=[SimpleUploadedFile("callrec.log", b"ERROR")])
    first = client.post(reverse("portal:support_ticket_new"), data)
    outbox_after_first = OutboxMessage.objects.count()
    data["files"] = [SimpleUploadedFile("callrec.log", b"ERROR")]
    second = client.post(reverse("portal:support_ticket_new"), data)
    ticket = Ticket.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("portal:support_ticket", args=[ticket.pk])
    # One first message, one file, and the e-mails of one ticket (partner + staff), not two.
    assert (TicketMessage.objects.count(), Attachment.objects.count()) == (1, 1)
    assert outbox_after_first == OutboxMessage.objects.count() == 2
    assert ticket.number.endswith("-00001")


def test_a_new_form_opens_a_new_ticket_and_tokens_are_per_partner(client, login, callrec):
    token = uuid.uuid4().hex
    client.post(reverse("portal:support_ticket_new"), valid_ticket(product=callrec.pk, token=token))
    client.post(reverse("portal:support_ticket_new"), valid_ticket(product=callrec.pk))
    other = PartnerUserFactory()
    client.force_login(other.user)
    client.post(reverse("portal:support_ticket_new"), valid_ticket(product=callrec.pk, token=token))
    assert Ticket.objects.filter(partner=login.partner).count() == 2
    assert Ticket.objects.filter(partner=other.partner).count() == 1
    # The numbers have no gap: the duplicate drew none.
    assert sorted(int(t.number.rsplit("-", 1)[1]) for t in Ticket.objects.all()) == [1, 2, 3]


def test_each_new_form_carries_a_fresh_token(client, login):
    tokens = {client.get(reverse("portal:support_ticket_new")).context["form"].initial["token"] for _ in range(3)}
    assert len(tokens) == 3 and all(len(t) == 32 for t in tokens)


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_the_same_form_at_the_same_moment_open_one_ticket(callrec):
    """Both requests pass the look-up before either has committed: the unique constraint
    decides (PostgreSQL with DATABASE_URL; SQLite's write lock otherwise)."""
    login = PartnerUserFactory()
    token = uuid.uuid4().hex
    barrier = threading.Barrier(2)
    results, errors = [], []

    def post():
        try:
            barrier.wait(timeout=30)
            ticket = services.ticket_open(
                partner=login.partner,
                by=login.user,
                kind="feature",
                subject="Dunkelmodus",
                body="Bitte",
                portal_token=token,
            )
            results.append(ticket.pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    ticket = Ticket.objects.get()
    assert results == [ticket.pk, ticket.pk]
    assert TicketMessage.objects.count() == 1
    assert ticket.number.endswith("-00001")
    assert connection.vendor in ("postgresql", "sqlite")
