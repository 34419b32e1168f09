"""End-to-end in a real browser (issue 12): a partner admin orders a module for an
installation — choose the installation, tick the module, "Preis berechnen", read the
breakdown with the partner discount, "Verbindlich bestellen" — and, once the worker has
sent the e-mails, downloads the delivery note and the invoice from the order's page.

Amounts (seed 001 price list; the factory's partner level Certified gives 20 %):
Call Recording, 90 + 10 installed users → tier 81-150, purchase 4.800,00 €;
partner conditions 20 % = −960,00 € → 3.840,00 € net; VAT 19 % = 729,60 €;
gross 4.569,60 €.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing.models import Invoice, Order, VatRate
from licensing.models import DeliveryNote, License
from licensing.tests.factories import CustomerFactory, InstallationFactory
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SERVER_KEY = "ABCDE-12345-FGHIJ-67890"


@pytest.fixture
def partner_admin(db):
    return PartnerUserFactory(
        role="admin",
        user__username="chefin",
        partner__company="Funk & Netz GmbH",
        partner__delivery_email="technik@funk-netz.test",
        partner__invoice_email="buchhaltung@funk-netz.test",
    )


@pytest.fixture
def installation(partner_admin, modules, clock):
    clock.set(date(2026, 11, 21))
    # A transactional test before this one may have flushed the rates the data migration wrote.
    if not VatRate.objects.filter(category="S").exists():
        VatRate.objects.create(category="S", percent="19.00", valid_from=date(2007, 1, 1))
    return InstallationFactory(
        customer=CustomerFactory(partner=partner_admin.partner, company="Bäckerei Huber"),
        identifier=SERVER_KEY,
        pbx_users=90,
        user_light_licenses=10,
    )


def log_in(page, username="chefin", password="pw-123456"):
    page.goto("/portal/login/")
    main = page.locator("main")
    main.get_by_label("Benutzername").fill(username)
    main.get_by_label("Passwort").fill(password)
    main.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/portal/")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def download(page, link):
    with page.expect_download() as info:
        link.click()
    with open(info.value.path(), "rb") as stored:
        return info.value.suggested_filename, stored.read()


def test_order_a_module_and_download_delivery_note_and_invoice(browser_page, installation, send_outbox):
    page = browser_page
    log_in(page)
    page.locator("nav.main").get_by_role("link", name="Bestellungen").click()
    main = page.locator("main")
    main.get_by_role("link", name="Neue Bestellung").click()
    # One installation (tier upgrades, Softwarepflege, or a module for one PBX): the chooser below the form.
    main.get_by_label("Installation", exact=True).select_option(label=f"Bäckerei Huber – {SERVER_KEY}")
    main.get_by_role("button", name="Weiter", exact=True).click()
    page.wait_for_url(f"**/bestellungen/neu/{installation.pk}/")
    # The tier comes from the installed users: 90 + 10 → 81-150 (CAT-2).
    assert "81-150" in main.locator("dl.facts").inner_text()
    main.get_by_label("Call Recording (CALLREC)").check()
    # The live price appears as soon as the module is ticked (static script, same pricing), and
    # nothing is written by it.
    live = main.locator("#live-price table.breakdown")
    live.wait_for()
    assert "4.569,60 €" in live.inner_text() and not Order.objects.exists()
    main.get_by_role("button", name="Preis berechnen").click()

    order = Order.objects.get()
    page.wait_for_url(f"**/bestellungen/{order.pk}/")
    breakdown = main.locator("table.breakdown").inner_text()
    assert "Listenpreis (Kauf, Staffel 81-150 Benutzer): 4.800,00 € → 4.800,00 €" in breakdown
    assert "Partnerkondition 20 %: −960,00 € → 3.840,00 €" in breakdown
    assert "729,60 €" in breakdown and "4.569,60 €" in breakdown
    # Nothing is ordered yet: no key, no invoice.
    assert order.state == Order.DRAFT and not License.objects.exists() and not Invoice.objects.exists()

    main.get_by_role("button", name="Verbindlich bestellen").click()
    invoice = Invoice.objects.get()
    assert f"ist verbindlich bestellt. Rechnung {invoice.number}" in page.locator("body").inner_text()
    assert invoice.gross_total == Decimal("4569.60")
    order.refresh_from_db()
    assert order.state == Order.FULFILLED

    # The worker sends the delivery note (its PDF is rendered then) and the invoice.
    assert send_outbox() == 2
    page.reload()
    lic = License.objects.get()
    note = DeliveryNote.objects.get()

    name, data = download(page, main.get_by_role("link", name=f"Lieferschein {note.number} (PDF)"))
    assert name == f"{note.number}.pdf" and data.startswith(b"%PDF")
    text = pdf_text(data)
    assert note.number in text and lic.key in text.replace("\n", "")

    name, data = download(page, main.get_by_role("link", name=f"Rechnung {invoice.number} (PDF)"))
    assert name == f"{invoice.number}.pdf" and data.startswith(b"%PDF")
    text = pdf_text(data)
    assert invoice.number in text and "4.569,60" in text
    assert page.console_errors == []


def test_order_for_three_installations_of_two_customers(browser_page, partner_admin, modules, clock):
    """Issue 16 (ORD-1/ORD-2): Intercom for three installations of two customers whose keys go
    to their own addresses — three delivery notes to two addresses, then one invoice.

    End-customer prices (partner status not confirmed, ORD-5): 3 × 169,00 € = 507,00 € net;
    VAT 19 % = 96,33 €; gross 603,33 € (3 licences: no volume discount, ORD-4)."""
    from django.core import mail

    from billing.models import OrderLine

    clock.set(date(2026, 11, 21))
    if not VatRate.objects.filter(category="S").exists():
        VatRate.objects.create(category="S", percent="19.00", valid_from=date(2007, 1, 1))
    partner = partner_admin.partner
    partner.status_confirmed_on = None
    partner.save()
    bakery = CustomerFactory(partner=partner, company="Bäckerei Huber", delivery_email="it@baeckerei.test")
    office = CustomerFactory(partner=partner, company="Kanzlei Recht", delivery_email="technik@kanzlei.test")
    shop = InstallationFactory(customer=bakery, identifier="BAKE1-AAAAA-BBBBB-00001", pbx_users=20)
    bakehouse = InstallationFactory(customer=bakery, identifier="BAKE2-AAAAA-BBBBB-00002", pbx_users=20)
    chambers = InstallationFactory(customer=office, identifier="LAW01-AAAAA-BBBBB-00003", pbx_users=20)
    InstallationFactory(customer=office, identifier="LAW02-AAAAA-BBBBB-00004", pbx_users=20)  # not ordered

    page = browser_page
    log_in(page)
    page.goto("/portal/bestellungen/neu/")
    main = page.locator("main")
    main.get_by_label("Modul oder Bundle").select_option(label="Intercom (INTERCOM)")
    # Filter by customer, tick, filter by the other customer, tick: the first ticks stay.
    main.get_by_label("Installationen filtern nach Kunde").select_option(label="Bäckerei Huber")
    assert not main.get_by_label("Kanzlei Recht · LAW01-AAAAA-BBBBB-00003", exact=False).is_visible()
    main.get_by_label("BAKE1-AAAAA-BBBBB-00001", exact=False).check()
    main.get_by_label("BAKE2-AAAAA-BBBBB-00002", exact=False).check()
    main.get_by_label("Installationen filtern nach Kunde").select_option(label="Kanzlei Recht")
    main.get_by_label("LAW01-AAAAA-BBBBB-00003", exact=False).check()
    live = main.locator("#live-price table.breakdown")
    live.wait_for()
    page.wait_for_function("document.querySelector('#live-price').innerText.includes('603,33')")
    assert not Order.objects.exists()
    main.get_by_role("button", name="Preis berechnen").click()

    order = Order.objects.get()
    page.wait_for_url(f"**/bestellungen/{order.pk}/")
    breakdown = main.locator("table.breakdown").inner_text()
    assert "507,00 €" in breakdown and "96,33 €" in breakdown and "603,33 €" in breakdown
    assert breakdown.count("Lieferschein an it@baeckerei.test") == 2
    assert breakdown.count("Lieferschein an technik@kanzlei.test") == 1
    assert set(OrderLine.objects.values_list("installation_id", flat=True)) == {shop.pk, bakehouse.pk, chambers.pk}

    main.get_by_role("button", name="Verbindlich bestellen").click()
    page.wait_for_selector("text=ist verbindlich bestellt")
    invoice = Invoice.objects.get()
    assert invoice.gross_total == Decimal("603.33")
    notes = {n.installation_id: n.recipient_email for n in DeliveryNote.objects.all()}
    assert notes == {
        shop.pk: "it@baeckerei.test",
        bakehouse.pk: "it@baeckerei.test",
        chambers.pk: "technik@kanzlei.test",
    }

    # Sent in the order the worker and the periodic dispatch take them (due time, then id):
    # the three delivery notes first, then the one invoice.
    from vendorportal.models import OutboxMessage
    from vendorportal.outbox import outbox_send

    mail.outbox.clear()
    for pk in OutboxMessage.objects.order_by("due_at", "pk").values_list("pk", flat=True):
        assert outbox_send(message_id=pk)
    assert [m.to for m in mail.outbox] == [[notes[n.installation_id]] for n in DeliveryNote.objects.order_by("pk")] + [
        ["buchhaltung@funk-netz.test"]
    ]
    assert len({address for m in mail.outbox[:3] for address in m.to}) == 2
    page.reload()
    links = main.get_by_role("link", name=re.compile(r"Lieferschein LS-"))
    assert links.count() == 3
    assert main.get_by_role("link", name=f"Rechnung {invoice.number} (PDF)").count() == 1
    assert page.console_errors == []
