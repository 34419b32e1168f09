"""Attack: a token without the ``keys`` scope walks every read it may make after ordering — no
licence key text appears in any answer (the key is the product; docs/api.md promises it only to
``keys`` tokens). Another partner's full token sees none of them either."""

from __future__ import annotations

import pytest

from api.services import api_token_create
from api.tests.helpers import call, content
from api.tests.test_api_orders import installation_of, intercom_for
from api.tests.test_api_orders import shop as shop  # noqa: PLC0414 - the fixture
from licensing.models import License

pytestmark = pytest.mark.django_db


def test_no_key_text_without_the_keys_scope(shop):
    partner = shop["partner"]
    no_keys = api_token_create(partner=partner, name="Shop ohne Schlüssel", scopes=["read", "order", "support"]).secret
    placed = call(
        "post",
        "/orders",
        no_keys,
        {**intercom_for([installation_of(partner)]), "confirm": True},
        HTTP_IDEMPOTENCY_KEY="a",
    )
    assert placed.status_code == 201, placed.content
    keys = [lic.key for lic in License.objects.filter(order_lines__order_id=placed.json()["id"])]
    assert keys and all(len(k) > 20 for k in keys)
    order_id = placed.json()["id"]
    license_id = License.objects.filter(order_lines__order_id=order_id).first().pk
    answers = {"placed": placed.content}
    for path in (
        "/licenses",
        f"/licenses?order={placed.json()['reference']}",
        f"/licenses/{license_id}",
        f"/orders/{order_id}",
        "/orders",
        "/installations",
        "/subscriptions",
        "/invoices",
    ):
        response = call("get", path, no_keys)
        answers[path] = content(response)
        assert response.status_code in (200, 403), (path, response.status_code)
    replay = call(
        "post",
        "/orders",
        no_keys,
        {**intercom_for([installation_of(partner)]), "confirm": True},
        HTTP_IDEMPOTENCY_KEY="a",
    )
    answers["replay"] = replay.content
    for where, body in answers.items():
        for key in keys:
            assert key.encode() not in body, f"key text in {where}"
    # the keys token of another partner: 404, and no key either
    foreign = call("get", f"/licenses/{license_id}", shop["other_secret"])
    assert foreign.status_code == 404 and all(k.encode() not in foreign.content for k in keys)
    # control: the partner's keys token does get it
    assert keys[0].encode() in call("get", f"/licenses/{license_id}", shop["secret"]).content
