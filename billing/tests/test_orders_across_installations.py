"""Orders across installations (issue 16, decision ORD-1/ORD-4 of RULES.md): an order of one
partner names an installation on every line; the volume discount (ORD-4) counts a module's
licences over the whole order, bundles (ORD-3) count per installation, GEN-3 multiplies;
what cannot be delivered is refused when the line is added or priced; one delivery note
per installation to its own address (ORD-2), then one invoice; drafts are reused and
changed; a large order comes as CSV with a row-by-row preview.

Prices of seed 001 (licensing/data/pricelist_2022-09.csv): Intercom purchase 169,00 €;
Blacklist PRO, Happy Holiday, Zeitgesteuerte Umleitung PRO and Pro IVR — the modules of the
"STARFACE Management Suite" — 249,00 € each. The partner here has no confirmed partner
status, so end-customer prices apply (ORD-5: 0 %). VAT 19 % (GEN-2).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing import constants, rules, selectors, services
from billing.exceptions import OrderRefused
from billing.models import Invoice, Order, OrderLine
from licensing.models import Bundle, DeliveryNote, License, ModuleVersion, Product
from licensing.services.licenses import license_issue
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory, make_system
from vendorportal.models import OutboxMessage
from vendorportal.parties.models import PartnerUser
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
SUITE = ["BLACKLIST", "HOLIDAY", "TIMEROUTE", "PROIVR"]


@pytest.fixture
def today(clock):
    clock.set(date(2026, 11, 21))
    return date(2026, 11, 21)


@pytest.fixture
def partner(db):
    # Not confirmed as a partner: end-customer prices (ORD-5), so the seed's list prices apply.
    return PartnerFactory(
        company="Muster Kommunikation GmbH",
        delivery_email="technik@muster.test",
        invoice_email="buchhaltung@muster.test",
        status_confirmed_on=None,
    )


@pytest.fixture
def suite(modules):
    bundle = Bundle.objects.create(name="STARFACE Management Suite")
    bundle.products.set(Product.objects.filter(article__in=SUITE))
    return bundle


def installation_of(partner, customer=None, **kw):
    return InstallationFactory(
        customer=customer or CustomerFactory(partner=partner), pbx_users=90, user_light_licenses=10, **kw
    )


def product(article):
    return Product.objects.get(article=article)


def wishes(installations, *articles, kind="purchase", term=0):
    return [
        services.LineWish(product=product(a), kind=kind, installation=inst, term_months=term)
        for inst in installations
        for a in articles
    ]


def order_with(partner, installations, *articles):
    order = services.order_create(partner=partner)
    services.order_lines_add(order=order, lines=wishes(installations, *articles))
    return order


# --- ORD-4 across the order, ORD-3 per installation, GEN-3 -------------------------------------------


def test_twelve_intercom_for_twelve_customers(partner, modules, today, send_outbox):
    installations = [installation_of(partner) for _n in range(12)]
    order = order_with(partner, installations, "INTERCOM")
    # 12 licences of one module in one order (ORD-4): 169,00 × 0,9 = 152,10 each.
    assert set(order.lines.values_list("volume_discount_percent", "unit_net", "line_net")) == {
        (D("10.00"), D("152.10"), D("152.10"))
    }
    # 12 × 152,10 = 1.825,20 net; VAT 1.825,20 × 0,19 = 346,788 → 346,79; gross 2.171,99.
    once = selectors.order_breakdown(order).total("once")
    assert (once.net, once.vat, once.gross) == (D("1825.20"), D("346.79"), D("2171.99"))

    invoice = services.order_confirm(order=order)
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("1825.20"), D("346.79"), D("2171.99"))
    # One key and one delivery note per installation; each invoice line names its installation.
    assert License.objects.count() == 12
    assert sorted(DeliveryNote.objects.values_list("installation_id", flat=True)) == sorted(i.pk for i in installations)
    descriptions = list(invoice.lines.values_list("description", flat=True))
    assert all(inst.identifier in text for inst, text in zip(installations, descriptions))


def test_eleven_licences_but_one_installation_short_of_the_bundle(partner, suite, today):
    """All four suite modules on 10 installations, and Blacklist PRO alone on an 11th."""
    complete = [installation_of(partner) for _n in range(10)]
    single = installation_of(partner)
    order = order_with(partner, complete, *SUITE)
    services.order_line_add(order=order, installation=single, product=product("BLACKLIST"), kind="purchase")
    lines = {(line.installation_id, line.product.article): line for line in order.lines.select_related("product")}
    # Complete suite, ≥ 10 licences of the module: 249,00 × 0,9 (bundle) × 0,9 (volume) = 201,69 (GEN-3).
    for inst in complete:
        for article in SUITE:
            line = lines[(inst.pk, article)]
            assert (line.bundle_discount_percent, line.volume_discount_percent, line.unit_net) == (
                D("10.00"),
                D("10.00"),
                D("201.69"),
            )
    # The 11th installation has only Blacklist PRO: no bundle there (ORD-3 per installation),
    # but 11 Blacklist licences in the order: 249,00 × 0,9 = 224,10.
    alone = lines[(single.pk, "BLACKLIST")]
    assert (alone.bundle_discount_percent, alone.volume_discount_percent, alone.unit_net) == (
        D("0.00"),
        D("10.00"),
        D("224.10"),
    )
    # 40 × 201,69 = 8.067,60 + 224,10 = 8.291,70 net; VAT 1.575,423 → 1.575,42; gross 9.867,12.
    once = selectors.order_breakdown(order).total("once")
    assert (once.net, once.vat, once.gross) == (D("8291.70"), D("1575.42"), D("9867.12"))


def test_bundle_on_nine_installations_has_no_volume_discount(partner, suite, today):
    order = order_with(partner, [installation_of(partner) for _n in range(9)], *SUITE)
    # 9 licences per module: bundle only, 249,00 × 0,9 = 224,10.
    assert set(order.lines.values_list("bundle_discount_percent", "volume_discount_percent", "unit_net")) == {
        (D("10.00"), D("0.00"), D("224.10"))
    }


# --- refused when added or priced, never first at confirmation ---------------------------------------


def test_undeliverable_lines_are_refused_when_added_with_their_reason(partner, modules, today):
    licensed = installation_of(partner)
    lic = license_issue(
        product=modules["INTERCOM"],
        installation=licensed,
        version=modules["INTERCOM"].versions.get(version="2.1"),
        delivery_note=False,
    )
    system = make_system(customer=CustomerFactory(partner=partner))
    free = installation_of(partner)
    order = services.order_create(partner=partner)
    cases = [
        (licensed, "INTERCOM", f"Für Intercom gibt es auf {licensed.identifier} bereits einen aktiven Schlüssel"),
        (system, "INTERCOM", f"{system.identifier} ist ein Auerswald-System"),
    ]
    for inst, article, message in cases:
        with pytest.raises(OrderRefused, match=message):
            services.order_line_add(order=order, installation=inst, product=product(article), kind="purchase")
    with pytest.raises(OrderRefused) as refused:
        services.order_line_add(order=order, installation=licensed, product=product("INTERCOM"), kind="purchase")
    assert str(lic.serial) in refused.value.message and "Staffel-Upgrade" in refused.value.message
    # Intercom's key has no tier: the message names the licence alone, no "Staffel —".
    assert lic.tier in ("", None)
    assert f"(Lizenz {lic.serial});" in refused.value.message and "Staffel —" not in refused.value.message
    # A module without a released version cannot get a key: refused now, not on confirmation.
    ModuleVersion.objects.filter(product__article="GROUPBUSY").delete()
    with pytest.raises(OrderRefused, match="Für Group Busy ist noch keine Modulversion veröffentlicht"):
        services.order_line_add(order=order, installation=free, product=product("GROUPBUSY"), kind="purchase")
    # All or nothing: one bad installation among good ones adds none.
    with pytest.raises(OrderRefused, match="bereits einen aktiven Schlüssel"):
        services.order_lines_add(order=order, lines=wishes([free, licensed], "INTERCOM"))
    assert not OrderLine.objects.exists()


def test_a_key_issued_after_adding_is_refused_when_priced_again(partner, modules, today):
    inst = installation_of(partner)
    order = order_with(partner, [inst], "INTERCOM")
    license_issue(
        product=modules["INTERCOM"],
        installation=inst,
        version=modules["INTERCOM"].versions.get(version="2.1"),
        delivery_note=False,
    )
    with pytest.raises(OrderRefused, match="inzwischen einen aktiven Schlüssel"):
        services.order_price(order=order)


# --- ORD-2: one delivery note per installation to its address, then one invoice -----------------------


def test_three_installations_of_two_customers_get_their_keys_at_their_addresses(partner, modules, today):
    bakery = CustomerFactory(partner=partner, company="Bäckerei Huber", delivery_email="it@baeckerei.test")
    office = CustomerFactory(partner=partner, company="Kanzlei Recht")
    first = installation_of(partner, customer=bakery)
    second = installation_of(partner, customer=bakery)
    own = installation_of(partner, customer=office, delivery_email="anlage@kanzlei.test")
    order = order_with(partner, [first, second, own], "INTERCOM")
    # Installation's own address, else its customer's, else the order's (the partner's).
    assert sorted(order.lines.values_list("delivery_email", flat=True)) == [
        "anlage@kanzlei.test",
        "it@baeckerei.test",
        "it@baeckerei.test",
    ]
    invoice = services.order_confirm(order=order)
    notes = {n.installation_id: n.recipient_email for n in DeliveryNote.objects.all()}
    assert notes == {first.pk: "it@baeckerei.test", second.pk: "it@baeckerei.test", own.pk: "anlage@kanzlei.test"}
    # The outbox sends in the order it was written: the three delivery notes, then the invoice.
    mails = list(OutboxMessage.objects.order_by("due_at", "pk").values_list("kind", "recipients"))
    assert [kind for kind, _r in mails] == ["delivery-note"] * 3 + [constants.INVOICE_KIND]
    assert mails[-1][1] == ["buchhaltung@muster.test"] and Invoice.objects.get() == invoice


def test_changing_a_drafts_delivery_email_moves_the_lines_without_their_own(partner, modules, today):
    customer = CustomerFactory(partner=partner, delivery_email="it@kunde.test")
    own, plain = installation_of(partner, customer=customer), installation_of(partner)
    order = order_with(partner, [own, plain], "INTERCOM")
    services.order_emails_change(order=order, delivery_email="lager@muster.test", invoice_email="")
    assert dict(order.lines.values_list("installation_id", "delivery_email")) == {
        own.pk: "it@kunde.test",
        plain.pk: "lager@muster.test",
    }
    order.refresh_from_db()
    assert order.invoice_email == "buchhaltung@muster.test"


def test_delivery_recipient_rule():
    assert rules.delivery_recipient(installation_email="", customer_email=" it@k.test ", order_email="p@t.test") == (
        "it@k.test"
    )
    assert rules.delivery_recipient(
        installation_email="a@i.test", customer_email="it@k.test", order_email="p@t.test"
    ) == ("a@i.test")
    assert rules.delivery_recipient(installation_email="", customer_email="", order_email="p@t.test") == "p@t.test"


# --- drafts: reused, changed --------------------------------------------------------------------------


def test_a_draft_can_be_changed_and_is_repriced(partner, modules, today):
    installations = [installation_of(partner) for _n in range(10)]
    order = order_with(partner, installations, "INTERCOM")
    assert order.lines.first().unit_net == D("152.10")  # 10 licences: 169,00 × 0,9
    services.order_line_remove(order=order, line=order.lines.first())
    # 9 left: the volume discount is gone, 169,00 each; 9 × 169,00 = 1.521,00.
    assert set(order.lines.values_list("unit_net", flat=True)) == {D("169.00")}
    assert selectors.order_breakdown(order).total("once").net == D("1521.00")
    services.order_lines_add(order=order, lines=wishes([installation_of(partner)], "INTERCOM"))
    assert set(order.lines.values_list("unit_net", flat=True)) == {D("152.10")}
    services.order_confirm(order=order)
    with pytest.raises(OrderRefused, match="kann nicht mehr geändert werden"):
        services.order_line_remove(order=order, line=order.lines.first())


# --- the portal ---------------------------------------------------------------------------------------------


@pytest.fixture
def admin(client, partner):
    login = PartnerUserFactory(partner=partner, role=PartnerUser.ADMIN)
    client.force_login(login.user)
    return login.user


def multi_form(installations, article="INTERCOM", token=None, **fields):
    key = f"product:{product(article).pk}"
    return {
        "token": token or uuid.uuid4().hex,
        "article": key,
        "term": "purchase",
        "installations": [i.pk for i in installations],
        **fields,
    }


def test_portal_order_for_ticked_installations_and_pricing_again_reuses_the_draft(
    client, admin, partner, modules, today
):
    installations = [installation_of(partner) for _n in range(12)]
    page = client.get(reverse("portal:order_new")).content.decode()
    assert "Anzahl Lizenzen" not in page  # no quantity on one installation: a licence per server key
    assert all(inst.identifier in page for inst in installations) and "portal/customer-filter" in page
    # The live price: 12 × 152,10 = 1.825,20 net, 2.171,99 gross; nothing written.
    data = multi_form(installations)
    preview = client.post(reverse("portal:order_new_preview"), data).content.decode()
    assert "1.825,20 €" in preview and "2.171,99 €" in preview and "Mengenrabatt" in preview
    assert not Order.objects.exists()
    response = client.post(reverse("portal:order_new"), data)
    order = Order.objects.get()
    assert response["Location"] == reverse("portal:order_detail", args=[order.pk])
    # Back in the form, one installation fewer, priced again: the same draft, 11 lines.
    response = client.post(reverse("portal:order_new"), multi_form(installations[:11], token=data["token"]))
    assert Order.objects.count() == 1 and order.lines.count() == 11
    page = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    # 11 × 152,10 = 1.673,10 net; VAT 317,889 → 317,89; gross 1.990,99.
    assert "1.673,10 €" in page and "1.990,99 €" in page and installations[0].identifier in page
    # Change the draft: remove a line, then add two installations.
    line = order.lines.order_by("position").first()
    client.post(reverse("portal:order_line_remove", args=[order.pk, line.pk]))
    assert order.lines.count() == 10
    add = multi_form([installation_of(partner), installation_of(partner)])
    preview = client.post(reverse("portal:order_lines_preview", args=[order.pk]), add).content.decode()
    assert "1.825,20 €" in preview and order.lines.count() == 10  # 12 lines priced, nothing written
    response = client.post(reverse("portal:order_lines_edit", args=[order.pk]), add)
    assert response.status_code == 302 and order.lines.count() == 12
    assert selectors.order_breakdown(order).total("once").net == D("1825.20")


def test_portal_refuses_an_undeliverable_installation_with_its_reason(client, admin, partner, modules, today):
    good = installation_of(partner)
    licensed = installation_of(partner)
    lic = license_issue(
        product=modules["INTERCOM"],
        installation=licensed,
        version=modules["INTERCOM"].versions.get(version="2.1"),
        delivery_note=False,
    )
    system = make_system(customer=CustomerFactory(partner=partner))
    assert system.identifier not in client.get(reverse("portal:order_new")).content.decode().split("Weitere Wege")[0]
    page = client.post(reverse("portal:order_new"), multi_form([good, licensed])).content.decode()
    assert f"Für Intercom gibt es auf {licensed.identifier} bereits einen aktiven Schlüssel" in page
    assert str(lic.serial) in page and not Order.objects.exists()
    page = client.post(reverse("portal:order_new"), multi_form([good, system])).content.decode()
    assert "Diese Installation gibt es nicht, oder für sie kann nicht bestellt werden." in page
    page = client.post(reverse("portal:order_new"), multi_form([])).content.decode()
    assert "Bitte mindestens eine Installation ankreuzen." in page
    assert not Order.objects.exists()


def test_new_order_page_with_200_installations_within_the_query_budget(
    client, admin, partner, suite, today, portal_query_budget
):
    customers = [CustomerFactory(partner=partner) for _n in range(20)]
    for n in range(210):
        installation_of(partner, customer=customers[n % 20])
    page = portal_query_budget(reverse("portal:order_new")).content.decode()
    assert page.count('type="checkbox" name="installations"') == 210


def csv_upload(text: str, **fields):
    return {
        "token": uuid.uuid4().hex,
        "term": "purchase",
        "file": SimpleUploadedFile("bestellung.csv", text.encode("utf-8"), content_type="text/csv"),
        **fields,
    }


def test_csv_preview_marks_every_bad_row_and_places_only_good_files(client, admin, partner, modules, today):
    good = installation_of(partner, identifier="GOOD1-AAAAA-BBBBB-CCCCC")
    second = installation_of(partner)
    licensed = installation_of(partner)
    license_issue(
        product=modules["INTERCOM"],
        installation=licensed,
        version=modules["INTERCOM"].versions.get(version="2.1"),
        delivery_note=False,
    )
    foreign = InstallationFactory(pbx_users=90)
    text = "\n".join(
        [
            "Serverlizenzschlüssel;Artikel",
            "good1aaaaabbbbbccccc;intercom",  # typed without dashes, lower case: still found
            f"{second.identifier};INTERCOM",
            "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ;INTERCOM",
            f"{foreign.identifier};INTERCOM",
            f"{second.identifier};NOSUCH",
            f"{second.identifier};INTERCOM",
            f"{licensed.identifier};INTERCOM",
            "nur-eine-spalte",
        ]
    )
    response = client.post(reverse("portal:order_csv"), csv_upload(text))
    page = response.content.decode()
    for message in [
        "Unbekannte Installation „ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ“",
        f"Die Installation {foreign.identifier} gehört zu keinem Ihrer Kunden.",
        "Unbekannter Artikel „NOSUCH“",
        f"Doppelte Zeile: INTERCOM für {second.identifier} steht schon in Zeile 3.",
        f"Für Intercom gibt es auf {licensed.identifier} bereits einen aktiven Schlüssel",
        "Die Zeile hat nicht die Form „Serverlizenzschlüssel;Artikel“.",
        "6 Zeilen sind fehlerhaft",
    ]:
        assert message in page, message
    assert page.count('class="row-ok"') == 2 and page.count('class="row-bad"') == 6
    assert "Bestellung anlegen" not in page
    # Even asked to place, a file with bad rows places nothing.
    client.post(reverse("portal:order_csv"), csv_upload(text, place="1"))
    assert not Order.objects.exists() and not OrderLine.objects.exists()

    good_text = f"GOOD1-AAAAA-BBBBB-CCCCC;INTERCOM\n{second.identifier};INTERCOM\n"
    page = client.post(reverse("portal:order_csv"), csv_upload(good_text)).content.decode()
    assert "Alle 2 Zeilen sind in Ordnung." in page and "Bestellung anlegen" in page
    assert not Order.objects.exists()
    response = client.post(
        reverse("portal:order_csv"),
        {"token": uuid.uuid4().hex, "term": "purchase", "content": good_text, "place": "1"},
    )
    order = Order.objects.get()
    assert response["Location"] == reverse("portal:order_detail", args=[order.pk])
    assert sorted(order.lines.values_list("installation_id", "unit_net")) == sorted(
        [(good.pk, D("169.00")), (second.pk, D("169.00"))]
    )


def test_orders_list_counts_installations_within_the_query_budget(
    client, admin, partner, modules, today, django_assert_max_num_queries
):
    installations = [installation_of(partner) for _n in range(3)]
    order_with(partner, installations, "INTERCOM")
    for _n in range(4):
        order_with(partner, [installation_of(partner)], "INTERCOM")
    with django_assert_max_num_queries(15):
        page = client.get(reverse("portal:orders")).content.decode()
    assert '<td class="num">3</td>' in page and page.count('<td class="num">1</td>') == 4


def test_delivery_emails_are_edited_in_the_portal(client, admin, partner, modules, today):
    customer = CustomerFactory(partner=partner, company="Bäckerei Huber")
    inst = installation_of(partner, customer=customer)
    response = client.post(
        reverse("portal:customer_edit", args=[customer.pk]),
        {"company": "Bäckerei Huber", "country": "DE", "delivery_email": "it@baeckerei.test"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.delivery_email == "it@baeckerei.test"
    form = client.get(reverse("portal:installation_edit", args=[inst.pk])).content.decode()
    assert "Liefer-E-Mail für Schlüssel" in form
    response = client.post(
        reverse("portal:installation_edit", args=[inst.pk]),
        {
            "edition": inst.edition,
            "identifier": inst.identifier,
            "pbx_users": "90",
            "user_light_licenses": "10",
            "delivery_email": "kein-mail",
        },
    )
    assert "Bitte eine gültige E-Mail-Adresse angeben." in response.content.decode()
    client.post(
        reverse("portal:installation_edit", args=[inst.pk]),
        {
            "edition": inst.edition,
            "identifier": inst.identifier,
            "pbx_users": "90",
            "user_light_licenses": "10",
            "delivery_email": "anlage@baeckerei.test",
        },
    )
    inst.refresh_from_db()
    assert inst.delivery_email == "anlage@baeckerei.test"
    # The order takes the installation's own address before its customer's.
    order = order_with(partner, [inst], "INTERCOM")
    assert order.lines.get().delivery_email == "anlage@baeckerei.test"


def test_installation_support_basic_bought_in_an_order_of_several_installations(partner, modules, today):
    from support.selectors import basic_booked

    first, second = installation_of(partner), installation_of(partner)
    order = services.order_create(partner=partner)
    services.order_lines_add(order=order, lines=wishes([first], "SP-BASIC") + wishes([second], "INTERCOM"))
    services.order_confirm(order=order)
    assert (basic_booked(first), basic_booked(second)) == (True, False)
