"""The API's tenant-isolation walker registry (issue 19), as the portal's
(:mod:`vendorportal.portal.testing`) but for every operation of ``/api/v1/``.

``api/tests/test_api_isolation.py`` reads the OpenAPI document and walks EVERY operation
(method + path). Each needs an entry here, declared with the scope it requires and a maker
that builds what the request needs for a given partner::

    from api.testing import api_case

    @api_case("GET /orders/{order_id}", scope="read")
    def _(partner):
        return {"order_id": _draft(partner).pk}          # path arguments

    @api_case("POST /orders/preview", scope="order")
    def _(partner):
        return {"body": {"lines": [...installation ids of partner...]}}

The maker returns the path arguments and optionally ``body`` (JSON), ``files`` (multipart)
and ``headers``. The walker calls it for partner A and then checks:

* A's token with every scope → not 401/403/404 and no 500 (the entry builds a real request);
* a revoked and an expired token of A → 401; a token of A without ``scope`` → 403;
* B's token (every scope) on A's objects → 404 — for every operation whose request names
  an object (path arguments or ids in the body); an operation naming none is declared
  ``names_objects=False`` and is checked to answer B with B's own (empty) data.

A new API operation without an entry fails the walker with a message naming it. Entries of
other modules live in ``<app>/tests/api_isolation.py`` (imported for every installed app).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ApiCase:
    operation: str  # "GET /orders/{order_id}"
    scope: str
    make: Callable  # make(partner) -> dict of path kwargs (+ body, files, headers)
    names_objects: bool = True


_cases: dict[str, ApiCase] = {}


def api_case(operation: str, *, scope: str, names_objects: bool = True):
    """Decorator: register the request maker of ``operation`` ("METHOD /path")."""

    def register(make):
        if operation in _cases:
            raise ValueError(f"{operation} has two API isolation entries")
        _cases[operation] = ApiCase(operation=operation, scope=scope, make=make, names_objects=names_objects)
        return make

    return register


def api_cases() -> dict[str, ApiCase]:
    return dict(_cases)


def load_api_isolation_entries() -> None:
    """Import ``<app>.tests.api_isolation`` of every installed app that has one."""
    import importlib
    import importlib.util

    from django.apps import apps

    for app in apps.get_app_configs():
        module = f"{app.name}.tests.api_isolation"
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            importlib.import_module(module)
