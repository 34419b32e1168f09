"""Licensing's portal pages: customers, installations, licence keys and delivery notes, the
self-check (LIC-3), article data (CAT-7) and price list; who may change what; history."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from pypdf import PdfReader

from licensing.models import Installation, License
from licensing.services import licenses as svc
from licensing.tests.factories import (
    FAKE_PDF,
    CustomerFactory,
    InstallationFactory,
    PartnerUserFactory,
    book,
    make_delivery_note,
    make_license,
    make_system,
    module_version,
)
from vendorportal.parties.models import Customer

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 21)
SERVER_KEY = "ABCDE-12345-FGHIJ-67890"


@pytest.fixture(autouse=True)
def _today(clock):
    clock.set(TODAY)


@pytest.fixture
def admin_login(client):
    membership = PartnerUserFactory(role="admin", user__username="chefin")
    client.force_login(membership.user)
    return membership


@pytest.fixture
def member_login(client):
    membership = PartnerUserFactory(role="member", user__username="azubi")
    client.force_login(membership.user)
    return membership


def page(response) -> str:
    return response.content.decode()


def field_errors(response, field: str) -> list[str]:
    return [str(e) for e in response.context["form"].errors.get(field, [])]


# --- customers -------------------------------------------------------------------------------


def test_customer_list_shows_own_customers_with_their_installation_count(client, admin_login):
    mine = CustomerFactory(partner=admin_login.partner, company="Bäckerei Huber", city="Ulm")
    InstallationFactory(customer=mine)
    InstallationFactory(customer=mine)
    CustomerFactory(company="Fremdkunde KG")
    html = page(client.get(reverse("portal:customers")))
    row = html[html.index("Bäckerei Huber") : html.index("</tr>", html.index("Bäckerei Huber"))]
    assert "Ulm" in row and '<td class="num">2</td>' in row
    assert "Fremdkunde KG" not in html
    assert reverse("portal:customer_edit", args=[mine.pk]) in html and "Neuer Kunde" in html


def test_admin_creates_a_customer_and_staff_see_who_in_the_history(client, admin_login, admin_client):
    response = client.post(
        reverse("portal:customer_create"),
        {
            "company": " Metzgerei Maier ",
            "street": "Hauptstr. 1",
            "postal_code": "70173",
            "city": "Stuttgart",
            "country": "de",
        },
    )
    customer = Customer.objects.get(company="Metzgerei Maier")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:installations_for_customer", args=[customer.pk])
    assert (customer.partner, customer.country) == (admin_login.partner, "DE")
    assert customer.history.get().history_user.username == "chefin"
    history = page(admin_client.get(reverse("admin:parties_customer_history", args=[customer.pk])))
    assert "chefin" in history


def test_customer_with_a_country_name_instead_of_code_gets_the_field_error(client, admin_login):
    response = client.post(reverse("portal:customer_create"), {"company": "X GmbH", "country": "Deutschland"})
    assert response.status_code == 200
    assert field_errors(response, "country") == ["Bitte einen zweistelligen ISO-Ländercode angeben, z. B. DE oder AT."]
    assert not Customer.objects.filter(company="X GmbH").exists()


def test_admin_edits_a_customer(client, admin_login):
    customer = CustomerFactory(partner=admin_login.partner, company="Alt AG")
    response = client.post(
        reverse("portal:customer_edit", args=[customer.pk]), {"company": "Neu AG", "city": "Bonn", "country": "DE"}
    )
    customer.refresh_from_db()
    assert response.status_code == 302 and (customer.company, customer.city) == ("Neu AG", "Bonn")
    assert customer.history.latest().history_user.username == "chefin"


def test_member_reads_but_may_not_change_customers(client, member_login):
    customer = CustomerFactory(partner=member_login.partner, company="Lesbar GmbH")
    html = page(client.get(reverse("portal:customers")))
    assert "Lesbar GmbH" in html and "Neuer Kunde" not in html and "Bearbeiten" not in html
    refused = client.post(reverse("portal:customer_create"), {"company": "Verboten", "country": "DE"})
    assert refused.status_code == 403 and "Administratoren" in page(refused)
    assert (
        client.post(reverse("portal:customer_edit", args=[customer.pk]), {"company": "X", "country": "DE"}).status_code
        == 403
    )
    assert not Customer.objects.filter(company__in=["Verboten", "X"]).exists()


# --- installations ---------------------------------------------------------------------------


def installation_data(customer, **overrides):
    data = {
        "customer": customer.pk,
        "name": "Zentrale",
        "edition": "appliance",
        "identifier": "abcde 12345 fghij 67890",
        "pbx_users": "30",
        "user_light_licenses": "5",
        "pbx_version": "9.0.1",
        "secondary_of": "",
    }
    data.update(overrides)
    return data


def test_admin_creates_an_installation_with_normalised_server_key_and_history(client, admin_login, admin_client):
    customer = CustomerFactory(partner=admin_login.partner)
    response = client.post(reverse("portal:installation_create"), installation_data(customer))
    inst = Installation.objects.get()
    assert response.status_code == 302
    # 30 PBX + 5 User Light = 35 installed users → tier 21-40 (CAT-2)
    assert (inst.identifier, inst.vendor, inst.identifier_kind, inst.installed_users, inst.tier) == (
        SERVER_KEY,
        "starface",
        "server_key",
        35,
        "21-40",
    )
    assert inst.history.get().history_user.username == "chefin"
    assert "chefin" in page(admin_client.get(reverse("admin:licensing_installation_history", args=[inst.pk])))


def test_auerswald_system_is_entered_by_serial_number(client, admin_login):
    customer = CustomerFactory(partner=admin_login.partner)
    data = installation_data(customer, edition="comtrexx_next", identifier="1ab-2345-678", pbx_version="")
    assert client.post(reverse("portal:installation_create"), data).status_code == 302
    inst = Installation.objects.get()
    assert (inst.vendor, inst.identifier_kind, inst.identifier) == ("auerswald", "serial", "1AB2345678")


def test_mistyped_server_key_is_refused_at_its_field(client, admin_login):
    customer = CustomerFactory(partner=admin_login.partner)
    response = client.post(reverse("portal:installation_create"), installation_data(customer, identifier="ABCDE-1234"))
    assert response.status_code == 200
    assert "ist kein Serverlizenzschlüssel" in field_errors(response, "identifier")[0]
    assert 'aria-invalid="true"' in page(response) and not Installation.objects.exists()


def test_server_key_of_another_partner_is_refused_without_naming_that_partners_customer(client, admin_login):
    InstallationFactory(identifier=SERVER_KEY, customer=CustomerFactory(company="Geheim GmbH"))
    customer = CustomerFactory(partner=admin_login.partner)
    response = client.post(reverse("portal:installation_create"), installation_data(customer))
    assert response.status_code == 200
    assert "bei einem anderen Partner erfasst" in field_errors(response, "identifier")[0]
    assert "Geheim GmbH" not in page(response)


def test_redundancy_pair_must_be_one_customer(client, admin_login):
    primary = InstallationFactory(customer=CustomerFactory(partner=admin_login.partner))
    other_customer = CustomerFactory(partner=admin_login.partner)
    response = client.post(
        reverse("portal:installation_create"), installation_data(other_customer, secondary_of=primary.pk)
    )
    assert response.status_code == 200
    assert "gehört zu einem anderen Kunden" in field_errors(response, "secondary_of")[0]
    same = client.post(
        reverse("portal:installation_create"), installation_data(primary.customer, secondary_of=primary.pk)
    )
    assert same.status_code == 302
    assert Installation.objects.get(identifier=SERVER_KEY).secondary_of == primary


def test_another_partners_installation_cannot_be_chosen_as_primary(client, admin_login):
    foreign = InstallationFactory()
    customer = CustomerFactory(partner=admin_login.partner)
    response = client.post(reverse("portal:installation_create"), installation_data(customer, secondary_of=foreign.pk))
    assert response.status_code == 200 and field_errors(response, "secondary_of")
    assert foreign.identifier not in page(response)


def test_edit_changes_users_and_version_but_not_the_key_bound_identifier(client, admin_login):
    inst = InstallationFactory(customer=CustomerFactory(partner=admin_login.partner), identifier=SERVER_KEY)
    make_license(inst, module_version())
    response = client.post(
        reverse("portal:installation_edit", args=[inst.pk]),
        {"name": "Lager", "edition": "vm", "identifier": "ZZZZZ-12345-FGHIJ-67890", "pbx_users": "90",
         "user_light_licenses": "0", "pbx_version": "9.0.2", "secondary_of": ""},
    )  # fmt: skip
    inst.refresh_from_db()
    assert response.status_code == 302
    # disabled fields keep their value: the key stays bound to its server key (LIC-11)
    assert (inst.identifier, inst.edition, inst.pbx_users, inst.pbx_version, inst.tier) == (
        SERVER_KEY,
        "appliance",
        90,
        "9.0.2",
        "81-150",
    )


def test_member_may_not_create_or_edit_installations(client, member_login):
    inst = InstallationFactory(customer=CustomerFactory(partner=member_login.partner), pbx_users=5)
    assert client.get(reverse("portal:installation_create")).status_code == 403
    response = client.post(reverse("portal:installation_edit", args=[inst.pk]), {"pbx_users": "99"})
    inst.refresh_from_db()
    assert response.status_code == 403 and inst.pbx_users == 5


def test_installations_of_one_customer(client, member_login):
    customer = CustomerFactory(partner=member_login.partner, company="Huber")
    mine = InstallationFactory(customer=customer)
    sibling = InstallationFactory(customer=CustomerFactory(partner=member_login.partner))
    html = page(client.get(reverse("portal:installations_for_customer", args=[customer.pk])))
    assert "Installationen von Huber" in html and mine.identifier in html and sibling.identifier not in html


# --- licences, delivery notes ----------------------------------------------------------------


def test_licence_list_shows_key_state_and_delivery_note_with_copy_script(client, member_login):
    inst = InstallationFactory(customer=CustomerFactory(partner=member_login.partner, company="Huber"))
    lic = make_license(inst, module_version())
    note = make_delivery_note(inst, [lic])
    unrendered = make_license(inst, module_version(article="INTERCOM", name="Intercom"))
    make_delivery_note(inst, [unrendered], pdf=None)
    foreign = make_license(InstallationFactory(), module_version())
    html = page(client.get(reverse("portal:licenses")))
    assert lic.key in html and "Call Recording" in html and "aktiv" in html
    assert reverse("portal:delivery_note_pdf", args=[note.pk]) in html
    assert html.count("(PDF)") == 1  # the note without a stored PDF offers no download
    assert foreign.key not in html
    # CSP: scripts only from files; the key is plain text, so the page works without JavaScript
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/portal/copy-key.js" defer>']


def test_delivery_note_download_is_the_stored_pdf(client, member_login):
    inst = InstallationFactory(customer=CustomerFactory(partner=member_login.partner))
    note = make_delivery_note(inst, [make_license(inst, module_version())])
    response = client.get(reverse("portal:delivery_note_pdf", args=[note.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f'filename="Lieferschein-{note.number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == FAKE_PDF


def test_delivery_note_without_stored_pdf_is_404_not_500(client, member_login):
    inst = InstallationFactory(customer=CustomerFactory(partner=member_login.partner))
    note = make_delivery_note(inst, [make_license(inst, module_version())], pdf=None)
    assert client.get(reverse("portal:delivery_note_pdf", args=[note.pk])).status_code == 404


# --- self-check (LIC-3) ------------------------------------------------------------------------


@pytest.fixture
def issued(modules, member_login):
    inst = InstallationFactory(customer=CustomerFactory(partner=member_login.partner), identifier=SERVER_KEY)
    return svc.license_issue(
        product=modules["CALLREC"], installation=inst, version=modules["CALLREC"].versions.get(version="1.8"),
        delivery_note=False, today=TODAY,
    )  # fmt: skip


def check(client, **data):
    data.setdefault("identifier_kind", "server_key")
    return client.post(reverse("portal:license_check"), data)


def test_self_check_says_a_fitting_key_fits(client, issued):
    html = page(check(client, key=issued.key.lower().replace("-", " "), identifier="abcde12345fghij67890"))
    assert "Der Schlüssel passt." in html
    assert f"Der Schlüssel ist gültig für {SERVER_KEY}." in html


@pytest.mark.parametrize(
    "case,expected",
    [
        ("other-server-key", "gehört zu einem anderen Serverlizenzschlüssel als OTHER-12345-FGHIJ-67890"),
        ("server-key-entered", "Eingegeben wurde ein Serverlizenzschlüssel, kein Modullizenzschlüssel."),
        ("garbage", "Der Schlüssel ist unvollständig oder enthält falsche Zeichen."),
        ("paid-update", "Der Schlüssel gilt für Version 1.8."),
        ("other-module", "Der Schlüssel gehört zum Modul Call Recording, nicht zu Intercom."),
    ],
)
def test_self_check_explains_why_a_key_does_not_fit(client, issued, case, expected):
    data = {"key": issued.key, "identifier": SERVER_KEY}
    if case == "other-server-key":
        data["identifier"] = "OTHER-12345-FGHIJ-67890"
    elif case == "server-key-entered":
        data["key"] = SERVER_KEY
    elif case == "garbage":
        data["key"] = "ÄÖÜ <script>alert(1)</script> ;DROP TABLE"
    elif case == "paid-update":
        data["installed_version"] = "2.1"  # 1.8 → 2.1 jumps over the paid 2.0 (LIC-4)
    elif case == "other-module":
        data["module"] = "INTERCOM"
    response = check(client, **data)
    assert response.status_code == 200
    html = page(response)
    assert "Der Schlüssel passt nicht." in html and expected in html
    assert "<script>alert" not in html


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"key": "", "identifier": SERVER_KEY}, "key", "Bitte den Modullizenzschlüssel einfügen."),
        ({"key": "A" * 2001, "identifier": SERVER_KEY}, "key", "Das ist zu lang für einen Lizenzschlüssel (höchstens 2000 Zeichen)."),
        ({"key": "ABC", "identifier": ""}, "identifier", "Bitte den Serverlizenzschlüssel der Anlage angeben."),
        ({"key": "ABC", "identifier": SERVER_KEY, "installed_version": "neu"}, "installed_version",
         "„neu“ ist keine Versionsnummer; bitte ein bis drei Zahlen mit Punkt, z. B. 2.1."),
    ],
)  # fmt: skip
def test_self_check_bad_input_gets_a_clear_message_not_a_500(client, member_login, data, field, message):
    response = check(client, **data)
    assert response.status_code == 200
    assert field_errors(response, field) == [message]


def test_self_check_with_hardware_id_of_an_unknown_shape_still_gives_a_verdict(client, issued):
    response = check(client, key=issued.key, identifier="xx", identifier_kind="hardware_id")
    assert response.status_code == 200 and "Der Schlüssel passt nicht." in page(response)


# --- dashboard panels ----------------------------------------------------------------------------


def test_dashboard_lists_demo_keys_running_out_within_30_days_and_swp_needing_attention(client, member_login):
    customer = CustomerFactory(partner=member_login.partner, company="Huber")
    inst = InstallationFactory(customer=customer)
    soon = make_license(inst, module_version(), kind=License.DEMO, valid_until=TODAY + timedelta(days=30))
    make_license(inst, module_version(article="INTERCOM", name="Intercom"), kind=License.DEMO,
                 valid_until=TODAY + timedelta(days=31))  # fmt: skip
    make_license(InstallationFactory(), module_version(article="FAX", name="Fax"), kind=License.DEMO,
                 valid_until=TODAY + timedelta(days=3))  # fmt: skip
    expiring = make_system(customer=customer)
    book(expiring, start=date(2025, 12, 1), end=date(2026, 12, 31), users=5)  # ends in 40 days: expiring (SWP-8)
    fine = make_system(customer=customer)
    book(fine, start=date(2026, 6, 1), end=date(2027, 5, 31), users=5)
    html = page(client.get(reverse("portal:dashboard")))
    keys = html[html.index("Ablaufende Lizenzschlüssel") : html.index("</section>", html.index("Ablaufende"))]
    assert "21.12.2026" in keys and "Call Recording" in keys and "Intercom" not in keys and "Fax" not in keys
    assert soon.installation.identifier in keys
    swp = html[html.index("Softwarepflege läuft ab") : html.index("</section>", html.index("Softwarepflege läuft ab"))]
    assert expiring.identifier in swp and "31.12.2026" in swp and "läuft bald ab" in swp
    assert fine.identifier not in swp


def test_dashboard_leaves_out_empty_attention_panels(client, member_login):
    html = page(client.get(reverse("portal:dashboard")))
    assert "Ablaufende Lizenzschlüssel" not in html and "Softwarepflege läuft ab" not in html
    assert "0 Kunden · 0 Installationen" in html


# --- article data and price list --------------------------------------------------------------------


def test_article_csv_has_the_export_columns_and_prices(client, member_login, catalog):
    response = client.get(reverse("portal:articles_csv"))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="Artikeldaten-2026-11-21.csv"' in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[0] == "article,name,kind,tier,term_months,price_net,unit,valid_from,sample_price"
    # CAT-3 example: Call Recording, 81-150 users, subscription 24 months: 179,00 €/month
    assert any(line.startswith("CALLREC,Call Recording,subscription,81-150,24,179.00,month,") for line in lines)


def test_article_csv_without_price_list_is_a_404_page_not_an_empty_file(client, member_login):
    response = client.get(reverse("portal:articles_csv"))
    assert response.status_code == 404 and "Seite nicht gefunden" in page(response)


def test_price_list_pdf_shows_prices_in_german_format(client, member_login, catalog):
    response = client.get(reverse("portal:price_list_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Preisliste" in text and "Stand 21.11.2026" in text
    # CAT-3's example in the tier × term matrix: Call Recording, 81-150, bought 4.800,00 €; no
    # 1-month term; 12, 24, 36 months 235,37 / 179,00 / 142,98 € a month (seed 001).
    assert "81-150 4.800,00 € — 235,37 € 179,00 € 142,98 €" in " ".join(text.split())


@pytest.fixture
def pdf_renders(monkeypatch):
    """Counts WeasyPrint renders of the price list (the HTML is still made per request)."""
    from vendorportal import pdf

    calls = []
    render = pdf._html_pdf

    def counting(html, **options):
        calls.append(html)
        return render(html, **options)

    monkeypatch.setattr(pdf, "_html_pdf", counting)
    return calls


def test_the_price_list_pdf_is_rendered_once_per_version(client, member_login, catalog, pdf_renders, settings):
    """Issue 17: the second download renders nothing and gets the same bytes, from the file the
    first left (a restart keeps it); a changed price is a new version — rendered once again,
    with the new price in it, and the old file gone."""
    from pathlib import Path

    from licensing.models import Price

    first = client.get(reverse("portal:price_list_pdf"))
    second = client.get(reverse("portal:price_list_pdf"))
    assert len(pdf_renders) == 1
    assert second.content == first.content
    assert len(list(Path(settings.PRICE_LIST_CACHE_DIR).glob("*.pdf"))) == 1

    price = Price.objects.get(product__article="CALLREC", kind=Price.PURCHASE, tier="81-150")
    Price.objects.filter(pk=price.pk).update(amount="4900.00")  # 4.800,00 € → 4.900,00 €
    third = client.get(reverse("portal:price_list_pdf"))
    fourth = client.get(reverse("portal:price_list_pdf"))
    assert len(pdf_renders) == 2
    assert fourth.content == third.content != first.content
    before, after = (" ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages) for r in (first, third))
    assert "4.900,00 €" in after and "4.900,00 €" not in before
    assert after.count("4.800,00 €") == before.count("4.800,00 €") - 1  # other articles cost 4.800,00 € too
    assert len(list(Path(settings.PRICE_LIST_CACHE_DIR).glob("*.pdf"))) == 1


def test_downloads_need_a_login(client):
    for name in ("articles_csv", "price_list_pdf", "licenses", "license_check"):
        response = client.get(reverse(f"portal:{name}"))
        assert response.status_code == 302 and reverse("portal:login") in response["Location"]
