"""The staff's order list at 1280 px (issue 21): with the admin's navigation and the filters
beside it, every column is visible without scrolling the list sideways."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from vendorportal.tests.browser import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_order_list_fits_1280_px(browser_page, clock):
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    call_command("load_demo", stdout=io.StringIO())
    page = browser_page  # 1280 × 900
    page.goto("/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin-demo")
    page.click("input[type=submit]")
    page.goto("/admin/billing/order/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-orders-1280.png"), full_page=True)
    results = page.locator(".results")
    assert results.evaluate("box => box.scrollWidth <= box.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.locator("#result_list td.field-net_display").count() >= 1
    assert page.locator("#result_list td.field-order_date_display").first.inner_text() == "07.12.2026"
