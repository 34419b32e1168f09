"""What the visual review found on pages, checked as a reader sees them: the language switch
names the other language in that language, labels such as "Jahr" keep their capital in English,
and an admin error page keeps the admin's header and a way to log out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from billing.documents import unit_label
from vendorportal import roles
from vendorportal.parties.tests.factories import PartnerUserFactory, UserFactory

pytestmark = pytest.mark.django_db
SWITCH = "/i18n/setlang/"


def test_the_switch_offers_english_as_english_and_german_as_deutsch(client):
    page = client.get(reverse("portal:login")).content.decode()
    assert 'lang="en">English</button>' in page and "Englisch" not in page  # Django's German name
    client.post(SWITCH, {"language": "en", "next": reverse("portal:login")})
    assert 'lang="de">Deutsch</button>' in client.get(reverse("portal:login")).content.decode()


def test_english_labels_month_year_day_are_capitalised_and_units_stay_lower_case():
    # One catalogue entry per msgid: the units' plural "Jahr/Jahre" → "year/years" turned the
    # filter label "Jahr" and the cockpit's period "Jahr" into "year".
    with translation.override("en"):
        assert [translation.gettext(w) for w in ("Monat", "Jahr", "Tag")] == ["Month", "Year", "Day"]
        assert unit_label(Decimal("1"), "ANN") == "year" and unit_label(Decimal("3"), "MON") == "months"
        assert unit_label(Decimal("2"), "DAY") == "days"
    assert unit_label(Decimal("1"), "ANN") == "Jahr" and unit_label(Decimal("3"), "MON") == "Monate"


def test_english_invoice_filter_says_year(client):
    membership = PartnerUserFactory(role="admin")
    client.force_login(membership.user)
    client.post(SWITCH, {"language": "en", "next": reverse("portal:invoices")})
    page = client.get(reverse("portal:invoices")).content.decode()
    assert 'for="id_year">Year</label>' in page


@pytest.mark.parametrize("group", [roles.SALES, roles.SUPPORT])
def test_an_admin_page_refused_to_a_staff_group_keeps_the_admins_header(client, group):
    user = UserFactory(username=f"staff-{group}", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    response = client.get(reverse("admin:billing_bankstatement_upload"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "Kein Zugriff" in page and "Lizenzportal – Verwaltung" in page
    assert "Django-Verwaltung" not in page and "Django administration" not in page
    assert reverse("admin:logout") in page  # the user links: a way out


def test_english_admin_breadcrumbs_start_at_home_as_djangos_own_do(client):
    user = UserFactory(username="staff-sales-en", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.SALES))
    client.force_login(user)
    client.post(SWITCH, {"language": "en", "next": "/admin/"})
    page = client.get(reverse("admin:billing_bankstatement_upload")).content.decode()
    assert "Licence portal – administration" in page
    assert '">Home</a> › No access' in page  # before: "Start" beside Django's own "Home"


def test_dashboard_of_a_partner_without_invoices_or_renewals_says_so_instead_of_empty_charts(client):
    membership = PartnerUserFactory(role="admin")
    client.force_login(membership.user)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert 'id="chart-spend"' not in page and 'id="chart-renewals"' not in page  # axes 0,00 € … 1,00 €
    assert "In den letzten zwölf Monaten wurde nichts berechnet." in page
    assert "In den nächsten sechs Monaten steht keine Verlängerung an." in page
