"""Staff admin: grouped index, search by the things staff look up, history, permissions."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from licensing.models import Installation
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory, UserFactory
from vendorportal import roles
from vendorportal.parties.models import Partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_index_grouped_by_area(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()
    positions = [
        page.index(area)
        for area in ["Partner und Kunden", "Installationen", "Katalog und Preise", "Benutzer und Rechte"]
    ]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    "model",
    [
        "parties.partner",
        "parties.partnerlevel",
        "parties.partneruser",
        "parties.customer",
        "licensing.installation",
        "licensing.product",
        "licensing.bundle",
        "licensing.pricelist",
        "licensing.price",
        "licensing.moduleversion",
        "licensing.pbxversion",
    ],
)
def test_every_changelist_and_add_page_opens(staff_client, catalog, model):
    app_label, name = model.split(".")
    assert staff_client.get(reverse(f"admin:{app_label}_{name}_changelist")).status_code == 200
    assert staff_client.get(reverse(f"admin:{app_label}_{name}_add")).status_code == 200


def test_search_installation_by_server_key_fragment_and_partner(staff_client):
    partner = PartnerFactory(company="Zebra Telekom GmbH")
    wanted = InstallationFactory(identifier="ZEBRA-12345-FGHIJ-67890", customer=CustomerFactory(partner=partner))
    InstallationFactory()
    url = reverse("admin:licensing_installation_changelist")
    for term in ["ZEBRA-12345", "Zebra Telekom"]:
        result = staff_client.get(url, {"q": term}).context["cl"].result_list
        assert list(result) == [wanted]


def test_search_partner_by_email(staff_client):
    partner = PartnerFactory(delivery_email="technik@eule.test")
    PartnerFactory()
    result = staff_client.get(reverse("admin:parties_partner_changelist"), {"q": "eule.test"}).context["cl"].result_list
    assert list(result) == [partner]


def test_invalid_server_key_in_admin_form_changes_nothing(staff_client):
    customer = CustomerFactory()
    response = staff_client.post(
        reverse("admin:licensing_installation_add"),
        {
            "customer": customer.pk,
            "vendor": "starface",
            "edition": "appliance",
            "identifier": "12345",
            "pbx_users": 5,
            "user_light_licenses": 0,
        },
    )
    assert response.status_code == 200
    assert "vier Gruppen zu je 5 Buchstaben oder Ziffern" in response.content.decode()
    assert not Installation.objects.exists()


def test_partner_history_visible(staff_client):
    partner = PartnerFactory(company="Alt GmbH")
    partner.company = "Neu GmbH"
    partner.save()
    page = staff_client.get(reverse("admin:parties_partner_history", args=[partner.pk])).content.decode()
    assert "Alt GmbH" in page or "Neu GmbH" in page
    assert partner.history.count() == 2


def test_staff_groups_have_their_permissions():
    finance = Group.objects.get(name=roles.FINANCE)
    support = Group.objects.get(name=roles.SUPPORT)
    sales = Group.objects.get(name=roles.SALES)
    codes = lambda g: set(g.permissions.values_list("codename", flat=True))  # noqa: E731
    assert {"view_partner", "change_partner"} <= codes(finance) and "delete_installation" not in codes(finance)
    assert {"change_installation", "change_customer"} <= codes(support) and "change_price" not in codes(support)
    assert {"add_installation", "change_price"} <= codes(sales)


def test_support_user_cannot_edit_prices(client, catalog):
    user = UserFactory(username="sup", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.SUPPORT))
    client.force_login(user)
    assert client.get(reverse("admin:licensing_installation_changelist")).status_code == 200
    assert client.get(reverse("admin:licensing_price_changelist")).status_code == 403
    assert Partner.objects.count() == 0


def test_every_role_grant_exists_after_all_migrations():
    from django.contrib.auth.models import Permission

    for group_name, grants in roles.ROLES.items():
        granted = set(Group.objects.get(name=group_name).permissions.values_list("content_type__app_label", "codename"))
        for model_key, actions in grants.items():
            app_label, model = model_key.split(".")
            for action in actions:
                assert Permission.objects.filter(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                ).exists()
                assert (app_label, f"{action}_{model}") in granted, (group_name, model_key, action)
