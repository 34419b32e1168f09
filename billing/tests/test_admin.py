"""Staff admin of orders and VAT rates: the area on the index, the breakdown, and every custom view
and action checked per staff group (sales edits orders; finance and support only look)."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing import services
from billing.models import Order, OrderLine, VatRate
from licensing.models import Product
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory, UserFactory
from vendorportal import roles

pytestmark = pytest.mark.django_db
D = Decimal
GROUPS = [roles.SALES, roles.FINANCE, roles.SUPPORT]


def staff_client(client, group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


@pytest.fixture
def setup(modules, clock):
    clock.set(date(2026, 11, 21))
    partner = PartnerFactory(company="Muster Kommunikation GmbH", delivery_email="technik@muster.test")
    # 90 + 10 installed users → 81-150.
    installation = InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=90, user_light_licenses=10)
    order = services.order_create(partner=partner)
    return partner, installation, order


def order_inst(setup):
    return setup[1]


def callrec():
    return Product.objects.get(article="CALLREC")


def test_index_shows_the_billing_area_between_systems_and_catalog(client, setup):
    page = staff_client(client, roles.FINANCE).get(reverse("admin:index")).content.decode()
    assert "Bestellungen und Rechnungen" in page
    positions = [page.index(a) for a in ["Installationen", "Bestellungen und Rechnungen", "Katalog und Preise"]]
    assert positions == sorted(positions)


@pytest.mark.parametrize("group_name", GROUPS)
def test_every_staff_group_sees_orders_and_the_breakdown(client, setup, group_name):
    _partner, _inst, order = setup
    services.order_line_add(order=order, installation=order_inst(setup), product=callrec(), kind="purchase")
    c = staff_client(client, group_name)
    assert c.get(reverse("admin:billing_order_changelist")).status_code == 200
    page = c.get(reverse("admin:billing_order_change", args=[order.pk])).content.decode()
    # Call Recording 81-150: 4.800,00 €; partner 20 % → 3.840,00 €; VAT 19 % = 729,60 €; gross 4.569,60 €.
    assert "Partnerkondition 20 %: −960,00 € → 3.840,00 €" in page
    assert "729,60 €" in page and "4.569,60 €" in page


@pytest.mark.parametrize("group_name,status", [(roles.SALES, 200), (roles.FINANCE, 403), (roles.SUPPORT, 403)])
def test_add_order_page_per_group(client, setup, group_name, status):
    assert staff_client(client, group_name).get(reverse("admin:billing_order_add")).status_code == status


def test_sales_creates_an_order_with_the_partners_emails(client, setup):
    partner, installation, _order = setup
    response = staff_client(client, roles.SALES).post(
        reverse("admin:billing_order_add"),
        {"partner": partner.pk, "delivery_email": "", "invoice_email": ""},
    )
    assert response.status_code == 302
    new = Order.objects.latest("id")
    assert (new.delivery_email, new.order_date, new.created_by.username) == (
        "technik@muster.test",
        date(2026, 11, 21),
        "staff-sales",
    )


def test_add_line_for_a_foreign_installation_is_a_form_error(client, setup):
    """The order's installations are the partner's customers' (ORD-1): another partner's
    installation is not offered, and posting its id is refused with nothing written."""
    _partner, _installation, order = setup
    foreign = InstallationFactory()
    response = staff_client(client, roles.SALES).post(
        reverse("admin:billing_order_add_line", args=[order.pk]),
        {"product": callrec().pk, "kind": "purchase", "term_months": 0, "installations": [foreign.pk]},
    )
    assert response.status_code == 200
    assert "gehört zu keinem Kunden dieses Partners" in response.content.decode()
    assert not OrderLine.objects.exists()


@pytest.mark.parametrize("group_name,status", [(roles.SALES, 200), (roles.FINANCE, 403), (roles.SUPPORT, 403)])
def test_add_line_page_per_group(client, setup, group_name, status):
    _p, _i, order = setup
    c = staff_client(client, group_name)
    assert c.get(reverse("admin:billing_order_add_line", args=[order.pk])).status_code == status
    response = c.post(
        reverse("admin:billing_order_add_line", args=[order.pk]),
        {"product": callrec().pk, "kind": "purchase", "term_months": 0, "installations": [_i.pk]},
    )
    assert response.status_code == (302 if status == 200 else 403)
    assert OrderLine.objects.count() == (1 if status == 200 else 0)


def test_add_line_prices_the_line(client, setup):
    _p, _i, order = setup
    staff_client(client, roles.SALES).post(
        reverse("admin:billing_order_add_line", args=[order.pk]),
        {"product": callrec().pk, "kind": "subscription", "term_months": 24, "installations": [_i.pk]},
    )
    # 81-150, 24 months: 179,00 €/month × 0,8 = 143,20 €/month.
    assert OrderLine.objects.values_list("list_price", "line_net", "price_unit").get() == (
        D("179.00"),
        D("143.20"),
        "month",
    )


def test_add_line_refusal_is_shown_and_writes_nothing(client, setup):
    _p, _i, order = setup
    aurora = Product.objects.get(article="AURORA")
    response = staff_client(client, roles.SALES).post(
        reverse("admin:billing_order_add_line", args=[order.pk]),
        {"product": aurora.pk, "kind": "subscription", "term_months": 12, "installations": [_i.pk]},
    )
    assert response.status_code == 200
    assert "keinen Preis" in response.content.decode()
    assert not OrderLine.objects.exists()


def test_add_line_for_unknown_order_is_404(client, setup):
    assert (
        staff_client(client, roles.SALES).get(reverse("admin:billing_order_add_line", args=[999999])).status_code == 404
    )


@pytest.mark.parametrize("group_name,cancelled", [(roles.SALES, True), (roles.FINANCE, False), (roles.SUPPORT, False)])
def test_cancel_action_per_group(client, setup, group_name, cancelled):
    _p, _i, order = setup
    staff_client(client, group_name).post(
        reverse("admin:billing_order_changelist"), {"action": "cancel_selected", "_selected_action": [order.pk]}
    )
    order.refresh_from_db()
    assert (order.state == "cancelled") is cancelled


def test_cancel_action_reports_the_refusal(client, setup):
    _p, _i, order = setup
    order.move_to(Order.CONFIRMED)
    order.move_to(Order.FULFILLED)
    order.save()
    response = staff_client(client, roles.SALES).post(
        reverse("admin:billing_order_changelist"),
        {"action": "cancel_selected", "_selected_action": [order.pk]},
        follow=True,
    )
    assert "Stornierung ist nicht mehr möglich" in response.content.decode()


@pytest.mark.parametrize("group_name,repriced", [(roles.SALES, True), (roles.FINANCE, False), (roles.SUPPORT, False)])
def test_reprice_action_per_group(client, setup, clock, group_name, repriced):
    _p, installation, order = setup
    services.order_line_add(order=order, installation=order_inst(setup), product=callrec(), kind="purchase")
    installation.pbx_users = 200  # 210 installed → 151-250: 7.500,00 × 0,8 = 6.000,00
    installation.save()
    clock.set(date(2026, 11, 23))
    staff_client(client, group_name).post(
        reverse("admin:billing_order_changelist"), {"action": "reprice_selected", "_selected_action": [order.pk]}
    )
    order.refresh_from_db()
    expected = (date(2026, 11, 23), D("6000.00")) if repriced else (date(2026, 11, 21), D("3840.00"))
    assert (order.order_date, order.lines.get().line_net) == expected


@pytest.mark.parametrize("group_name", GROUPS)
def test_nobody_deletes_orders(client, setup, group_name):
    _p, _i, order = setup
    assert (
        staff_client(client, group_name)
        .post(reverse("admin:billing_order_delete", args=[order.pk]), {"post": "yes"})
        .status_code
        == 403
    )
    assert Order.objects.filter(pk=order.pk).exists()


@pytest.mark.parametrize("group_name,status", [(roles.SALES, 403), (roles.FINANCE, 200), (roles.SUPPORT, 403)])
def test_vat_rates_are_finances(client, db, group_name, status):
    assert staff_client(client, group_name).get(reverse("admin:billing_vatrate_add")).status_code == status


def test_finance_enters_a_new_rate_after_ending_the_old(client, db):
    c = staff_client(client, roles.FINANCE)
    old = VatRate.objects.get(category="S")
    response = c.post(
        reverse("admin:billing_vatrate_add"), {"category": "S", "percent": "20.00", "valid_from": "2030-01-01"}
    )
    assert response.status_code == 200 and "überschneidet sich" in response.content.decode()
    c.post(
        reverse("admin:billing_vatrate_change", args=[old.pk]),
        {"category": "S", "percent": "19.00", "valid_from": "2007-01-01", "valid_to": "2029-12-31"},
    )
    assert (
        c.post(
            reverse("admin:billing_vatrate_add"), {"category": "S", "percent": "20.00", "valid_from": "2030-01-01"}
        ).status_code
        == 302
    )
    assert VatRate.objects.filter(category="S").count() == 2


def test_add_line_for_several_installations_and_list_counts_them(client, setup):
    """Decision ORD-1/ORD-4: staff add one product for several installations of the partner
    at once — one line each; the order list shows how many installations an order covers."""
    partner, first, order = setup
    second = InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=90, user_light_licenses=10)
    foreign = InstallationFactory(pbx_users=90)
    c = staff_client(client, roles.SALES)
    page = c.get(reverse("admin:billing_order_add_line", args=[order.pk])).content.decode()
    assert first.identifier in page and second.identifier in page and foreign.identifier not in page
    response = c.post(
        reverse("admin:billing_order_add_line", args=[order.pk]),
        {"product": callrec().pk, "kind": "purchase", "term_months": 0, "installations": [first.pk, second.pk]},
    )
    assert response.status_code == 302
    # Call Recording 81-150 on each: 4.800,00 × 0,8 = 3.840,00 (2 licences: no volume discount).
    assert sorted(order.lines.values_list("installation__identifier", "line_net")) == sorted(
        [(first.identifier, D("3840.00")), (second.identifier, D("3840.00"))]
    )
    changelist = c.get(reverse("admin:billing_order_changelist")).content.decode()
    assert '<td class="field-installations_count">2</td>' in changelist
    # Another partner's installation is not offered and not taken.
    response = c.post(
        reverse("admin:billing_order_add_line", args=[order.pk]),
        {"product": callrec().pk, "kind": "purchase", "term_months": 0, "installations": [foreign.pk]},
    )
    assert response.status_code == 200 and order.lines.count() == 2
