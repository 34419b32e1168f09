"""Partner portal: Auerswald systems page (SWP-8, SYS-2) and re-initialisation (SYS-1).

The pages use the real today (``timezone.localdate()``), so data is placed relative to it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.http import HttpRequest  # django-axes checks every login against its request
from django.urls import reverse
from django.utils import timezone

from licensing import keys
from licensing.keys import verify_reinitialisation_response
from licensing.models import Reinitialisation, Tryout
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory, book, make_system

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_client(client):
    membership = PartnerUserFactory(user__username="anna")
    client.login(request=HttpRequest(), username="anna", password="pw-123456")
    client.partner = membership.partner
    return client


def test_systems_page_requires_login(client):
    response = client.get(reverse("portal:systems"))
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]


def test_systems_page_shows_state_end_renewal_and_tryout(partner_client, prices):  # noqa: F811
    today = timezone.localdate()
    customer = CustomerFactory(partner=partner_client.partner, company="Bäckerei Brezel")
    expiring = make_system(customer=customer, name="Zentrale")
    end = today + timedelta(days=10)
    book(expiring, start=end - timedelta(days=364), end=end, users=8)
    trial = make_system("comtrexx_vm", customer=customer)
    Tryout.objects.create(installation=trial, started_on=today - timedelta(days=3))
    foreign = make_system()  # another partner's system
    book(foreign, start=end - timedelta(days=364), end=end, users=5)

    page = partner_client.get(reverse("portal:systems")).content.decode()
    assert expiring.identifier in page and trial.identifier in page
    assert foreign.identifier not in page
    assert "läuft bald ab" in page  # SWP-8 state, 10 days left
    assert end.strftime("%d.%m.%Y") in page
    # Renewal today, in term: 8 × 94379 × 12,00 = 96,00 €.
    assert "96,00 €" in page
    # Tryout started 3 days ago: 14 − 3 = 11 days left (the start day counts).
    assert "noch 11 Tage" in page
    assert "keine Softwarepflege" in page  # the tryout system has none


def test_systems_page_shows_surcharge_and_not_renewable(partner_client, prices):  # noqa: F811
    today = timezone.localdate()
    customer = CustomerFactory(partner=partner_client.partner)
    lapsed = make_system(customer=customer)
    # Lapsed 200 days ago: beyond the 3 free months (at most 92 days) → surcharge
    # 5 × 200 = 1000 user-days × 0,04 = 40,00 + 5 × 12,00 = 60,00 → 100,00 €.
    book(lapsed, start=today - timedelta(days=565), end=today - timedelta(days=200), users=5)
    ancient = make_system(customer=customer)
    book(ancient, start=today - timedelta(days=2000), end=today - timedelta(days=1500), users=5)
    page = partner_client.get(reverse("portal:systems")).content.decode()
    assert "abgelaufen (mit Säumniszuschlag)" in page
    assert "100,00 €" in page
    assert "nicht mehr online verlängerbar" in page
    assert "bitte wenden Sie sich direkt an uns" in page


CODE = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="


def test_reinitialisation_shows_a_verifiable_response(partner_client):
    system = make_system(customer=CustomerFactory(partner=partner_client.partner))
    url = reverse("portal:system_reinitialise", args=[system.pk])
    assert "Initialisierungscode" in partner_client.get(url).content.decode()
    response = partner_client.post(url, {"initialisation_code": CODE[:20] + "\n" + CODE[20:]})
    assert response.status_code == 200
    row = Reinitialisation.objects.get(installation=system)
    assert row.created_by.username == "anna"
    page = response.content.decode()
    assert row.response in page
    signing_key = keys.load_or_create_signing_key(settings.LICENSE_SIGNING_KEY_FILE)
    payload = verify_reinitialisation_response(
        row.response, keys.load_public_keys(signing_key, settings.LICENSE_PUBLIC_KEYS_DIR)
    )
    assert payload["serial"] == system.identifier


@pytest.mark.parametrize(
    "code, message", [("", "Bitte den Initialisierungscode"), ("zu kurz", "kein gültiger Initialisierungscode")]
)
def test_bad_initialisation_code_shows_german_error_and_writes_nothing(partner_client, code, message):
    system = make_system(customer=CustomerFactory(partner=partner_client.partner))
    response = partner_client.post(
        reverse("portal:system_reinitialise", args=[system.pk]), {"initialisation_code": code}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Reinitialisation.objects.exists()


def test_reinitialisation_of_foreign_or_starface_installation_is_404(partner_client):
    foreign = make_system()
    starface = InstallationFactory(customer=CustomerFactory(partner=partner_client.partner))
    for installation in (foreign, starface):
        url = reverse("portal:system_reinitialise", args=[installation.pk])
        assert partner_client.get(url).status_code == 404
        assert partner_client.post(url, {"initialisation_code": CODE}).status_code == 404
    assert not Reinitialisation.objects.exists()
