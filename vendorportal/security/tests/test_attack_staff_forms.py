"""Attack: every staff group (sales, finance, support, none) and a superuser fill every field
of the new admin pages of issues 18–20 (bank statements, returns and charges, dunning, DATEV,
invoicing runs, API tokens, webhooks, the cockpit) with garbage. The answers are the form with
a message, a 403, 404 or a redirect — never a 500. Routes and path arguments come from the
2FA walker's world (the demo data plus one row of every kind), fields from each page's HTML."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from licensing.tests.factories import UserFactory
from vendorportal.security.tests.test_second_factor_everywhere import World

pytestmark = pytest.mark.django_db

NEW = re.compile(
    r"^admin/(billing/(bank\w*|charge|dunning\w*|baserate|financereport|invoicingrun)|api/|webhooks/|cockpit/)"
)
GARBAGE = ["1e309", "-1", "x" * 3000, "2026-13-45"]
FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.S)
SKIP_FIELDS = {"csrfmiddlewaretoken", "action", "post", "_selected_action", "select_across"}  # no bulk deletes


def _fields(html: str) -> set[str]:
    return {name for name in FIELD.findall(html) if name not in SKIP_FIELDS}


@pytest.mark.parametrize("group", ["sales", "finance", "support", None, "superuser"])
def test_garbage_in_every_new_admin_form_per_staff_group(group):
    world = World()
    routes = []
    for route in world.routes():
        path = route.url.removeprefix("/")
        if NEW.match(path) and not route.name.endswith(("_delete", "_history", "_simple_history")):
            routes.append(route)
    assert len(routes) >= 20, [r.url for r in routes]
    user = UserFactory(username=f"attack-{group}", is_staff=True, is_superuser=group == "superuser")
    if group not in (None, "superuser"):
        user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    failures = []
    for route in routes:
        page = client.get(route.url)
        if page.status_code >= 500:
            failures.append(f"GET {route.url}: {page.status_code}")
            continue
        fields = _fields(page.content.decode("utf-8", "replace")) if page.status_code == 200 else {"x"}
        for value in GARBAGE:
            response = client.post(route.url, dict.fromkeys(fields, value))
            if response.status_code >= 500:
                failures.append(f"POST {route.url} {value[:10]!r}: {response.status_code}")
    assert not failures, "\n".join(failures)
