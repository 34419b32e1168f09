"""The portal on a phone (issue 21): at 390 × 844 px no page scrolls sideways — wide
tables scroll inside their own box — and the navigation is one menu (<details>) that
opens and leads to every page. The pages are those of the demo data (``load_demo``).
Each page leaves a screenshot in ``var/test-screenshots/phone-*.png`` to look at."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from support import services as support_services
from vendorportal.parties.models import PartnerUser
from vendorportal.tests.browser import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def fits_the_phone(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"phone-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    # The desktop navigation is hidden; the menu button is what a phone user sees.
    assert not page.locator("nav.main").is_visible()
    assert page.locator("details.menu summary").is_visible()


def open_menu_and_go(page, link: str) -> None:
    menu = page.locator("nav.menu")
    assert not menu.is_visible()
    page.locator("details.menu summary").click()
    assert menu.is_visible()
    menu.get_by_role("link", name=link, exact=True).click()
    page.wait_for_load_state()


def test_every_page_a_partner_needs_fits_a_phone(browser_page, clock):
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    call_command("load_demo", stdout=io.StringIO())
    login = PartnerUser.objects.select_related("partner", "user").get(user__username="muster")
    installation = login.partner.customers.first().installations.filter(vendor="starface").first()
    ticket = support_services.ticket_open(
        partner=login.partner,
        by=login.user,
        kind="feature",
        subject="Wunsch: Anrufliste als CSV mit sehr langen Spaltennamen und einer Kennung",
        body="Bitte eine Exportfunktion " + "ohne-Umbruch-" * 12,
        installation=installation,
    )
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto("/portal/login/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # the login page
    main = page.locator("main")
    main.get_by_label("Benutzername").fill("muster")
    main.get_by_label("Passwort").fill("muster-demo")
    main.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/portal/")
    fits_the_phone(page, "dashboard")

    open_menu_and_go(page, "Lizenzen")
    page.wait_for_url("**/portal/lizenzen/")
    fits_the_phone(page, "licences")

    open_menu_and_go(page, "Rechnungen")
    page.wait_for_url("**/portal/rechnungen/")
    assert main.locator("table").count() >= 1
    fits_the_phone(page, "invoices")

    open_menu_and_go(page, "Bestellungen")
    main.get_by_role("link", name="Neue Bestellung").first.click()
    page.wait_for_url("**/portal/bestellungen/neu/")
    fits_the_phone(page, "order-new")

    open_menu_and_go(page, "Support")
    page.wait_for_url("**/portal/support/")
    fits_the_phone(page, "tickets")
    main.get_by_role("link", name=ticket.number).first.click()
    page.wait_for_url(f"**/portal/support/{ticket.pk}/")
    fits_the_phone(page, "ticket")
    page.goto("/portal/support/neu/")
    fits_the_phone(page, "ticket-new")
    # The account links are in the menu too: logging out works from the phone.
    page.locator("details.menu summary").click()
    page.locator("nav.menu").get_by_role("button", name="Abmelden").click()
    page.wait_for_url("**/portal/login/**")
    assert page.console_errors == []
