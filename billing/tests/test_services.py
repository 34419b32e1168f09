"""Order services over the seed 001 price list: create, add lines, price, cancel; models' constraints and
state machine; VAT rates as data. Every expected amount is worked out by hand in the comment beside it."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import selectors, services
from billing.exceptions import (
    IllegalOrderTransition,
    OrderNotCancellable,
    OrderRefused,
    PriceMissing,
    TierUpgradeRefused,
    VatRateMissing,
)
from billing.models import Order, OrderLine, VatRate
from licensing.models import Bundle, License, Price, PriceList, Product
from licensing.services.licenses import license_issue
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory, PartnerLevelFactory

pytestmark = pytest.mark.django_db
D = Decimal
SUITE = ["BLACKLIST", "HOLIDAY", "TIMEROUTE", "PROIVR"]


@pytest.fixture
def today(clock):
    clock.set(date(2026, 11, 21))
    return date(2026, 11, 21)


@pytest.fixture
def partner(db):
    # Certified, 20 % partner conditions, confirmed since 2025-01-01 (factory defaults).
    return PartnerFactory(
        company="Muster Kommunikation GmbH",
        delivery_email="technik@muster.test",
        invoice_email="buchhaltung@muster.test",
    )


def installation_of(partner, users=90, light=10, **kw):
    return InstallationFactory(
        customer=CustomerFactory(partner=partner), pbx_users=users, user_light_licenses=light, **kw
    )


@pytest.fixture
def order(partner, modules, today):
    # 90 PBX users + 10 User Light = 100 installed → tier 81-150 (CAT-2).
    return order_for(partner, installation_of(partner))


def product(article):
    return Product.objects.get(article=article)


# The installation each test order was started for: ``add`` adds its lines there.
_installation_of_order: dict[int, object] = {}


def order_for(partner, installation, **kw):
    order = services.order_create(partner=partner, **kw)
    _installation_of_order[order.pk] = installation
    return order


def inst_of(order):
    return _installation_of_order[order.pk]


def add(order, article, kind="purchase", installation=None, **kw):
    installation = installation or _installation_of_order[order.pk]
    return services.order_line_add(order=order, installation=installation, product=product(article), kind=kind, **kw)


def issue(modules, installation, article, **kw):
    p = modules[article]
    return license_issue(
        product=p, installation=installation, version=p.versions.get(version="2.1"), delivery_note=False, **kw
    )


# --- order_create (ORD-1) ---------------------------------------------------------------


def test_order_defaults_emails_from_partner_and_is_dated_today(order):
    assert (order.state, order.order_date) == ("draft", date(2026, 11, 21))
    assert (order.delivery_email, order.invoice_email) == ("technik@muster.test", "buchhaltung@muster.test")
    assert order.reference == f"B-{order.pk:06d}"
    assert order.history.count() == 1


def test_order_may_send_keys_straight_to_the_end_customer(partner, today):
    order = order_for(partner, installation_of(partner), delivery_email="it@kunde.test")
    assert (order.delivery_email, order.invoice_email) == ("it@kunde.test", "buchhaltung@muster.test")


def test_line_for_another_partners_installation_is_refused(partner, modules, today):
    foreign = installation_of(PartnerFactory())
    order = order_for(partner, foreign)
    with pytest.raises(OrderRefused, match="gehört zu keinem Kunden von Muster Kommunikation GmbH"):
        add(order, "CALLREC")
    assert not OrderLine.objects.exists()


def test_line_for_decommissioned_installation_is_refused(partner, modules, today):
    gone = installation_of(partner, decommissioned_on=date(2026, 11, 21))
    order = order_for(partner, gone)
    with pytest.raises(OrderRefused, match="seit 21.11.2026 außer Betrieb"):
        add(order, "CALLREC")
    assert not OrderLine.objects.exists()


def test_invalid_email_is_a_validation_error(partner, today):
    with pytest.raises(ValidationError):
        order_for(partner, installation_of(partner), invoice_email="kein-mail")


# --- order_line_add and pricing (CAT-1, CAT-2, CAT-4, ORD-3…ORD-5) ----------------------------


def test_tiered_module_priced_by_installed_users_with_partner_conditions(order):
    # Call Recording 81-150 purchase 4.800,00 € (seed 001); partner 20 %: 4800 × 0,8 = 3.840,00 €.
    line = add(order, "CALLREC")
    assert (line.tier, line.list_price, line.partner_discount_percent) == ("81-150", D("4800.00"), D("20.00"))
    assert (line.unit_net, line.line_net, line.price_unit) == (D("3840.00"), D("3840.00"), "once")


def test_subscription_24_months(order):
    # Call Recording 81-150, 24 months: 179,00 €/month (CAT-3 example); partner 20 %: 143,20 €/month.
    line = add(order, "CALLREC", kind="subscription", term_months=24)
    assert (line.list_price, line.line_net, line.price_unit) == (D("179.00"), D("143.20"), "month")


def test_bundle_discount_reprices_the_earlier_lines(order):
    Bundle.objects.create(name="STARFACE Management Suite").products.set(Product.objects.filter(article__in=SUITE))
    for article in SUITE[:3]:
        add(order, article)
    # Three of four: 249,00 × 0,8 = 199,20 each.
    assert list(order.lines.values_list("line_net", flat=True)) == [D("199.20")] * 3
    add(order, "PROIVR")
    # All four: 249,00 × 0,9 × 0,8 = 179,28 each (GEN-3).
    assert list(order.lines.values_list("bundle_discount_percent", "line_net")) == [(D("10.00"), D("179.28"))] * 4
    # One-off net 4 × 179,28 = 717,12; VAT 19 % = 136,2528 → 136,25; gross 853,37.
    once = selectors.order_breakdown(order).total("once")
    assert (once.net, once.vat, once.gross) == (D("717.12"), D("136.25"), D("853.37"))


def test_volume_discount_at_ten_licences_on_ten_installations(order, partner):
    # 10 × Intercom 169,00 on 10 installations (decision ORD-1/ORD-4):
    # 169 × 0,9 (volume) × 0,8 (partner) = 121,68 each; order 10 × 121,68 = 1.216,80.
    for _n in range(9):
        add(order, "INTERCOM", installation=installation_of(partner))
    assert set(order.lines.values_list("volume_discount_percent", flat=True)) == {D("0.00")}  # 9: none yet
    line = add(order, "INTERCOM")
    assert (line.volume_discount_percent, line.unit_net, line.line_net) == (D("10.00"), D("121.68"), D("121.68"))
    assert selectors.order_breakdown(order).total("once").net == D("1216.80")


def test_teams_presence_sync_by_the_installations_users(partner, modules, today):
    partner.status_confirmed_on = None  # not confirmed: end-customer prices (ORD-5)
    partner.save()
    order = order_for(partner, installation_of(partner, users=12, light=0))
    # 12 installed users → 3 started blocks × 7,50 € (1-month term) = 22,50 €/month (CAT-4).
    line = add(order, "TEAMSPRESENCE", kind="subscription", term_months=1)
    assert (line.users, line.list_price, line.partner_discount_percent, line.line_net) == (
        12,
        D("22.50"),
        D("0.00"),
        D("22.50"),
    )
    # 26 users given on the 36-month term: 6 started blocks × 7,00 = 42,00 €/month.
    other = order_for(partner, inst_of(order))
    line2 = add(other, "TEAMSPRESENCE", kind="subscription", term_months=36, users=26)
    assert (line2.users, line2.line_net) == (26, D("42.00"))


def test_partner_confirmed_after_the_order_date_gets_end_customer_prices(partner, modules, today):
    partner.status_confirmed_on = date(2026, 11, 22)
    partner.save()
    order = order_for(partner, installation_of(partner))
    assert add(order, "CALLREC").line_net == D("4800.00")


def test_level_without_partner_conditions(modules, today):
    registered = PartnerLevelFactory(name="Registered", rank=10, discount_percent=5, grants_partner_conditions=False)
    partner = PartnerFactory(level=registered)
    order = order_for(partner, installation_of(partner))
    assert add(order, "CALLREC").line_net == D("4800.00")


def test_installation_without_users_cannot_be_priced_by_tier(partner, modules, today):
    order = order_for(partner, installation_of(partner, users=0, light=0))
    with pytest.raises(OrderRefused, match="keine installierten Benutzerlizenzen"):
        add(order, "CALLREC")
    assert not OrderLine.objects.exists()


def test_price_missing_is_refused_and_nothing_written(order):
    # AURORA has no price in the seeds (CAT-5): staff enter it.
    with pytest.raises(PriceMissing, match="AURORA .*keinen Preis"):
        add(order, "AURORA", kind="subscription", term_months=12)
    assert not OrderLine.objects.exists()


@pytest.mark.parametrize(
    "article,kind,term,message",
    [
        ("TEAMSPRESENCE", "purchase", 0, "nur im Abo"),
        ("SP-BASIC", "subscription", 12, "nicht im Abo"),
        ("CALLREC", "purchase", 12, "keine Mindestlaufzeit"),
        ("CALLREC", "subscription", 6, "1, 12, 24 oder 36"),
        ("94375", "purchase", 0, "PBX Call Assist"),
    ],
)
def test_impossible_lines_are_refused(order, article, kind, term, message):
    with pytest.raises(OrderRefused, match=message):
        add(order, article, kind=kind, term_months=term)


def test_same_module_twice_in_one_order_is_refused(order):
    add(order, "CALLREC")
    with pytest.raises(OrderRefused, match="steht für .* bereits in dieser Bestellung"):
        add(order, "CALLREC", kind="subscription", term_months=12)
    assert order.lines.count() == 1


def test_lines_only_while_draft(order):
    order.move_to(Order.CONFIRMED)
    order.save()
    with pytest.raises(OrderRefused, match="„bestätigt“ und kann nicht mehr geändert werden"):
        add(order, "CALLREC")


# --- already licensed → tier upgrade (ORD-6), paid upgrade (ORD-7) -------------------------------


@pytest.fixture
def licensed(partner, modules, today):
    """An installation with 30 users (21-40) and a purchased Call Recording key at 21-40."""
    inst = installation_of(partner, users=30, light=0)
    lic = issue(modules, inst, "CALLREC")
    assert lic.tier == "21-40"
    return inst, lic


def test_module_with_active_paid_key_cannot_be_bought_again(partner, licensed):
    inst, lic = licensed
    order = order_for(partner, inst)
    with pytest.raises(OrderRefused, match="bereits einen aktiven Schlüssel .*Staffel-Upgrade") as refused:
        add(order, "CALLREC")
    assert f"(Lizenz {lic.serial}, Staffel 21-40);" in refused.value.message
    assert not OrderLine.objects.exists()


def test_revoked_key_does_not_block_a_new_purchase(partner, licensed):
    inst, lic = licensed
    License.objects.filter(pk=lic.pk).update(state=License.REVOKED)
    order = order_for(partner, inst)
    # 30 users → 21-40: 1.200,00 × 0,8 = 960,00.
    assert add(order, "CALLREC").line_net == D("960.00")


def test_tier_upgrade_costs_the_difference_of_the_purchase_prices(partner, licensed):
    inst, lic = licensed
    inst.pbx_users = 50  # now 41-80
    inst.save()
    order = order_for(partner, inst)
    line = add(order, "CALLREC", upgrade="tier", upgrade_from=lic)
    # 41-80 2.400,00 − 21-40 1.200,00 = 1.200,00; partner 20 %: 960,00.
    assert (line.tier, line.list_price, line.line_net) == ("41-80", D("1200.00"), D("960.00"))
    step_labels = [s.label for s in selectors.order_breakdown(order).lines[0].steps]
    assert step_labels[0] == "Staffel-Upgrade 21-40 → 41-80 Benutzer: Differenz der Kaufpreise"


def test_tier_upgrade_to_the_same_tier_is_refused_and_writes_nothing(partner, licensed):
    inst, lic = licensed
    order = order_for(partner, inst)
    with pytest.raises(TierUpgradeRefused, match="nur in eine höhere Benutzerstaffel"):
        add(order, "CALLREC", upgrade="tier", upgrade_from=lic)
    assert not OrderLine.objects.exists()


def test_upgrade_of_a_subscription_key_needs_no_order(partner, modules, today):
    inst = installation_of(partner, users=30, light=0)
    lic = issue(modules, inst, "CALLREC", kind=License.SUBSCRIPTION)
    order = order_for(partner, inst)
    with pytest.raises(OrderRefused, match="Im Abo sind Versions-Upgrades kostenlos"):
        add(order, "CALLREC", upgrade="version", upgrade_from=lic, service_plan="premium")


def test_paid_version_upgrade_with_plan_and_time_discount(partner, modules, today):
    # ADSYNC bought 2026-05-22 at 81-150; upgraded 2026-11-21 = month_period_end(2026-05-22, 6): still < 6 months, 50 %.
    inst = installation_of(partner)
    lic = issue(modules, inst, "ADSYNC")
    License.objects.filter(pk=lic.pk).update(issued_at=timezone.make_aware(timezone.datetime(2026, 5, 22, 10, 0)))
    lic.refresh_from_db()
    order = order_for(partner, inst)
    line = add(order, "ADSYNC", upgrade="version", upgrade_from=lic, service_plan="enterprise")
    # 1.299,00 × 0,8 (partner) = 1.039,20; × 0,1 (Enterprise) = 103,92; × 0,5 (< 6 months) = 51,96.
    assert (line.upgrade_plan_percent, line.upgrade_time_percent, line.line_net) == (D("90.00"), D("50.00"), D("51.96"))


def test_tier_upgrade_of_a_flat_module_is_refused(partner, modules, today):
    inst = installation_of(partner)
    lic = issue(modules, inst, "INTERCOM")
    order = order_for(partner, inst)
    with pytest.raises(OrderRefused, match="Intercom hat keine Benutzerstaffeln"):
        add(order, "INTERCOM", upgrade="tier", upgrade_from=lic)


def test_upgrade_of_another_installations_key_is_refused(partner, licensed):
    _inst, lic = licensed
    order = order_for(partner, installation_of(partner))
    with pytest.raises(OrderRefused, match="nicht zu dieser Installation"):
        add(order, "CALLREC", upgrade="tier", upgrade_from=lic)


# --- order_price: today's data (CAT-1) --------------------------------------------------------


def test_order_price_moves_the_draft_to_today_and_uses_the_list_valid_then(partner, modules, clock):
    clock.set(date(2026, 12, 31))
    order = order_for(partner, installation_of(partner))
    add(order, "CALLREC")
    new_list = PriceList.objects.create(name="Preisliste 2027", valid_from=date(2027, 1, 1))
    Price.objects.create(
        price_list=new_list,
        product=product("CALLREC"),
        kind="purchase",
        tier="81-150",
        unit="once",
        amount=D("5000.00"),
    )
    assert order.lines.get().line_net == D("3840.00")  # 4800 × 0,8 on 31.12.2026
    clock.set(date(2027, 1, 2))
    breakdown = services.order_price(order=order)
    order.refresh_from_db()
    # 5.000,00 × 0,8 = 4.000,00; VAT 760,00; gross 4.760,00.
    assert (order.order_date, order.lines.get().line_net) == (date(2027, 1, 2), D("4000.00"))
    assert (breakdown.total("once").vat, breakdown.total("once").gross) == (D("760.00"), D("4760.00"))


def test_order_price_follows_the_installations_users(order):
    add(order, "CALLREC")
    inst_of(order).pbx_users = 200  # 210 installed → 151-250: 7.500,00 × 0,8 = 6.000,00
    inst_of(order).save()
    services.order_price(order=order)
    assert order.lines.values_list("tier", "line_net").get() == ("151-250", D("6000.00"))


# --- order_cancel (ORD-9) and the state machine ---------------------------------------------------


def test_draft_and_confirmed_orders_without_keys_can_be_cancelled(order, partner):
    assert services.order_cancel(order=order).state == "cancelled"
    with pytest.raises(OrderNotCancellable, match="bereits storniert"):
        services.order_cancel(order=order)
    confirmed = order_for(partner, inst_of(order))
    confirmed.move_to(Order.CONFIRMED)
    confirmed.save()
    assert services.order_cancel(order=confirmed).state == "cancelled"


def test_order_with_generated_key_cannot_be_cancelled(partner, modules, today):
    inst = installation_of(partner)
    order = order_for(partner, inst)
    line = add(order, "INTERCOM")
    order.move_to(Order.CONFIRMED)
    order.save()
    line.licenses.add(issue(modules, inst, "INTERCOM"))
    with pytest.raises(OrderNotCancellable, match="Lizenzschlüssel dieser Bestellung sind bereits erzeugt"):
        services.order_cancel(order=order)
    order.refresh_from_db()
    assert order.state == "confirmed"


@pytest.mark.parametrize(
    "start,target,allowed",
    [
        ("draft", "confirmed", True),
        ("draft", "cancelled", True),
        ("draft", "fulfilled", False),
        ("confirmed", "fulfilled", True),
        ("confirmed", "cancelled", True),
        ("confirmed", "draft", False),
        ("fulfilled", "cancelled", False),
        ("cancelled", "draft", False),
        ("cancelled", "confirmed", False),
    ],
)
def test_state_machine(start, target, allowed):
    order = Order(state=start)
    if allowed:
        order.move_to(target)
        assert order.state == target
    else:
        with pytest.raises(IllegalOrderTransition):
            order.move_to(target)
        assert order.state == start


# --- database constraints ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"quantity": 0},
        {"kind": "purchase", "term_months": 12},
        {"kind": "subscription", "term_months": 0},
        {"line_net": D("-0.01")},
        {"partner_discount_percent": D("100.01")},
        {"as_package": True},  # a purchase is never a package
        {"upgrade_kind": "tier"},  # an upgrade without the licence it extends
        {"service_plan": "enterprise"},  # a plan only on a version upgrade
    ],
)
def test_check_constraints_hold_in_the_database(order, fields):
    values = {
        "order": order,
        "installation": inst_of(order),
        "product": product("CALLREC"),
        "kind": "purchase",
        "term_months": 0,
        **fields,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.create(**values)


def test_one_new_line_per_module_installation_and_order_in_the_database(order, partner):
    inst = inst_of(order)
    OrderLine.objects.create(order=order, installation=inst, product=product("CALLREC"), kind="purchase")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.create(
            order=order, installation=inst, product=product("CALLREC"), kind="subscription", term_months=12
        )
    # The same module for another installation of the order is another licence (ORD-1/ORD-4).
    OrderLine.objects.create(
        order=order, installation=installation_of(partner), product=product("CALLREC"), kind="purchase"
    )


# --- VAT rates as data (GEN-2) ----------------------------------------------------------------------------


def test_vat_rates_loaded_by_the_migration():
    assert selectors.vat_rate_on("S", date(2007, 1, 1)) == D("19.00")
    assert selectors.vat_rate_on("S", date(2026, 11, 21)) == D("19.00")
    assert selectors.vat_rate_on("AE", date(2026, 11, 21)) == D("0.00")
    with pytest.raises(VatRateMissing, match="31.12.2006"):
        selectors.vat_rate_on("S", date(2006, 12, 31))


def test_a_new_rate_takes_over_on_its_first_day():
    old = VatRate.objects.get(category="S")
    old.valid_to = date(2027, 6, 30)
    old.full_clean()
    old.save()
    new = VatRate(category="S", percent=D("20.00"), valid_from=date(2027, 7, 1))
    new.full_clean()
    new.save()
    assert (selectors.vat_rate_on("S", date(2027, 6, 30)), selectors.vat_rate_on("S", date(2027, 7, 1))) == (
        D("19.00"),
        D("20.00"),
    )


def test_overlapping_rates_and_nonzero_reverse_charge_are_refused():
    with pytest.raises(ValidationError, match="überschneidet sich"):
        VatRate(category="S", percent=D("7.00"), valid_from=date(2020, 7, 1)).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        VatRate.objects.create(category="AE", percent=D("19.00"), valid_from=date(2030, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        VatRate.objects.create(category="S", percent=D("19.00"), valid_from=date(2030, 1, 2), valid_to=date(2030, 1, 1))


def test_reverse_charge_order_has_no_vat(modules, today):
    partner = PartnerFactory(country="AT", vat_id="ATU13585627")
    order = order_for(partner, installation_of(partner))
    add(order, "CALLREC")
    breakdown = selectors.order_breakdown(order)
    # 4.800,00 × 0,8 = 3.840,00 net, 0 % VAT (reverse charge), gross 3.840,00.
    assert (breakdown.treatment.code, breakdown.total("once").vat, breakdown.total("once").gross) == (
        "AE",
        D("0.00"),
        D("3840.00"),
    )


# --- selectors ------------------------------------------------------------------------------------------------


def test_orders_for_partner_are_scoped(order, partner):
    other = PartnerFactory()
    order_for(other, installation_of(other))
    assert list(selectors.orders_for_partner(partner)) == [order]


def test_stored_breakdown_keeps_the_price_after_the_list_changes(order):
    add(order, "CALLREC")
    Price.objects.filter(product__article="CALLREC").update(amount=D("1.00"))
    line = selectors.order_breakdown(order).lines[0]
    assert [s.display for s in line.steps] == [
        "Listenpreis (Kauf, Staffel 81-150 Benutzer): 4.800,00 € → 4.800,00 €",
        "Partnerkondition 20 %: −960,00 € → 3.840,00 €",
    ]
    assert line.line_net == D("3840.00")


def test_history_records_line_prices(order):
    line = add(order, "CALLREC")
    assert line.history.count() == 2  # created unpriced, then priced
    assert timedelta(0) <= timezone.now() - line.history.first().history_date
