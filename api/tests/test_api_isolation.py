"""The tenant-isolation walker over EVERY operation of /api/v1/ (issue 19): another partner's
ids → 404, another partner's token → 404, a revoked or expired token → 401, a missing scope
→ 403, and the own partner's request answers (no 401/403/404, never a 500). The entries are
in ``<app>/tests/api_isolation.py`` (see api/testing.py)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from api.api import api
from api.models import SCOPES, ApiToken
from api.services import api_token_create, api_token_revoke
from api.testing import api_cases, load_api_isolation_entries
from api.tests.helpers import BASE
from licensing.tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def api_operations() -> list[str]:
    from ninja.responses import NinjaJSONEncoder

    spec = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
    return sorted(
        f"{method.upper()} {path.removeprefix(BASE)}" for path, methods in spec["paths"].items() for method in methods
    )


def send(operation: str, secret: str, request: dict):
    method, template = operation.split(" ", 1)
    path = BASE + template.format(**{k: v for k, v in request.items() if k not in ("body", "files", "headers")})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}", **request.get("headers", {})}
    client = Client()
    if "files" in request:
        data = {name: SimpleUploadedFile(filename, data) for name, (filename, data) in request["files"].items()}
        return getattr(client, method.lower())(path, data, **headers)
    if "body" in request:
        return getattr(client, method.lower())(
            path, data=json.dumps(request["body"]), content_type="application/json", **headers
        )
    return getattr(client, method.lower())(path, **headers)


def test_every_api_operation_has_an_isolation_entry():
    load_api_isolation_entries()
    missing = sorted(set(api_operations()) - set(api_cases()))
    assert not missing, f"API operations without an entry in <app>/tests/api_isolation.py: {missing}"
    stale = sorted(set(api_cases()) - set(api_operations()))
    assert not stale, f"entries for operations that do not exist: {stale}"


def test_walker_every_operation_is_scoped_to_its_partner(modules, clock, settings, send_outbox):
    settings.API_RATE_LIMIT = "100000/m"
    clock.set(date(2026, 11, 21))
    load_api_isolation_entries()
    mine, theirs = PartnerFactory(status_confirmed_on=None), PartnerFactory(status_confirmed_on=None)
    own = api_token_create(partner=mine, name="Alles", scopes=list(SCOPES)).secret
    other = api_token_create(partner=theirs, name="Fremd", scopes=list(SCOPES)).secret
    revoked = api_token_create(partner=mine, name="Widerrufen", scopes=list(SCOPES))
    api_token_revoke(token=revoked.token)
    expired = api_token_create(partner=mine, name="Abgelaufen", scopes=list(SCOPES))
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_on=date(2026, 11, 20))
    without = {
        scope: api_token_create(partner=mine, name=f"ohne {scope}", scopes=[s for s in SCOPES if s != scope]).secret
        for scope in SCOPES
    }
    failures = []
    for operation, case in sorted(api_cases().items()):
        request = case.make(mine)
        answered = send(operation, own, request).status_code
        if answered in (401, 403, 404) or answered >= 500:
            failures.append(f"{operation}: own token answered {answered}")
        if case.names_objects:
            foreign = send(operation, other, request).status_code
            if foreign != 404:
                failures.append(f"{operation}: another partner's token answered {foreign}, not 404")
        else:
            foreign = send(operation, other, request).status_code
            if foreign >= 500 or foreign in (401, 403):
                failures.append(f"{operation}: another partner's token answered {foreign}")
        for name, secret, expected in (
            ("revoked", revoked.secret, 401),
            ("expired", expired.secret, 401),
            (f"without {case.scope}", without[case.scope], 403),
        ):
            status = send(operation, secret, request).status_code
            if status != expected:
                failures.append(f"{operation}: {name} token answered {status}, not {expected}")
    assert not failures, "\n".join(failures)
