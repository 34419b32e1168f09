"""End-to-end in a real browser (issue 12): a partner who forgot the password resets it
from the e-mail's link and logs in with the new one."""

import re

import pytest
from django.core import mail

from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reset_a_forgotten_password_from_the_email(browser_page, send_outbox):
    PartnerUserFactory(user__username="bert", user__email="bert@partner.test", partner__company="Bert IT")
    page = browser_page
    page.goto("/portal/login/")
    main = page.locator("main")
    main.get_by_role("link", name="Passwort vergessen?").click()
    main.get_by_label("E-Mail-Adresse").fill("bert@partner.test")
    main.get_by_role("button").click()
    page.wait_for_url("**/passwort-vergessen/gesendet/")

    assert send_outbox() == 1
    (message,) = mail.outbox
    assert message.to == ["bert@partner.test"]
    link = re.search(r"https?://\S+/portal/passwort-setzen/\S+/", message.body).group(0)

    page.goto(link)
    assert "Neues Passwort setzen" in main.inner_text()
    main.get_by_label("Neues Passwort", exact=True).fill("Winter-Modem-77")
    main.get_by_label("Neues Passwort bestätigen").fill("Winter-Modem-77")
    main.get_by_role("button").click()
    page.wait_for_url("**/passwort-setzen/fertig/")

    page.goto("/portal/login/")
    main.get_by_label("Benutzername").fill("bert")
    main.get_by_label("Passwort").fill("Winter-Modem-77")
    main.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/portal/")
    assert main.locator("h1").inner_text() == "Bert IT"
    assert page.console_errors == []
