"""Attack: the partner's administrator fills every field of every portal form with garbage
(huge and negative numbers, 1e309, NaN, impossible dates, 5,000 characters, markup) — each page
answers with its form and a message or a redirect, never a 500. The fields are read from each
page's own HTML, so a new form is attacked without a new entry here."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from vendorportal.parties.tests.factories import PartnerUserFactory
from vendorportal.portal.tests.test_isolation import CASES, PORTAL_URLS

pytestmark = pytest.mark.django_db

GARBAGE = ["-1", "1e309", "NaN", "9" * 30, "x" * 5000, "2026-13-45", "\u202e<script>alert(1)</script>", "' OR 1=1 --"]
SKIPPED = {"portal:logout"}
FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.S)


def _fields(html: str) -> set[str]:
    return {name for name in FIELD.findall(html) if name != "csrfmiddlewaretoken"}


def test_garbage_in_every_field_of_every_portal_form(client, modules, clock):
    clock.set(date(2026, 11, 21))
    admin = PartnerUserFactory(role="admin")
    partner = admin.partner
    urls = []
    for name, has_args in sorted(PORTAL_URLS.items()):
        if name in SKIPPED:
            continue
        if has_args and name in CASES:
            urls.append((name, reverse(name, kwargs=CASES[name].make(partner))))
        elif not has_args:
            urls.append((name, reverse(name)))
    client.force_login(admin.user)
    failures = []
    attacked = 0
    for name, url in urls:
        page = client.get(url)
        if page.status_code >= 500:
            failures.append(f"{name}: GET {page.status_code}")
            continue
        if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
            continue
        fields = _fields(page.content.decode())
        if not fields:
            continue
        attacked += 1
        for value in GARBAGE:
            data = dict.fromkeys(fields, value)
            try:
                response = client.post(url, data)
            except Exception as exc:  # noqa: BLE001 - the test reports what raised
                failures.append(f"{name} {value[:12]!r}: raised {exc!r}"[:300])
                continue
            if response.status_code >= 500:
                failures.append(f"{name} {value[:12]!r}: {response.status_code}")
        client.force_login(admin.user)  # a form may have logged out or switched partner
    assert attacked >= 10
    assert not failures, "\n".join(failures)
