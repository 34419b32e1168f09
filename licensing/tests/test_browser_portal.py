"""End-to-end in a real browser (issue 12): a partner logs in, enters an installation,
checks a key on the self-check page and downloads a delivery note — German chromium,
CSP in force, no JavaScript error on any page."""

from datetime import date

import pytest
from playwright.sync_api import expect

from licensing.models import Installation
from licensing.services import licenses as svc
from licensing.services.delivery import delivery_note_create, delivery_note_render
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SERVER_KEY = "ABCDE-12345-FGHIJ-67890"


@pytest.fixture
def partner_admin(db):
    return PartnerUserFactory(role="admin", user__username="chefin", partner__company="Funk & Netz GmbH")


def log_in(page, username="chefin", password="pw-123456"):
    page.goto("/portal/login/")
    main = page.locator("main")
    main.get_by_label("Benutzername").fill(username)
    main.get_by_label("Passwort").fill(password)
    main.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/portal/")


def test_log_in_and_see_the_dashboard(browser_page, partner_admin):
    log_in(browser_page)
    main = browser_page.locator("main")
    assert main.locator("h1").inner_text() == "Funk & Netz GmbH"
    assert "0 Kunden · 0 Installationen" in main.inner_text()
    nav = browser_page.locator("nav.main").inner_text()
    assert all(entry in nav for entry in ["Übersicht", "Kunden", "Installationen", "Lizenzen"])
    assert "Zugänge" in browser_page.locator(".usermenu").inner_text()  # the admin's account pages
    assert browser_page.console_errors == []


def test_create_an_installation(browser_page, partner_admin):
    CustomerFactory(partner=partner_admin.partner, company="Bäckerei Huber")
    log_in(browser_page)
    browser_page.locator("nav.main").get_by_role("link", name="Installationen").click()
    main = browser_page.locator("main")
    main.get_by_role("link", name="Neue Installation").click()
    main.get_by_label("Kunde").select_option(label="Bäckerei Huber")
    main.get_by_label("Bezeichnung").fill("Zentrale")
    main.get_by_label("Hersteller und Edition / Modell").select_option(label="STARFACE VM-Edition")
    main.get_by_label("Serverlizenzschlüssel / Hardware-ID / Seriennummer").fill("abcde-1234")
    main.get_by_label("installierte PBX-Benutzerlizenzen").fill("30")
    main.get_by_role("button", name="Speichern").click()
    # a mistyped server key: the form comes back with the reason at the field
    assert "ist kein Serverlizenzschlüssel" in main.inner_text()
    main.get_by_label("Serverlizenzschlüssel / Hardware-ID / Seriennummer").fill("abcde 12345 fghij 67890")
    main.get_by_role("button", name="Speichern").click()
    browser_page.wait_for_url("**/installationen/")
    assert f"Installation {SERVER_KEY} angelegt." in main.inner_text()
    row = main.locator("tr", has_text=SERVER_KEY)
    assert "STARFACE VM-Edition" in row.inner_text() and "21-40" in row.inner_text()
    inst = Installation.objects.get()
    assert (inst.customer.company, inst.history.get().history_user.username) == ("Bäckerei Huber", "chefin")
    assert browser_page.console_errors == []


@pytest.fixture
def issued(modules, partner_admin, clock):
    clock.set(date(2026, 11, 21))
    inst = InstallationFactory(customer=CustomerFactory(partner=partner_admin.partner), identifier=SERVER_KEY)
    lic = svc.license_issue(
        product=modules["CALLREC"], installation=inst, version=modules["CALLREC"].versions.get(version="2.1"),
        delivery_note=False, today=date(2026, 11, 21),
    )  # fmt: skip
    return lic


def test_check_a_key_on_the_self_check_page(browser_page, issued):
    log_in(browser_page)
    browser_page.goto("/portal/lizenzen/pruefen/")
    main = browser_page.locator("main")
    main.get_by_label("Modullizenzschlüssel").fill(issued.key)
    main.get_by_label("Serverlizenzschlüssel bzw. Hardware-ID der Anlage").fill("ABCDE-12345-FGHIJ-99999")
    main.get_by_role("button", name="Prüfen").click()
    verdict = main.locator(".diagnosis")
    assert "Der Schlüssel passt nicht." in verdict.inner_text()
    assert "gehört zu einem anderen Serverlizenzschlüssel als ABCDE-12345-FGHIJ-99999" in verdict.inner_text()
    main.get_by_label("Serverlizenzschlüssel bzw. Hardware-ID der Anlage").fill(SERVER_KEY)
    main.get_by_role("button", name="Prüfen").click()
    assert f"Der Schlüssel ist gültig für {SERVER_KEY}." in main.locator(".diagnosis").inner_text()
    assert browser_page.console_errors == []


def test_download_a_delivery_note_and_copy_a_key(browser_page, issued):
    note = delivery_note_create(installation=issued.installation, licenses=[issued])
    delivery_note_render(note=note)
    log_in(browser_page)
    browser_page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    browser_page.locator("nav.main").get_by_role("link", name="Lizenzen").click()
    main = browser_page.locator("main")
    row = main.locator("tr", has_text="Call Recording")
    # the copy button exists only with JavaScript (a static file under the CSP) and copies the key
    row.get_by_role("button", name="Schlüssel kopieren").click()
    expect(row.get_by_role("button", name="Schlüssel kopieren")).to_have_text("Kopiert")
    assert browser_page.evaluate("navigator.clipboard.readText()") == issued.key
    with browser_page.expect_download() as download_info:
        row.get_by_role("link", name=f"{note.number} (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"Lieferschein-{note.number}.pdf"
    with open(download.path(), "rb") as stored:
        assert stored.read() == note.pdf.open("rb").read()
    assert browser_page.console_errors == []
