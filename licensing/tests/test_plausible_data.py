"""Implausible or duplicate installation data is refused with a German message, never a 500
(issue 8): server keys in any spelling, 10^12 users, dates in year 1 or 9999, a redundancy
partner of another customer or vendor. Model ``clean`` serves the admin forms; the cheap
rules are database check constraints too."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from licensing.models import Installation, MaintenanceCoverage, ModuleVersion, Product
from licensing.tests.factories import CustomerFactory, InstallationFactory, book, make_system

pytestmark = pytest.mark.django_db


def add_form(customer, **fields):
    data = {
        "customer": customer.pk,
        "name": "",
        "vendor": "starface",
        "edition": "appliance",
        "identifier": "",
        "pbx_version": "9.0.1",
        "pbx_users": 10,
        "user_light_licenses": 0,
        "secondary_of": "",
        "decommissioned_on": "",
        **fields,
    }
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    "spelling",
    ["ABCDE-12345-FGHIJ-67890", "abcde-12345-fghij-67890", "ABCDE12345FGHIJ67890", " abcde 12345 fghij 67890 "],
)
def test_adding_an_installation_with_a_known_server_key_is_a_form_error(admin_client, spelling):
    existing = InstallationFactory(
        identifier="ABCDE-12345-FGHIJ-67890", customer=CustomerFactory(company="Bäckerei Huber")
    )
    response = admin_client.post(
        reverse("admin:licensing_installation_add"), add_form(CustomerFactory(), identifier=spelling)
    )
    assert response.status_code == 200
    assert (
        "ABCDE-12345-FGHIJ-67890 ist bereits als Installation von Bäckerei Huber erfasst." in response.content.decode()
    )
    assert list(Installation.objects.all()) == [existing]


def test_an_installation_keeps_its_own_server_key_when_saved_again():
    inst = InstallationFactory(identifier="ABCDE-12345-FGHIJ-67890")
    inst.identifier = "abcde12345fghij67890"
    inst.full_clean()
    assert inst.identifier == "ABCDE-12345-FGHIJ-67890"


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"pbx_users": 10**12}, "pbx_users", "Mehr als 100.000 Benutzer sind für eine Anlage nicht plausibel."),
        ({"user_light_licenses": 100_001}, "user_light_licenses", "Mehr als 100.000 Benutzer"),
        (
            {"decommissioned_on": date(1, 1, 1)},
            "decommissioned_on",
            "Bitte ein Datum zwischen dem 01.01.2000 und dem 31.12.2100 angeben.",
        ),
        ({"decommissioned_on": date(9999, 12, 31)}, "decommissioned_on", "zwischen dem 01.01.2000 und dem 31.12.2100"),
    ],
)
def test_implausible_installation_values_are_refused(fields, field, message):
    inst = InstallationFactory.build(customer=CustomerFactory(), **fields)
    with pytest.raises(ValidationError) as refused:
        inst.full_clean()
    assert any(message in m for m in refused.value.message_dict[field])


def test_plausible_limits_themselves_are_accepted():
    inst = InstallationFactory.build(
        customer=CustomerFactory(), pbx_users=100_000, user_light_licenses=0, decommissioned_on=date(2100, 12, 31)
    )
    inst.full_clean()
    inst.decommissioned_on = date(2000, 1, 1)
    inst.full_clean()


def test_admin_form_shows_implausible_users_as_error(admin_client):
    response = admin_client.post(
        reverse("admin:licensing_installation_add"),
        add_form(
            CustomerFactory(), identifier="ABCDE-12345-FGHIJ-67890", pbx_users=10**12, decommissioned_on="9999-12-31"
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mehr als 100.000 Benutzer" in page and "zwischen dem 01.01.2000 und dem 31.12.2100" in page
    assert not Installation.objects.exists()


@pytest.mark.parametrize(
    "fields, constraint",
    [
        ({"pbx_users": 100_001}, "installation_users_plausible"),
        ({"decommissioned_on": date(1999, 12, 31)}, "installation_decommissioned_on_plausible"),
    ],
)
def test_database_refuses_implausible_values_past_the_model(fields, constraint):
    inst = InstallationFactory()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Installation.objects.filter(pk=inst.pk).update(**fields)


def test_secondary_of_another_customer_or_vendor_or_a_secondary_is_refused():
    customer = CustomerFactory()
    primary = InstallationFactory(customer=customer, identifier="PRIMA-12345-FGHIJ-67890")
    foreign = InstallationFactory(identifier="FREMD-12345-FGHIJ-67890")  # another partner's customer
    system = make_system(customer=customer)
    cases = [
        (foreign, "Die Primäranlage FREMD-12345-FGHIJ-67890 gehört zu einem anderen Kunden"),
        (system, f"Die Primäranlage {system.identifier} ist von einem anderen Hersteller."),
    ]
    secondary = InstallationFactory(customer=customer, identifier="SEKUN-12345-FGHIJ-67890", secondary_of=primary)
    cases.append((secondary, "SEKUN-12345-FGHIJ-67890 ist selbst eine Sekundäranlage"))
    for chosen, message in cases:
        inst = InstallationFactory.build(customer=customer, identifier="NEUES-12345-FGHIJ-67890", secondary_of=chosen)
        with pytest.raises(ValidationError) as refused:
            inst.full_clean()
        assert any(message in m for m in refused.value.message_dict["secondary_of"]), refused.value.message_dict
    ok = InstallationFactory.build(customer=customer, identifier="NEUES-12345-FGHIJ-67890", secondary_of=primary)
    ok.full_clean()


def test_admin_refuses_a_secondary_of_another_partner(admin_client):
    foreign = InstallationFactory(identifier="FREMD-12345-FGHIJ-67890")
    response = admin_client.post(
        reverse("admin:licensing_installation_add"),
        add_form(CustomerFactory(), identifier="NEUES-12345-FGHIJ-67890", secondary_of=foreign.pk),
    )
    assert response.status_code == 200 and "gehört zu einem anderen Kunden" in response.content.decode()
    assert Installation.objects.count() == 1


def test_other_dates_of_the_licensing_area_are_bounded(catalog):
    product = Product.objects.get(article="CALLREC")
    with pytest.raises(ValidationError, match="zwischen dem 01.01.2000"):
        ModuleVersion(product=product, version="9.9", released_on=date(9999, 1, 1)).full_clean()
    system = make_system()
    book(system, start=date(2025, 1, 1), end=date(2025, 12, 31), users=5)
    row = MaintenanceCoverage(
        installation=system, kind="manual", start=date(2026, 1, 1), end=date(9999, 12, 31), users=10**12, note="x"
    )
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    assert set(refused.value.message_dict) >= {"end", "users"}
