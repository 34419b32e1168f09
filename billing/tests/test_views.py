"""Billing's portal pages: new order (form → "Preis berechnen" → review → "Verbindlich
bestellen"), orders, invoices with their stored PDFs, the SEPA mandate and the dashboard
panel. Each page: the happy path, garbage input (German message, nothing changed), another
partner's ids (404), member vs admin, and a query budget with 200+ rows.

Amounts (seed 001 price list, partner conditions 20 % from the factory's Certified level):
Call Recording 81-150 purchase 4.800,00 € − 20 % = 3.840,00 €; VAT 19 % = 729,60 €;
gross 4.569,60 €. Call Recording 21-40 → 41-80 tier upgrade: 2.400,00 − 1.200,00 =
1.200,00 € − 20 % = 960,00 €.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services
from billing.models import Invoice, Order, OrderLine, SepaMandate
from licensing.models import License, MaintenanceCoverage, Product
from licensing.services.licenses import license_issue
from licensing.tests.factories import CustomerFactory, InstallationFactory, book, make_system
from vendorportal.parties.models import PartnerUser
from vendorportal.parties.tests.factories import PartnerFactory, PartnerUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = date(2026, 11, 21)


@pytest.fixture
def today(clock):
    clock.set(TODAY)
    return TODAY


@pytest.fixture
def partner(db):
    return PartnerFactory(
        company="Muster Kommunikation GmbH", delivery_email="technik@muster.test", invoice_email="rechnung@muster.test"
    )


@pytest.fixture
def admin(client, partner):
    login = PartnerUserFactory(partner=partner, role=PartnerUser.ADMIN)
    client.force_login(login.user)
    return login.user


@pytest.fixture
def member(client, partner):
    login = PartnerUserFactory(partner=partner, role=PartnerUser.MEMBER)
    client.force_login(login.user)
    return login.user


@pytest.fixture
def other_partner(db):
    return PartnerFactory(company="Fremd GmbH")


def installation_of(partner, users=90, light=10, **kw):
    return InstallationFactory(
        customer=CustomerFactory(partner=partner), pbx_users=users, user_light_licenses=light, **kw
    )


def product_pk(article):
    return Product.objects.get(article=article).pk


def order_form(installation, **fields):
    data = {"token": uuid.uuid4().hex, "term": "purchase", **fields}
    return reverse("portal:order_new_for", args=[installation.pk]), data


def confirmed_order(partner, modules, article="CALLREC"):
    inst = installation_of(partner)
    order_installation = inst
    order = services.order_create(partner=partner)
    services.order_line_add(order=order, installation=order_installation, product=modules[article], kind="purchase")
    invoice = services.order_confirm(order=order)
    return order, invoice


# --- new order ---------------------------------------------------------------------------


def test_new_order_is_for_partner_admins_only(client, member, partner, modules, today):
    inst = installation_of(partner)
    for url in [
        reverse("portal:order_new"),
        reverse("portal:order_new_for", args=[inst.pk]),
        reverse("portal:sepa_mandate"),
    ]:
        response = client.get(url)
        assert response.status_code == 403
        assert "Administratoren" in response.content.decode()
    # Members read orders and invoices but are not offered to order.
    page = client.get(reverse("portal:orders")).content.decode()
    assert reverse("portal:order_new") not in page


def test_choose_installation_then_form(client, admin, partner, other_partner, modules, today):
    mine = installation_of(partner)
    foreign = installation_of(other_partner)
    response = client.get(reverse("portal:order_new"), {"installation": mine.pk})
    assert response["Location"] == reverse("portal:order_new_for", args=[mine.pk])
    response = client.get(reverse("portal:order_new"), {"installation": foreign.pk})
    assert response.status_code == 200
    assert "Diese Installation gibt es nicht" in response.content.decode()
    assert client.get(reverse("portal:order_new_for", args=[foreign.pk])).status_code == 404
    page = client.get(reverse("portal:order_new_for", args=[mine.pk])).content.decode()
    # Tier derived from the installed users: 90 + 10 = 100 → 81-150 (CAT-2).
    assert "81-150" in page and "Preis berechnen" in page


def test_price_review_confirm_happy_path_and_history(client, admin, partner, modules, today, send_outbox):
    inst = installation_of(partner)
    url, data = order_form(inst, products=[product_pk("CALLREC")])
    response = client.post(url, data)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("portal:order_detail", args=[order.pk])
    assert order.state == Order.DRAFT
    # Every change lands in the history staff see, with the partner's login.
    assert order.history.earliest().history_user == admin
    assert order.lines.get().history.earliest().history_user == admin

    page = client.get(response["Location"]).content.decode()
    # The breakdown: list price, partner conditions 20 %, net, VAT, gross.
    assert "Listenpreis (Kauf, Staffel 81-150 Benutzer): 4.800,00 € → 4.800,00 €" in page
    assert "Partnerkondition 20 %: −960,00 € → 3.840,00 €" in page
    assert "729,60 €" in page and "4.569,60 €" in page
    assert "Verbindlich bestellen" in page

    confirm = reverse("portal:order_confirm", args=[order.pk])
    response = client.post(confirm, follow=True)
    invoice = Invoice.objects.get()
    assert "ist verbindlich bestellt" in response.content.decode() and invoice.number in response.content.decode()
    order.refresh_from_db()
    assert order.state == Order.FULFILLED and invoice.gross_total == D("4569.60")
    assert order.history.latest().history_user == admin
    # The same confirmation posted twice orders once.
    response = client.post(confirm, follow=True)
    assert "nichts doppelt bestellt" in response.content.decode()
    assert Invoice.objects.count() == 1 and License.objects.count() == 1
    page = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    assert reverse("portal:invoice_pdf", args=[invoice.pk]) in page
    assert "Lieferschein LS-" in page


def test_live_price_preview_shows_the_breakdown_and_writes_nothing(client, admin, partner, modules, today):
    inst = installation_of(partner)
    _url, data = order_form(inst, products=[product_pk("CALLREC")])
    preview = reverse("portal:order_price_preview", args=[inst.pk])
    page = client.post(preview, data).content.decode()
    # The same breakdown as the review step: 4.800,00 € − 20 % = 3.840,00 €; 19 % = 729,60 €.
    assert "Partnerkondition 20 %: −960,00 € → 3.840,00 €" in page
    assert "729,60 €" in page and "4.569,60 €" in page and "noch nichts bestellt" in page
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    # "Preis berechnen" afterwards writes the one draft, at the same price.
    client.post(*order_form(inst, products=[product_pk("CALLREC")]))
    assert Order.objects.get().lines.get().line_net == D("3840.00")
    # The order form carries the preview URL for the script; the script is a static file (CSP).
    form_page = client.get(reverse("portal:order_new_for", args=[inst.pk])).content.decode()
    assert f'data-preview-url="{preview}"' in form_page and "portal/live-price" in form_page


def test_live_price_preview_explains_what_is_missing_and_refuses_members_and_get(
    client, admin, partner, catalog, today
):
    inst = installation_of(partner)
    preview = reverse("portal:order_price_preview", args=[inst.pk])
    _url, data = order_form(inst)  # nothing chosen
    page = client.post(preview, data).content.decode()
    assert "Noch kein Preis" in page and "Bitte mindestens ein Modul" in page
    page = client.post(preview, {"token": "x", "term": "forever", "quantity": "-3"}).content.decode()
    assert "Noch kein Preis" in page and "Bitte Kauf oder eine Abo-Laufzeit" in page
    assert not Order.objects.exists()
    assert client.get(preview).status_code == 405
    member = PartnerUserFactory(partner=partner, role=PartnerUser.MEMBER)
    client.force_login(member.user)
    assert client.post(preview, data).status_code == 403


def test_the_same_form_posted_twice_places_one_draft(client, admin, partner, modules, today):
    inst = installation_of(partner)
    url, data = order_form(inst, products=[product_pk("CALLREC")])
    first = client.post(url, data)
    second = client.post(url, data)
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_garbage_in_every_field_gives_german_messages_and_writes_nothing(client, admin, partner, modules, today):
    inst = installation_of(partner)
    url = reverse("portal:order_new_for", args=[inst.pk])
    garbage = {
        "token": "x" * 200,
        "products": ["abc", "999999"],
        "term": "forever",
        "quantity": "-3",
        "teams_users": "viele",
        "upgrades": ["nope"],
        "delivery_email": "kein-mail",
        "invoice_email": "@@",
        "as_package": "maybe",
    }
    response = client.post(url, garbage)
    page = response.content.decode()
    assert response.status_code == 200
    for message in [
        "Ungültige Auswahl",
        "Bitte Kauf oder eine Abo-Laufzeit",
        "Bitte eine ganze Zahl ab 1 angeben.",
        "Bitte eine gültige E-Mail-Adresse angeben.",
        "Das Formular ist abgelaufen; bitte die Seite neu laden.",
    ]:
        assert message in page, message
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    # Nothing chosen at all.
    url, data = order_form(inst)
    assert "Bitte mindestens ein Modul" in client.post(url, data).content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize("bad", ["99999999999999999999999", "-99999999999999999999999", "9223372036854775808"])
def test_an_id_beyond_every_integer_range_is_an_invalid_choice_in_form_and_preview(
    client, admin, partner, catalog, today, bad
):
    # Issue 17: SQLite answered 500 (OverflowError) for the form and its live price.
    inst = installation_of(partner)
    url, data = order_form(inst, products=[bad, product_pk("CALLREC")])
    response = client.post(url, data)
    assert response.status_code == 200 and "Dieses Modul wird nicht angeboten." in response.content.decode()
    preview = client.post(reverse("portal:order_price_preview", args=[inst.pk]), data)
    assert preview.status_code == 200 and "Noch kein Preis" in preview.content.decode()
    assert not Order.objects.exists()


def test_already_licensed_module_explains_the_tier_upgrade_and_upgrade_is_priced(
    client, admin, partner, modules, today
):
    inst = installation_of(partner, users=30, light=0)
    lic = license_issue(
        product=modules["CALLREC"],
        installation=inst,
        version=modules["CALLREC"].versions.get(version="2.1"),
        delivery_note=False,
    )
    inst.pbx_users = 50  # now 41-80
    inst.save()
    url, data = order_form(inst, products=[product_pk("CALLREC")])
    page = client.post(url, data).content.decode()
    assert "bereits einen aktiven Schlüssel" in page and "Staffel-Upgrade" in page and str(lic.serial) in page
    assert not Order.objects.exists()
    # The form offers that licence for the upgrade; ordering it costs the difference.
    form_page = client.get(url).content.decode()
    assert f"Lizenz {lic.serial}, Staffel 21-40 → 41-80 Benutzer" in form_page
    url, data = order_form(inst, upgrades=[lic.pk])
    response = client.post(url, data)
    line = Order.objects.get().lines.get()
    assert (line.upgrade_kind, line.list_price, line.line_net) == ("tier", D("1200.00"), D("960.00"))
    page = client.get(response["Location"]).content.decode()
    assert "Staffel-Upgrade 21-40 → 41-80 Benutzer: Differenz der Kaufpreise" in page


def test_a_draft_of_yesterday_is_repriced_before_it_can_be_confirmed(client, admin, partner, modules, clock):
    clock.set(TODAY - timedelta(days=1))
    inst = installation_of(partner)
    order_installation = inst
    order = services.order_create(partner=partner)
    services.order_line_add(
        order=order, installation=order_installation, product=Product.objects.get(article="CALLREC"), kind="purchase"
    )
    clock.set(TODAY)
    page = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    assert "Preis für heute neu berechnen" in page
    response = client.post(reverse("portal:order_confirm", args=[order.pk]), follow=True)
    assert "neu berechnet" in response.content.decode()
    order.refresh_from_db()
    assert (order.state, order.order_date) == (Order.DRAFT, TODAY)
    assert not Invoice.objects.exists()


def test_cancel_draft_and_refused_cancel_after_keys(client, admin, partner, modules, today):
    inst = installation_of(partner)
    draft_installation = inst
    draft = services.order_create(partner=partner)
    services.order_line_add(order=draft, installation=draft_installation, product=modules["CALLREC"], kind="purchase")
    client.post(reverse("portal:order_cancel", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.state == Order.CANCELLED
    assert draft.history.latest().history_user == admin
    done, _invoice = confirmed_order(partner, modules, "INTERCOM")
    page = client.get(reverse("portal:order_detail", args=[done.pk])).content.decode()
    assert "Bestellung stornieren" not in page  # ORD-9: keys generated
    response = client.post(reverse("portal:order_cancel", args=[done.pk]), follow=True)
    assert "Lizenzschlüssel dieser Bestellung sind bereits erzeugt" in response.content.decode()
    done.refresh_from_db()
    assert done.state == Order.FULFILLED


def test_members_cannot_confirm_or_cancel(client, member, partner, modules, today):
    order_installation = installation_of(partner)
    order = services.order_create(partner=partner)
    services.order_line_add(
        order=order, installation=order_installation, product=Product.objects.get(article="CALLREC"), kind="purchase"
    )
    page = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    assert reverse("portal:order_confirm", args=[order.pk]) not in page and "3.840,00 €" in page
    assert client.post(reverse("portal:order_confirm", args=[order.pk])).status_code == 403
    assert client.post(reverse("portal:order_cancel", args=[order.pk])).status_code == 403
    order.refresh_from_db()
    assert order.state == Order.DRAFT


def test_another_partners_ids_are_404(client, admin, other_partner, modules, today):
    order, invoice = confirmed_order(other_partner, modules)
    note = order.lines.get().licenses.get().delivery_notes.get()
    for name, args in [
        ("portal:order_detail", [order.pk]),
        ("portal:order_confirm", [order.pk]),
        ("portal:order_cancel", [order.pk]),
        ("portal:order_delivery_note", [order.pk, note.pk]),
        ("portal:invoice_pdf", [invoice.pk]),
        ("portal:order_new_for", [order.lines.get().installation.pk]),
        ("portal:order_lines_edit", [order.pk]),
        ("portal:order_line_remove", [order.pk, order.lines.get().pk]),
    ]:
        method = (
            client.post
            if name in ("portal:order_confirm", "portal:order_cancel", "portal:order_line_remove")
            else client.get
        )
        assert method(reverse(name, args=args)).status_code == 404, name
    assert "Fremd" not in client.get(reverse("portal:orders")).content.decode()
    assert invoice.number not in client.get(reverse("portal:invoices")).content.decode()


def test_softwarepflege_add_users_through_the_portal(client, admin, partner, clock):
    from demo.loader import SAMPLE_PRICE_LIST
    from licensing.services.catalog import SEED_PRICE_LIST, catalog_load

    catalog_load(price_lists=[SEED_PRICE_LIST, SAMPLE_PRICE_LIST])
    clock.set(date(2025, 7, 4))
    system = make_system(customer=CustomerFactory(partner=partner))
    book(system, start=date(2025, 1, 1), end=date(2025, 12, 31), users=25)
    url = reverse("portal:order_new_for", args=[system.pk])
    page = client.get(url).content.decode()
    assert "31.12.2025" in page and "Benutzer hinzufügen" in page
    # Too many days? No: garbage and a missing user count first.
    response = client.post(url, {"token": "t1", "swp": "add_users", "swp_users": "fünf"})
    assert "Bitte eine ganze Zahl ab 1 angeben." in response.content.decode()
    response = client.post(url, {"token": "t1", "swp": "renewal", "swp_months": "24"})
    assert "Die Softwarepflege läuft 12 oder 36 Monate." in response.content.decode()
    assert not Order.objects.exists()
    response = client.post(url, {"token": "t1", "swp": "add_users", "swp_users": "5"})
    order = Order.objects.get()
    page = client.get(response["Location"]).content.decode()
    # SWP-3: 5 × 29,00 = 145,00; 795 user-days × 0,04 = 31,80; net 176,80; gross 210,39.
    assert "94381" in page and "31,80 €" in page and "176,80 €" in page and "210,39 €" in page
    assert "04.07.2025 – 31.12.2025" in page
    client.post(reverse("portal:order_confirm", args=[order.pk]))
    added = MaintenanceCoverage.objects.get(installation=system, kind="add_users")
    assert (added.users, added.order_reference, added.created_by) == (5, order.reference, admin)


def test_softwarepflege_refusal_is_explained(client, admin, partner, clock):
    from demo.loader import SAMPLE_PRICE_LIST
    from licensing.services.catalog import SEED_PRICE_LIST, catalog_load

    catalog_load(price_lists=[SEED_PRICE_LIST, SAMPLE_PRICE_LIST])
    clock.set(date(2025, 12, 11))
    system = make_system(customer=CustomerFactory(partner=partner))
    book(system, start=date(2025, 1, 1), end=date(2025, 12, 31), users=25)
    url = reverse("portal:order_new_for", args=[system.pk])
    page = client.post(url, {"token": "t2", "swp": "add_users", "swp_users": "5"}).content.decode()
    assert "letzter möglicher Tag war der 10.12.2025" in page
    assert not Order.objects.exists()


def test_orders_list_query_budget_with_200_orders(
    client, admin, partner, catalog, today, django_assert_max_num_queries
):
    installations = [installation_of(partner), installation_of(partner)]
    callrec = Product.objects.get(article="CALLREC")
    orders = Order.objects.bulk_create(
        Order(partner=partner, order_date=TODAY, delivery_email="a@b.test", invoice_email="a@b.test")
        for _ in range(210)
    )
    # Each order for two installations (ORD-1): the list counts them in its one query.
    OrderLine.objects.bulk_create(
        OrderLine(order=o, installation=inst, product=callrec, kind="purchase", tier="81-150", line_net=D("1920.00"))
        for o in orders
        for inst in installations
    )
    with django_assert_max_num_queries(15):
        response = client.get(reverse("portal:orders"))
    assert response.status_code == 200
    page = response.content.decode()
    # 2 × 1.920,00 = 3.840,00 net per order.
    assert "3.840,00 €" in page and "Seite 1 von 5" in page and '<td class="num">2</td>' in page
    with django_assert_max_num_queries(15):
        assert client.get(reverse("portal:orders"), {"seite": "zwei"}).status_code == 200


def test_order_detail_query_budget_with_200_lines(
    client, admin, partner, catalog, today, django_assert_max_num_queries
):
    installations = [installation_of(partner) for _n in range(5)]  # lines across installations (ORD-1)
    order = services.order_create(partner=partner)
    products = Product.objects.bulk_create(
        Product(article=f"X{i:04d}", name=f"Modul {i}", kind="module", pricing_model="flat") for i in range(205)
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            installation=installations[i % 5],
            product=product,
            kind="purchase",
            position=i,
            list_price=D("10.00"),
            unit_net=D("10.00"),
            line_net=D("10.00"),
        )
        for i, product in enumerate(products)
    )
    with django_assert_max_num_queries(15):
        response = client.get(reverse("portal:order_detail", args=[order.pk]))
    # 205 × 10,00 = 2.050,00 net; VAT 389,50; gross 2.439,50.
    page = response.content.decode()
    assert "2.050,00 €" in page and "389,50 €" in page and "2.439,50 €" in page


# --- invoices ----------------------------------------------------------------------------


def bulk_invoices(partner, n, *, year=2026, state=Invoice.OPEN, kind=Invoice.INVOICE, start=1):
    prefix = "RE" if kind == Invoice.INVOICE else "GS"
    return Invoice.objects.bulk_create(
        Invoice(
            kind=kind,
            number=f"{prefix}-{year}-{start + i:06d}",
            issue_date=date(year, 11, 1),
            issued_at=f"{year}-11-01T10:00:00Z",
            partner=partner,
            buyer_name=partner.company,
            buyer_country="DE",
            email="rechnung@muster.test",
            vat_category="S",
            net_total=D("100.00"),
            vat_total=D("19.00"),
            gross_total=D("119.00"),
            due_date=date(year, 11, 15),
            state=state,
            paid_amount=D("119.00") if state == Invoice.PAID else D("0.00"),
        )
        for i in range(n)
    )


def test_invoice_list_filters_and_query_budget(client, member, partner, today, django_assert_max_num_queries):
    bulk_invoices(partner, 205)
    bulk_invoices(partner, 3, year=2025, state=Invoice.PAID, start=1)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("portal:invoices"))
    page = response.content.decode()
    assert "RE-2026-000205" in page and "119,00 €" in page and "15.11.2026" in page
    with django_assert_max_num_queries(15):
        page = client.get(
            reverse("portal:invoices"), {"year": "2025", "state": "paid", "kind": "invoice"}
        ).content.decode()
    assert "RE-2025-000003" in page and "RE-2026-" not in page
    assert "bezahlt" in page and "0,00 €" in page  # nothing due on a paid invoice


def test_invoice_list_garbage_filters_show_all_with_a_german_message(client, member, partner, today):
    bulk_invoices(partner, 2)
    page = client.get(reverse("portal:invoices"), {"state": "kaputt", "year": "1900", "kind": "x", "seite": "-1"})
    text = page.content.decode()
    assert page.status_code == 200
    assert (
        "Unbekannter Status" in text and "Für dieses Jahr gibt es keine Rechnungen" in text and "Unbekannte Art" in text
    )
    assert "RE-2026-000001" in text and "RE-2026-000002" in text


def test_invoice_pdf_is_the_stored_file_byte_identical(client, member, partner, modules, today):
    _order, invoice = confirmed_order(partner, modules)
    response = client.get(reverse("portal:invoice_pdf", args=[invoice.pk]))
    invoice.refresh_from_db()  # the download rendered and stored it (the issue's on_commit did not run)
    with invoice.pdf.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    # A credit note shows what is still due: full credit → nothing, state "storniert".
    note = services.credit_note_issue(invoice=invoice, reason="Testgutschrift")
    page = client.get(reverse("portal:invoices")).content.decode()
    assert note.number in page and "storniert" in page


# --- SEPA mandate -------------------------------------------------------------------------


def mandate_data(**kw):
    return {
        "account_holder": "Muster Kommunikation GmbH",
        "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "",
        "signed_on": "20.11.2026",
        "confirm": "on",
        "token": uuid.uuid4().hex,  # each rendered form has its own one-time token
        **kw,
    }


def test_enter_mandate_and_replace_it(client, admin, partner, today):
    page = client.get(reverse("portal:sepa_mandate")).content.decode()
    assert "kein aktives Mandat" in page
    response = client.post(reverse("portal:sepa_mandate"), mandate_data(), follow=True)
    mandate = SepaMandate.objects.get()
    assert (mandate.iban, mandate.signed_on, mandate.account_holder) == (
        "DE89370400440532013000",
        date(2026, 11, 20),
        "Muster Kommunikation GmbH",
    )
    assert mandate.reference == f"VP-{partner.pk:06d}-001"
    assert mandate.history.earliest().history_user == admin
    assert "DE89 3704 0044 0532 0130 00" in response.content.decode()
    # A new mandate revokes the old one today.
    client.post(
        reverse("portal:sepa_mandate"),
        mandate_data(iban="AT611904300234573201", bic="BKAUATWW", account_holder="Muster AT"),
    )
    old, new = SepaMandate.objects.order_by("pk")
    assert old.revoked_on == TODAY and new.revoked_on is None
    assert (new.reference, new.bic) == (f"VP-{partner.pk:06d}-002", "BKAUATWW")


def test_the_same_mandate_form_posted_twice_records_one_mandate(client, admin, partner, today):
    """Idempotent (STYLE 14): the form's one-time token. Before, every post revoked the mandate
    the previous one had just recorded (ten posts: ten mandates, nine revoked)."""
    page = client.get(reverse("portal:sepa_mandate")).content.decode()
    assert 'name="token"' in page and "auch über 50 €" in page
    data = mandate_data()
    for _ in range(3):
        response = client.post(reverse("portal:sepa_mandate"), data)
        assert response.status_code == 302
    mandate = SepaMandate.objects.get()
    assert mandate.revoked_on is None and mandate.portal_token == data["token"]


def test_partner_chooses_debits_above_50_euros(client, admin, partner, today):
    client.post(reverse("portal:sepa_mandate"), mandate_data(above_limit="on"))
    assert SepaMandate.objects.get().above_limit is True
    response = client.post(reverse("portal:sepa_mandate"), {"action": "above_limit"}, follow=True)
    assert SepaMandate.objects.get().above_limit is False  # the active mandate's choice, switched off
    assert "Ihre Wahl zu Lastschriften über 50 € ist gespeichert." in response.content.decode()


def test_mandate_garbage_changes_nothing(client, admin, partner, today):
    response = client.post(
        reverse("portal:sepa_mandate"),
        {"account_holder": "", "iban": "DE00 1234", "bic": "XX", "signed_on": "gestern", "confirm": ""},
    )
    page = response.content.decode()
    assert "Bitte den Kontoinhaber angeben." in page
    assert "Bitte ein Datum im Format TT.MM.JJJJ angeben." in page
    assert "IBAN" in page and not SepaMandate.objects.exists()
    # A signature date needs the confirmation that the signed mandate is there (without a date
    # the mandate waits for its signature, issue 16).
    page = client.post(reverse("portal:sepa_mandate"), mandate_data(confirm="")).content.decode()
    assert "Bitte bestätigen, dass das unterschriebene Mandat vorliegt." in page
    assert not SepaMandate.objects.exists()
    # Valid format but the rules refuse: a date in the future, a foreign IBAN without BIC.
    page = client.post(
        reverse("portal:sepa_mandate"), mandate_data(signed_on="01.01.2027", iban="AT611904300234573201")
    ).content.decode()
    assert "Das Unterschriftsdatum liegt in der Zukunft." in page
    assert "bitte den BIC angeben" in page
    assert not SepaMandate.objects.exists()


# --- dashboard panel -------------------------------------------------------------------------


def test_dashboard_panel_open_and_overdue(client, member, partner, today, django_assert_max_num_queries):
    bulk_invoices(partner, 200)
    bulk_invoices(partner, 3, state=Invoice.OVERDUE, start=500)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("portal:dashboard")).content.decode()
    # 203 × 119,00 = 24.157,00 due; overdue 3 × 119,00 = 357,00.
    assert "200 offene Rechnungen" in page and "3 überfällig" in page
    assert "357,00 €" in page and "24.157,00 €" in page


def test_the_account_holder_is_the_debtor_of_the_direct_debit_file(partner, today):
    from billing import sepa

    mandate = services.sepa_mandate_enter(
        partner=partner,
        account_holder="Muster Holding AG",
        iban="DE89370400440532013000",
        bic="",
        signed_on=date(2026, 11, 20),
        token="t-1",
    )
    batch = services.sepa_batch_create(
        collections=[sepa.DueCollection("RE-2026-000001", D("53.25"), mandate.reference, TODAY + timedelta(days=5))],
    )
    # The pain.008 names the account holder as debtor, not the partner's company.
    assert "<Nm>Muster Holding AG</Nm>" in batch.xml and "Muster Kommunikation GmbH" not in batch.xml
