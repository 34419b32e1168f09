"""Tenant isolation of the whole portal (issue 12): every URL of the ``portal`` namespace
that names an object is walked with another partner's object and answers 404.

How areas add their URLs: see :mod:`vendorportal.portal.testing`.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from vendorportal.parties.tests.factories import PartnerFactory, PartnerUserFactory
from vendorportal.portal.testing import isolation_cases, isolation_exemptions, load_isolation_entries

load_isolation_entries()


def _walk(patterns, prefix: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}", bool(entry.pattern.regex.groupindex)


def portal_urls() -> dict[str, bool]:
    """Every named URL of the ``portal`` namespace → whether its path takes arguments."""
    return {name: has_args for name, has_args in _walk(get_resolver().url_patterns, "") if name.startswith("portal:")}


PORTAL_URLS = portal_urls()
CASES = isolation_cases()


def test_every_portal_url_with_arguments_has_an_isolation_entry():
    exempt = isolation_exemptions()
    missing = sorted(name for name, has_args in PORTAL_URLS.items() if has_args and name not in CASES | exempt)
    assert not missing, (
        "Portal URLs with path arguments but no tenant-isolation entry: "
        + ", ".join(missing)
        + ". Add an @isolation_case in <app>/tests/portal_isolation.py (see vendorportal/portal/testing.py)."
    )


def test_isolation_entries_name_existing_portal_urls():
    stale = sorted(set(CASES) - set(PORTAL_URLS)) + sorted(set(isolation_exemptions()) - set(PORTAL_URLS))
    assert not stale, f"Isolation entries for URLs the portal does not have (any more): {', '.join(stale)}"


def test_the_walker_sees_the_shell_and_the_areas():
    # A walker that found nothing would pass everything: it sees the URLs of both the shell and licensing.
    assert {"portal:dashboard", "portal:login_deactivate", "portal:installation_edit"} <= set(PORTAL_URLS)


@pytest.fixture
def partner_a_client(client, db):
    # Partner A's administrator: admin-only pages let it in, so a 404 is the scoping.
    membership = PartnerUserFactory(role="admin")
    client.force_login(membership.user)
    return client, membership.partner


def _is_file(response) -> bool:
    return "attachment" in response.get("Content-Disposition", "") and not response["Content-Type"].startswith(
        "text/html"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(CASES))
def test_another_partners_object_is_404_for_every_method(url_name, partner_a_client):
    client, partner_a = partner_a_client
    case = CASES[url_name]
    other_url = reverse(url_name, kwargs=case.make(PartnerFactory()))

    get, post = client.get(other_url), client.post(other_url, {})
    assert {get.status_code, post.status_code} <= {404, 405}, (
        f"{url_name} with another partner's object: GET {get.status_code}, POST {post.status_code} (expected 404)"
    )
    assert 404 in {get.status_code, post.status_code}, f"{url_name}: neither GET nor POST is accepted"

    # The same entry for the own partner reaches the page: the 404 above was the scoping, not bad arguments.
    own_url = reverse(url_name, kwargs=case.make(partner_a))
    own = client.get(own_url)
    if own.status_code == 405:
        own = client.post(own_url, {})
    assert own.status_code in (200, 302), f"{url_name} with the own partner's object answered {own.status_code}"
    if case.download:
        assert own.status_code == 200 and _is_file(own), f"{url_name}: the own partner's download is no file"
        assert get.status_code == 404 and not _is_file(get)
