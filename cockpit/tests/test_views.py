"""The cockpit as the admin's start page (issue 20): panels per staff group, money only for
finance, sales and superusers, links to filtered lists, CSV per chart, charts as SVG."""

from datetime import date, datetime
from decimal import Decimal
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import SubscriptionPriceChange
from billing.tests.factories import make_partner, make_subscription
from cockpit import charts
from vendorportal import roles
from vendorportal.parties.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
SVG = "{http://www.w3.org/2000/svg}"
BERLIN = ZoneInfo("Europe/Berlin")
PANEL_IDS = {
    "umsatz": "panel-umsatz",
    "finanzen": "panel-finanzen",
    "support": "panel-support",
    "lizenzen": "panel-lizenzen",
}


def login(client, group=None, superuser=False):
    user = UserFactory(username=f"staff-{group or 'chef'}", is_staff=True, is_superuser=superuser)
    if group:
        user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


@pytest.fixture
def data(catalog, clock):
    clock.set(datetime(2026, 12, 2, 9, 0))
    partner = make_partner(company="Muster Kommunikation GmbH")
    a = make_subscription(partner, monthly_price="44.75", signed_on=date(2026, 9, 10), term_start=date(2026, 10, 1))
    SubscriptionPriceChange.objects.create(
        subscription=a, effective_from=date(2026, 11, 1), tier="41-80", monthly_price=D("59.00")
    )
    make_subscription(partner, monthly_price="22.50", signed_on=date(2026, 11, 20), term_start=date(2026, 12, 1))
    return partner


def panels_on(page: str) -> set[str]:
    return {key for key, html_id in PANEL_IDS.items() if f'id="{html_id}"' in page}


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        (roles.SALES, {"umsatz", "lizenzen"}),
        (roles.FINANCE, {"finanzen"}),
        (roles.SUPPORT, {"support", "lizenzen"}),
    ],
)
def test_each_staff_group_sees_its_panels_and_money_only_where_allowed(client, data, group, expected):
    page = login(client, group).get(reverse("admin:index")).content.decode()
    assert panels_on(page) == expected
    has_money = "€" in page[page.index('id="cockpit"') : page.index('id="model-index"')]
    assert has_money == (group in (roles.SALES, roles.FINANCE))
    # the model list stays one click away, below the cockpit
    assert '<details id="model-index">' in page and "Partner und Kunden" in page


def test_superuser_sees_every_panel_and_the_november_figures(client, data):
    page = login(client, superuser=True).get(reverse("admin:index")).content.decode()
    assert panels_on(page) == set(PANEL_IDS)
    assert "Cockpit" in page and "11/2026 (01.11.2026 bis 30.11.2026)" in page  # the last complete month
    # MRR today 59,00 + 22,50 = 81,50; ARR 978,00; new in November 22,50; expansion 14,25
    assert "81,50 €" in page and "978,00 €" in page and "22,50 €" in page and "14,25 €" in page


def test_staff_without_group_sees_no_figures_but_the_models(client, data):
    page = login(client).get(reverse("admin:index")).content.decode()
    assert panels_on(page) == set() and 'id="cockpit-empty"' in page and '<details id="model-index" open>' in page


def test_period_picker_and_bad_input(client, data):
    c = login(client, superuser=True)
    page = c.get(reverse("admin:index"), {"zeitraum": "quartal", "stichtag": "2026-11-15"}).content.decode()
    assert "Q4/2026 (01.10.2026 bis 31.12.2026)" in page
    page = c.get(reverse("admin:index"), {"zeitraum": "frei", "von": "2026-12-01", "bis": "2026-11-01"})
    assert page.status_code == 200
    assert "Das Ende des Zeitraums liegt vor seinem Beginn" in page.content.decode()
    page = c.get(reverse("admin:index"), {"zeitraum": "jahr", "stichtag": "9999-99-99"}).content.decode()
    assert "kein gültiges Datum" in page and "11/2026 (01.11.2026" in page


def test_every_figure_link_opens_its_filtered_list(client, data):
    c = login(client, superuser=True)
    page = c.get(reverse("admin:index")).content.decode()
    cockpit = page[page.index('id="cockpit"') : page.index('id="model-index"')]
    import re

    links = {href.replace("&amp;", "&") for href in re.findall(r'<dd><a href="([^"]+)"', cockpit)}
    assert len(links) >= 15
    for link in links:
        response = c.get(link)
        assert response.status_code == 200, link  # an unusable filter would redirect with ?e=1
    new = reverse("admin:billing_subscription_changelist") + "?signed_on__gte=2026-11-01&signed_on__lte=2026-11-30"
    assert new in links
    assert [s.reference for s in c.get(new).context["cl"].result_list] == [
        data.subscriptions.get(monthly_price=D("22.50")).reference
    ]


def _svg_charts(page: str) -> dict[str, ElementTree.Element]:
    import re

    found = {}
    for key, svg in re.findall(r'<figure class="cockpit-chart" id="chart-([a-z-]+)">.*?(<svg.*?</svg>)', page, re.S):
        found[key] = ElementTree.fromstring(svg)
    return found


def test_charts_are_valid_svg_without_script_or_inline_style(client, data):
    response = login(client, superuser=True).get(reverse("admin:index"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    found = _svg_charts(response.content.decode())
    assert set(found) == {c.key for c in __import__("cockpit.panels").panels.CHARTS}
    for key, root in found.items():
        assert root.tag == f"{SVG}svg", key
        assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}style")), key
        assert all("style" not in node.attrib for node in root.iter()), key
    # MRR: a line of 12 points (one per month); the movement: six bars
    assert len([c for c in found["mrr"].iter(f"{SVG}circle") if "dot" in c.get("class", "")]) == 12
    assert len([r for r in found["mrr-bewegung"].iter(f"{SVG}rect") if "rect" in r.get("class", "").split()]) == 6
    # licences per month by kind: 4 kinds × 12 months of stacked bars
    assert len([r for r in found["lizenzen"].iter(f"{SVG}rect") if "rect" in r.get("class", "").split()]) == 48
    texts = [t.text for t in found["mrr"].iter(f"{SVG}text") if t.text]
    assert "11/2026" in texts and any(t.endswith(" €") and "," in t for t in texts)


def test_chart_css_file_is_what_pygal_writes():
    from pathlib import Path

    path = Path(charts.__file__).parent / "static" / "cockpit" / "charts.css"
    assert path.read_text() == charts.stylesheet(), "regenerate: python -m cockpit.charts > " + str(path)


def test_csv_download_per_chart_and_rights(client, data):
    c = login(client, roles.SALES)
    response = c.get(
        reverse("admin:cockpit_csv", kwargs={"chart": "mrr-bewegung"}), {"zeitraum": "monat", "stichtag": "2026-11-01"}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = response.content.decode("utf-8-sig").splitlines()
    assert rows[0] == "Beschriftung;MRR"
    # 31.10.: 44,75; new 22,50; expansion 14,25; end 81,50
    assert rows[1:] == [
        "Anfang;44,75",
        "neu;22,50",
        "Erweiterung;14,25",
        "Verkleinerung;0,00",
        "Kündigung;0,00",
        "Ende;81,50",
    ]
    assert c.get(reverse("admin:cockpit_csv", kwargs={"chart": "umsatz"})).status_code == 404  # finance's chart
    support = login(client.__class__(), roles.SUPPORT)
    assert support.get(reverse("admin:cockpit_csv", kwargs={"chart": "mrr"})).status_code == 404
    assert support.get(reverse("admin:cockpit_csv", kwargs={"chart": "tickets"})).status_code == 200
    assert support.post(reverse("admin:cockpit_csv", kwargs={"chart": "tickets"})).status_code == 405


def test_query_count_does_not_grow_with_the_data(client, data, catalog):
    c = login(client, superuser=True)
    c.get(reverse("admin:index"))  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as small:
        assert c.get(reverse("admin:index")).status_code == 200
    partner = make_partner(company="Zweiter Partner AG")
    for n in range(12):
        make_subscription(
            partner, monthly_price="10.00", signed_on=date(2026, n % 11 + 1, 3), term_start=date(2026, n % 11 + 2, 1)
        )
    with CaptureQueriesContext(connection) as large:
        assert c.get(reverse("admin:index")).status_code == 200
    assert len(large) == len(small)
    assert len(small) <= 25, "\n".join(q["sql"][:150] for q in small.captured_queries)


def _more_of_everything(partner, first: int, n: int):
    """``n`` more rows of every kind the cockpit sums: invoices with a line and a correction,
    tickets (with and without SLA, closed with history), licence keys (demo, purchase, blocked
    subscription), Auerswald systems with Softwarepflege."""
    from datetime import UTC, timedelta

    from billing.models import Invoice, InvoiceLine
    from licensing.models import License, MaintenanceCoverage
    from licensing.tests.factories import InstallationFactory, make_license, make_system, module_version
    from support.models import Ticket

    version = module_version()
    for k in range(first, first + n):
        day = date(2026, 11, 1) + timedelta(days=k % 28)
        invoice = Invoice.objects.create(
            number=f"RE-2026-9{k:05d}", issue_date=day, issued_at=datetime(2026, 11, 1, 9, tzinfo=UTC) + timedelta(days=k % 28),
            partner=partner, buyer_name=partner.company, buyer_country="DE", email="r@example.test", vat_category="S",
            net_total=D("100.00"), vat_total=D("19.00"), gross_total=D("119.00"), due_date=day + timedelta(days=14),
            state="open",
        )  # fmt: skip
        InvoiceLine.objects.create(
            invoice=invoice, position=1, article="CALLREC", description="Call Recording", quantity=D("1"),
            unit_price=D("100.00"), net_total=D("100.00"), vat_category="S", vat_percent=D("19"),
        )  # fmt: skip
        Invoice.objects.create(
            kind="credit_note", number=f"GS-2026-9{k:05d}", issue_date=day, issued_at=invoice.issued_at,
            partner=partner, buyer_name=partner.company, buyer_country="DE", email="r@example.test", vat_category="S",
            net_total=D("10.00"), vat_total=D("1.90"), gross_total=D("11.90"), credited_invoice=invoice,
        )  # fmt: skip
        received = datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(hours=5 * k)
        ticket = Ticket(
            number=f"T-9{k:05d}", partner=partner, subject="x", received_at=received, status="new",
            sla_due_at=received + timedelta(days=1) if k % 2 else None,
            first_response_at=received + timedelta(hours=3) if k % 3 else None,
        )  # fmt: skip
        ticket._history_date = received
        ticket.save()
        ticket.status, ticket._history_date = "closed", received + timedelta(days=2)
        ticket.save()
        make_license(InstallationFactory(), version, kind=License.DEMO, valid_until=day + timedelta(days=30))
        make_license(InstallationFactory(), version, kind=License.PURCHASE)
        blocked = make_license(InstallationFactory(), version, kind=License.SUBSCRIPTION)
        License.objects.filter(pk=blocked.pk).update(state=License.BLOCKED, state_changed_at=received)
        MaintenanceCoverage.objects.create(
            installation=make_system(), kind="initial", start=date(2025, 12, 1) + timedelta(days=k),
            end=date(2026, 11, 30) + timedelta(days=k), months=12, users=5,
        )  # fmt: skip


def test_superuser_cockpit_takes_at_most_25_queries_however_much_data(client, data, catalog):
    """The first page after login, as the bench counts it (session, user, second factor, the
    index's alerts and every figure): within the budget, and the same count for ten times the
    rows of every kind (each figure is an aggregate)."""
    from billing.models import InvoicingRun

    InvoicingRun.objects.create(month=date(2026, 12, 1), started_at=datetime(2026, 12, 1, 2, 0, tzinfo=BERLIN))
    user = UserFactory(username="chef", is_staff=True, is_superuser=True)

    def first_page_queries() -> list[str]:
        visitor = client.__class__()
        visitor.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            assert visitor.get(reverse("admin:index")).status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    _more_of_everything(data, 0, 2)
    small = first_page_queries()
    _more_of_everything(data, 2, 20)
    large = first_page_queries()
    assert len(small) <= 25, "\n".join(q[:150] for q in small)
    assert len(large) == len(small), "\n".join(q[:150] for q in large)
