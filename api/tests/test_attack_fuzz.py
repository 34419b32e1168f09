"""Attack: every API operation with a body gets each of its fields replaced by garbage — NUL
bytes, 1e309, NaN, huge and negative numbers, 100,000 characters, wrong types. Every answer
is a 4xx problem+json naming what is wrong, never a 500."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from api.models import SCOPES
from api.services import api_token_create
from api.testing import api_cases, load_api_isolation_entries
from api.tests.helpers import BASE
from licensing.tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counters():
    """Thousands of requests here: the throttle's counter (cache key by token id, and ids repeat
    after the test's rollback) must not reach the next test's token."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# Raw JSON fragments (1e309, NaN and Infinity are not what json.dumps writes for a number).
GARBAGE = [
    '"a\\u0000b"',
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "-1",
    "0",
    "99999999999999999999999999999",
    '"' + "ü" * 100_000 + '"',
    '"\\ud800"',
    "null",
    "[]",
    "{}",
    "true",
    '""',
    '"1e309"',
    '"NaN"',
    '"-5"',
    '"2026-13-45"',
]


def _paths(value, prefix=()):
    """Every leaf path of a JSON value (dict keys and list indexes)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list) and value:
        for index, inner in enumerate(value):
            yield from _paths(inner, (*prefix, index))
    if prefix:
        yield prefix


MARK = "__GARBAGE__"


def _with(body, path, marker):
    body = json.loads(json.dumps(body))
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = marker
    return body


def _send(method, path, secret, raw, headers):
    return getattr(Client(), method.lower())(
        path, data=raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}", **headers
    )


def test_garbage_in_every_body_field_is_a_4xx_problem(modules, clock, settings, send_outbox):
    settings.API_RATE_LIMIT = "1000000/m"
    clock.set(date(2026, 11, 21))
    load_api_isolation_entries()
    partner = PartnerFactory(status_confirmed_on=None)
    secret = api_token_create(partner=partner, name="Alles", scopes=list(SCOPES)).secret
    failures = []
    tried = 0
    for operation, case in sorted(api_cases().items()):
        method, template = operation.split(" ", 1)
        request = case.make(partner)
        if "body" not in request:
            continue
        url = BASE + template.format(**{k: v for k, v in request.items() if k not in ("body", "files", "headers")})
        headers = request.get("headers", {})
        for field in _paths(request["body"]):
            for garbage in GARBAGE:
                raw = json.dumps(_with(request["body"], field, MARK)).replace(f'"{MARK}"', garbage)
                if "Idempotency-Key" in str(headers) or "HTTP_IDEMPOTENCY_KEY" in headers:
                    headers = {**headers, "HTTP_IDEMPOTENCY_KEY": f"fuzz-{tried}"}
                tried += 1
                try:
                    response = _send(method, url, secret, raw, headers)
                except Exception as exc:  # noqa: BLE001 - the test reports what raised
                    failures.append(f"{operation} {'.'.join(map(str, field))}={garbage[:20]}: raised {exc!r}"[:300])
                    continue
                if response.status_code >= 500 or (
                    response.status_code >= 400 and response["Content-Type"] != "application/problem+json"
                ):
                    failures.append(
                        f"{operation} {'.'.join(map(str, field))}={garbage[:20]}: {response.status_code} "
                        f"{response.content[:200]!r}"
                    )
    assert tried > 100
    assert not failures, "\n".join(failures)


@pytest.fixture
def secret(catalog, clock):
    clock.set(date(2026, 11, 21))
    return api_token_create(partner=PartnerFactory(), name="Alles", scopes=list(SCOPES)).secret


def test_nul_in_a_body_is_422_with_the_field_and_nothing_stored(secret):
    """PostgreSQL cannot store NUL in text (DataError → 500 before the fix); refused on every
    database before any service runs."""
    from vendorportal.parties.models import Customer

    response = Client().post(
        f"{BASE}/customers",
        '{"company": "Muster\\u0000GmbH", "city": "Berlin"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["field"] == "company" and "Nullzeichen" in problem["detail"]
    assert not Customer.objects.filter(company__contains="Muster").exists()


def test_nul_in_a_query_parameter_is_422(secret):
    response = Client().get(f"{BASE}/knowledge-base?q=a%00b", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code in (400, 422) and response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body,content_type",
    [
        ("{", "application/json"),
        (b"\xff\xfe{}", "application/json"),
        ('{"lines": []}', "text/plain"),
        ("<xml/>", "application/xml"),
        ('{"a": 1e309}' * 10, "application/json"),
    ],
)
def test_broken_bodies_get_a_german_detail(secret, body, content_type):
    response = Client().post(
        f"{BASE}/orders/preview", body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code in (400, 422) and response["Content-Type"] == "application/problem+json"
    assert "Cannot parse" not in response.json()["detail"]


def test_a_10_mb_body_is_refused_not_read(secret, settings):
    big = '{"lines": [' + ",".join(['{"article": "INTERCOM", "installation_ids": [1]}'] * 220_000) + "]}"
    assert len(big) > 10_000_000
    response = Client().post(
        f"{BASE}/orders/preview", big, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert 400 <= response.status_code < 500


def test_the_new_refusals_are_english_with_accept_language_en(secret):
    nul = Client().post(
        f"{BASE}/customers",
        '{"company": "a\\u0000b"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert nul.json()["detail"] == "The field “company” contains a NUL character; that is not allowed."
    broken = Client().post(
        f"{BASE}/orders/preview",
        "{",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert (broken.status_code, broken.json()["detail"]) == (400, "The request body is not valid JSON (UTF-8).")
