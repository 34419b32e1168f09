"""The price breakdown (billing.pricing): pure, prices passed in. Amounts from the seed 001 price
list (licensing/data/pricelist_2022-09.csv), each worked out by hand in the comment beside it."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing import pricing, rules
from billing.exceptions import TierUpgradeRefused
from billing.pricing import LineRequest, ListPrice

D = Decimal
ORDER_DATE = date(2026, 11, 21)
SUITE = {"STARFACE Management Suite": ["BLACKLIST", "HOLIDAY", "TIMEROUTE", "PROIVR"]}


def purchase(key, article, quantity=1, tier=""):
    return LineRequest(key=key, article=article, name=article, kind="purchase", tier=tier, quantity=quantity)


def steps(line):
    return [(s.code, s.percent, s.change, s.subtotal) for s in line.steps]


def test_tiered_purchase_with_partner_conditions():
    # Call Recording 81-150, purchase 4.800,00 €; Certified partner 20 %: 4800 × 0,8 = 3.840,00 €.
    (line,) = pricing.price_lines(
        [purchase(1, "CALLREC", tier="81-150")],
        {1: ListPrice(D("4800.00"), "once")},
        order_date=ORDER_DATE,
        bundles=SUITE,
        partner_percent=D("20"),
    )
    assert steps(line) == [("list", None, D("4800.00"), D("4800.00")), ("partner", D("20"), D("-960.00"), D("3840.00"))]
    assert (line.unit_net, line.line_net) == (D("3840.00"), D("3840.00"))
    assert "Staffel 81-150 Benutzer" in line.steps[0].label
    assert line.steps[1].display == "Partnerkondition 20 %: −960,00 € → 3.840,00 €"


def test_management_suite_bundle_and_partner_conditions():
    # All four suite modules at 249,00 €: bundle 10 % → 224,10; partner 20 % → 224,10 × 0,8 = 179,28.
    # Call Recording 1-20 (599,00) is in no bundle: only partner 20 % → 479,20.
    requests = [purchase(a, a) for a in SUITE["STARFACE Management Suite"]] + [
        purchase("CALLREC", "CALLREC", tier="1-20")
    ]
    prices = {a: ListPrice(D("249.00"), "once") for a in SUITE["STARFACE Management Suite"]}
    prices["CALLREC"] = ListPrice(D("599.00"), "once")
    lines = {
        line.key: line
        for line in pricing.price_lines(requests, prices, order_date=ORDER_DATE, bundles=SUITE, partner_percent=D("20"))
    }
    assert steps(lines["HOLIDAY"]) == [
        ("list", None, D("249.00"), D("249.00")),
        ("bundle", D("10"), D("-24.90"), D("224.10")),
        ("partner", D("20"), D("-44.82"), D("179.28")),
    ]
    assert {k: line.line_net for k, line in lines.items()} == {
        "BLACKLIST": D("179.28"),
        "HOLIDAY": D("179.28"),
        "TIMEROUTE": D("179.28"),
        "PROIVR": D("179.28"),
        "CALLREC": D("479.20"),
    }


def test_incomplete_bundle_gives_no_bundle_discount():
    requests = [purchase(a, a) for a in ["BLACKLIST", "HOLIDAY", "TIMEROUTE"]]
    lines = pricing.price_lines(
        requests,
        {a.key: ListPrice(D("249.00"), "once") for a in requests},
        order_date=ORDER_DATE,
        bundles=SUITE,
        partner_percent=D("0"),
    )
    assert [line.unit_net for line in lines] == [D("249.00")] * 3
    assert all(len(line.steps) == 1 for line in lines)  # 0 % steps are not shown


def test_volume_and_bundle_multiply():
    # 10 × Blacklist PRO with the rest of the suite: 249 × 0,9 (bundle) × 0,9 (volume) = 201,69 per licence;
    # line 10 × 201,69 = 2.016,90. The others of the suite: 249 × 0,9 = 224,10.
    requests = [purchase("BLACKLIST", "BLACKLIST", quantity=10)] + [
        purchase(a, a) for a in ["HOLIDAY", "TIMEROUTE", "PROIVR"]
    ]
    prices = {r.key: ListPrice(D("249.00"), "once") for r in requests}
    lines = {
        line.key: line
        for line in pricing.price_lines(requests, prices, order_date=ORDER_DATE, bundles=SUITE, partner_percent=D("0"))
    }
    assert steps(lines["BLACKLIST"]) == [
        ("list", None, D("249.00"), D("249.00")),
        ("bundle", D("10"), D("-24.90"), D("224.10")),
        ("volume", D("10"), D("-22.41"), D("201.69")),
    ]
    assert (lines["BLACKLIST"].unit_net, lines["BLACKLIST"].line_net) == (D("201.69"), D("2016.90"))
    assert lines["HOLIDAY"].line_net == D("224.10")


def test_subscription_package_rounds_the_unit_price_once_per_line():
    # Blacklist PRO, 12-month subscription 12,21 €/month, 10 as a package: 12,21 × 0,9 = 10,989 → 10,99 (half up);
    # line 10 × 10,99 = 109,90 €/month. No bundle discount in a subscription (ORD-3).
    request = LineRequest(
        key=1,
        article="BLACKLIST",
        name="Blacklist PRO",
        kind="subscription",
        term_months=12,
        quantity=10,
        as_package=True,
    )
    (line,) = pricing.price_lines(
        [request],
        {1: ListPrice(D("12.21"), "month")},
        order_date=ORDER_DATE,
        bundles={"Eins": ["BLACKLIST"]},
        partner_percent=D("0"),
    )
    assert (line.bundle_percent, line.volume_percent) == (D("0"), D("10"))
    assert (line.unit_net, line.line_net, line.unit) == (D("10.99"), D("109.90"), "month")


def test_subscription_not_as_package_gets_no_volume_discount():
    request = LineRequest(
        key=1, article="BLACKLIST", name="Blacklist PRO", kind="subscription", term_months=12, quantity=10
    )
    (line,) = pricing.price_lines(
        [request], {1: ListPrice(D("12.21"), "month")}, order_date=ORDER_DATE, bundles={}, partner_percent=D("0")
    )
    assert line.line_net == D("122.10")  # 10 × 12,21


def test_teams_presence_sync_per_started_block_of_five():
    # CAT-4: 12 users, 1-month term → 3 blocks × 7,50 € = 22,50 €/month.
    request = LineRequest(
        key=1,
        article="TEAMSPRESENCE",
        name="Teams Presence Sync",
        kind="subscription",
        term_months=1,
        users=12,
        per_started_5_users=True,
    )
    (line,) = pricing.price_lines(
        [request], {1: ListPrice(D("7.50"), "month")}, order_date=ORDER_DATE, bundles={}, partner_percent=D("0")
    )
    assert (line.list_price, line.line_net) == (D("22.50"), D("22.50"))
    assert "12 Benutzer = 3 angefangene 5er-Blöcke à 7,50 €" in line.steps[0].label
    assert "1 Monat Mindestlaufzeit" in line.steps[0].label


def test_tier_upgrade_is_the_difference_then_partner_conditions():
    # Call Recording 21-40 (1.200,00) → 41-80 (2.400,00): 1.200,00; partner 20 % → 960,00.
    request = LineRequest(
        key=1,
        article="CALLREC",
        name="Call Recording",
        kind="purchase",
        tier="41-80",
        upgrade_kind="tier",
        from_tier="21-40",
    )
    (line,) = pricing.price_lines(
        [request],
        {1: ListPrice(D("2400.00"), "once", from_amount=D("1200.00"))},
        order_date=ORDER_DATE,
        bundles={},
        partner_percent=D("20"),
    )
    assert steps(line) == [("list", None, D("1200.00"), D("1200.00")), ("partner", D("20"), D("-240.00"), D("960.00"))]
    assert "21-40 → 41-80" in line.steps[0].label


def test_tier_upgrade_to_a_lower_tier_is_refused():
    request = LineRequest(
        key=1,
        article="CALLREC",
        name="Call Recording",
        kind="purchase",
        tier="1-20",
        upgrade_kind="tier",
        from_tier="21-40",
    )
    with pytest.raises(TierUpgradeRefused):
        pricing.price_lines(
            [request],
            {1: ListPrice(D("599.00"), "once", from_amount=D("1200.00"))},
            order_date=ORDER_DATE,
            bundles={},
            partner_percent=D("0"),
        )


def test_version_upgrade_seed_example_and_with_partner_conditions():
    # ADSYNC 81-150 purchase 1.299,00; Enterprise (90 %), bought 2026-05-22 → 2026-11-21 is the last day of
    # "< 6 months" (month_period_end(2026-05-22, 6) = 2026-11-21): 50 %. Without conditions 1299 × 0,1 × 0,5 = 64,95.
    def request(key):
        return LineRequest(
            key=key,
            article="ADSYNC",
            name="Active Directory Synchronisation",
            kind="purchase",
            tier="81-150",
            upgrade_kind="version",
            purchased_on=date(2026, 5, 22),
            service_plan="enterprise",
        )

    (plain,) = pricing.price_lines(
        [request(1)], {1: ListPrice(D("1299.00"), "once")}, order_date=ORDER_DATE, bundles={}, partner_percent=D("0")
    )
    assert (
        plain.unit_net == rules.upgrade_price(D("1299.00"), date(2026, 5, 22), ORDER_DATE, "enterprise") == D("64.95")
    )
    # With partner 20 %: 1299 × 0,8 = 1.039,20; × 0,1 = 103,92; × 0,5 = 51,96.
    (line,) = pricing.price_lines(
        [request(2)], {2: ListPrice(D("1299.00"), "once")}, order_date=ORDER_DATE, bundles={}, partner_percent=D("20")
    )
    assert steps(line) == [
        ("list", None, D("1299.00"), D("1299.00")),
        ("partner", D("20"), D("-259.80"), D("1039.20")),
        ("upgrade_plan", D("90"), D("-935.28"), D("103.92")),
        ("upgrade_time", D("50"), D("-51.96"), D("51.96")),
    ]
    assert "Service-Plan Enterprise" in line.steps[2].label


def test_upgrades_count_for_neither_bundle_nor_volume():
    # The suite's four modules are upgraded, not bought: no bundle discount.
    requests = [
        LineRequest(
            key=a,
            article=a,
            name=a,
            kind="purchase",
            upgrade_kind="version",
            purchased_on=date(2020, 1, 1),
            service_plan="basic",
        )
        for a in SUITE["STARFACE Management Suite"]
    ]
    lines = pricing.price_lines(
        requests,
        {r.key: ListPrice(D("249.00"), "once") for r in requests},
        order_date=ORDER_DATE,
        bundles=SUITE,
        partner_percent=D("0"),
    )
    # ≥ 12 months since the purchase: 10 % → 249 × 0,9 = 224,10 each, and nothing else.
    assert [(line.bundle_percent, line.unit_net) for line in lines] == [(D("0"), D("224.10"))] * 4


def test_order_totals_per_unit_with_vat_on_the_sum():
    # One-off: 3.840,00 + 4 × 179,28 (= 717,12) = 4.557,12; VAT 19 % = 865,8528 → 865,85; gross 5.422,97.
    # Monthly: Teams Presence Sync 22,50 × 0,8 = 18,00; VAT 3,42; gross 21,42.
    requests = [purchase("CALLREC", "CALLREC", tier="81-150")] + [
        purchase(a, a) for a in SUITE["STARFACE Management Suite"]
    ]
    requests.append(
        LineRequest(
            key="TPS",
            article="TEAMSPRESENCE",
            name="TPS",
            kind="subscription",
            term_months=1,
            users=12,
            per_started_5_users=True,
        )
    )
    prices = {r.key: ListPrice(D("249.00"), "once") for r in requests}
    prices["CALLREC"] = ListPrice(D("4800.00"), "once")
    prices["TPS"] = ListPrice(D("7.50"), "month")
    lines = pricing.price_lines(requests, prices, order_date=ORDER_DATE, bundles=SUITE, partner_percent=D("20"))
    breakdown = pricing.order_breakdown(lines, rules.vat_treatment("DE", ""), D("19.00"))
    once, monthly = breakdown.total("once"), breakdown.total("month")
    assert (once.net, once.vat, once.gross) == (D("4557.12"), D("865.85"), D("5422.97"))
    assert once.vat_by_rate == {D("19"): D("865.85")}
    assert (monthly.net, monthly.vat, monthly.gross) == (D("18.00"), D("3.42"), D("21.42"))
    assert breakdown.total("year") is None
    assert [t.label for t in breakdown.totals] == ["einmalig", "monatlich"]


def test_reverse_charge_order_has_no_vat_and_the_note():
    (line,) = pricing.price_lines(
        [purchase(1, "CALLREC", tier="81-150")],
        {1: ListPrice(D("4800.00"), "once")},
        order_date=ORDER_DATE,
        bundles={},
        partner_percent=D("0"),
    )
    breakdown = pricing.order_breakdown([line], rules.vat_treatment("AT", "ATU13585627"), D("0.00"))
    assert (breakdown.totals[0].net, breakdown.totals[0].vat, breakdown.totals[0].gross) == (
        D("4800.00"),
        D("0.00"),
        D("4800.00"),
    )
    assert "Reverse Charge" in breakdown.treatment.note


@given(
    price=st.decimals(min_value=0, max_value=100_000, places=2),
    discounts=st.lists(st.decimals(min_value=0, max_value=100, places=2), min_size=5, max_size=5),
    quantity=st.integers(min_value=1, max_value=50),
)
def test_shown_steps_add_up_to_the_unit_price(price, discounts, quantity):
    built, unit_net = pricing.build_steps(price, "Listenpreis", [(f"d{i}", "x", p) for i, p in enumerate(discounts)])
    assert sum(step.change for step in built) == unit_net == built[-1].subtotal
    assert D(0) <= unit_net <= price
