"""Absurd input on every new path gives 404 or 422 as problem+json, never a 500 (issue 19)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from api.models import SCOPES
from api.services import api_token_create
from api.tests.helpers import BASE, call
from licensing.tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db

PATHS = [
    ("get", "/orders/0"),
    ("get", "/orders/99999999999999999999"),
    ("get", "/orders/abc"),
    ("post", "/orders/-1/confirm"),
    ("post", "/orders/7/cancel"),
    ("get", "/orders/1/delivery-notes/x/pdf"),
    ("get", "/delivery-notes/0/pdf"),
    ("get", "/licenses/99999999999999999999"),
    ("post", "/systems/abc/maintenance-quote"),
    ("get", "/subscriptions/0"),
    ("post", "/subscriptions/5/notice/preview"),
    ("post", "/subscriptions/5/tier-change"),
    ("post", "/service-plans/0/notice"),
    ("get", "/tickets/99999999999"),
    ("post", "/tickets/1/messages"),
    ("get", "/tickets/1/attachments/abc"),
    ("get", "/knowledge-base/%00"),
    ("get", "/orders?cursor=%%%"),
    ("get", "/tickets?page_size=-5&cursor=bm9wZQ=="),
    ("get", "/subscriptions?installation_id=99999999999999"),
]


@pytest.fixture
def secret(catalog, clock):
    clock.set(date(2026, 11, 21))
    return api_token_create(partner=PartnerFactory(), name="Alles", scopes=list(SCOPES)).secret


@pytest.mark.parametrize("method,path", PATHS)
def test_absurd_input_is_404_or_422_problem(secret, method, path):
    response = call(method, path, secret, {} if method == "post" else None)
    assert response.status_code in (200, 400, 404, 422), (path, response.status_code, response.content[:300])
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", '{"lines": "INTERCOM"}', '{"lines": [{"article": 5, "installation_ids": [1]}]}', "{" * 50],
)
def test_broken_bodies_are_4xx(secret, body):
    response = Client().post(
        f"{BASE}/orders/preview", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code in (400, 422), response.content[:300]


def test_openapi_lists_the_new_endpoints(db):
    from openapi_spec_validator import validate

    spec = Client().get(f"{BASE}/openapi.json").json()
    validate(spec)
    for path in (
        "/api/v1/orders",
        "/api/v1/orders/preview",
        "/api/v1/orders/{order_id}/confirm",
        "/api/v1/subscriptions/{subscription_id}/tier-change",
        "/api/v1/service-plans",
        "/api/v1/tickets/{ticket_id}/attachments",
        "/api/v1/knowledge-base",
    ):
        assert path in spec["paths"], path
    header = spec["paths"]["/api/v1/orders"]["post"]["parameters"][0]
    assert (header["in"], header["name"], header["required"]) == ("header", "Idempotency-Key", True)
