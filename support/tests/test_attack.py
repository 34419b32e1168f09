"""Attack on the ticket form for every system (issue 21): another partner's installation or
serial number, absurd versions, the same form posted twice. Answers are form errors in German;
no ticket is filed for a system that is not the partner's, none twice, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from support.models import Ticket
from support.tests.test_auerswald_tickets import comtrexx as comtrexx  # noqa: PLC0414 - the fixture
from support.tests.test_auerswald_tickets import errors_of, make_system, post
from support.tests.test_auerswald_tickets import login as login  # noqa: PLC0414 - the fixture

pytestmark = pytest.mark.django_db


def test_another_partners_installation_in_the_body_is_a_form_error(client, comtrexx):
    foreign = make_system("comtrexx_next")
    for value in (foreign.pk, "9" * 40, "-1", "abc", "1e309"):
        response = client.post(
            reverse("portal:support_ticket_new"),
            post(installation=value, firmware_version="2.1", call_assist_version="5"),
        )
        assert response.status_code == 200, value
        assert "installation" in errors_of(response), value
    assert not Ticket.objects.exists()


def test_another_partners_serial_number_does_not_attach_its_system(client, comtrexx):
    foreign = make_system("comtrexx_next")
    response = client.post(
        reverse("portal:support_ticket_new"),
        post(system="auerswald", serial_number=foreign.identifier, firmware_version="2.1", call_assist_version="5"),
    )
    ticket = Ticket.objects.filter().first()
    if ticket is not None:
        assert response.status_code == 302
        assert ticket.installation_id != foreign.pk and ticket.customer_id != foreign.customer_id
    else:
        assert response.status_code == 200 and "serial_number" in errors_of(response)


@pytest.mark.parametrize(
    "firmware,call_assist",
    [
        ("9" * 5000, "5"),
        ("2.0.3", "5." + "1" * 400),
        ("99999999999999999999999.0", "5"),
        ("2.0.3\u202e", "5"),
        ("２.０.３", "5"),  # full-width digits
        ("1e309", "NaN"),
        ("-2.0.3", "-5"),
    ],
)
def test_absurd_versions_are_form_errors(client, comtrexx, firmware, call_assist):
    response = client.post(
        reverse("portal:support_ticket_new"),
        post(installation=comtrexx.pk, firmware_version=firmware, call_assist_version=call_assist),
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert errors_of(response)
    else:
        ticket = Ticket.objects.get()
        assert len(ticket.firmware_version) <= 20 and len(ticket.call_assist_version) <= 20


def test_the_same_form_posted_twice_files_one_ticket(client, comtrexx):
    data = post(installation=comtrexx.pk, firmware_version="2.1", call_assist_version="5")
    first = client.post(reverse("portal:support_ticket_new"), data)
    second = client.post(reverse("portal:support_ticket_new"), data)
    assert first.status_code == 302 and second.status_code in (200, 302)
    assert Ticket.objects.count() == 1
