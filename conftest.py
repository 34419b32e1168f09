import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings


def pytest_configure(config):
    """The English catalogue's .mo is built by make (msgfmt); a plain ``pytest`` after a change
    of the .po builds it here, before Django loads any catalogue (issue 21, docs/i18n.md)."""
    po = Path(__file__).parent / "locale" / "en" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        import polib

        tmp = mo.with_suffix(f".mo.{os.getpid()}")
        polib.pofile(str(po)).save_as_mofile(str(tmp))
        tmp.replace(mo)  # atomic: xdist workers may build it at once


# Property tests check values, not speed: on a loaded 2-core machine (parallel test workers,
# CI) input generation may be slow, which must not fail a test (no deadline, no too_slow).
hypothesis_settings.register_profile("portal", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("portal")

# Browser tests' fixtures and their screenshot-on-failure hook (issue 12).
pytest_plugins = ["vendorportal.tests.browser"]


# --- running in parallel (issue 17: make test runs pytest-xdist, -n auto --dist loadgroup) ------
# Each xdist worker has its own test database (pytest-django: <name>_gw0, _gw1, ...) and its own
# tmp_path base (media, attachments, signing key); a real Celery worker consumes a queue of its
# own test. Two things need the order of the tests:
# - pytest-django runs the tests on a rolled-back transaction first and the transactional ones
#   (which empty every table afterwards, rows written by data migrations included) after them.
#   A worker takes tests in collection order, so that holds on every worker; the Makefile
#   says --no-loadscope-reorder, because loadgroup would otherwise move the biggest group (the
#   transactional browser tests) to the front. (A plain `pytest -n 2` uses --dist load, which
#   keeps the order too.)
# - The slowest tests (migrations back and forth, real Celery workers) start first among the
#   transactional ones, so the other worker is not left idle waiting for one at the end.


def pytest_itemcollected(item):
    # All browser tests on one xdist worker: one chromium per run instead of one per worker.
    if item.get_closest_marker("browser"):
        item.add_marker(pytest.mark.xdist_group("browser"))


def _transactional(item) -> bool:
    """As pytest-django decides it: the test's data is committed and the tables flushed after."""
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(trylast=True)  # after pytest-django's ordering (database, transactional, none)
def pytest_collection_modifyitems(items):
    def slow(item) -> bool:
        return bool(item.get_closest_marker("migration") or item.get_closest_marker("worker"))

    first = sorted((item for item in items if slow(item)), key=lambda item: not item.get_closest_marker("migration"))
    rest = [item for item in items if not slow(item)]
    at = next((n for n, item in enumerate(rest) if _transactional(item)), len(rest))
    items[:] = rest[:at] + first + rest[at:]


@pytest.fixture(autouse=True)
def _data_migration_rows(request):
    """A transactional test starts after another one emptied every table, the rows data
    migrations wrote included: VAT rates (GEN-2) and the Bundesbank's base rates (dunning,
    issue 18) are put back as the migrations wrote them, so such a test (``load_demo`` in a
    browser test, an invoice on a live server) finds what every database has."""
    if not _transactional(request.node):
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    for module, function in (
        ("billing.migrations.0002_vat_rates_from_2007", "add_rates"),
        ("billing.migrations.0018_base_rates_published_legacy_reminders", "forwards"),
        ("billing.migrations.0019_base_rate_2026_first_half", "forwards"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)


class _Clock:
    """Sets the time :mod:`vendorportal.clock` reports; released after each test."""

    def set(self, moment):
        from vendorportal import clock

        clock.freeze(moment)


@pytest.fixture
def clock():
    from vendorportal import clock as portal_clock

    handle = _Clock()
    yield handle
    portal_clock.freeze(None)


@pytest.fixture
def catalog(db):
    """The seed 001 catalog and price list, loaded as ``make run`` loads it (the rows of the
    first load in this process copied in after that: licensing/tests/catalog_cache.py)."""
    from licensing.tests.catalog_cache import catalog_load_cached

    catalog_load_cached()


@pytest.fixture
def portal_user(db):
    from vendorportal.parties.tests.factories import PartnerUserFactory

    return PartnerUserFactory()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness (≈0.5 s per password) is not what the tests examine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_signing_key(settings, tmp_path_factory):
    # Each test session signs with its own throw-away key, never the one in var/.
    keys_dir = tmp_path_factory.getbasetemp() / "license-keys"
    settings.LICENSE_SIGNING_KEY_FILE = keys_dir / "signing.pem"
    settings.LICENSE_PUBLIC_KEYS_DIR = keys_dir / "public"


@pytest.fixture
def modules(catalog):
    """Versions for every module as the demo data has them: 1.8 (2018-03-12),
    2.0 (2021-02-01, paid update), 2.1 (2024-04-15); PBX 8.2.0.5 tested with 2.1.
    (Written once per test process, copied in after that: licensing/tests/catalog_cache.py.)"""
    from licensing.models import Product
    from licensing.tests.catalog_cache import module_versions_cached

    module_versions_cached()
    return {p.article: p for p in Product.objects.filter(kind=Product.MODULE)}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Rendered PDFs and uploaded proofs of a test go to its own folder, not var/media.
    settings.MEDIA_ROOT = tmp_path / "media"
    # Support attachments and the inbound Maildir too (any test may open a ticket with files).
    settings.SUPPORT_ATTACHMENTS_ROOT = str(tmp_path / "support-attachments")
    settings.SUPPORT_MAILDIR = str(tmp_path / "support-mail")
    settings.PRICE_LIST_CACHE_DIR = str(tmp_path / "price-lists")


@pytest.fixture
def send_outbox(db):
    """What a worker does with every due outbox row: call it to send; returns how many were sent."""

    def send() -> int:
        from vendorportal.models import OutboxMessage
        from vendorportal.outbox import outbox_send

        # In the order the rows were written (the order their wake-ups are queued in), again
        # while a round sends something: a row waiting for another (an order's invoice for
        # its delivery note, ORD-2) goes in the round after the one that sent what it waited for.
        total = 0
        while True:
            pks = list(OutboxMessage.objects.filter(sent_at__isnull=True).order_by("pk").values_list("pk", flat=True))
            sent = sum(outbox_send(message_id=pk) for pk in pks)
            total += sent
            if not sent:
                return total

    return send


@pytest.fixture
def portal_query_budget(client, django_assert_max_num_queries):
    """``portal_query_budget(url)``: the logged-in client GETs ``url`` within 15 queries
    (issue 12: every portal page, with 200+ rows); returns the response."""
    from vendorportal.portal.testing import PORTAL_QUERY_BUDGET, assert_query_budget

    def check(url: str, *, max_queries: int = PORTAL_QUERY_BUDGET):
        return assert_query_budget(client, url, django_assert_max_num_queries, max_queries=max_queries)

    return check
