"""The partner dashboard's own spend and upcoming renewals as charts (issue 20): hand-worked
numbers, only the partner's own rows, SVG under the CSP, within the portal's query budget."""

from datetime import date, datetime
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from billing.models import Invoice
from billing.tests.factories import make_partner, make_service_plan
from cockpit.selectors.partner import partner_renewals_by_month, partner_spend_by_month
from licensing.models import MaintenanceCoverage
from licensing.tests.factories import CustomerFactory, make_system
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
SVG = "{http://www.w3.org/2000/svg}"


def invoice(partner, number, day, net, kind="invoice", credited=None):
    return Invoice.objects.create(
        kind=kind, number=number, issue_date=day, issued_at=datetime(day.year, day.month, day.day, 9, 0, tzinfo=None).astimezone(),
        partner=partner, buyer_name=partner.company, buyer_country="DE", email="r@example.test", vat_category="S",
        net_total=net, vat_total=(net * D("0.19")).quantize(D("0.01")), gross_total=net + (net * D("0.19")).quantize(D("0.01")),
        credited_invoice=credited,
    )  # fmt: skip


@pytest.fixture
def world(catalog, clock):
    clock.set(datetime(2026, 12, 2, 9, 0))
    mine, other = make_partner(company="Muster GmbH"), make_partner(company="Andere AG")
    first = invoice(mine, "RE-2026-000001", date(2026, 11, 3), D("100.00"))
    invoice(mine, "GS-2026-000001", date(2026, 11, 20), D("30.00"), kind="credit_note", credited=first)
    invoice(mine, "RE-2026-000002", date(2026, 12, 1), D("50.00"))
    invoice(other, "RE-2026-000003", date(2026, 11, 5), D("999.00"))
    customer = CustomerFactory(partner=mine)
    for end in (date(2026, 12, 31), date(2027, 2, 10), date(2028, 1, 1)):
        MaintenanceCoverage.objects.create(
            installation=make_system(customer=customer), kind="initial", start=end.replace(year=end.year - 1),
            end=end, months=12, users=5,
        )  # fmt: skip
    make_service_plan(mine, plan="premium", starts_on=date(2026, 3, 1))  # plan years end on 28.02.
    make_service_plan(other, plan="premium", starts_on=date(2026, 1, 1))
    return mine


def test_spend_per_month_own_invoices_less_corrections(world):
    series = partner_spend_by_month(world, date(2026, 12, 2))
    assert series.labels[-2:] == ["11/2026", "12/2026"]
    assert series.series["Ausgaben netto"][-2:] == [D("70.00"), D("50.00")]  # 100 − 30; 50


def test_renewals_in_the_next_six_months(world):
    series = partner_renewals_by_month(world, date(2026, 12, 2))
    assert series.labels == ["12/2026", "01/2027", "02/2027", "03/2027", "04/2027", "05/2027"]
    assert series.series["Softwarepflege"] == [1, 0, 1, 0, 0, 0]
    assert series.series["Service-Pläne"] == [0, 0, 1, 0, 0, 0]


def test_dashboard_shows_the_charts_within_the_query_budget(client, world, portal_query_budget):
    login = PartnerUserFactory(partner=world)
    client.force_login(login.user)
    response = portal_query_budget("/portal/")
    page = response.content.decode()
    assert "Ausgaben und Verlängerungen" in page and "999,00" not in page and "1.069,00" not in page
    import re

    spend = re.search(r'id="chart-spend">.*?(<svg.*?</svg>)', page, re.S).group(1)
    root = ElementTree.fromstring(spend)
    bars = [r for r in root.iter(f"{SVG}rect") if "rect" in r.get("class", "").split()]
    assert len(bars) == 12  # one per month
    assert not list(root.iter(f"{SVG}script")) and all("style" not in n.attrib for n in root.iter())
    assert "70,00 €" in spend


def test_english_dashboard_names_the_renewal_series_in_english(client, world):
    # Visual review: the legend read "Softwarepflege" and "Service-Pläne" on the English page.
    login = PartnerUserFactory(partner=world)
    client.force_login(login.user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/portal/"})
    page = client.get("/portal/").content.decode()
    import re

    renewals = re.search(r'id="chart-renewals">.*?(<svg.*?</svg>)', page, re.S).group(1)
    assert "Service plans" in renewals and "Software maintenance" in renewals
    assert "Service-Pläne" not in renewals
