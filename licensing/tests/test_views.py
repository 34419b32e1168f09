"""Partner portal: login page, own installations only."""
import pytest
from django.http import HttpRequest  # django-axes checks every login against its request
from django.urls import reverse

from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_is_german(client):
    response = client.get(reverse("portal:login"))
    assert response.status_code == 200
    assert "Anmeldung Partnerportal" in response.content.decode()


def test_wrong_password_gets_clear_message(client):
    PartnerUserFactory(user__username="anna")
    response = client.post(reverse("portal:login"), {"username": "anna", "password": "falsch"})
    assert response.status_code == 200
    assert "Benutzername oder Passwort ist falsch" in response.content.decode()


def test_dashboard_requires_login(client):
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]


def test_partner_sees_only_own_installations(client):
    membership = PartnerUserFactory(user__username="anna")
    mine = InstallationFactory(customer=CustomerFactory(partner=membership.partner), pbx_users=30)
    other = InstallationFactory()
    client.login(request=HttpRequest(), username="anna", password="pw-123456")
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert mine.identifier in page and "21-40" in page
    assert other.identifier not in page


def test_login_without_partner_is_refused(client):
    UserFactory(username="staffer", is_staff=True)
    client.login(request=HttpRequest(), username="staffer", password="pw-123456")
    assert client.get(reverse("portal:dashboard")).status_code == 403
