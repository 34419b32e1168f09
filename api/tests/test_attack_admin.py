"""Attack on the staff admin of API tokens and webhook endpoints (issue 19), per staff group:
nobody widens a partner's token or points its webhook at an internal address through the
change form; revoking and pausing need the group that has the right."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from api.models import ApiToken
from api.services import api_token_create
from billing.tests.factories import make_partner
from vendorportal.parties.tests.factories import UserFactory
from vendorportal.webhooks.models import WebhookEndpoint
from vendorportal.webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db

GROUPS = ["sales", "finance", "support", None, "superuser"]
MAY_REVOKE = {"sales", "superuser"}


@pytest.fixture
def world(clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner(company="Muster Kommunikation GmbH")
    token = api_token_create(partner=partner, name="ERP", scopes=["read"]).token
    endpoint = webhook_endpoint_create(partner=partner, url="https://erp.muster.example/h", events=["invoice.paid"])
    return token, endpoint.endpoint


def staff(client, group):
    user = UserFactory(username=f"staff-{group}", is_staff=True, is_superuser=group == "superuser")
    if group not in (None, "superuser"):
        user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


@pytest.mark.parametrize("group", GROUPS)
def test_the_change_forms_change_nothing_for_any_group(client, world, group):
    token, endpoint = world
    c = staff(client, group)
    c.post(
        reverse("admin:api_apitoken_change", args=[token.pk]),
        {"scopes": "read,order,keys,support", "expires_on": "2999-12-31", "name": "gekapert", "partner": "1"},
    )
    c.post(
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        {"url": "https://169.254.169.254/latest", "events": "invoice.paid", "state": "active"},
    )
    token.refresh_from_db()
    endpoint.refresh_from_db()
    assert (token.scopes, token.expires_on, token.name) == ("read", None, "ERP")
    assert endpoint.url == "https://erp.muster.example/h"


@pytest.mark.parametrize("group", GROUPS)
def test_revoke_and_pause_need_the_right(client, world, group):
    token, endpoint = world
    c = staff(client, group)
    c.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke_action", "_selected_action": [token.pk], "index": 0},
    )
    c.post(
        reverse("admin:webhooks_webhookendpoint_changelist"),
        {"action": "pause_action", "_selected_action": [endpoint.pk], "index": 0},
    )
    revoked = ApiToken.objects.get(pk=token.pk).revoked_at is not None
    paused = WebhookEndpoint.objects.get(pk=endpoint.pk).state != "active"
    assert revoked == (group in MAY_REVOKE), group
    assert paused == (group in MAY_REVOKE), group
