"""Tickets for every system (issue 21): the new-ticket form asks what fits the chosen
installation — a STARFACE its PBX and module version (SUP-7), an Auerswald system its
serial number, firmware and PBX Call Assist version, with the firmware PBX Call Assist 5
needs on a COMtrexx (2.0.3, seed 003) and the system's Softwarepflege state (SWP-8).
Checked on the server: every case here is a plain POST, as without JavaScript."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from licensing.tests.factories import book, make_system
from support import rules
from support.models import Ticket
from support.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory
from vendorportal import roles
from vendorportal.models import OutboxMessage
from vendorportal.parties.tests.factories import UserFactory

BERLIN = ZoneInfo("Europe/Berlin")


# --- rules (no database) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2.0.3", "2.0.3"),
        ("V 2.0.3", "2.0.3"),
        ("v2.1", "2.1"),
        (" 5 ", "5"),
        ("2.0.3b", None),
        ("abc", None),
        ("", None),
    ],
)
def test_versions_are_dotted_numbers(text, expected):
    assert rules.normalize_version(text) == expected


@pytest.mark.parametrize(
    "firmware,call_assist,comtrexx,too_old",
    [
        ("2.0.2", "5.1", True, True),
        ("1.9", "5", True, True),
        ("2.0.3", "5.1", True, False),  # "ab V. 2.0.3": 2.0.3 itself is enough
        ("2.1", "5.0", True, False),  # 2.1 = 2.1.0 > 2.0.3
        ("2.0.2", "4.8", True, False),  # the requirement is PBX Call Assist 5's
        ("2.0.2", "5.1", False, False),  # a COMpact's firmware is not a COMtrexx's
        ("", "5.1", True, False),
    ],
)
def test_call_assist_5_needs_comtrexx_firmware_2_0_3(firmware, call_assist, comtrexx, too_old):
    assert (
        rules.call_assist_firmware_too_old(
            firmware_version=firmware, call_assist_version=call_assist, is_comtrexx=comtrexx
        )
        is too_old
    )


# --- the portal form -----------------------------------------------------------------------


@pytest.fixture
def login(client, db, clock):
    clock.set(datetime(2026, 12, 6, 10, 0, tzinfo=BERLIN))
    login = PartnerUserFactory(user__email="technik@partner.test")
    client.force_login(login.user)
    return login


@pytest.fixture
def comtrexx(login):
    customer = CustomerFactory(partner=login.partner, company="Autohaus Zündkerze GmbH")
    system = make_system("comtrexx_next", customer=customer)
    # 12 months to 30.09.2026: on 06.12.2026 lapsed for 2 months (≤ 3 months, SWP-5).
    book(system, start=date(2025, 10, 1), end=date(2026, 9, 30), users=10)
    return system


def post(**fields):
    return {
        "token": uuid.uuid4().hex,
        "urgency": "normal",
        "subject": "Teams-App verbindet nicht",
        "body": "…",
        **fields,
    }


def errors_of(response) -> dict[str, list[str]]:
    return {name: [str(e) for e in errs] for name, errs in response.context["form"].errors.items()}


def test_an_auerswald_system_files_a_ticket_with_serial_firmware_and_call_assist(client, comtrexx):
    response = client.post(
        reverse("portal:support_ticket_new"),
        post(installation=comtrexx.pk, firmware_version="V 2.0.2", call_assist_version="5.1"),
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    # No STARFACE versions asked; the serial number is the chosen system's (SYS-1).
    assert (ticket.vendor, ticket.serial_number, ticket.firmware_version, ticket.call_assist_version) == (
        "auerswald",
        comtrexx.identifier,
        "2.0.2",
        "5.1",
    )
    assert (ticket.pbx_version, ticket.product, ticket.module_version) == ("", None, "")
    page = client.get(response.url).content.decode()
    assert comtrexx.identifier in page and "2.0.2" in page
    assert "PBX Call Assist 5 braucht auf einer COMtrexx die Firmware 2.0.3 oder neuer; installiert ist 2.0.2" in page
    assert "Softwarepflege endete am 30.09.2026 — abgelaufen (bis 3 Monate, ohne Säumniszuschlag)" in page


def test_an_auerswald_ticket_without_its_facts_is_refused_at_each_field(client, login):
    response = client.post(reverse("portal:support_ticket_new"), post(system="auerswald", pbx_version=""))
    assert response.status_code == 200
    errors = errors_of(response)
    required = ["Dieses Feld ist zwingend erforderlich."]
    assert errors == {"serial_number": required, "firmware_version": required, "call_assist_version": required}
    assert not Ticket.objects.exists() and not OutboxMessage.objects.exists()


def test_garbage_in_the_auerswald_fields_comes_back_in_german(client, comtrexx):
    url = reverse("portal:support_ticket_new")
    response = client.post(url, post(installation=comtrexx.pk, firmware_version="neu", call_assist_version="fünf"))
    assert errors_of(response) == {
        "firmware_version": ["„neu“ ist keine Versionsnummer; bitte so angeben: 2.0.3"],
        "call_assist_version": ["„fünf“ ist keine Versionsnummer; bitte so angeben: 2.0.3"],
    }
    response = client.post(
        url, post(installation=comtrexx.pk, serial_number="SN99999999", firmware_version="2.1", call_assist_version="5")
    )
    assert errors_of(response) == {
        "serial_number": [f"Die gewählte Installation hat die Seriennummer {comtrexx.identifier}, nicht SN99999999."]
    }
    response = client.post(
        url, post(system="auerswald", serial_number="12", firmware_version="2.1", call_assist_version="5")
    )
    assert list(errors_of(response)) == ["serial_number"]
    assert not Ticket.objects.exists()


def test_a_serial_number_without_a_chosen_installation_finds_the_partners_system(client, comtrexx):
    client.post(
        reverse("portal:support_ticket_new"),
        post(
            system="auerswald",
            serial_number=comtrexx.identifier.lower(),
            firmware_version="2.1",
            call_assist_version="5.2",
        ),
    )
    ticket = Ticket.objects.get()
    assert ticket.installation == comtrexx and ticket.customer == comtrexx.customer
    assert ticket.serial_number == comtrexx.identifier


def test_a_starface_installation_still_needs_pbx_and_module_version(client, login):
    installation = InstallationFactory(customer=CustomerFactory(partner=login.partner))
    # Auerswald fields filled, STARFACE ones not: the installation decides what is asked.
    response = client.post(
        reverse("portal:support_ticket_new"),
        post(installation=installation.pk, system="auerswald", firmware_version="2.0.3", call_assist_version="5"),
    )
    required = ["Dieses Feld ist zwingend erforderlich."]
    assert errors_of(response) == {"pbx_version": required, "product": required, "module_version": required}


def test_the_form_names_customers_and_marks_each_system(client, comtrexx):
    starface = InstallationFactory(
        customer=CustomerFactory(partner=comtrexx.customer.partner, company="Bäckerei Brezel")
    )
    page = client.get(reverse("portal:support_ticket_new") + f"?installation={comtrexx.pk}").content.decode()
    assert f"Autohaus Zündkerze GmbH — {comtrexx.identifier} (COMtrexx Next)" in page
    assert f"Bäckerei Brezel — {starface.identifier} (STARFACE Appliance)" in page
    assert 'data-vendor="auerswald"' in page and 'data-vendor="starface"' in page
    # The preset Auerswald system's Softwarepflege state is on the page without JavaScript.
    assert 'id="swp-hint" role="status">Softwarepflege endete am 30.09.2026' in page
    assert "ticket-form.js" in page and "<script>" not in page


# --- staff ---------------------------------------------------------------------------------


@pytest.mark.parametrize("group_name", [roles.SUPPORT, roles.SALES, roles.FINANCE])
def test_staff_see_the_auerswald_facts_and_hints(client, comtrexx, group_name):
    client.post(
        reverse("portal:support_ticket_new"),
        post(installation=comtrexx.pk, firmware_version="2.0.1", call_assist_version="5.0"),
    )
    ticket = Ticket.objects.get()
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    page = client.get(reverse("admin:support_ticket_change", args=[ticket.pk])).content.decode()
    assert "Auerswald-System" in page and comtrexx.identifier in page
    assert "2.0.1" in page and "5.0" in page
    assert "installiert ist 2.0.1" in page and "Softwarepflege endete am 30.09.2026" in page
    assert "STARFACE-Version" not in page  # no empty STARFACE fields on an Auerswald ticket


def test_a_preset_installation_that_is_not_the_partners_is_ignored(client, comtrexx):
    foreign = make_system("comtrexx_next")
    url = reverse("portal:support_ticket_new")
    for preset in (str(foreign.pk), "9" * 40, "abc"):
        page = client.get(url, {"installation": preset})
        assert page.status_code == 200
        assert 'id="swp-hint" role="status" hidden' in page.content.decode()
