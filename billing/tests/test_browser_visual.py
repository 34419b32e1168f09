"""The partner's billing pages as a user sees them at 1280 px and on a phone (390 px), in German
and English (visual review): nothing scrolls the page sideways, the invoice list with its
dunning letters fits its card, the order's sums are on screen on a phone, the dashboard says
in words that no renewal is due instead of drawing an empty chart.

The invoice is the one of ``test_dunning.py``: Call Recording 4.800,00 € − 20 % = 3.840,00 €,
Intercom 169,00 € − 20 % = 135,20 € → net 3.975,20 €, VAT 19 % 755,29 €, gross 4.730,49 €, due
10.06.2025; Zahlungserinnerung 17.06., 1. Mahnung 01.07., letzte Mahnung 15.07.2025.
"""

from __future__ import annotations

from datetime import date

import pytest

from billing import services
from billing.models import DunningNotice
from billing.services import invoicing
from billing.tests.factories import make_order
from billing.tests.test_browser_portal import log_in
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PAGE_WIDTH = "document.documentElement.scrollWidth"


@pytest.fixture
def dunned(modules, clock):
    admin = PartnerUserFactory(role="admin", user__username="chefin", partner__company="Funk & Netz GmbH")
    clock.set(date(2025, 5, 27))
    invoice = services.order_confirm(
        order=make_order(admin.partner, ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))
    )
    for day in (date(2025, 6, 11), date(2025, 6, 17), date(2025, 7, 1), date(2025, 7, 15)):
        clock.set(day)
        services.invoices_overdue()
    assert DunningNotice.objects.filter(invoice=invoice).count() == 3
    return admin, invoice


@pytest.fixture
def every_kind(dunned, clock):
    """Beside the dunned invoice: a Rechnungskorrektur of it and the Rechnung über
    Nebenforderungen of its fee and interest (40,00 € + 49,18 €), as in the demo data."""
    admin, invoice = dunned
    clock.set(date(2025, 7, 20))
    services.credit_note_issue(invoice=invoice, lines=[(invoice.lines.first(), 1)], reason="Falsche Staffel")
    clock.set(date(2025, 8, 1))
    invoicing.invoicing_run(month=date(2025, 8, 1), render_pdf=False)
    assert admin.partner.invoices.count() == 3
    return admin, invoice


def test_invoice_list_with_dunning_letters_fits_desktop_and_phone(browser_page, every_kind):
    _admin, invoice = every_kind
    page = browser_page
    page.set_viewport_size(DESKTOP)
    log_in(page)
    page.goto("/portal/rechnungen/")
    main = page.locator("main")
    assert main.get_by_role("link", name="letzte Mahnung").is_visible()
    # Before: the table ran 70 px over the card and the page scrolled sideways.
    assert page.evaluate(PAGE_WIDTH) <= DESKTOP["width"]
    card = main.evaluate("m => m.getBoundingClientRect().right - parseFloat(getComputedStyle(m).paddingRight)")
    assert main.locator("table").evaluate("t => t.getBoundingClientRect().right") <= card
    # The number is the link to the PDF (the column "PDF" went), on one line.
    number = main.get_by_role("link", name=invoice.number)
    assert number.get_attribute("href") == f"/portal/rechnungen/{invoice.pk}/pdf/"
    assert number.bounding_box()["height"] < 30

    page.set_viewport_size(PHONE)
    for path in ("/portal/rechnungen/", "/portal/"):
        page.goto(path)
        assert page.evaluate(PAGE_WIDTH) <= PHONE["width"], path
    assert page.console_errors == []


def test_order_sums_are_on_screen_on_a_phone(browser_page, dunned, clock):
    admin, _invoice = dunned
    order = make_order(admin.partner, ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))  # a draft
    page = browser_page
    page.set_viewport_size(PHONE)
    log_in(page)
    page.goto(f"/portal/bestellungen/{order.pk}/")
    totals = page.locator(".breakdown-totals")
    # Before: the sums sat in the table's footer, off-screen to the right of a sideways table.
    assert totals.is_visible()
    assert "Summe brutto\n4.730,49 €" in totals.inner_text()
    box = totals.get_by_text("4.730,49 €").bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate(PAGE_WIDTH) <= PHONE["width"]

    page.set_viewport_size(DESKTOP)  # the desktop keeps the table's own footer
    page.reload()
    assert not totals.is_visible()
    assert "4.730,49 €" in page.locator("table.breakdown tfoot").inner_text()


def test_dashboard_in_english_names_the_languages_and_says_no_renewal_is_due(browser_page, dunned):
    page = browser_page
    page.set_viewport_size(DESKTOP)
    log_in(page)
    header = page.locator("header.site")
    header.get_by_role("button", name="English").click()  # before: "Englisch"
    page.wait_for_load_state()
    assert header.get_by_role("button", name="Deutsch").is_visible()
    main = page.locator("main")
    assert main.locator("#no-renewals").inner_text() == (
        "Upcoming renewals per month: No renewal is due in the next six months."
    )
    assert main.locator("#chart-renewals").count() == 0  # no empty chart with ticks "0, 0, 1, 1"
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate(PAGE_WIDTH) <= PHONE["width"]
    assert page.console_errors == []
