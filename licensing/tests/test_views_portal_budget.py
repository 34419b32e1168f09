"""Query budget of licensing's portal pages (issue 12): with 200+ rows each page runs at
most 15 SQL queries — no query per row (``portal_query_budget`` fixture, root conftest)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from licensing.models import License
from licensing.tests.factories import (
    CustomerFactory,
    InstallationFactory,
    PartnerUserFactory,
    book,
    make_delivery_note,
    make_license,
    make_system,
    module_version,
)
from vendorportal.portal.testing import BUDGET_ROWS

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 21)
ROWS = BUDGET_ROWS + 10


@pytest.fixture
def big_partner(client, clock):
    """A partner admin with 210 customers, each with an installation (every tenth a
    redundancy secondary), a demo key running out and a delivery note; 210 Auerswald
    systems whose Softwarepflege runs out; 210 logins."""
    clock.set(TODAY)
    admin_ = PartnerUserFactory(role="admin")
    partner = admin_.partner
    version = module_version()
    previous = None
    for n in range(ROWS):
        customer = CustomerFactory(partner=partner)
        secondary_of = previous if n % 10 == 1 else None
        inst = InstallationFactory(customer=customer, secondary_of=secondary_of)
        if secondary_of is not None:
            inst.customer = previous.customer
            inst.save()
        lic = make_license(inst, version, kind=License.DEMO, valid_until=TODAY + timedelta(days=n % 30))
        make_delivery_note(inst, [lic])
        system = make_system(customer=customer)
        book(system, start=date(2025, 12, 1), end=TODAY + timedelta(days=n % 60), users=5)
        PartnerUserFactory(partner=partner, role="member")
        previous = inst
    client.force_login(admin_.user)
    return partner


# One test walks all pages: building 210 rows of everything takes seconds, once is enough.
PAGES = [
    "dashboard",
    "customers",
    "installations",
    "licenses",
    "license_check",
    "installation_create",
    "logins",
    "systems",
]


def test_portal_pages_stay_within_the_query_budget_with_200_rows(big_partner, portal_query_budget):
    for url_name in PAGES:
        portal_query_budget(reverse(f"portal:{url_name}"))
    customer = big_partner.customers.order_by("pk").first()
    portal_query_budget(reverse("portal:installations_for_customer", args=[customer.pk]))
    portal_query_budget(reverse("portal:installation_edit", args=[customer.installations.first().pk]))
    portal_query_budget(reverse("portal:customer_edit", args=[customer.pk]))
    html = portal_query_budget(reverse("portal:licenses") + "?seite=5").content.decode()
    # 210 keys at 50 per page: page 5 holds the last 10
    assert "Seite 5 von 5 (210 Einträge)" in html and html.count('<code class="key"') == 10
    dashboard = portal_query_budget(reverse("portal:dashboard")).content.decode()
    # the panels show ten rows each and link to the full lists
    assert (
        "210 Kunden · 420 Installationen" in dashboard
    )  # 210 STARFACE + 210 Auerswald and "Alle Lizenzen" in dashboard
