"""Webhook delivery (issue 19): the signature, the SSRF guard, retries against a receiver on
127.0.0.1, the 3-day pause with the partner's e-mail, events written once and only on commit."""

import json
import socket
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from vendorportal.models import OutboxMessage
from vendorportal.parties.tests.factories import PartnerFactory
from vendorportal.webhooks import netguard
from vendorportal.webhooks.delivery import webhook_deliver, webhook_delivery_resend, webhook_dispatch_due
from vendorportal.webhooks.events import EventDraft, webhook_event_emit, webhook_events_emit_many
from vendorportal.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from vendorportal.webhooks.netguard import WebhookTargetRefused, target_check
from vendorportal.webhooks.services import webhook_endpoint_create, webhook_endpoint_pause
from vendorportal.webhooks.signing import signature_header, signature_verify

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=BERLIN)


# --- signature -------------------------------------------------------------------------------


def test_signature_of_a_known_vector():
    # Worked out outside Python:
    # printf '%s' '1700000000.{"id":"evt_1","type":"invoice.paid"}' | openssl dgst -sha256 -hmac whsec_test
    body = b'{"id":"evt_1","type":"invoice.paid"}'
    assert signature_header("whsec_test", 1700000000, body) == (
        "t=1700000000,v1=4aa90aa69730f112c87accbf54203d1076675eae3b18a5cb82b5ab9e7f5cd5bc"
    )


def test_signature_verification_refuses_tampering_other_secrets_and_old_timestamps():
    body = b'{"id":"evt_1"}'
    header = signature_header("whsec_a", 1700000000, body)
    assert signature_verify(header=header, secret="whsec_a", body=body, now=1700000000 + 300)
    assert not signature_verify(header=header, secret="whsec_a", body=body, now=1700000000 + 301)
    assert not signature_verify(header=header, secret="whsec_b", body=body, now=1700000000)
    assert not signature_verify(header=header, secret="whsec_a", body=body + b" ", now=1700000000)
    assert not signature_verify(header="v1=abc", secret="whsec_a", body=body, now=1700000000)


# --- SSRF guard ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.9/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://224.0.0.1/hook",
        "https://0.0.0.0/hook",
        "https://localhost/hook",
        "https://100.64.0.1/hook",
    ],
)
def test_private_loopback_link_local_and_multicast_targets_are_refused(url, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(WebhookTargetRefused) as refused:
        target_check(url)
    assert "nicht öffentlich" in refused.value.message


@pytest.mark.parametrize(
    "url,words",
    [
        ("http://hooks.example.com/x", "nur an HTTPS"),
        ("https://user:pw@hooks.example.com/x", "Benutzernamen"),
        ("https:///x", "Rechnernamen"),
    ],
)
def test_urls_that_are_not_plain_https_are_refused(url, words):
    with pytest.raises(WebhookTargetRefused) as refused:
        target_check(url)
    assert words in refused.value.message


def test_a_public_https_url_passes_the_static_check():
    target = target_check("https://hooks.example.com:8443/in?x=1")
    assert (target.host, target.port, target.path, target.host_header) == (
        "hooks.example.com",
        8443,
        "/in?x=1",
        "hooks.example.com:8443",
    )


def _resolving_to(monkeypatch, *addresses):
    def fake(host, port, *args, **kwargs):
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", fake)


def test_a_hostname_resolving_to_a_private_address_is_refused(monkeypatch):
    _resolving_to(monkeypatch, "93.184.215.14", "10.0.0.5")  # one private answer is enough
    with pytest.raises(WebhookTargetRefused) as refused:
        netguard.resolve_checked(target_check("https://intern.example/hook"))
    assert "10.0.0.5" in refused.value.message


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(monkeypatch, settings):
    """DNS rebinding: the name is resolved once; the socket connects to that address."""
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    lookups, connected = [], []
    monkeypatch.setattr(
        netguard.socket,
        "getaddrinfo",
        lambda host, port, *a, **k: (
            lookups.append(host) or [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        ),
    )
    import urllib3.connection

    real = urllib3.connection.HTTPConnection._new_conn

    def spy(self):
        connected.append(self.host)
        return real(self)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "_new_conn", spy)
    with pytest.raises(Exception):  # noqa: B017 — nothing listens on that port; only where it went matters
        netguard.post_checked("http://localhost:58454/x", body=b"{}", headers={})
    # The name once; after that only the checked address itself (a numeric lookup, no DNS).
    assert lookups[0] == "localhost" and set(lookups[1:]) <= {"127.0.0.1"} and connected == ["127.0.0.1"]


# --- delivery --------------------------------------------------------------------------------


def _endpoint(partner, url, events=("invoice.paid",)):
    return webhook_endpoint_create(partner=partner, url=url, events=list(events))


def _emit(partner, key="invoice.paid:1", event="invoice.paid"):
    with transaction.atomic():
        return webhook_event_emit(
            partner=partner, event=event, payload={"id": 1, "gross_total": "1546.81"}, dedup_key=key
        )


def test_a_receiver_that_fails_twice_then_accepts_gets_three_attempts_of_one_event(
    partner_admin, receiver_factory, clock, client
):
    clock.set(T0)
    receiver = receiver_factory([500, 503, 200])
    created = _endpoint(partner_admin.partner, receiver.url)
    event = _emit(partner_admin.partner)
    delivery = WebhookDelivery.objects.get(event=event)

    assert webhook_deliver(delivery_id=delivery.pk) is False  # 500
    assert webhook_deliver(delivery_id=delivery.pk) is False  # not due yet: nothing sent
    clock.set(T0 + timedelta(minutes=1))  # 1st retry after 1 minute
    assert webhook_deliver(delivery_id=delivery.pk) is False  # 503
    clock.set(T0 + timedelta(minutes=1 + 3))  # 2nd retry 3 minutes later
    assert webhook_deliver(delivery_id=delivery.pk) is True  # 200
    assert webhook_deliver(delivery_id=delivery.pk) is False  # delivered: never again

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 503, 200]
    assert WebhookEvent.objects.count() == 1 and len(receiver.requests) == 3
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1  # the same bytes each time
    sent = json.loads(bodies.pop())
    assert sent == {
        "id": event.event_id,
        "type": "invoice.paid",
        "created": "2026-11-21T09:00:00+00:00",
        "data": {"id": 1, "gross_total": "1546.81"},
    }
    last = receiver.requests[-1]
    assert last.headers["Content-Type"] == "application/json"
    assert last.headers["Webhook-Id"] == event.event_id
    t = int((T0 + timedelta(minutes=4)).timestamp())
    assert last.headers["Webhook-Signature"].startswith(f"t={t},v1=")
    assert signature_verify(header=last.headers["Webhook-Signature"], secret=created.secret, body=last.body, now=t)

    client.force_login(partner_admin.user)
    page = client.get(f"/portal/webhooks/{created.endpoint.pk}/").content.decode()
    assert "invoice.paid" in page and "zugestellt" in page and ">3<" in page.replace("<details>", "<")


def test_a_redirect_is_not_followed_and_counts_as_a_failure(partner_admin, receiver_factory, clock):
    clock.set(T0)
    target = receiver_factory([200])
    receiver = receiver_factory([302], redirect_to=target.url)
    _endpoint(partner_admin.partner, receiver.url)
    delivery = WebhookDelivery.objects.get(event=_emit(partner_admin.partner))
    assert webhook_deliver(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.last_status_code == 302 and "Weiterleitungen" in delivery.last_error
    assert target.requests == []


def test_a_refused_target_is_logged_and_nothing_is_sent(partner_admin, clock, monkeypatch, settings):
    clock.set(T0)
    _endpoint(partner_admin.partner, "https://hooks.muster.example/in")
    _resolving_to(monkeypatch, "192.168.178.20")  # rebound to the office network since registering
    delivery = WebhookDelivery.objects.get(event=_emit(partner_admin.partner))
    assert webhook_deliver(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.last_status_code is None and "192.168.178.20" in delivery.last_error
    assert delivery.due_at == T0 + timedelta(minutes=1)


def test_an_endpoint_failing_for_three_days_is_paused_and_its_partner_told(partner_admin, receiver_factory, clock):
    clock.set(T0)
    receiver = receiver_factory([500])
    created = _endpoint(partner_admin.partner, receiver.url)
    delivery = WebhookDelivery.objects.get(event=_emit(partner_admin.partner))
    webhook_deliver(delivery_id=delivery.pk)
    endpoint = WebhookEndpoint.objects.get(pk=created.endpoint.pk)
    assert endpoint.failing_since == T0 and endpoint.state == "active"

    clock.set(T0 + timedelta(days=3) - timedelta(minutes=1))
    result = webhook_dispatch_due()
    assert result.paused == 0 and result.queued == 1  # still retried
    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_by="", claimed_until=None)
    webhook_deliver(delivery_id=delivery.pk)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).state == "active"

    clock.set(T0 + timedelta(days=3))
    result = webhook_dispatch_due()
    endpoint.refresh_from_db()
    assert (endpoint.state, endpoint.paused_reason, result.paused, result.given_up) == ("paused", "failing", 1, 1)
    mail = OutboxMessage.objects.get(kind="webhook-paused")
    assert mail.recipients == ["chefin@muster.test"]
    assert receiver.url in mail.subject and "21.11.2026" in mail.body
    # Paused: a new event reaches it no more; a second run writes no second e-mail.
    assert _emit(partner_admin.partner, key="invoice.paid:2") is None
    assert webhook_dispatch_due().paused == 0 and OutboxMessage.objects.filter(kind="webhook-paused").count() == 1


def test_resend_sends_a_delivered_event_again_but_not_to_a_paused_endpoint(partner_admin, receiver_factory, clock):
    clock.set(T0)
    receiver = receiver_factory([200])
    created = _endpoint(partner_admin.partner, receiver.url)
    delivery = WebhookDelivery.objects.get(event=_emit(partner_admin.partner))
    assert webhook_deliver(delivery_id=delivery.pk)
    webhook_delivery_resend(delivery=delivery)
    assert webhook_deliver(delivery_id=delivery.pk)
    assert len(receiver.requests) == 2 and WebhookDelivery.objects.get(pk=delivery.pk).attempts == 2
    webhook_endpoint_pause(endpoint=created.endpoint)
    with pytest.raises(Exception) as refused:
        webhook_delivery_resend(delivery=delivery)
    assert "pausiert" in str(refused.value)


def test_a_killed_worker_leaves_the_delivery_to_the_dispatch(partner_admin, receiver_factory, clock, settings):
    clock.set(T0)
    receiver = receiver_factory([200])
    _endpoint(partner_admin.partner, receiver.url)
    delivery = WebhookDelivery.objects.get(event=_emit(partner_admin.partner))
    # A worker claimed it and died before sending: the claim holds for WEBHOOK_CLAIM_SECONDS.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_by="dead", claimed_until=T0 + timedelta(seconds=60))
    assert webhook_dispatch_due().queued == 0
    clock.set(T0 + timedelta(seconds=61))
    assert webhook_dispatch_due().queued == 1
    ticket = WebhookDelivery.objects.get(pk=delivery.pk).claimed_by
    assert webhook_deliver(delivery_id=delivery.pk, ticket=ticket)
    assert len(receiver.requests) == 1


# --- events: once, in the causing transaction ---------------------------------------------------


def test_events_are_written_once_per_key_and_only_for_subscribed_active_endpoints(partner_admin, clock):
    clock.set(T0)
    partner = partner_admin.partner
    wants = _endpoint(partner, "https://a.example/in", events=["invoice.paid", "invoice.issued"]).endpoint
    _endpoint(partner, "https://b.example/in", events=["order.confirmed"])
    paused = _endpoint(partner, "https://c.example/in").endpoint
    webhook_endpoint_pause(endpoint=paused)
    first = _emit(partner, key="invoice.paid:7")
    again = _emit(partner, key="invoice.paid:7")
    assert first.pk == again.pk and WebhookEvent.objects.count() == 1
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [wants.pk]
    assert _emit(partner, key="ticket.replied:1", event="ticket.replied") is None  # nobody wants it
    other = PartnerFactory()
    assert _emit(other, key="invoice.paid:8") is None  # another partner's endpoints never hear it


def test_a_rolled_back_transaction_emits_nothing(partner_admin, clock):
    clock.set(T0)
    _endpoint(partner_admin.partner, "https://a.example/in")
    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_event_emit(partner=partner_admin.partner, event="invoice.paid", payload={}, dedup_key="k")
        raise RuntimeError("the invoice could not be written")
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_batch_costs_a_fixed_number_of_queries(partner_admin, clock, django_assert_num_queries):
    clock.set(T0)
    _endpoint(partner_admin.partner, "https://a.example/in", events=["license.issued"])
    drafts = [
        EventDraft(partner_admin.partner.pk, "license.issued", {"id": n}, f"license.issued:{n}") for n in range(50)
    ]
    quiet = PartnerFactory()
    with transaction.atomic():
        with django_assert_num_queries(6):
            written = webhook_events_emit_many(drafts)
        with django_assert_num_queries(1):  # a partner without endpoints: one query
            webhook_events_emit_many([EventDraft(quiet.pk, "license.issued", {}, "x")])
    assert len(written) == 50 and WebhookDelivery.objects.count() == 50
