"""The example client of docs/api.md (docs/examples/api_client.py) against a live server on
127.0.0.1:58460 (issue 19: "the example runs in CI against the live test server"): it lists
installations and prices, orders, fetches the keys and the invoice PDF, registers a webhook
and verifies the signatures of the webhooks that follow (a receiver on 127.0.0.1).

The order is priced (``POST /orders/preview``), placed twice with one ``Idempotency-Key``
(one order) and confirmed (``POST /orders/{id}/confirm``) through the API, as a shop would.
"""

import importlib.util
from datetime import date
from pathlib import Path

import pytest
from pytest_django.live_server_helper import LiveServer

from api.services import api_token_create
from billing import services as billing_services
from billing.models import VatRate
from billing.tests.factories import make_order, make_partner
from licensing.tests.factories import CustomerFactory, InstallationFactory
from vendorportal import clock as portal_clock
from vendorportal import outbox
from vendorportal.webhooks import events as webhook_events
from vendorportal.webhooks.delivery import webhook_deliver
from vendorportal.webhooks.models import WebhookDelivery
from vendorportal.webhooks.tests.receiver import start_receiver

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "api_client.py"
LIVE_ADDRESS = "127.0.0.1:58460"  # this branch's port for the example's live server
RECEIVER_PORT = 58453


def load_example():
    spec = importlib.util.spec_from_file_location("api_client_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def live(transactional_db):
    server = LiveServer(LIVE_ADDRESS)
    yield server
    server.stop()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    receiving, server = start_receiver(RECEIVER_PORT, [200])
    yield receiving
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_broker(monkeypatch):
    """Wake-ups recorded instead of written to the broker; the test delivers itself."""
    monkeypatch.setattr(outbox, "_queue_send", lambda pk, ticket=None: None)
    monkeypatch.setattr(webhook_events, "_queue_delivery", lambda pk, ticket=None: None)


def test_the_example_client_orders_fetches_and_verifies_webhooks(live, receiver, no_broker, modules, clock):
    clock.set(date(2026, 11, 21))
    if not VatRate.objects.filter(category="S").exists():  # the data migration's rows: flushed by earlier tests
        VatRate.objects.create(category="S", percent="19.00", valid_from=date(2007, 1, 1))
    client_module = load_example()
    partner = make_partner(company="Muster Kommunikation GmbH")
    customer = CustomerFactory(partner=partner, company="Bäckerei Brezel")
    first = InstallationFactory(customer=customer, pbx_users=30, user_light_licenses=0)
    second = InstallationFactory(customer=customer, pbx_users=30, user_light_licenses=0)
    token = api_token_create(partner=partner, name="Shop", scopes=["read", "order", "keys"]).secret
    earlier = make_order(partner, ("DHCP", "purchase", 0))  # an earlier order: its key is not this order's
    billing_services.order_confirm(order=earlier)
    api = client_module.PartnerApi(f"{live.url}/api/v1", token)

    # Installations (cursor pages) and prices.
    assert {first.identifier, second.identifier} <= {i["identifier"] for i in api.installations()}
    prices = {(a["article"], a["kind"], a["term_months"]): a["price"] for a in api.catalog()}
    assert prices[("INTERCOM", "purchase", 0)] == "169.00"  # seed 001 list prices, net
    assert prices[("INTERCOM", "subscription", 24)] == "7.00"

    hook = api.create_webhook(receiver.url, ["order.confirmed", "license.issued", "invoice.issued"], "Shop")
    assert hook["secret"].startswith("whsec_") and hook["state"] == "active"

    body = api.order_body("INTERCOM", [first.pk, second.pk])
    preview = api.preview_order(body)
    # 2 × Intercom 169,00 € − 20 % partner conditions = 2 × 135,20 € = 270,40 € net.
    assert [t["net"] for t in preview["totals"]] == ["270.40"]
    placed = api.place_order(body, idempotency_key="shop-order-4711")
    assert api.place_order(body, idempotency_key="shop-order-4711")["id"] == placed["id"]
    order = api.confirm_order(placed["id"])
    reference, invoice_id = order["reference"], order["invoice"]["id"]

    keys = api.licenses(order=reference)
    assert sorted(lic["installation_id"] for lic in keys) == sorted([first.pk, second.pk])
    assert all(lic["key"] for lic in keys) and {lic["article"] for lic in keys} == {"INTERCOM"}
    assert len(api.licenses()) == 3  # with the earlier order's DHCP key
    assert api.invoice_pdf(invoice_id).startswith(b"%PDF")

    # The worker delivers the webhooks the order caused; the example verifies each signature.
    for pk in WebhookDelivery.objects.values_list("pk", flat=True):
        assert webhook_deliver(delivery_id=pk)
    received = {r.headers["Webhook-Event"]: r for r in receiver.requests}
    assert sorted(r.headers["Webhook-Event"] for r in receiver.requests) == [
        "invoice.issued",
        "license.issued",
        "license.issued",
        "order.confirmed",
    ]
    now = int(portal_clock.now().timestamp())
    for request in receiver.requests:
        header = request.headers["Webhook-Signature"]
        assert client_module.verify_webhook(header, request.body, hook["secret"], now=now)
        assert not client_module.verify_webhook(header, request.body + b" ", hook["secret"], now=now)
        assert not client_module.verify_webhook(header, request.body, "whsec_falsch", now=now)
        assert not client_module.verify_webhook(header, request.body, hook["secret"], now=now + 301)
    assert f'"reference":"{reference}"' in received["order.confirmed"].body.decode()
    log = api.webhook_deliveries(hook["id"])
    assert [d["state"] for d in log] == ["succeeded"] * 4
