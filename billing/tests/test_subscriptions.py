"""Subscriptions and service plans as services (SUB-1…SUB-8, ORD-4, ORD-7, LIC-12), over the seed
001 price list. Dates and amounts are worked out by hand in the comments beside them; unless a
test says otherwise the partner has no partner conditions (ORD-5), so list prices apply, and the
installation has 30 users → tier 21-40 (CAT-2). Call Recording 21-40: 44,75 €/month for 24 months,
58,84 €/month for 12 months; 41-80: 89,50 € for 24 months; Blacklist PRO 24 months: 9,29 €."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import selectors, services
from billing.exceptions import OrderRefused, ServicePlanRefused, SubscriptionRefused
from billing.models import BilledPeriod, InvoiceLine, ServicePlan, Subscription, SubscriptionPriceChange
from billing.tests.factories import make_partner
from licensing.models import License, ModuleVersion, PbxVersion, Product
from licensing.services.licenses import license_issue
from licensing.tests.factories import CustomerFactory, InstallationFactory, make_system
from vendorportal.models import JobRun

pytestmark = pytest.mark.django_db
D = Decimal


def product(article):
    return Product.objects.get(article=article)


def installation_for(partner, users=30, light=0, **kw):
    return InstallationFactory(
        customer=CustomerFactory(partner=partner), pbx_users=users, user_light_licenses=light, **kw
    )


def subscription_order(clock, day, *lines, partner=None, users=30):
    """An order signed (confirmed) on ``day``; lines: (article, term, {extra order_line_add args})."""
    clock.set(day)
    partner = partner or make_partner(status_confirmed_on=None)
    order_installation = installation_for(partner, users=users)
    order = services.order_create(partner=partner)
    for article, term, extra in lines:
        services.order_line_add(
            order=order,
            installation=order_installation,
            product=product(article),
            kind="subscription",
            term_months=term,
            **extra,
        )
    return order


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("vertrieb", is_staff=True)


@pytest.fixture
def callrec(modules, clock):
    """Call Recording 21-40, 24 months, monthly, signed 2026-11-21: term 2026-12-01…2028-11-30."""
    order = subscription_order(clock, date(2026, 11, 21), ("CALLREC", 24, {}))
    services.order_confirm(order=order)
    return Subscription.objects.get()


# --- SUB-1 / SUB-2: subscriptions from a confirmed order ---------------------------------------------


def test_order_of_21_november_makes_a_subscription_and_bills_the_partial_month(modules, clock):
    order = subscription_order(clock, date(2026, 11, 21), ("CALLREC", 24, {}))
    invoice = services.order_confirm(order=order)
    sub = Subscription.objects.get()
    assert sub.reference == "ABO-2026-000001"
    assert (sub.partner, sub.installation, sub.product.article, sub.tier, sub.quantity) == (
        order.partner,
        order.lines.get().installation,
        "CALLREC",
        "21-40",
        1,
    )
    # SUB-1: signed 21.11.2026 → term from 01.12.2026; 24 months → to 30.11.2028 (GEN-1).
    assert (sub.monthly_price, sub.signed_on, sub.term_start, sub.minimum_end) == (
        D("44.75"),
        date(2026, 11, 21),
        date(2026, 12, 1),
        date(2028, 11, 30),
    )
    assert (sub.minimum_months, sub.billing_months, sub.package, sub.order_line.order) == (24, 1, "", order)
    # The key is the subscription's (LIC-12), linked from billing's side.
    key = License.objects.get()
    assert (key.kind, key.subscription_reference) == ("subscription", "ABO-2026-000001")
    assert list(sub.licenses.all()) == [key]
    # SUB-2: 20 of 30 November days elapsed → 10/30 × 44,75 € = 14,9166… → 14,92 €.
    line = invoice.lines.get()
    assert (line.quantity, line.unit_price, line.net_total, line.period_start, line.period_end) == (
        D("1"),
        D("14.92"),
        D("14.92"),
        date(2026, 11, 21),
        date(2026, 11, 30),
    )
    # The period stands in its columns only; the line says how the part of the month was priced.
    assert "erster Monat anteilig: 10 von 30 Tagen" in line.description and "21.11.2026" not in line.description
    # VAT 14,92 × 19 % = 2,8348 → 2,83 €; gross 17,75 €.
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("14.92"), D("2.83"), D("17.75"))
    billed = BilledPeriod.objects.get()
    assert (billed.subscription, billed.period_start, billed.period_end, billed.amount, billed.invoice_line) == (
        sub,
        date(2026, 11, 21),
        date(2026, 11, 30),
        D("14.92"),
        line,
    )


def test_confirming_twice_makes_one_subscription_and_one_billed_period(modules, clock):
    order = subscription_order(clock, date(2026, 11, 21), ("CALLREC", 24, {}))
    first = services.order_confirm(order=order)
    assert services.order_confirm(order=order).pk == first.pk
    assert (Subscription.objects.count(), BilledPeriod.objects.count(), License.objects.count()) == (1, 1, 1)


def test_signed_on_the_first_the_order_bills_the_first_quarter_and_the_run_cannot_bill_it_again(modules, clock):
    order = subscription_order(clock, date(2026, 12, 1), ("CALLREC", 24, {"billing_months": 3}))
    invoice = services.order_confirm(order=order)
    sub = Subscription.objects.get()
    # Signed on the 1st: the term starts that day (SUB-1), no partial month (SUB-2).
    assert (sub.term_start, sub.minimum_end, sub.billing_months) == (date(2026, 12, 1), date(2028, 11, 30), 3)
    # The first quarter 01.12.2026–28.02.2027: 3 × 44,75 € = 134,25 €.
    line = invoice.lines.get()
    assert (line.quantity, line.unit, line.unit_price, line.net_total) == (D("3"), "MON", D("44.75"), D("134.25"))
    assert (line.period_start, line.period_end) == (date(2026, 12, 1), date(2027, 2, 28))
    assert BilledPeriod.objects.get().period_start == date(2026, 12, 1)
    # Whatever bills next (the monthly run) cannot bill the quarter a second time.
    other = InvoiceLine(
        invoice=invoice,
        position=2,
        article="CALLREC",
        description="zweite Abrechnung",
        quantity=D("3"),
        unit="MON",
        unit_price=D("44.75"),
        net_total=D("134.25"),
        vat_category="S",
        vat_percent=D("19.00"),
    )
    other.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        BilledPeriod.objects.create(
            subscription=sub,
            period_start=date(2026, 12, 1),
            period_end=date(2027, 2, 28),
            amount=D("134.25"),
            invoice_line=other,
        )


def test_whole_minimum_term_in_advance(modules, clock):
    order = subscription_order(clock, date(2026, 12, 1), ("CALLREC", 12, {"billing_months": 0}))
    line = services.order_confirm(order=order).lines.get()
    # 12 months at 58,84 € in advance, 01.12.2026–30.11.2027: 12 × 58,84 = 706,08 €.
    assert (line.quantity, line.unit_price, line.net_total) == (D("12"), D("58.84"), D("706.08"))
    assert (line.period_start, line.period_end) == (date(2026, 12, 1), date(2027, 11, 30))


def test_teams_presence_sync_by_started_5_user_blocks(modules, clock):
    order = subscription_order(clock, date(2026, 11, 21), ("TEAMSPRESENCE", 1, {"users": 12}))
    line = services.order_confirm(order=order).lines.get()
    sub = Subscription.objects.get()
    # CAT-4: 12 users → 3 blocks × 7,50 € = 22,50 €/month; 10/30 of it = 7,50 €.
    assert (sub.users, sub.monthly_price, sub.minimum_end) == (12, D("22.50"), date(2026, 12, 31))
    assert line.net_total == D("7.50")


def test_partner_conditions_fix_the_monthly_price(modules, clock):
    order = subscription_order(clock, date(2026, 11, 21), ("CALLREC", 24, {}), partner=make_partner())
    services.order_confirm(order=order)
    # Certified partner, 20 %: 44,75 × 0,8 = 35,80 €/month; 10/30 → 11,9333… → 11,93 €.
    assert Subscription.objects.get().monthly_price == D("35.80")
    assert BilledPeriod.objects.get().amount == D("11.93")


def test_an_unknown_billing_interval_is_refused_and_adds_no_line(modules, clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner(status_confirmed_on=None)
    order_installation = installation_for(partner)
    order = services.order_create(partner=partner)
    with pytest.raises(OrderRefused, match="Abrechnungsintervalle sind monatlich"):
        services.order_line_add(
            order=order,
            installation=order_installation,
            product=product("CALLREC"),
            kind="subscription",
            term_months=24,
            billing_months=2,
        )
    with pytest.raises(OrderRefused, match="Nur Abos haben ein Abrechnungsintervall"):
        services.order_line_add(
            order=order, installation=order_installation, product=product("CALLREC"), kind="purchase", billing_months=12
        )
    assert not order.lines.exists()


# --- ORD-4 packages and SUB-5 notice ----------------------------------------------------------------------


def test_package_lines_share_a_package_and_end_together(modules, clock, staff):
    order = subscription_order(
        clock,
        date(2026, 11, 21),
        ("CALLREC", 24, {"as_package": True}),
        ("BLACKLIST", 24, {"as_package": True}),
    )
    services.order_confirm(order=order)
    callrec, blacklist = Subscription.objects.order_by("pk")
    assert callrec.package == blacklist.package == f"{order.reference}-P24"
    clock.set(date(2028, 11, 10))
    preview = services.subscription_notice_preview(blacklist, date(2028, 11, 10))
    assert preview.ends_on == date(2028, 11, 30)
    assert preview.references == [callrec.reference, blacklist.reference]
    assert f"endet nur zusammen mit {callrec.reference} (Call Recording)" in preview.text
    services.subscription_give_notice(subscription=blacklist, notice_on=date(2028, 11, 10), by=staff)
    for sub in Subscription.objects.all():
        assert (sub.notice_on, sub.ends_on, sub.notice_by) == (date(2028, 11, 10), date(2028, 11, 30), staff)
    # The other member is noticed too: a second notice on it is refused.
    with pytest.raises(SubscriptionRefused, match="bereits gekündigt"):
        services.subscription_give_notice(subscription=callrec, notice_on=date(2028, 11, 10))


@pytest.mark.parametrize(
    "notice_on, ends_on",
    [
        # RULES SUB-5: term 2026-12-01…2028-11-30, monthly billing.
        (date(2028, 11, 10), date(2028, 11, 30)),  # 30.11. − 14 days = 16.11. ≥ 10.11.
        (date(2028, 11, 20), date(2028, 12, 31)),  # 16.11. < 20.11. → the next month end
        (date(2027, 3, 1), date(2028, 11, 30)),  # not before the minimum term ends
    ],
)
def test_notice_examples_of_sub_5(callrec, clock, notice_on, ends_on):
    clock.set(notice_on)
    preview = services.subscription_notice_preview(callrec, notice_on)
    assert preview.ends_on == ends_on
    assert preview.text.startswith(
        f"Kündigung eingegangen am {notice_on:%d.%m.%Y}: Das Abo ABO-2026-000001 (Call Recording) endet am "
        f"{ends_on:%d.%m.%Y}."
    )


def test_notice_with_quarterly_billing_ends_at_a_quarter_end(modules, clock):
    order = subscription_order(clock, date(2026, 11, 21), ("CALLREC", 24, {"billing_months": 3}))
    services.order_confirm(order=order)
    sub = Subscription.objects.get()
    clock.set(date(2028, 11, 20))
    # Quarters from 01.12.2026; 30.11.2028 − 14 days = 16.11. < 20.11. → the next quarter end, 28.02.2029.
    assert services.subscription_notice_preview(sub, date(2028, 11, 20)).ends_on == date(2029, 2, 28)


def test_give_notice_stores_who_when_and_the_end_and_refuses_twice(callrec, clock, staff):
    clock.set(datetime(2027, 3, 2, 9, 30, tzinfo=timezone.get_default_timezone()))
    preview = services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 3, 1), by=staff)
    callrec.refresh_from_db()
    assert (callrec.notice_on, callrec.ends_on, callrec.notice_by, callrec.notice_special) == (
        date(2027, 3, 1),
        date(2028, 11, 30),
        staff,
        False,
    )
    assert callrec.notice_at == datetime(2027, 3, 2, 9, 30, tzinfo=timezone.get_default_timezone())
    assert "Das ist das Ende der Mindestlaufzeit." in preview.text
    with pytest.raises(SubscriptionRefused, match="bereits gekündigt .Eingang 01.03.2027. und endet am 30.11.2028"):
        services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 3, 2), by=staff)
    callrec.refresh_from_db()
    assert callrec.notice_on == date(2027, 3, 1)


def test_notice_in_the_future_or_before_signing_is_refused_and_changes_nothing(callrec, clock):
    clock.set(date(2027, 3, 1))
    with pytest.raises(SubscriptionRefused, match="liegt in der Zukunft"):
        services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 3, 2))
    with pytest.raises(SubscriptionRefused, match="nicht vor dem Abschluss"):
        services.subscription_give_notice(subscription=callrec, notice_on=date(2026, 11, 20))
    callrec.refresh_from_db()
    assert (callrec.notice_on, callrec.ends_on) == (None, None)


# --- SUB-6: special termination right ----------------------------------------------------------------------
# The `modules` fixture: STARFACE 7.3.0.10 (2022) and 8.2.0.5 (2025) have tested module versions;
# 9.0.0.4, released 2026-10-06, has none. 2026-10-06 + 3 months = 2027-01-06.


def test_special_right_three_months_after_a_new_pbx_version_without_compatible_module(callrec):
    assert selectors.subscription_special_termination(callrec, date(2027, 1, 5)) is None
    ground = selectors.subscription_special_termination(callrec, date(2027, 1, 6))
    assert (ground.pbx_version, ground.released_on, ground.right_from) == (
        "9.0.0.4",
        date(2026, 10, 6),
        date(2027, 1, 6),
    )
    # Only during the minimum term (to 30.11.2028).
    assert selectors.subscription_special_termination(callrec, date(2028, 11, 30)) is not None
    assert selectors.subscription_special_termination(callrec, date(2028, 12, 1)) is None


def test_special_right_lapses_when_a_compatible_module_version_is_published(callrec, modules):
    pbx = PbxVersion.objects.get(number="9.0.0.4")
    ModuleVersion.objects.create(
        product=modules["CALLREC"], version="2.2", released_on=date(2027, 2, 1)
    ).tested_with.set([pbx])
    assert selectors.subscription_special_termination(callrec, date(2027, 1, 31)) is not None
    assert selectors.subscription_special_termination(callrec, date(2027, 2, 1)) is None


def test_a_patch_of_an_older_major_line_is_no_new_version(callrec, modules):
    pbx = PbxVersion.objects.get(number="9.0.0.4")
    ModuleVersion.objects.create(
        product=modules["CALLREC"], version="2.2", released_on=date(2026, 12, 1)
    ).tested_with.set([pbx])
    # 8.2.0.6 is lower than 9.0.0.4: no module version tested with it, yet no right.
    PbxVersion.objects.create(number="8.2.0.6", released_on=date(2027, 1, 10))
    assert selectors.subscription_special_termination(callrec, date(2027, 6, 1)) is None
    # A really new 9.1 is: three months after 2027-02-15 → from 2027-05-15.
    PbxVersion.objects.create(number="9.1", released_on=date(2027, 2, 15))
    assert selectors.subscription_special_termination(callrec, date(2027, 5, 14)) is None
    assert selectors.subscription_special_termination(callrec, date(2027, 5, 15)).pbx_version == "9.1"


def test_no_special_right_when_the_three_months_had_passed_before_signing(modules, clock):
    order = subscription_order(clock, date(2027, 1, 7), ("CALLREC", 24, {}))
    services.order_confirm(order=order)
    # 9.0.0.4's three months ended 2027-01-06, before the signing day: the customer knew.
    assert selectors.subscription_special_termination(Subscription.objects.get(), date(2027, 3, 1)) is None


@pytest.mark.parametrize(
    "notice_on, ends_on",
    [
        (date(2027, 3, 10), date(2027, 3, 31)),  # 31.03. − 14 days = 17.03. ≥ 10.03.
        (date(2027, 3, 20), date(2027, 4, 30)),  # 17.03. < 20.03. → end of April
    ],
)
def test_special_notice_ends_at_a_month_end_inside_the_minimum_term(callrec, clock, staff, notice_on, ends_on):
    clock.set(notice_on)
    ordinary = services.subscription_notice_preview(callrec, notice_on)
    assert ordinary.ends_on == date(2028, 11, 30)
    assert f"besteht ein Sonderkündigungsrecht; damit endete das Abo schon am {ends_on:%d.%m.%Y}" in (ordinary.text)
    preview = services.subscription_give_notice(subscription=callrec, notice_on=notice_on, special=True, by=staff)
    assert preview.ends_on == ends_on
    assert "Sonderkündigung: Zu STARFACE 9.0.0.4 (veröffentlicht am 06.10.2026)" in preview.text
    callrec.refresh_from_db()
    assert (callrec.ends_on, callrec.notice_special) == (ends_on, True)


def test_special_notice_without_the_right_is_refused(callrec, clock):
    clock.set(date(2027, 1, 5))
    with pytest.raises(SubscriptionRefused, match="kein Sonderkündigungsrecht"):
        services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 1, 5), special=True)
    callrec.refresh_from_db()
    assert callrec.notice_on is None


# --- SUB-7: tier change ------------------------------------------------------------------------------------------


def test_tier_change_applies_from_the_next_billing_period(callrec, clock, staff):
    clock.set(date(2027, 1, 15))
    change = services.subscription_change_tier(subscription=callrec, tier="41-80", by=staff)
    # Monthly periods: the next one starts 01.02.2027; 41-80, 24 months: 89,50 € (today's list).
    assert (change.effective_from, change.tier, change.monthly_price, change.created_by) == (
        date(2027, 2, 1),
        "41-80",
        D("89.50"),
        staff,
    )
    callrec = Subscription.objects.get()  # fresh, without a stale prefetch
    assert selectors.subscription_monthly_price_on(callrec, date(2027, 1, 1)) == D("44.75")
    assert selectors.subscription_monthly_price_on(callrec, date(2027, 2, 1)) == D("89.50")
    # Term and start stay.
    assert (callrec.term_start, callrec.minimum_end, callrec.monthly_price) == (
        date(2026, 12, 1),
        date(2028, 11, 30),
        D("44.75"),
    )
    assert selectors.subscription_tier_on(callrec, date(2027, 2, 1)) == ("41-80", None)


def test_tier_change_by_users_and_with_the_signing_discounts(modules, clock):
    order = subscription_order(clock, date(2026, 12, 1), ("CALLREC", 24, {"billing_months": 3}), partner=make_partner())
    services.order_confirm(order=order)
    sub = Subscription.objects.get()
    clock.set(date(2027, 1, 15))
    change = services.subscription_change_tier(subscription=sub, users=60)
    # Quarterly from 01.12.2026: the next period starts 01.03.2027. 60 users → 41-80 (CAT-2):
    # 89,50 € − 20 % partner conditions = 71,60 €.
    assert (change.effective_from, change.tier, change.monthly_price) == (date(2027, 3, 1), "41-80", D("71.60"))
    # A second change before that period replaces the first one.
    again = services.subscription_change_tier(subscription=sub, tier="81-150")
    # 81-150, 24 months: 179,00 € × 0,8 = 143,20 €.
    assert (again.pk, again.monthly_price) == (change.pk, D("143.20"))
    assert SubscriptionPriceChange.objects.count() == 1


def test_tier_change_refusals_write_nothing(callrec, clock):
    clock.set(date(2027, 1, 15))
    with pytest.raises(SubscriptionRefused, match="läuft ab 01.02.2027 bereits mit 21-40"):
        services.subscription_change_tier(subscription=callrec, tier="21-40")
    with pytest.raises(SubscriptionRefused, match="Bitte die neue Benutzerstaffel angeben"):
        services.subscription_change_tier(subscription=callrec)
    services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 1, 15))
    clock.set(date(2028, 11, 15))
    with pytest.raises(SubscriptionRefused, match="endet am 30.11.2028; ein Staffelwechsel ist nicht mehr möglich"):
        services.subscription_change_tier(subscription=callrec, tier="41-80")
    assert not SubscriptionPriceChange.objects.exists()


def test_next_billing_selector(callrec):
    assert selectors.subscription_next_billing(callrec, date(2026, 11, 25)) == date(2026, 12, 1)
    assert selectors.subscription_next_billing(callrec, date(2027, 1, 31)) == date(2027, 2, 1)


# --- end of a subscription: keys blocked once (LIC-12) ---------------------------------------------------------


def test_keys_of_an_ended_subscription_are_blocked_once(callrec, clock):
    from billing.tasks import subscriptions_end_daily

    clock.set(date(2027, 3, 1))
    services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 3, 1))
    clock.set(date(2028, 11, 30))  # the last day: still running
    assert services.subscriptions_end_keys_block() == 0
    assert License.objects.get().state == "active"
    clock.set(datetime(2028, 12, 1, 3, 0, tzinfo=timezone.get_default_timezone()))
    assert subscriptions_end_daily() == 1
    key = License.objects.get()
    assert key.state == "blocked" and "ABO-2026-000001 endete am 30.11.2028" in key.state_reason
    callrec.refresh_from_db()
    assert callrec.keys_blocked_at == datetime(2028, 12, 1, 3, 0, tzinfo=timezone.get_default_timezone())
    assert subscriptions_end_daily() == 0
    runs = list(JobRun.objects.filter(name="subscriptions-end-keys").order_by("pk"))
    assert [(r.ok, r.summary) for r in runs] == [
        (True, "Abos beendet, Schlüssel gesperrt: 1"),
        (True, "Abos beendet, Schlüssel gesperrt: 0"),
    ]


# --- SUB-8: service plans --------------------------------------------------------------------------------------------


@pytest.fixture
def server(modules, clock):
    clock.set(date(2026, 11, 21))
    return installation_for(make_partner(status_confirmed_on=None))


def test_book_a_premium_plan_at_the_list_price(server, staff):
    plan = services.service_plan_book(installation=server, plan="premium", signed_on=date(2026, 11, 21), by=staff)
    assert (plan.reference, plan.plan, plan.yearly_price, plan.partner) == (
        "SP-2026-000001",
        "premium",
        D("828.00"),
        server.customer.partner,
    )
    assert (plan.starts_on, plan.billed_from, plan.retroactive) == (date(2026, 11, 21), date(2026, 11, 21), False)
    assert selectors.service_plan_on(server, date(2026, 11, 21)) == "premium"
    assert selectors.service_plan_on(server, date(2026, 11, 20)) == "free"


def test_a_second_plan_on_the_same_server_key_is_refused_in_german(server):
    services.service_plan_book(installation=server, plan="premium", signed_on=date(2026, 11, 21))
    with pytest.raises(ServicePlanRefused, match="nur einmal gebucht werden"):
        services.service_plan_book(installation=server, plan="enterprise", signed_on=date(2026, 11, 21))
    assert ServicePlan.objects.get().plan == "premium"


def test_plans_only_on_starface_server_keys(modules, clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner()
    system = make_system(customer=CustomerFactory(partner=partner))
    with pytest.raises(ServicePlanRefused, match="an einen STARFACE-Serverlizenzschlüssel gebunden"):
        services.service_plan_book(installation=system, plan="premium", signed_on=date(2026, 11, 21))
    assert not ServicePlan.objects.exists()


def test_retroactive_booking_needs_a_purchase_before_2022(server, modules):
    with pytest.raises(ServicePlanRefused, match="vor dem 01.01.2022 Module gekauft"):
        services.service_plan_book(
            installation=server, plan="enterprise", signed_on=date(2026, 11, 21), starts_on=date(2021, 3, 1)
        )
    assert not ServicePlan.objects.exists()
    key = license_issue(
        product=modules["CALLREC"], installation=server, version=modules["CALLREC"].versions.get(version="2.0")
    )
    License.objects.filter(pk=key.pk).update(issued_at=timezone.make_aware(datetime(2021, 6, 1, 10, 0)))
    plan = services.service_plan_book(
        installation=server, plan="enterprise", signed_on=date(2026, 11, 21), starts_on=date(2021, 3, 1)
    )
    # Plan years from 01.03.2021; 21.11.2026 lies in 01.03.2026–28.02.2027: billed from 01.03.2026,
    # no surcharge, the years before are not billed; 1.548,00 € a year.
    assert (plan.retroactive, plan.billed_from, plan.yearly_price) == (True, date(2026, 3, 1), D("1548.00"))
    # ORD-7: the 2021 purchase is covered (bought after the retroactive start).
    assert selectors.upgrade_service_plan(server, License.objects.get(), date(2026, 11, 21)) == "enterprise"


@pytest.mark.parametrize(
    "notice_on, ends_on",
    [
        (date(2027, 8, 31), date(2027, 11, 30)),  # SUB-8: 3 months before the plan year ends 30.11.2027
        (date(2027, 9, 1), date(2028, 11, 30)),  # too late for that year: the next one
    ],
)
def test_plan_notice_three_months_to_the_end_of_a_plan_year(modules, clock, staff, notice_on, ends_on):
    clock.set(date(2026, 12, 1))
    server = installation_for(make_partner())
    plan = services.service_plan_book(installation=server, plan="premium", signed_on=date(2026, 12, 1))
    clock.set(notice_on)
    assert services.service_plan_notice_preview(plan, notice_on).ends_on == ends_on
    preview = services.service_plan_give_notice(service_plan=plan, notice_on=notice_on, by=staff)
    assert f"endet mit 3 Monaten Frist zum Ende des Planjahres am {ends_on:%d.%m.%Y}" in preview.text
    plan.refresh_from_db()
    assert (plan.notice_on, plan.ends_on, plan.notice_by) == (notice_on, ends_on, staff)
    with pytest.raises(ServicePlanRefused, match="bereits gekündigt"):
        services.service_plan_give_notice(service_plan=plan, notice_on=notice_on)
    # After its end the server key has no plan (SUB-8 → ORD-7, support).
    assert selectors.service_plan_on(server, ends_on) == "premium"
    assert selectors.service_plan_on(server, date(ends_on.year, 12, 1)) == "free"


def test_ordering_a_plan_books_it_and_bills_the_first_plan_year(modules, clock):
    order = subscription_order(clock, date(2026, 11, 21), ("SP-ENTERPRISE", 12, {}))
    invoice = services.order_confirm(order=order)
    plan = ServicePlan.objects.get()
    assert (plan.plan, plan.installation, plan.starts_on, plan.yearly_price, plan.order_line.order) == (
        "enterprise",
        order.lines.get().installation,
        date(2026, 11, 21),
        D("1548.00"),
        order,
    )
    assert not Subscription.objects.exists() and not License.objects.exists()
    # The first plan year 21.11.2026–20.11.2027, yearly in advance: 1.548,00 €; VAT 294,12 €.
    line = invoice.lines.get()
    assert (line.quantity, line.unit, line.net_total, line.period_start, line.period_end) == (
        D("1"),
        "ANN",
        D("1548.00"),
        date(2026, 11, 21),
        date(2027, 11, 20),
    )
    assert (invoice.vat_total, invoice.gross_total) == (D("294.12"), D("1842.12"))
    billed = BilledPeriod.objects.get()
    assert (billed.service_plan, billed.period_start, billed.amount) == (plan, date(2026, 11, 21), D("1548.00"))


def test_a_plan_order_for_a_key_with_a_plan_is_refused_when_adding_the_line(server):
    services.service_plan_book(installation=server, plan="premium", signed_on=date(2026, 11, 21))
    order_installation = server
    order = services.order_create(partner=server.customer.partner)
    with pytest.raises(OrderRefused, match="bereits der Service-Plan SP-2026-000001 gebucht"):
        services.order_line_add(
            order=order,
            installation=order_installation,
            product=product("SP-ENTERPRISE"),
            kind="subscription",
            term_months=12,
        )
    assert not order.lines.exists()


def test_paid_upgrade_takes_the_plan_only_for_modules_bought_at_or_after_its_start(modules, clock):
    clock.set(date(2026, 6, 1))
    partner = make_partner()
    server = installation_for(partner, users=90, light=10)
    services.service_plan_book(installation=server, plan="enterprise", signed_on=date(2026, 6, 1))
    adsync = license_issue(
        product=modules["ADSYNC"], installation=server, version=modules["ADSYNC"].versions.get(version="2.1")
    )
    License.objects.filter(pk=adsync.pk).update(issued_at=timezone.make_aware(datetime(2026, 7, 1, 10, 0)))
    callrec = license_issue(
        product=modules["CALLREC"], installation=server, version=modules["CALLREC"].versions.get(version="2.1")
    )
    License.objects.filter(pk=callrec.pk).update(issued_at=timezone.make_aware(datetime(2026, 1, 15, 10, 0)))
    clock.set(date(2026, 11, 21))
    order_installation = server
    order = services.order_create(partner=partner)
    adsync_line = services.order_line_add(
        order=order,
        installation=order_installation,
        product=modules["ADSYNC"],
        kind="purchase",
        upgrade="version",
        upgrade_from=License.objects.get(pk=adsync.pk),
    )
    callrec_line = services.order_line_add(
        order=order,
        installation=order_installation,
        product=modules["CALLREC"],
        kind="purchase",
        upgrade="version",
        upgrade_from=License.objects.get(pk=callrec.pk),
    )
    # ADSYNC bought 01.07.2026, after the plan start: Enterprise 90 %; < 6 months (to 31.12.2026) 50 %:
    # 1.299,00 × 0,8 (partner) = 1.039,20; × 0,1 = 103,92; × 0,5 = 51,96 €.
    assert (adsync_line.service_plan, adsync_line.upgrade_plan_percent, adsync_line.line_net) == (
        "enterprise",
        D("90.00"),
        D("51.96"),
    )
    # Call Recording bought 15.01.2026, before the plan: no plan discount; ≥ 6 and < 12 months: 25 %.
    # 4.800,00 × 0,8 = 3.840,00; × 0,75 = 2.880,00 €.
    assert (callrec_line.service_plan, callrec_line.upgrade_plan_percent, callrec_line.line_net) == (
        "free",
        D("0.00"),
        D("2880.00"),
    )


def test_an_ended_subscription_cannot_be_noticed(callrec, clock):
    clock.set(date(2027, 3, 1))
    services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 3, 1))
    clock.set(date(2028, 12, 1))
    with pytest.raises(SubscriptionRefused, match="endete am 30.11.2028; es kann nicht mehr gekündigt werden"):
        services.subscription_notice_preview(Subscription.objects.get(), date(2028, 12, 1))


def test_a_package_member_ended_by_special_notice_leaves_the_rest_of_the_package(modules, clock):
    order = subscription_order(
        clock,
        date(2026, 11, 21),
        ("CALLREC", 24, {"as_package": True}),
        ("BLACKLIST", 24, {"as_package": True}),
    )
    services.order_confirm(order=order)
    callrec, blacklist = Subscription.objects.order_by("pk")
    clock.set(date(2027, 3, 10))
    # SUB-6 ends Call Recording alone at 31.03.2027 (the right is the module subscription's).
    special = services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 3, 10), special=True)
    assert (special.ends_on, special.references) == (date(2027, 3, 31), [callrec.reference])
    blacklist.refresh_from_db()
    assert blacklist.notice_on is None
    # The rest of the package is noticed as usual: to the end of the minimum term.
    rest = services.subscription_give_notice(subscription=blacklist, notice_on=date(2027, 3, 10))
    assert (rest.ends_on, rest.references) == (date(2028, 11, 30), [blacklist.reference])
    callrec.refresh_from_db()
    assert callrec.ends_on == date(2027, 3, 31)


def test_tier_change_after_the_quarter_was_billed_applies_from_april(modules, clock):
    # Issue 16 point 2: Call Recording 21-40, 24 months, quarterly, signed 10.12.2026 → term
    # from 01.01.2027. January's run is made early, on 20.12.2026, and bills 01.01.–31.03.2027
    # at 44,75 €/month (3 × 44,75 = 134,25 €). A tier change the same day cannot reach that
    # quarter any more: it applies from 01.04.2027 (SUB-7 decision), and the price of the
    # invoiced quarter stays what was billed.
    from billing.services.invoicing import invoicing_run

    order = subscription_order(clock, date(2026, 12, 10), ("CALLREC", 24, {"billing_months": 3}))
    services.order_confirm(order=order)
    sub = Subscription.objects.get()
    clock.set(date(2026, 12, 20))
    invoicing_run(month=date(2027, 1, 1), render_pdf=False)
    billed = BilledPeriod.objects.get(subscription=sub, period_start=date(2027, 1, 1))
    assert (billed.period_end, billed.amount) == (date(2027, 3, 31), D("134.25"))
    preview = services.subscription_tier_change_preview(sub, tier="41-80")
    assert (preview.effective_from, preview.monthly_price) == (date(2027, 4, 1), D("89.50"))
    change = services.subscription_change_tier(subscription=sub, tier="41-80")
    assert change.effective_from == date(2027, 4, 1)
    assert selectors.subscription_next_unbilled(Subscription.objects.get(), date(2026, 12, 20)) == date(2027, 4, 1)
    sub = Subscription.objects.get()
    assert selectors.subscription_monthly_price_on(sub, date(2027, 3, 31)) == D("44.75")
    assert selectors.subscription_monthly_price_on(sub, date(2027, 4, 1)) == D("89.50")
