"""Staff admin of subscriptions and service plans: lists and details for every staff group; the
notice (with the end shown before it is recorded), the tier change, the plan booking and the plan
notice for sales only (finance and support look). Amounts from the seed 001 price list, a partner
without partner conditions: Call Recording 21-40, 24 months, 44,75 €/month."""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing import services
from billing.models import ServicePlan, Subscription, SubscriptionPriceChange
from billing.tests.factories import make_partner
from licensing.models import Product
from licensing.tests.factories import CustomerFactory, InstallationFactory, UserFactory
from vendorportal import roles

pytestmark = pytest.mark.django_db
GROUPS = [roles.SALES, roles.FINANCE, roles.SUPPORT]
LOOKERS = [roles.FINANCE, roles.SUPPORT]


def staff_client(client, group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


@pytest.fixture
def sub(modules, clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner(status_confirmed_on=None)
    installation = InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=30, user_light_licenses=0)
    order = services.order_create(partner=partner)
    services.order_line_add(
        order=order,
        installation=installation,
        product=Product.objects.get(article="CALLREC"),
        kind="subscription",
        term_months=24,
    )
    services.order_confirm(order=order)
    return Subscription.objects.get()


@pytest.mark.parametrize("group_name", GROUPS)
def test_every_staff_group_sees_subscriptions(client, sub, group_name):
    c = staff_client(client, group_name)
    page = c.get(reverse("admin:billing_subscription_changelist")).content.decode()
    # Reference, monthly price, next billing 01.12.2026 and the end of the minimum term 30.11.2028.
    assert "ABO-2026-000001" in page and "44,75 €" in page and "01.12.2026" in page and "30.11.2028" in page
    detail = c.get(reverse("admin:billing_subscription_change", args=[sub.pk]))
    assert detail.status_code == 200
    assert "14,92" in detail.content.decode()  # the billed partial November (SUB-2)


def test_sales_records_a_notice_after_seeing_the_end(client, sub, clock):
    clock.set(date(2028, 11, 20))
    c = staff_client(client, roles.SALES)
    url = reverse("admin:billing_subscription_notice", args=[sub.pk])
    assert c.get(url).status_code == 200
    preview = c.post(url, {"notice_on": "20.11.2028"}).content.decode()
    # SUB-5: 30.11.2028 − 14 days = 16.11. < 20.11. → ends 31.12.2028; nothing recorded yet.
    assert "endet am 31.12.2028" in preview
    sub.refresh_from_db()
    assert sub.notice_on is None
    response = c.post(url, {"notice_on": "2028-11-20", "confirmed": "True"})
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.notice_on, sub.ends_on, sub.notice_by.username) == (
        date(2028, 11, 20),
        date(2028, 12, 31),
        "staff-sales",
    )
    again = c.post(url, {"notice_on": "2028-11-20"}).content.decode()
    assert "bereits gekündigt" in again


def test_a_refused_notice_is_a_form_error_not_a_500(client, sub, clock):
    clock.set(date(2027, 3, 1))
    c = staff_client(client, roles.SALES)
    response = c.post(reverse("admin:billing_subscription_notice", args=[sub.pk]), {"notice_on": "02.03.2027"})
    assert response.status_code == 200 and "liegt in der Zukunft" in response.content.decode()
    assert c.get(reverse("admin:billing_subscription_notice", args=[999999])).status_code == 404


def test_sales_changes_the_tier(client, sub, clock):
    clock.set(date(2027, 1, 15))
    c = staff_client(client, roles.SALES)
    response = c.post(reverse("admin:billing_subscription_tier", args=[sub.pk]), {"tier": "41-80"}, follow=True)
    # From the next period, 01.02.2027: 41-80, 24 months = 89,50 €.
    assert "ab 01.02.2027 89,50 € monatlich je Lizenz (41-80)" in response.content.decode()
    assert SubscriptionPriceChange.objects.get().monthly_price == 89.50


def test_the_actions_lead_to_the_pages(client, sub):
    c = staff_client(client, roles.SALES)
    changelist = reverse("admin:billing_subscription_changelist")
    for action, name in [("notice_action", "notice"), ("tier_action", "tier")]:
        response = c.post(changelist, {"action": action, "_selected_action": [sub.pk]})
        assert response["Location"] == reverse(f"admin:billing_subscription_{name}", args=[sub.pk])


@pytest.mark.parametrize("group_name", LOOKERS)
def test_finance_and_support_cannot_give_notice_or_change_tiers(client, sub, clock, group_name):
    clock.set(date(2028, 11, 20))
    c = staff_client(client, group_name)
    for name in ("notice", "tier"):
        url = reverse(f"admin:billing_subscription_{name}", args=[sub.pk])
        assert c.get(url).status_code == 403
        assert c.post(url, {"notice_on": "2028-11-20", "confirmed": "True", "tier": "41-80"}).status_code == 403
    changelist = c.post(
        reverse("admin:billing_subscription_changelist"), {"action": "notice_action", "_selected_action": [sub.pk]}
    )
    assert changelist.status_code in (200, 302) and "notice" not in changelist.get("Location", "")
    sub.refresh_from_db()
    assert sub.notice_on is None and not SubscriptionPriceChange.objects.exists()


# --- service plans ------------------------------------------------------------------------------------------


@pytest.fixture
def server(modules, clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner()
    return InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=30)


def test_sales_books_a_plan_and_a_second_one_is_a_german_form_error(client, server):
    c = staff_client(client, roles.SALES)
    assert "Service-Plan buchen" in c.get(reverse("admin:billing_serviceplan_changelist")).content.decode()
    url = reverse("admin:billing_serviceplan_book")
    response = c.post(url, {"installation": server.pk, "plan": "premium", "signed_on": "21.11.2026"}, follow=True)
    assert "SP-2026-000001 gebucht: Premium" in response.content.decode() and "828,00 €" in response.content.decode()
    again = c.post(url, {"installation": server.pk, "plan": "enterprise", "signed_on": "21.11.2026"})
    assert again.status_code == 200 and "nur einmal gebucht werden" in again.content.decode()
    assert ServicePlan.objects.count() == 1


def test_sales_gives_notice_on_a_plan_after_the_preview(client, server, clock):
    plan = services.service_plan_book(installation=server, plan="premium", signed_on=date(2026, 11, 21))
    clock.set(date(2027, 8, 1))
    c = staff_client(client, roles.SALES)
    url = reverse("admin:billing_serviceplan_notice", args=[plan.pk])
    # Plan year 21.11.2026–20.11.2027; 3 months before its end → 20.08.2027 ≥ 01.08.: ends 20.11.2027.
    assert "am 20.11.2027" in c.post(url, {"notice_on": "01.08.2027"}).content.decode()
    assert c.post(url, {"notice_on": "01.08.2027", "confirmed": "True"}).status_code == 302
    plan.refresh_from_db()
    assert plan.ends_on == date(2027, 11, 20)


@pytest.mark.parametrize("group_name", GROUPS)
def test_every_group_sees_plans_but_only_sales_books_or_gives_notice(client, server, group_name):
    plan = services.service_plan_book(installation=server, plan="premium", signed_on=date(2026, 11, 21))
    c = staff_client(client, group_name)
    assert "SP-2026-000001" in c.get(reverse("admin:billing_serviceplan_changelist")).content.decode()
    assert c.get(reverse("admin:billing_serviceplan_change", args=[plan.pk])).status_code == 200
    expected = 200 if group_name == roles.SALES else 403
    assert c.get(reverse("admin:billing_serviceplan_book")).status_code == expected
    assert c.get(reverse("admin:billing_serviceplan_notice", args=[plan.pk])).status_code == expected


def test_sales_adds_a_quarterly_subscription_line(client, modules, clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner()
    installation = InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=30)
    order = services.order_create(partner=partner)
    c = staff_client(client, roles.SALES)
    response = c.post(
        reverse("admin:billing_order_add_line", args=[order.pk]),
        {
            "product": Product.objects.get(article="CALLREC").pk,
            "kind": "subscription",
            "term_months": 24,
            "installations": [installation.pk],
            "billing_months": 3,
        },
    )
    assert response.status_code == 302
    assert order.lines.get().billing_months == 3
