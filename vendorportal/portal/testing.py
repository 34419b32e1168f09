"""Test tools every area's portal pages use: the tenant-isolation registry and the query budget.

Tenant isolation (issue 12)
---------------------------
``vendorportal/portal/tests/test_isolation.py`` walks EVERY URL pattern of the ``portal``
namespace. A pattern with path arguments (``<int:pk>``, …) needs an entry here that makes
an object for a given partner and returns the URL's kwargs. The walker calls it twice:

* for partner A (the logged-in partner): the URL must answer (GET not 404) — proves the
  entry builds real arguments, so a 404 below is the scoping and not a typo;
* for partner B: GET must be 404, and POST 404 as well (or 405 where the view takes no
  POST) — partner A can neither see nor change B's object.

A new portal URL with arguments and no entry fails the walker with a message naming it.

How to add an entry for your area: write ``<app>/tests/portal_isolation.py`` (the walker
imports that module of every installed app) with, per URL name::

    from vendorportal.portal.testing import isolation_case

    @isolation_case("portal:invoice_pdf", download=True)
    def _(partner):
        invoice = InvoiceFactory(partner=partner, with_pdf=True)  # what the URL needs, for this partner
        return {"pk": invoice.pk}

``download=True`` marks a file download (PDF, attachment, CSV): the walker also checks
that the own partner's response is a file (not an HTML page). A URL whose arguments are
not a partner's object (the password-reset link's uid and token) is declared with
``isolation_exempt("portal:…", reason="…")``. Entries run inside the test's database
transaction; use the factories of your app.

Query budget
------------
``assert_query_budget`` (and the ``portal_query_budget`` fixture of the root conftest)
asserts that a portal page runs a bounded number of SQL queries: create 200+ rows first,
then ``portal_query_budget(url)`` — the page must answer 200 within 15 queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Every portal page, whatever the data size (issue 12).
PORTAL_QUERY_BUDGET = 15
# Rows the budget tests create at least: more than a page, so a per-row query shows.
BUDGET_ROWS = 200


@dataclass(frozen=True)
class IsolationCase:
    url_name: str
    make: Callable  # make(partner) -> dict of URL kwargs for an object of ``partner``
    download: bool = False


_cases: dict[str, IsolationCase] = {}
_exempt: dict[str, str] = {}


def isolation_case(url_name: str, *, download: bool = False):
    """Decorator: register the object maker for ``url_name`` (see the module docstring)."""

    def register(make):
        if url_name in _cases:
            raise ValueError(f"{url_name} has two isolation entries")
        _cases[url_name] = IsolationCase(url_name=url_name, make=make, download=download)
        return make

    return register


def isolation_exempt(url_name: str, *, reason: str) -> None:
    """A portal URL whose path arguments are not objects of a partner; ``reason`` says why."""
    _exempt[url_name] = reason


def isolation_cases() -> dict[str, IsolationCase]:
    return dict(_cases)


def isolation_exemptions() -> dict[str, str]:
    return dict(_exempt)


def load_isolation_entries() -> None:
    """Import ``<app>.tests.portal_isolation`` of every installed app that has one."""
    import importlib
    import importlib.util

    from django.apps import apps

    for app in apps.get_app_configs():
        module = f"{app.name}.tests.portal_isolation"
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # the app has no tests package
            found = False
        if found:
            importlib.import_module(module)


def assert_query_budget(client, url: str, assert_max_num_queries, *, max_queries: int = PORTAL_QUERY_BUDGET):
    """GET ``url`` with at most ``max_queries`` queries (pytest-django's
    ``django_assert_max_num_queries`` passed in); returns the response (status 200)."""
    with assert_max_num_queries(max_queries):
        response = client.get(url)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return response
