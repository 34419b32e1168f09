"""The licence list on a phone (visual review): the key column had 100 px and a key wrapped
into some 25 lines, each row a screen high; the key now has a column of its own width inside
the table's sideways scroll, and the page itself does not scroll sideways."""

import pytest

from licensing.tests.test_browser_portal import issued, log_in, partner_admin  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_licence_rows_stay_a_few_lines_high_on_a_phone(browser_page, issued):  # noqa: F811
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    page.goto("/portal/lizenzen/")
    row = page.locator("table.licenses tbody tr", has_text=issued.installation.identifier)
    key = row.locator("code.key")
    assert key.inner_text().replace("\n", "") == issued.key
    line = float(key.evaluate("k => parseFloat(getComputedStyle(k).lineHeight) || 16"))
    assert key.bounding_box()["height"] <= 8 * line  # before: ≈ 25 lines
    assert row.bounding_box()["height"] < 250
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.console_errors == []
