"""The dunning state in the partner API's invoices (issue 18/19), read by the portal's selector.

The invoice of billing's test_dunning: 4.730,49 € due 10.06.2025; Zahlungserinnerung 17.06.2025,
1. Mahnung 01.07.2025, letzte Mahnung 15.07.2025 (deadline 29.07.2025) with the flat fee 40,00 €
and interest 49,18 € (20 days at 11,27 % + 15 days at 10,27 % on 4.730,49 €). Finance blocks the
partner's subscription keys on 30.07.2025. A second invoice of 160,89 € (Intercom) ordered
21.07.2025 has no letter; its Rechnungskorrektur has no dunning state at all.
"""

import json
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from api.services import api_token_create
from billing import services
from billing.services.dunning import dunning_block, dunning_pause, dunning_resume
from billing.tests.factories import make_order
from billing.tests.test_dunning_block import dunned  # noqa: F401  (fixture)
from vendorportal.parties.models import PartnerUser
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db


def listed(secret):
    response = Client().get("/api/v1/invoices", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    return {row["number"]: row["dunning"] for row in response.json()["results"]}


def test_invoices_carry_the_dunning_state_the_portal_shows(dunned, clock, client):  # noqa: F811
    invoice, _key, _other = dunned
    partner = invoice.partner
    clock.set(date(2025, 7, 21))
    fresh = services.order_confirm(order=make_order(partner, ("INTERCOM", "purchase", 0)))
    note = services.credit_note_issue(invoice=fresh, lines=[(fresh.lines.get(), 1)], reason="doppelt")
    clock.set(date(2025, 7, 30))
    dunning_block(partner=partner, reason="Letzte Mahnung ohne Zahlung")
    secret = api_token_create(partner=partner, name="ERP", scopes=["read"]).secret

    rows = listed(secret)
    assert rows[invoice.number] == {
        "level": 3,
        "code": "final_notice",
        "title": "letzte Mahnung",
        "issued_on": "2025-07-15",
        "deadline": "2025-07-29",
        "paused": False,
        "fees": "40.00",
        "interest": "49.18",
        "keys_blocked": True,
    }
    assert rows[fresh.number] == {
        "level": 0,
        "code": "none",
        "title": "",
        "issued_on": None,
        "deadline": None,
        "paused": False,
        "fees": "0.00",
        "interest": "0.00",
        "keys_blocked": False,
    }
    assert rows[note.number] is None  # a correction is not dunned

    # The portal shows the same state from the same selector.
    login = PartnerUserFactory(partner=partner, role=PartnerUser.MEMBER)
    client.force_login(login.user)
    page = client.get(reverse("portal:invoices")).content.decode()
    assert "vom 15.07.2025, Frist bis 29.07.2025" in page
    assert "Mahnpauschale 40,00 €, Verzugszinsen 49,18 €" in page
    assert page.count("Abo-Schlüssel wegen Zahlungsverzugs gesperrt") == 1
    assert "Mahnwesen pausiert" not in page

    # Finance pauses the partner's dunning: every invoice of it says so, in API and portal.
    pause = dunning_pause(partner=partner, reason="Ratenzahlung vereinbart")
    rows = listed(secret)
    assert rows[invoice.number]["paused"] and rows[fresh.number]["paused"]
    assert client.get(reverse("portal:invoices")).content.decode().count("Mahnwesen pausiert") == 2
    dunning_resume(pause=pause, reason="Rate nicht gezahlt")

    # Paid: the block is released (keys back), the letters and their claims stay on record.
    services.payment_record(invoice=invoice, amount=invoice.gross_total, paid_on=date(2025, 7, 30))
    state = listed(secret)[invoice.number]
    assert (state["level"], state["keys_blocked"], state["paused"], state["fees"]) == (3, False, False, "40.00")


def test_openapi_describes_the_dunning_state(db):
    from openapi_spec_validator import validate

    spec = Client().get("/api/v1/openapi.json").json()
    validate(spec)
    dunning = spec["components"]["schemas"]["DunningOut"]
    assert set(dunning["properties"]) == {
        "level",
        "code",
        "title",
        "issued_on",
        "deadline",
        "paused",
        "fees",
        "interest",
        "keys_blocked",
    }
    assert dunning["properties"]["code"]["enum"] == ["none", "reminder", "first_notice", "final_notice"]
    assert "dunning" in spec["components"]["schemas"]["InvoiceOut"]["properties"]
    json.dumps(spec)
