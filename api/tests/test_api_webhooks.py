"""Webhook endpoints through the API and the portal page "Webhooks" (issue 19): the secret
shown once and stored encrypted, validation (HTTPS, public address, events), pause/resume,
the delivery log with "erneut senden", tenant isolation (another partner's ids → 404) and
partner admins only."""

import json
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from api.services import api_token_create
from billing.tests.factories import make_partner
from vendorportal.parties.tests.factories import PartnerUserFactory
from vendorportal.webhooks.crypto import secret_decrypt
from vendorportal.webhooks.events import webhook_event_emit
from vendorportal.webhooks.models import WebhookDelivery, WebhookEndpoint
from vendorportal.webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db
BASE = "/api/v1"


@pytest.fixture
def world(clock):
    clock.set(date(2026, 11, 21))
    mine = make_partner(company="Muster Kommunikation GmbH")
    other = make_partner(company="Andere GmbH")
    login = PartnerUserFactory(partner=mine, role="admin")
    foreign = webhook_endpoint_create(partner=other, url="https://andere.example/in", events=["invoice.paid"])
    return {
        "mine": mine,
        "other": other,
        "login": login,
        "token": api_token_create(partner=mine, name="ERP", scopes=["read"], by=login.user).secret,
        "orders_only": api_token_create(partner=mine, name="Shop", scopes=["order"]).secret,
        "foreign": foreign.endpoint,
    }


def call(method, path, secret, body=None):
    kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body is not None else {}
    return getattr(Client(), method)(f"{BASE}{path}", HTTP_AUTHORIZATION=f"Bearer {secret}", **kwargs)


def _delivery_for(endpoint):
    from django.db import transaction

    with transaction.atomic():
        event = webhook_event_emit(
            partner=endpoint.partner, event="invoice.paid", payload={"id": 1}, dedup_key=f"k-{endpoint.pk}"
        )
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def test_create_shows_the_secret_once_and_stores_it_encrypted(world):
    response = call(
        "post", "/webhooks", world["token"], {"url": "https://erp.muster.example/hooks", "events": ["invoice.paid"]}
    )
    assert response.status_code == 201
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and body["secret_hint"] == secret[:12]
    assert (body["events"], body["state"]) == (["invoice.paid"], "active")
    stored = WebhookEndpoint.objects.get(pk=body["id"])
    assert secret not in stored.secret_encrypted and secret_decrypt(stored.secret_encrypted) == secret
    again = call("get", f"/webhooks/{body['id']}", world["token"]).json()
    assert "secret" not in again and again["secret_hint"] == secret[:12]
    listed = call("get", "/webhooks", world["token"]).json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]  # not the other partner's


@pytest.mark.parametrize(
    "body,words",
    [
        ({"url": "http://erp.muster.example/hooks", "events": ["invoice.paid"]}, "nur an HTTPS"),
        ({"url": "https://10.0.0.8/hooks", "events": ["invoice.paid"]}, "nicht öffentlich"),
        ({"url": "https://169.254.169.254/", "events": ["invoice.paid"]}, "nicht öffentlich"),
        ({"url": "https://[::1]/", "events": ["invoice.paid"]}, "nicht öffentlich"),
        ({"url": "https://erp.muster.example/hooks", "events": ["invoice.lost"]}, "gültiges Ereignis"),
    ],
)
def test_invalid_endpoints_are_422_with_a_german_reason_and_nothing_stored(world, body, words):
    response = call("post", "/webhooks", world["token"], body)
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert words in response.json()["detail"]
    assert not WebhookEndpoint.objects.filter(partner=world["mine"]).exists()


def test_patch_pauses_resumes_and_changes_events(world):
    created = call("post", "/webhooks", world["token"], {"url": "https://a.example/h", "events": ["invoice.paid"]})
    pk = created.json()["id"]
    paused = call("patch", f"/webhooks/{pk}", world["token"], {"active": False}).json()
    assert (paused["state"], paused["paused_reason"]) == ("paused", "partner")
    changed = call("patch", f"/webhooks/{pk}", world["token"], {"active": True, "events": ["ticket.replied"]}).json()
    assert (changed["state"], changed["events"]) == ("active", ["ticket.replied"])
    rotated = call("post", f"/webhooks/{pk}/secret", world["token"]).json()
    assert rotated["secret"] != created.json()["secret"]
    assert call("delete", f"/webhooks/{pk}", world["token"]).status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=pk).exists()


def test_deliveries_and_resend(world, clock):
    created = webhook_endpoint_create(partner=world["mine"], url="https://a.example/h", events=["invoice.paid"])
    delivery = _delivery_for(created.endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state="failed", attempts=7, last_status_code=500)
    log = call("get", f"/webhooks/{created.endpoint.pk}/deliveries", world["token"]).json()["results"]
    assert [(d["event_type"], d["state"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("invoice.paid", "failed", 7, 500)
    ]
    resent = call("post", f"/webhooks/{created.endpoint.pk}/deliveries/{delivery.pk}/resend", world["token"])
    assert resent.status_code == 202 and resent.json()["state"] == "pending"


def test_another_partners_endpoint_is_404_everywhere(world):
    foreign = world["foreign"]
    delivery = _delivery_for(foreign)
    for method, path, body in [
        ("get", f"/webhooks/{foreign.pk}", None),
        ("patch", f"/webhooks/{foreign.pk}", {"active": False}),
        ("delete", f"/webhooks/{foreign.pk}", None),
        ("post", f"/webhooks/{foreign.pk}/secret", None),
        ("get", f"/webhooks/{foreign.pk}/deliveries", None),
        ("post", f"/webhooks/{foreign.pk}/deliveries/{delivery.pk}/resend", None),
    ]:
        response = call(method, path, world["token"], body)
        assert response.status_code == 404, (method, path)
    foreign.refresh_from_db()
    assert foreign.state == "active" and foreign.url == "https://andere.example/in"
    # A delivery of the other partner under one of my endpoints' ids: 404 as well.
    mine = webhook_endpoint_create(partner=world["mine"], url="https://a.example/h", events=["invoice.paid"])
    assert (
        call("post", f"/webhooks/{mine.endpoint.pk}/deliveries/{delivery.pk}/resend", world["token"]).status_code == 404
    )


def test_without_the_read_scope_403_and_without_a_token_401(world):
    assert call("get", "/webhooks", world["orders_only"]).status_code == 403
    assert Client().get(f"{BASE}/webhooks").status_code == 401


def test_openapi_lists_the_webhook_paths(world):
    from openapi_spec_validator import validate

    spec = Client().get(f"{BASE}/openapi.json").json()
    validate(spec)
    assert "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/resend" in spec["paths"]


# --- the portal page ------------------------------------------------------------------------------


def test_portal_page_registers_an_endpoint_and_shows_the_secret_once(world, client):
    client.force_login(world["login"].user)
    url = reverse("portal:webhooks")
    page = client.post(
        url, {"url": "https://erp.muster.example/hooks", "events": ["invoice.issued", "invoice.paid"]}
    ).content.decode()
    endpoint = WebhookEndpoint.objects.get(partner=world["mine"])
    secret = secret_decrypt(endpoint.secret_encrypted)
    assert "nur dieses eine Mal angezeigt" in page and secret in page
    later = client.get(url).content.decode()
    assert secret not in later and endpoint.secret_hint in later and "andere.example" not in later
    assert endpoint.event_list == ["invoice.issued", "invoice.paid"]


def test_portal_refuses_a_private_url_with_the_reason(world, client):
    client.force_login(world["login"].user)
    page = client.post(reverse("portal:webhooks"), {"url": "https://192.168.0.10/", "events": ["invoice.paid"]})
    assert "nicht öffentlich erreichbar" in page.content.decode()
    assert not WebhookEndpoint.objects.filter(partner=world["mine"]).exists()


def test_portal_pause_resume_resend_and_delete(world, client):
    client.force_login(world["login"].user)
    endpoint = webhook_endpoint_create(
        partner=world["mine"], url="https://a.example/h", events=["invoice.paid"]
    ).endpoint
    delivery = _delivery_for(endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state="failed")
    client.post(reverse("portal:webhook_delivery_resend", args=[endpoint.pk, delivery.pk]))
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == "pending"
    client.post(reverse("portal:webhook_state", args=[endpoint.pk]))
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).state == "paused"
    page = client.post(reverse("portal:webhook_delivery_resend", args=[endpoint.pk, delivery.pk]), follow=True)
    assert "zuerst fort" in page.content.decode()
    client.post(reverse("portal:webhook_state", args=[endpoint.pk]))
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).state == "active"
    client.post(reverse("portal:webhook_delete", args=[endpoint.pk]))
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_portal_another_partners_endpoint_is_404(world, client):
    client.force_login(world["login"].user)
    foreign = world["foreign"]
    delivery = _delivery_for(foreign)
    for name, args in [
        ("portal:webhook", [foreign.pk]),
        ("portal:webhook_state", [foreign.pk]),
        ("portal:webhook_secret", [foreign.pk]),
        ("portal:webhook_delete", [foreign.pk]),
        ("portal:webhook_delivery_resend", [foreign.pk, delivery.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
        assert client.post(reverse(name, args=args)).status_code == 404, name
    assert WebhookEndpoint.objects.get(pk=foreign.pk).state == "active"


def test_member_logins_cannot_manage_webhooks(world, client):
    member = PartnerUserFactory(partner=world["mine"], role="member")
    client.force_login(member.user)
    assert client.get(reverse("portal:webhooks")).status_code in (302, 403)
    assert client.post(
        reverse("portal:webhooks"), {"url": "https://a.example/", "events": ["invoice.paid"]}
    ).status_code in (
        302,
        403,
    )
    assert not WebhookEndpoint.objects.filter(partner=world["mine"]).exists()


def test_portal_pages_stay_within_the_query_budget_with_210_deliveries(world, client, portal_query_budget):
    from vendorportal.webhooks.events import EventDraft, webhook_events_emit_many
    from vendorportal.webhooks.models import WebhookAttempt

    client.force_login(world["login"].user)
    endpoint = webhook_endpoint_create(
        partner=world["mine"], url="https://a.example/h", events=["invoice.paid"]
    ).endpoint
    webhook_endpoint_create(partner=world["mine"], url="https://b.example/h", events=["ticket.replied"])
    from django.db import transaction

    with transaction.atomic():
        webhook_events_emit_many(
            [EventDraft(world["mine"].pk, "invoice.paid", {"id": n}, f"invoice.paid:{n}") for n in range(210)]
        )
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint))
    WebhookAttempt.objects.bulk_create(
        WebhookAttempt(delivery=d, at=d.created_at, status_code=500, error="Antwort 500") for d in deliveries
    )
    portal_query_budget(reverse("portal:webhooks"))
    page = portal_query_budget(reverse("portal:webhook", args=[endpoint.pk])).content.decode()
    assert page.count("erneut senden") == 100  # the newest 100 of 210
    assert "die neuesten 100 Zustellungen" in page


def test_refusals_are_english_with_accept_language_en(world):
    response = Client().post(
        f"{BASE}/webhooks",
        data=json.dumps({"url": "https://10.0.0.8/hooks", "events": ["invoice.paid"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world['token']}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert (
        response.json()["detail"] == "This address is not publicly reachable; webhooks are sent to the internet only."
    )
