"""The cockpit start page in a real browser (visual review). On a phone the charts' grid asked
for 560 px a column and the page scrolled sideways at 390 px; now a chart scrolls inside its own
frame, wide enough that its labels stay legible. At 1280 px Django's index column of 600 px left
half the screen empty; the cockpit now uses the width, two charts side by side."""

from __future__ import annotations

import pytest

from vendorportal.parties.tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page):
    UserFactory(username="chefin", is_staff=True, is_superuser=True)
    page.goto("/admin/login/")
    page.fill("#id_username", "chefin")
    page.fill("#id_password", "pw-123456")
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")


def test_cockpit_at_1280_uses_the_width_two_charts_a_row(browser_page, catalog):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page)
    assert page.locator("#cockpit").evaluate("c => c.getBoundingClientRect().width") > 1100
    first, second = (page.locator("figure.cockpit-chart").nth(n).bounding_box() for n in (0, 1))
    assert first["y"] == second["y"] and second["x"] > first["x"] + first["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.console_errors == []


def test_cockpit_on_a_phone_does_not_scroll_sideways(browser_page, catalog):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    charts = page.locator("figure.cockpit-chart")
    assert charts.count() >= 8
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Each chart keeps its drawing ≥ 520 px wide and scrolls in its frame (labels ≥ 9 px).
    first = charts.first
    assert first.locator("svg").evaluate("s => s.getBoundingClientRect().width") >= 520
    assert first.evaluate("f => f.scrollWidth > f.clientWidth && getComputedStyle(f).overflowX === 'auto'")
    assert page.console_errors == []
