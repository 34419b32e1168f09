"""Support through the API (issue 19): tickets, replies, attachments within SUP-4 (log data is
stored locked for the support until an AV-Vertrag is on file), the knowledge base (SUP-8)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from api.services import api_token_create
from api.tests.helpers import BASE, call, content
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory
from support.models import Article, Attachment, Ticket, TicketMessage
from support.tests.factories import make_facts
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(modules, clock):
    clock.set(date(2026, 11, 23))  # a Monday
    partner = PartnerFactory(company="Muster Kommunikation GmbH")
    admin = PartnerUserFactory(partner=partner, role="admin")
    other = PartnerFactory(company="Andere GmbH")
    return {
        "partner": partner,
        "admin": admin,
        "secret": api_token_create(partner=partner, name="Helpdesk", scopes=["support"], by=admin.user).secret,
        "reader": api_token_create(partner=partner, name="Leser", scopes=["read"]).secret,
        "other_secret": api_token_create(partner=other, name="Fremd", scopes=["support"]).secret,
        "installation": InstallationFactory(customer=CustomerFactory(partner=partner)),
    }


def upload(secret, ticket_id, name, data: bytes, **fields):
    client = Client()
    return client.post(
        f"{BASE}/tickets/{ticket_id}/attachments",
        {"file": SimpleUploadedFile(name, data), **fields},
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


FEATURE = {"kind": "feature", "subject": "Export als CSV", "body": "Bitte einen CSV-Export der Anrufliste."}


def test_open_reply_and_read_a_ticket(world):
    inst = world["installation"]
    opened = call("post", "/tickets", world["secret"], {**FEATURE, "installation_id": inst.pk})
    assert opened.status_code == 201, opened.content
    ticket = Ticket.objects.get()
    assert (ticket.partner, ticket.installation, ticket.kind) == (world["partner"], inst, "feature")
    assert opened.json()["number"] == ticket.number and opened.json()["messages"][0]["body"] == FEATURE["body"]
    assert ticket.history.earliest().history_change_reason.startswith("API: Helpdesk")
    reply = call("post", f"/tickets/{ticket.pk}/messages", world["secret"], {"body": "Auch als Excel bitte."})
    assert reply.status_code == 201 and [m["body"] for m in reply.json()["messages"]][-1] == "Auch als Excel bitte."
    listed = call("get", "/tickets?kind=feature", world["secret"]).json()["results"]
    assert [t["number"] for t in listed] == [ticket.number]
    assert call("get", "/tickets?status=solved", world["secret"]).json()["results"] == []
    assert call("get", "/tickets?status=bogus", world["secret"]).status_code == 422


def test_the_same_idempotency_key_opens_one_ticket_and_stores_one_reply(world):
    first = call("post", "/tickets", world["secret"], FEATURE, HTTP_IDEMPOTENCY_KEY="t-1")
    second = call("post", "/tickets", world["secret"], FEATURE, HTTP_IDEMPOTENCY_KEY="t-1")
    assert first.json()["id"] == second.json()["id"] and Ticket.objects.count() == 1
    ticket_id = first.json()["id"]
    for _n in range(2):
        call(
            "post", f"/tickets/{ticket_id}/messages", world["secret"], {"body": "Nachtrag"}, HTTP_IDEMPOTENCY_KEY="r-1"
        )
    assert TicketMessage.objects.filter(ticket_id=ticket_id).count() == 2  # the first message and one reply


def test_a_support_request_needs_the_versions_sup7(world):
    response = call("post", "/tickets", world["secret"], {"kind": "support", "subject": "Geht nicht", "body": "x"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"pbx_version", "product", "module_version"} <= fields
    unknown = call("post", "/tickets", world["secret"], {**FEATURE, "module": "GIBTSNICHT"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "module"
    ok = {"kind": "support", "subject": "Geht nicht", "body": "x", "pbx_version": "8.2.0.5"}
    ok.update(module="INTERCOM", module_version="2.1")
    assert call("post", "/tickets", world["secret"], ok).status_code == 201
    assert call("post", "/tickets", world["secret"], {**FEATURE, "subject": ""}).status_code == 422
    assert call("post", "/tickets", world["secret"], {**FEATURE, "urgency": "sofort"}).status_code == 422
    assert Ticket.objects.count() == 1


def test_attachments_log_data_locked_without_dpa_sup4(world):
    ticket_id = call(
        "post", "/tickets", world["secret"], {**FEATURE, "installation_id": world["installation"].pk}
    ).json()["id"]
    log = upload(world["secret"], ticket_id, "server.log", b"2026-11-23 10:00:01 ERROR java.lang.NoSuchMethodError\n")
    assert log.status_code == 201, log.content
    assert (log.json()["is_log"], log.json()["locked_for_support"]) == (True, True)
    shot = upload(world["secret"], ticket_id, "bild.png", b"\x89PNG\r\n\x1a\n")
    assert (shot.json()["is_log"], shot.json()["locked_for_support"]) == (False, False)
    marked = upload(world["secret"], ticket_id, "notiz.txt", b"nur Text", log_data="true")
    assert marked.json()["is_log"] is True
    refused = upload(world["secret"], ticket_id, "virus.exe", b"MZ")
    assert refused.status_code == 422 and refused.json()["code"] == "type"
    assert Attachment.objects.count() == 3
    # With an AV-Vertrag on file the log files are open for the support.
    make_facts(world["installation"].customer, dpa=date(2026, 11, 1))
    detail = call("get", f"/tickets/{ticket_id}", world["secret"]).json()
    assert detail["dpa_on_file"] is True
    assert [a["locked_for_support"] for a in detail["attachments_without_message"]] == [False, False, False]
    download = call("get", f"/tickets/{ticket_id}/attachments/{log.json()['id']}", world["secret"])
    assert download.status_code == 200 and content(download).startswith(b"2026-11-23 10:00:01 ERROR")
    assert upload(world["secret"], ticket_id, "leer.txt", b"", log_data="vielleicht").status_code == 422


def test_support_isolation_and_scope(world):
    ticket_id = call("post", "/tickets", world["secret"], FEATURE).json()["id"]
    att = upload(world["secret"], ticket_id, "a.txt", b"hallo").json()["id"]
    other = world["other_secret"]
    assert call("get", f"/tickets/{ticket_id}", other).status_code == 404
    assert call("post", f"/tickets/{ticket_id}/messages", other, {"body": "x"}).status_code == 404
    assert upload(other, ticket_id, "b.txt", b"x").status_code == 404
    assert call("get", f"/tickets/{ticket_id}/attachments/{att}", other).status_code == 404
    assert call("get", "/tickets", other).json()["results"] == []
    assert call("get", "/tickets", world["reader"]).status_code == 403
    foreign_inst = InstallationFactory(customer=CustomerFactory(partner=PartnerFactory()))
    assert call("post", "/tickets", world["secret"], {**FEATURE, "installation_id": foreign_inst.pk}).status_code == 404


def test_knowledge_base_search_public_and_internal_sup8(world):
    Article.objects.create(title="Modul lädt nicht", slug="modul-laedt-nicht", body="NoSuchMethodError: Version prüfen")
    Article.objects.create(
        title="Interne Diagnose", slug="interne-diagnose", body="Version und Log", visibility=Article.INTERNAL
    )
    found = call("get", "/knowledge-base?q=Version", world["secret"]).json()["results"]
    assert [a["slug"] for a in found] == ["modul-laedt-nicht"]  # no contract: public only
    article = call("get", "/knowledge-base/modul-laedt-nicht", world["secret"]).json()
    assert "NoSuchMethodError" in article["body"]
    assert call("get", "/knowledge-base/interne-diagnose", world["secret"]).status_code == 404
    assert call("get", "/knowledge-base/..%2Fx", world["secret"]).status_code in (404, 422)
    make_facts(world["installation"].customer, contract_until=date(2027, 12, 31))
    found = call("get", "/knowledge-base?q=Version", world["secret"]).json()["results"]
    assert sorted(a["slug"] for a in found) == ["interne-diagnose", "modul-laedt-nicht"]


def test_tickets_list_keeps_its_query_count(world, django_assert_max_num_queries):
    for size in (3, 40):
        while Ticket.objects.count() < size:
            call("post", "/tickets", world["secret"], FEATURE)
        with django_assert_max_num_queries(10):
            response = call("get", "/tickets?page_size=100", world["secret"])
        assert len(response.json()["results"]) == size
