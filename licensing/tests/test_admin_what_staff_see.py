"""What staff see in the admin (issue 8, found in a German browser): German labels, no raw
codes, columns that say something, forms that offer only what fits."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from licensing.models import License, MaintenanceNotice, SystemLicense
from licensing.services import licenses as svc
from licensing.tests.factories import (
    CustomerFactory,
    InstallationFactory,
    PartnerFactory,
    UserFactory,
    book,
    make_system,
)
from vendorportal import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def login_as_group(client, group):
    user = UserFactory(username=f"{group}-staff", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


def issue(modules, installation, article="CALLREC"):
    product = modules[article]
    return svc.license_issue(
        product=product, installation=installation, version=product.versions.get(version="2.1"), delivery_note=False
    )


def auerswald(edition, identifier, **fields):
    return InstallationFactory(
        vendor="auerswald", edition=edition, identifier_kind="serial", identifier=identifier, pbx_version="", **fields
    )


def column_headers(page: str) -> list[str]:
    header = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    texts = [
        re.sub(r"<[^>]+>", "", text).strip() for text in re.findall(r'<div class="text">(.*?)</div>', header, re.S)
    ]
    return [text for text in texts if text]  # the select-all checkbox has no text


# --- Auerswald systems ---------------------------------------------------------------------------


@pytest.fixture
def two_systems(clock):
    clock.set(date(2026, 11, 21))
    customer = CustomerFactory(company="Zahnarztpraxis Dr. Weiß")
    next_ = auerswald("comtrexx_next", "1AC5008123", customer=customer)
    business = auerswald("comtrexx_business", "1AB7704411", customer=customer)
    # Coverage to 31.12.2026: 40 days left on 21.11.2026 → "läuft bald ab".
    book(next_, start=date(2026, 1, 1), end=date(2026, 12, 31), users=8)
    return next_, business


def test_system_list_shows_the_model_not_empty_brackets_and_is_headed_by_serial_number(staff, two_systems):
    page = staff.get(reverse("admin:licensing_auerswaldsystem_changelist")).content.decode()

    assert '<td class="field-model_display">COMtrexx Next</td>' in page
    assert '<td class="field-model_display">COMtrexx Business</td>' in page
    assert "()" not in page.split("<tbody>", 1)[1]
    headers = column_headers(page)
    assert headers == ["Seriennummer", "Modell", "Kunde", "Benutzer", "Softwarepflege"]
    # State and end in one cell: 8 Call Assist users, coverage ends 31.12.2026.
    assert "läuft bald ab (bis 31.12.2026)" in page


def test_system_model_filter_offers_auerswald_models_only_and_filters(staff, two_systems):
    url = reverse("admin:licensing_auerswaldsystem_changelist")
    page = staff.get(url).content.decode()
    filter_html = page.split('id="changelist-filter"', 1)[1]
    assert "Nach Modell" in filter_html
    assert "COMtrexx Next" in filter_html and "COMmander 6000(R/RX)" in filter_html
    assert "STARFACE" not in filter_html

    result = staff.get(url, {"model": "comtrexx_business"}).context["cl"].result_list
    assert [system.identifier for system in result] == ["1AB7704411"]


def test_system_page_labels_are_german(staff, two_systems, admin_user):
    system, _ = two_systems
    SystemLicense.objects.filter(installation=system).update(created_by=admin_user)
    page = staff.get(reverse("admin:licensing_auerswaldsystem_change", args=[system.pk])).content.decode()

    headings = re.findall(r'<h2 id="[a-z_]+-heading" class="inline-heading">\s*(.*?)\s*</h2>', page, re.S)
    assert headings == ["Softwarepflege-Zeiträume", "Systemlizenzen"]
    inline_columns = [text.strip() for text in re.findall(r'<th class="column-[a-z_]+[^"]*">(.*?)</th>', page, re.S)]
    assert inline_columns.count("Erfasst von") == 2, inline_columns
    assert "Seriennummer:" in page and "Modell:" in page
    assert "Ledger" not in page
    assert "created by" not in page.lower()
    assert "Serverlizenzschlüssel / Hardware-ID / Seriennummer" not in page


# --- Licences ------------------------------------------------------------------------------------


def test_bindings_table_of_a_licence_is_german(staff, modules):
    installation = InstallationFactory(identifier="ABCDE-12345-FGHIJ-67890", pbx_users=30)
    lic = issue(modules, installation)
    page = staff.get(reverse("admin:licensing_license_change", args=[lic.pk])).content.decode()

    bindings = page.split("Bindungen", 1)[1]
    assert "Kennung" in bindings and "Serverlizenzschlüssel" in bindings
    assert "ABCDE-12345-FGHIJ-67890" in bindings
    for english in ["Identifier kind", "Identifier", "server_key"]:
        assert english not in bindings


@pytest.mark.parametrize("group", [None, roles.SALES, roles.SUPPORT])
def test_licence_page_is_titled_view_for_everyone(client, admin_user, modules, group):
    """Nothing on a licence page can be changed: its title never says "ändern"."""
    lic = issue(modules, InstallationFactory(pbx_users=30))
    if group is None:
        client.force_login(admin_user)
    else:
        login_as_group(client, group)

    page = client.get(reverse("admin:licensing_license_change", args=[lic.pk])).content.decode()

    assert "<h1>Lizenz ansehen</h1>" in page
    assert "Lizenz ändern" not in page
    # Support (view only) sees what the key is bound to as well.
    assert lic.installation.identifier in page.split("Bindungen", 1)[1]


def test_licence_list_query_count_does_not_grow_with_rows(staff, modules, django_assert_max_num_queries):
    url = reverse("admin:licensing_license_changelist")
    issue(modules, InstallationFactory(pbx_users=30), "CALLREC")
    with CaptureQueriesContext(connection) as one_row:
        assert len(staff.get(url).context["cl"].result_list) == 1

    for article in ["ADSYNC", "INTERCOM", "BLACKLIST", "HOLIDAY", "DHCP", "GROUPBUSY", "RINGTONES"]:
        issue(modules, InstallationFactory(pbx_users=30), article)
    # Before the fix each row read its module's name once more (ModuleVersion.__str__): 8 rows, 7 queries more.
    with django_assert_max_num_queries(len(one_row)):
        response = staff.get(url)
    assert len(response.context["cl"].result_list) == 8


def test_licence_list_shows_five_useful_columns(staff, modules, clock):
    clock.set(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    installation = InstallationFactory(
        identifier="ABCDE-12345-FGHIJ-67890",
        pbx_users=30,
        customer=CustomerFactory(partner=PartnerFactory(company="Muster Kommunikation GmbH")),
    )
    product = modules["CALLREC"]
    demo = svc.license_issue(
        product=product,
        installation=installation,
        version=product.versions.get(version="2.1"),
        kind=License.DEMO,
        demo_days=30,
        delivery_note=False,
    )
    page = staff.get(reverse("admin:licensing_license_changelist")).content.decode()

    assert column_headers(page) == ["Lizenznummer", "Modul", "Serverlizenzschlüssel", "Partner", "Art / Status"]
    row = page.split("<tbody>", 1)[1]
    assert str(demo.serial) in row and "Call Recording 2.1" in row and "Muster Kommunikation GmbH" in row
    # 30 demo days from 21.11.2026 (LIC-6: the issue day counts) → last day 20.12.2026.
    assert f"Demo bis {demo.valid_until:%d.%m.%Y}" in row
    assert demo.valid_until == date(2026, 12, 20)


# --- Issue form ----------------------------------------------------------------------------------


def test_issue_form_groups_versions_by_module(staff, modules):
    page = staff.get(reverse("admin:licensing_license_issue")).content.decode()
    select = page.split('name="version"', 1)[1].split("</select>", 1)[0]

    groups = re.findall(r'<optgroup label="([^"]+)">', select)
    assert "Call Recording (CALLREC)" in groups and "Active Directory Synchronisation (ADSYNC)" in groups
    assert len(groups) == len(modules)  # one group per active module, each with its three versions
    callrec = select.split('<optgroup label="Call Recording (CALLREC)">', 1)[1].split("</optgroup>", 1)[0]
    assert re.findall(r">([\d.]+)</option>", callrec) == ["1.8", "2.0", "2.1"]
    # The small enhancement that hides the other groups is a static file (CSP: no inline script).
    assert '<script src="/static/licensing/issue_form.js"></script>' in page
    assert finders.find("licensing/issue_form.js")


def test_issue_form_refuses_a_version_of_another_module(staff, modules):
    installation = InstallationFactory(pbx_users=30)
    response = staff.post(
        reverse("admin:licensing_license_issue"),
        {
            "product": modules["CALLREC"].pk,
            "installation": installation.pk,
            "version": modules["ADSYNC"].versions.get(version="2.1").pk,
            "kind": "purchase",
        },
    )

    assert response.status_code == 200
    assert (
        "Version 2.1 gehört zu Active Directory Synchronisation, nicht zum gewählten Modul Call Recording."
        in response.content.decode()
    )
    assert not License.objects.exists()


# --- Installations -------------------------------------------------------------------------------


STARFACE_ONLY_LABELS = [
    "User-Light",
    "NFR-Serverlizenz",
    "NFR-Benutzerlizenz",
    "Redundanz-Sekundäranlage",
    "Nachweis der Außerbetriebnahme",
]


def test_auerswald_installation_page_hides_starface_only_fields(staff):
    system = auerswald("comtrexx_next", "1AC5008123", pbx_users=8)
    page = staff.get(reverse("admin:licensing_installation_change", args=[system.pk])).content.decode()

    for label in STARFACE_ONLY_LABELS:
        assert label not in page, label
    assert "Seriennummer" in page and 'value="1AC5008123"' in page


def test_starface_installation_page_keeps_its_fields(staff):
    starface = InstallationFactory()
    page = staff.get(reverse("admin:licensing_installation_change", args=[starface.pk])).content.decode()
    for label in STARFACE_ONLY_LABELS:
        assert label in page, label


def test_auerswald_installation_saves_without_the_hidden_fields(staff):
    system = auerswald("comtrexx_next", "1AC5008123", pbx_users=8, name="Zentrale")
    response = staff.post(
        reverse("admin:licensing_installation_change", args=[system.pk]),
        {
            "customer": system.customer_id,
            "name": "Filiale",
            "vendor": "auerswald",
            "edition": "comtrexx_next",
            "identifier": "1AC5008123",
            "pbx_version": "",
            "pbx_users": 12,
            "decommissioned_on": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    system.refresh_from_db()
    assert (system.name, system.pbx_users, system.user_light_licenses, system.has_nfr_server_license) == (
        "Filiale",
        12,
        0,
        False,
    )


# --- Softwarepflege notices ---------------------------------------------------------------------------


def test_notice_list_shows_german_kinds(staff):
    system = make_system()
    MaintenanceNotice.objects.create(installation=system, coverage_end=date(2026, 12, 31), kind="remind_60", claim="x")
    page = staff.get(reverse("admin:licensing_maintenancenotice_changelist")).content.decode()
    assert "Erinnerung 60 Tage" in page
    assert "remind_60" not in page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
