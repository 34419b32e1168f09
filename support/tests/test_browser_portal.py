"""End-to-end in a real browser (issue 12): a partner opens a support ticket with an
attachment — the PBX and module versions are required — sees it in the list, opens it and
downloads the file; support replies (the service the admin calls) and the partner reads
the reply on the ticket's page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from support import services
from support.models import Ticket
from vendorportal.parties.tests.factories import PartnerUserFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LOG = b"2026-11-20 09:14:02 ERROR callrec: java.io.IOException: disk full\n"


@pytest.fixture
def technician(db):
    return PartnerUserFactory(
        role="member",
        user__username="technik",
        user__email="technik@funk-netz.test",
        partner__company="Funk & Netz GmbH",
    )


def log_in(page, username="technik", password="pw-123456"):
    page.goto("/portal/login/")
    main = page.locator("main")
    main.get_by_label("Benutzername").fill(username)
    main.get_by_label("Passwort").fill(password)
    main.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/portal/")


def test_open_a_ticket_with_an_attachment_and_read_the_reply(browser_page, technician, modules, clock, tmp_path):
    # Thursday 19.11.2026, 10:00 in Berlin: within support hours.
    clock.set(datetime(2026, 11, 19, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    page = browser_page
    log_in(page)
    page.locator("nav.main").get_by_role("link", name="Support", exact=True).click()
    main = page.locator("main")
    main.get_by_role("link", name="Neues Ticket").click()
    page.wait_for_url("**/support/neu/")

    log_file = tmp_path / "callrec.log"
    log_file.write_bytes(LOG)
    main.get_by_label("Dringlichkeit").select_option(label="hoch")
    main.get_by_label("Betreff").fill("Aufzeichnungen brechen ab")
    main.get_by_label("Beschreibung").fill("Seit gestern brechen alle Aufzeichnungen nach 2 Minuten ab.")
    main.get_by_label("Anhänge").set_input_files(str(log_file))
    main.get_by_role("button", name="Absenden").click()
    # Without the versions the form comes back with the reasons at the fields, nothing written.
    text = main.inner_text()
    assert text.count("Dieses Feld ist zwingend erforderlich.") == 3
    assert not Ticket.objects.exists()

    main.get_by_label("STARFACE-Version").select_option(label="8.2.0.5")
    main.get_by_label("Modul", exact=True).select_option(label="Call Recording (CALLREC)")
    main.get_by_label("Modulversion").fill("2.1")
    main.get_by_label("Anhänge").set_input_files(str(log_file))  # a browser does not keep files
    main.get_by_role("button", name="Absenden").click()
    ticket = Ticket.objects.get()
    page.wait_for_url(f"**/support/{ticket.pk}/")
    assert f"Ticket {ticket.number} ist angelegt." in page.locator("body").inner_text()
    assert (ticket.urgency, ticket.pbx_version, ticket.product.article, ticket.module_version) == (
        "high",
        "8.2.0.5",
        "CALLREC",
        "2.1",
    )

    # The list shows it; the partner opens it from there.
    page.locator("nav.main").get_by_role("link", name="Support", exact=True).click()
    row = main.locator("tr", has_text=ticket.number)
    assert "Aufzeichnungen brechen ab" in row.inner_text() and "neu" in row.inner_text()
    row.get_by_role("link", name=ticket.number).click()
    page.wait_for_url(f"**/support/{ticket.pk}/")
    assert main.locator("h1").inner_text() == f"{ticket.number}: Aufzeichnungen brechen ab"
    with page.expect_download() as info:
        main.get_by_role("link", name="callrec.log").click()
    assert info.value.suggested_filename == "callrec.log"
    with open(info.value.path(), "rb") as stored:
        assert stored.read() == LOG

    # Support answers (what the admin's reply form calls); the partner sees it on reload.
    services.ticket_reply(
        ticket=ticket,
        by=UserFactory(username="support-anna", email="anna@vendor.test", is_staff=True),
        body="Bitte die Freigabe des Speichers prüfen; danach läuft die Aufzeichnung wieder.",
        from_staff=True,
        new_status="waiting",
    )
    page.reload()
    staff_message = main.locator("article.message.staff")
    assert "Bitte die Freigabe des Speichers prüfen" in staff_message.inner_text()
    assert staff_message.locator("header").inner_text().startswith("Support")
    assert "wartet auf Kunde" in main.locator("dl.facts").inner_text()
    assert page.console_errors == []
