"""The cockpit start page in a real browser on a phone (visual review): the charts' grid asked
for 560 px a column and the page scrolled sideways at 390 px; now a chart scrolls inside its own
frame, wide enough that its labels stay legible."""

from __future__ import annotations

import pytest

from vendorportal.parties.tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cockpit_on_a_phone_does_not_scroll_sideways(browser_page, catalog):
    UserFactory(username="chefin", is_staff=True, is_superuser=True)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/login/")
    page.fill("#id_username", "chefin")
    page.fill("#id_password", "pw-123456")
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")
    charts = page.locator("figure.cockpit-chart")
    assert charts.count() >= 8
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Each chart keeps its drawing ≥ 520 px wide and scrolls in its frame (labels ≥ 9 px).
    first = charts.first
    assert first.locator("svg").evaluate("s => s.getBoundingClientRect().width") >= 520
    assert first.evaluate("f => f.scrollWidth > f.clientWidth && getComputedStyle(f).overflowX === 'auto'")
    assert page.console_errors == []
