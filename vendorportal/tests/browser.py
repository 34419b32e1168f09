"""Browser tests (issue 12): Playwright driving Debian's chromium against pytest-django's
live server. Registered as a plugin by the root conftest (``pytest_plugins``).

``browser_page`` gives a fresh German page (``locale="de-DE"``, ``Europe/Berlin``,
1280 px wide) on the live server; ``page.goto(path)`` takes paths ("/portal/").
A failing test leaves a full-page screenshot in ``var/test-screenshots/<test>.png``.
Tests using it are marked ``@pytest.mark.browser`` and
``@pytest.mark.django_db(transaction=True)`` (the live server's thread must see the
data the test commits). ``make test`` runs them; ``-m "not browser"`` leaves them out.

Chromium comes from apt (``scripts/system-deps.sh``), never from Playwright's download.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test-screenshots"
VIEWPORT = {"width": 1280, "height": 900}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so the fixture knows whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def _chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (apt-get install chromium)")
    # Playwright's sync API keeps an event loop running in this thread for the whole session;
    # Django then takes every ORM call here (factories, the outbox, the database flush after
    # each test) for async code. They are plain synchronous calls, so they are allowed.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(request, _chromium, live_server, settings):
    # Links in e-mails (password reset, invitation) point at the live server.
    settings.PORTAL_BASE_URL = live_server.url
    context = _chromium.new_context(
        base_url=live_server.url, locale="de-DE", timezone_id="Europe/Berlin", viewport=VIEWPORT, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    # What a user would not see but a test should: script errors, CSP refusals, failed requests.
    page.console_errors = []
    # A failed load is reported by the response hook below with its URL; chromium's own
    # console line for it has none, and the browser's /favicon.ico probe is not the page's.
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and not msg.text.startswith("Failed to load resource")
            and page.console_errors.append(msg.text)
        ),
    )
    page.on(
        "response",
        lambda r: r.status >= 400 and page.console_errors.append(f"{r.status} {r.request.method} {r.url}"),
    )
    yield page
    failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call"))
    if failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    context.close()
