"""Attack: a member login (not the partner's administrator) posts to every portal URL, with the
partner's own objects in the path, empty and with garbage. Nothing the partner administrators
decide on (orders, notices, tier changes, service plans, API tokens, webhooks, logins) changes,
and no answer is a 500."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse

from vendorportal.parties.tests.factories import PartnerUserFactory
from vendorportal.portal.tests.test_isolation import CASES, PORTAL_URLS

pytestmark = pytest.mark.django_db

WATCHED = [
    "billing.Order",
    "billing.OrderLine",
    "billing.Invoice",
    "billing.Subscription",
    "billing.SubscriptionPriceChange",
    "billing.ServicePlan",
    "billing.SepaMandate",
    "licensing.License",
    "licensing.Installation",
    "licensing.Customer",
    "api.ApiToken",
    "webhooks.WebhookEndpoint",
    "webhooks.WebhookDelivery",
    "parties.PartnerUser",
    "parties.Partner",
]
# Fields that change by reading or by the clock, not by a decision.
IGNORED_FIELDS = {
    "last_used_at",
    "last_login",
    "updated_at",
    "modified",
    "pdf",
    "pdf_sha256",
}  # a PDF stored on first download

GARBAGE = {
    "quantity": "-1",
    "users": "1e309",
    "tier": "NaN",
    "name": "x" * 5000,
    "url": "https://127.0.0.1/",
    "events": ["invoice.paid"],
    "scopes": ["read", "order", "keys", "support"],
    "role": "admin",
    "email": "neu@example.com",
    "confirm": "1",
    "effective_on": "2026-13-45",
    "reason": "\u202eevil",
}


def _model(label):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def snapshot() -> dict:
    state = {}
    for label in WATCHED:
        model = _model(label)
        if model is None:
            continue
        rows = []
        for row in model.objects.order_by("pk").values():
            rows.append({k: v for k, v in row.items() if k not in IGNORED_FIELDS})
        state[label] = rows
    return state


def test_a_member_changes_nothing_an_administrator_decides_anywhere(client, modules, clock):
    from datetime import date

    clock.set(date(2026, 11, 21))
    member = PartnerUserFactory(role="member")
    partner = member.partner
    PartnerUserFactory(partner=partner, role="admin")
    urls = []
    for name, has_args in sorted(PORTAL_URLS.items()):
        if has_args and name in CASES:
            urls.append((name, reverse(name, kwargs=CASES[name].make(partner))))
        elif not has_args:
            urls.append((name, reverse(name)))
    client.force_login(member.user)
    before = snapshot()
    failures = []
    for name, url in urls:
        if name in ("portal:logout",):
            continue
        for data in ({}, GARBAGE):
            response = client.post(url, data)
            if response.status_code >= 500:
                failures.append(f"{name}: POST answered {response.status_code}")
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"{name}: GET answered {response.status_code}")
    after = snapshot()
    for label in before:
        if before[label] != after[label]:
            changed = [row for row in after[label] if row not in before[label]]
            failures.append(f"{label} changed by a member: {changed[:2]}")
    assert not failures, "\n".join(failures)


def test_control_the_same_post_by_an_administrator_does_change_something(client, modules, clock):
    """The walker above could pass by posting nothing that works: the same empty POST to the
    token revoke URL by the partner's administrator revokes the token."""
    from datetime import date

    from api.models import ApiToken

    clock.set(date(2026, 11, 21))
    admin = PartnerUserFactory(role="admin")
    url = reverse("portal:api_token_revoke", kwargs=CASES["portal:api_token_revoke"].make(admin.partner))
    before = snapshot()
    client.force_login(admin.user)
    client.post(url, {})
    assert snapshot()["api.ApiToken"] != before["api.ApiToken"]
    assert ApiToken.objects.filter(revoked_at__isnull=False).exists()
