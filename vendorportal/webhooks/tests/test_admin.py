"""The webhook admin per staff group (issue 19): sales sees endpoints and pauses them; support
sees the delivery log and sends a delivery again; finance sees neither. Nobody sees a secret."""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from vendorportal import roles
from vendorportal.parties.tests.factories import PartnerFactory, UserFactory
from vendorportal.webhooks.events import webhook_event_emit
from vendorportal.webhooks.models import WebhookDelivery, WebhookEndpoint
from vendorportal.webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db
ENDPOINTS = "/admin/webhooks/webhookendpoint/"
DELIVERIES = "/admin/webhooks/webhookdelivery/"


@pytest.fixture
def hook(clock):
    clock.set(date(2026, 11, 21))
    partner = PartnerFactory(company="Muster Kommunikation GmbH")
    created = webhook_endpoint_create(partner=partner, url="https://erp.muster.example/in", events=["invoice.paid"])
    with transaction.atomic():
        event = webhook_event_emit(partner=partner, event="invoice.paid", payload={"id": 1}, dedup_key="k")
    delivery = event.deliveries.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state="failed", attempts=9)
    return created, delivery


def staff(client, group):
    user = UserFactory(username=f"staff-{group}", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


def test_sales_sees_endpoints_without_the_secret_and_pauses_them(client, hook):
    created, delivery = hook
    staff(client, roles.SALES)
    page = client.get(f"{ENDPOINTS}{created.endpoint.pk}/change/").content.decode()
    assert "erp.muster.example" in page and created.secret not in page
    assert created.endpoint.secret_encrypted not in page
    answer = client.post(ENDPOINTS, {"action": "pause_action", "_selected_action": [created.endpoint.pk]}, follow=True)
    assert WebhookEndpoint.objects.get(pk=created.endpoint.pk).state == "paused"
    assert "1 Endpunkt pausiert." in answer.content.decode()  # singular, no "Endpunkt(e)"
    # The delivery log: view only, no resend.
    client.post(DELIVERIES, {"action": "resend_action", "_selected_action": [delivery.pk]})
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == "failed"


def test_support_resends_a_delivery_but_cannot_pause(client, hook):
    created, delivery = hook
    staff(client, roles.SUPPORT)
    assert client.get(DELIVERIES).status_code == 200
    answer = client.post(DELIVERIES, {"action": "resend_action", "_selected_action": [delivery.pk]}, follow=True)
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == "pending"
    assert "1 Zustellung erneut eingeplant." in answer.content.decode()
    client.post(ENDPOINTS, {"action": "pause_action", "_selected_action": [created.endpoint.pk]})
    assert WebhookEndpoint.objects.get(pk=created.endpoint.pk).state == "active"


def test_finance_sees_no_webhooks(client, hook):
    created, delivery = hook
    staff(client, roles.FINANCE)
    assert client.get(ENDPOINTS).status_code == 403
    assert client.get(DELIVERIES).status_code == 403
    client.post(DELIVERIES, {"action": "resend_action", "_selected_action": [delivery.pk]})
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == "failed"
