"""Billing's pure rules (GEN-2, GEN-3, CAT-4, ORD-3…ORD-9, INV-1): no database, hand-worked numbers."""

from datetime import date
from decimal import Decimal
from itertools import permutations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing import rules
from billing.exceptions import BillingInputError, TierUpgradeRefused

D = Decimal


# --- GEN-2: VAT treatment ---------------------------------------------------------------


@pytest.mark.parametrize(
    "country,vat_id,category,code",
    [
        ("DE", "DE123456788", rules.DOMESTIC, "S"),  # German buyer: 19 %
        ("DE", "", rules.DOMESTIC, "S"),
        ("de", "", rules.DOMESTIC, "S"),  # country code case-insensitive
        ("AT", "ATU13585627", rules.REVERSE_CHARGE, "AE"),  # valid Austrian VAT ID
        ("AT", "ATU 135 856 27", rules.REVERSE_CHARGE, "AE"),  # spaces ignored
        ("GR", "EL094259216", rules.REVERSE_CHARGE, "AE"),  # Greece: ISO GR, VAT prefix EL
        ("AT", "", rules.DOMESTIC, "S"),  # EU without VAT ID: German VAT as for a consumer
        ("AT", "ATU13585628", rules.DOMESTIC, "S"),  # wrong check digit: not valid
        ("AT", "DE123456788", rules.DOMESTIC, "S"),  # VAT ID of another country than the buyer's
        ("FR", "FR40303265045", rules.REVERSE_CHARGE, "AE"),
        ("CH", "CHE-116.281.710", rules.NOT_TAXABLE, "O"),  # outside the EU: not taxable here
        ("US", "", rules.NOT_TAXABLE, "O"),
    ],
)
def test_vat_treatment(country, vat_id, category, code):
    treatment = rules.vat_treatment(country, vat_id)
    assert (treatment.category, treatment.code) == (category, code)


def test_vat_treatment_notes_are_the_legal_texts():
    assert rules.vat_treatment("DE", "").note == ""
    assert (
        "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)"
        in rules.vat_treatment("AT", "ATU13585627").note
    )
    assert "Nicht im Inland steuerbar" in rules.vat_treatment("US", "").note


def test_vat_treatment_from_another_seller_country():
    # An Austrian seller selling to Austria is domestic; to Germany with a German VAT ID, reverse charge.
    assert rules.vat_treatment("AT", "", seller_country="AT").code == "S"
    assert rules.vat_treatment("DE", "DE123456788", seller_country="AT").code == "AE"


def test_vat_treatment_needs_a_country():
    with pytest.raises(BillingInputError, match="ISO-Code"):
        rules.vat_treatment("", "")


# --- GEN-2: VAT amounts ---------------------------------------------------------------------


def test_vat_is_computed_per_rate_on_the_sum_not_per_line():
    # 3 lines of 0,03 €: net 0,09 €; 0,09 × 19 % = 0,0171 → 0,02 €.
    # (Per line it would be 0,0057 → 0,01 each, 0,03 € in all: wrong.)
    assert rules.vat_amounts([(D("0.03"), D("19"))] * 3) == {D("19"): D("0.02")}


def test_vat_amounts_round_each_net_line_first_then_half_up():
    # 10,005 → 10,01 (half up) and 5,00 at 19 %: net 15,01; 15,01 × 0,19 = 2,8519 → 2,85.
    # 100,00 at 0 % (reverse charge) → 0,00.
    lines = [(D("10.005"), D("19")), (D("5.00"), D("19")), (D("100.00"), D("0"))]
    assert rules.net_by_rate(lines) == {D("19"): D("15.01"), D("0"): D("100.00")}
    assert rules.vat_amounts(lines) == {D("19"): D("2.85"), D("0"): D("0.00")}


def test_vat_half_up_at_exactly_half_a_cent():
    # 1,50 × 19 % = 0,285 → 0,29 (half up; half-even would give 0,28).
    assert rules.vat_amounts([(D("1.50"), D("19"))]) == {D("19"): D("0.29")}
    # Seed price 1.299,00 € × 19 % = 246,81 € exactly.
    assert rules.vat_amounts([(D("1299.00"), D("19.00"))]) == {D("19"): D("246.81")}


def test_vat_amounts_of_no_lines():
    assert rules.vat_amounts([]) == {}


# --- GEN-3: discounts multiply ------------------------------------------------------------


def test_combined_discounts_multiply():
    # Seed 000: 90 % and 50 % combine into 95 %: 0,1 × 0,5 = 0,05.
    assert rules.combine_discounts(90, 50) == D("0.05")
    assert rules.combined_percent(90, 50) == D("95")
    # ORD-4: bundle 10 % and volume 10 % → 0,9 × 0,9 = 0,81 (19 %, not 20 %).
    assert rules.combine_discounts(10, 10) == D("0.81")
    assert rules.combine_discounts() == D("1")
    assert rules.combine_discounts("12.5") == D("0.875")


def test_apply_discounts_is_exact_the_line_rounds():
    # 249,00 × 0,9 × 0,9 = 201,69 exactly; 12,21 × 0,9 = 10,989 (not rounded here).
    assert rules.apply_discounts(D("249.00"), 10, 10) == D("201.6900")
    assert rules.apply_discounts(D("12.21"), 10) == D("10.989")
    assert rules.apply_discounts(D("1299"), 100) == D("0")


@pytest.mark.parametrize("bad", [-1, 101, D("100.01")])
def test_discount_outside_0_100_is_refused(bad):
    with pytest.raises(BillingInputError, match="zwischen 0 und 100"):
        rules.combine_discounts(bad)


def test_negative_price_and_float_refused():
    with pytest.raises(BillingInputError):
        rules.apply_discounts(D("-1"), 10)
    with pytest.raises(TypeError):
        rules.apply_discounts(1.5, 10)


percents = st.decimals(min_value=0, max_value=100, places=2)
prices = st.decimals(min_value=0, max_value=1_000_000, places=2)


@given(price=prices, discounts=st.lists(percents, max_size=4))
def test_discounts_multiply_in_any_order(price, discounts):
    results = {rules.apply_discounts(price, *order) for order in permutations(discounts)}
    assert len(results) == 1


@given(price=prices, discounts=st.lists(percents, max_size=5))
def test_a_discounted_price_is_never_negative_nor_above_the_list_price(price, discounts):
    result = rules.apply_discounts(price, *discounts)
    assert D(0) <= result <= price


# --- CAT-4: started 5-user blocks ------------------------------------------------------------


@pytest.mark.parametrize("users,blocks", [(1, 1), (5, 1), (6, 2), (10, 2), (12, 3), (251, 51)])
def test_started_blocks_of_five_users(users, blocks):
    assert rules.started_user_blocks(users) == blocks


@pytest.mark.parametrize("bad", [0, -5, True, "12"])
def test_blocks_need_users(bad):
    with pytest.raises(BillingInputError):
        rules.started_user_blocks(bad)


# --- ORD-3: bundle discount -------------------------------------------------------------------

SUITE = {"STARFACE Management Suite": ["BLACKLIST", "HOLIDAY", "TIMEROUTE", "PROIVR"]}


def test_bundle_complete_gives_10_percent_to_its_modules_only():
    bought = ["BLACKLIST", "HOLIDAY", "TIMEROUTE", "PROIVR", "CALLREC"]
    assert rules.complete_bundles(SUITE, bought) == ["STARFACE Management Suite"]
    assert rules.bundle_discount_percent("HOLIDAY", "purchase", SUITE, bought) == D("10")
    assert rules.bundle_discount_percent("CALLREC", "purchase", SUITE, bought) == D("0")  # not in the bundle


def test_bundle_incomplete_gives_nothing():
    bought = ["BLACKLIST", "HOLIDAY", "TIMEROUTE"]  # Pro IVR missing
    assert rules.complete_bundles(SUITE, bought) == []
    assert rules.bundle_discount_percent("HOLIDAY", "purchase", SUITE, bought) == D("0")


def test_bundle_never_for_subscriptions_or_upgrades():
    bought = SUITE["STARFACE Management Suite"]
    assert rules.bundle_discount_percent("HOLIDAY", "subscription", SUITE, bought) == D("0")
    assert rules.bundle_discount_percent("HOLIDAY", "purchase", SUITE, bought, is_upgrade=True) == D("0")


def test_two_complete_bundles_do_not_stack_and_an_empty_bundle_is_never_complete():
    bundles = {**SUITE, "Routing": ["TIMEROUTE", "PROIVR"], "Leer": []}
    bought = SUITE["STARFACE Management Suite"]
    assert rules.complete_bundles(bundles, bought) == ["Routing", "STARFACE Management Suite"]
    assert rules.bundle_discount_percent("TIMEROUTE", "purchase", bundles, bought) == D("10")
    assert rules.complete_bundles({"Leer": []}, ["CALLREC"]) == []


# --- ORD-4: volume discount ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,count,package,percent",
    [
        ("purchase", 9, False, "0"),
        ("purchase", 10, False, "10"),  # the boundary: at least 10
        ("purchase", 25, False, "10"),
        ("subscription", 12, False, "0"),  # not booked as a package
        ("subscription", 12, True, "10"),
        ("subscription", 9, True, "0"),
    ],
)
def test_volume_discount(kind, count, package, percent):
    assert rules.volume_discount_percent(kind, count, package) == D(percent)


# --- ORD-5: partner conditions ----------------------------------------------------------------


@pytest.mark.parametrize(
    "grants,confirmed_on,percent",
    [
        (True, date(2026, 11, 20), "20"),
        (True, date(2026, 11, 21), "20"),  # confirmed on the order date counts
        (True, date(2026, 11, 22), "0"),  # confirmed only after the order date
        (True, None, "0"),  # never confirmed: end-customer prices
        (False, date(2025, 1, 1), "0"),  # level below "Certified"
    ],
)
def test_partner_conditions(grants, confirmed_on, percent):
    assert rules.partner_discount_percent(
        grants_conditions=grants, level_percent=D("20"), status_confirmed_on=confirmed_on, order_date=date(2026, 11, 21)
    ) == D(percent)


# --- ORD-6: tier upgrade --------------------------------------------------------------------------


def test_tier_upgrade_costs_the_difference():
    # Call Recording purchase: 41-80 2.400,00 € − 21-40 1.200,00 € = 1.200,00 €.
    assert rules.tier_upgrade_price(
        from_tier="21-40", to_tier="41-80", from_price=D("1200.00"), to_price=D("2400.00")
    ) == D("1200.00")
    # ADSYNC 1-20 199,00 → >250 2.945,00: 2.746,00 €.
    assert rules.tier_upgrade_price(from_tier="1-20", to_tier=">250", from_price=D("199"), to_price=D("2945")) == D(
        "2746.00"
    )


def test_tier_upgrade_never_negative():
    # A list where the higher tier is cheaper still costs nothing, not a refund.
    assert rules.tier_upgrade_price(from_tier="1-20", to_tier="21-40", from_price=D("500"), to_price=D("400")) == D(
        "0.00"
    )


@pytest.mark.parametrize("to_tier", ["21-40", "1-20"])
def test_tier_upgrade_to_equal_or_lower_tier_refused_in_german(to_tier):
    with pytest.raises(TierUpgradeRefused, match="nur in eine höhere Benutzerstaffel"):
        rules.tier_upgrade_price(from_tier="21-40", to_tier=to_tier, from_price=D("1200"), to_price=D("599"))


# --- ORD-7: paid upgrade price ----------------------------------------------------------------------


def test_seed_example_enterprise_almost_six_months():
    # 1.299,00 € × (1 − 0,9) × (1 − 0,5) = 64,95 €; bought 2026-01-15, upgraded 2026-07-14 (last day < 6 months).
    assert rules.upgrade_price(D("1299"), date(2026, 1, 15), date(2026, 7, 14), "enterprise") == D("64.95")


@pytest.mark.parametrize(
    "upgraded_on,time_percent",
    [
        (date(2026, 1, 15), "100"),  # the purchase day
        (date(2026, 4, 14), "100"),  # month_period_end(2026-01-15, 3): still < 3 months
        (date(2026, 4, 15), "50"),
        (date(2026, 7, 14), "50"),  # month_period_end(…, 6)
        (date(2026, 7, 15), "25"),
        (date(2027, 1, 14), "25"),  # month_period_end(…, 12)
        (date(2027, 1, 15), "10"),  # 12 months have passed
        (date(2030, 1, 1), "10"),
    ],
)
def test_time_discount_boundaries(upgraded_on, time_percent):
    assert rules.upgrade_time_discount_percent(date(2026, 1, 15), upgraded_on) == D(time_percent)


def test_time_discount_boundaries_at_month_ends():
    # Bought 2026-11-30: 3 months end 2027-02-28 (February has no 29th/30th), § 188 III BGB.
    assert rules.upgrade_time_discount_percent(date(2026, 11, 30), date(2027, 2, 28)) == D("100")
    assert rules.upgrade_time_discount_percent(date(2026, 11, 30), date(2027, 3, 1)) == D("50")


@pytest.mark.parametrize(
    "plan,upgraded_on,price",
    [
        # Premium 50 %: 1299 × 0,5 × (1 − 0,25) = 487,125 → 487,13 (half up).
        ("premium", date(2026, 10, 1), "487.13"),
        # Basic 0 %, ≥ 12 months 10 %: 1299 × 0,9 = 1.169,10.
        ("basic", date(2027, 6, 1), "1169.10"),
        # Free, < 6 months: 1299 × 0,5 = 649,50.
        ("free", date(2026, 5, 1), "649.50"),
        # Enterprise, ≥ 12 months: 1299 × 0,1 × 0,9 = 116,91.
        ("enterprise", date(2027, 1, 15), "116.91"),
        # Any plan, < 3 months: free of charge.
        ("basic", date(2026, 2, 1), "0.00"),
        ("Enterprise", date(2026, 7, 14), "64.95"),  # plan name case-insensitive
    ],
)
def test_upgrade_prices(plan, upgraded_on, price):
    assert rules.upgrade_price(D("1299.00"), date(2026, 1, 15), upgraded_on, plan) == D(price)


def test_upgrade_refuses_unknown_plan_and_a_date_before_the_purchase():
    with pytest.raises(BillingInputError, match="Service-Plan"):
        rules.upgrade_price(D("1299"), date(2026, 1, 15), date(2026, 7, 14), "gold")
    with pytest.raises(ValueError):  # BillingInputError is a ValueError too
        rules.upgrade_price(D("1299"), date(2026, 1, 15), date(2026, 1, 14), "basic")


@given(
    price=prices,
    plan=st.sampled_from(["free", "basic", "premium", "enterprise"]),
    days=st.integers(min_value=0, max_value=2000),
)
def test_an_upgrade_never_costs_more_than_the_new_licence_nor_less_than_nothing(price, plan, days):
    from datetime import timedelta

    result = rules.upgrade_price(price, date(2024, 2, 29), date(2024, 2, 29) + timedelta(days=days), plan)
    assert D(0) <= result <= price
    assert result == result.quantize(D("0.01"))


# --- ORD-8: payment terms -----------------------------------------------------------------------------


def terms(monthly=None, *, purchases=False, mandate=True, above=False, prepayment=False, on=date(2026, 11, 21)):
    return rules.payment_terms(
        monthly_amount=None if monthly is None else D(monthly),
        has_purchases=purchases,
        has_mandate=mandate,
        mandate_above_limit=above,
        prepayment_required=prepayment,
        invoice_date=on,
    )


def test_purchase_by_transfer_due_in_14_days():
    result = terms(None, purchases=True)
    assert (result.means, result.due_date) == ("transfer", date(2026, 12, 5))  # 21.11. + 14 days
    assert result.text == "Zahlbar ohne Abzug bis 05.12.2026 per Überweisung."


def test_purchase_with_prepayment_required():
    result = terms(None, purchases=True, mandate=False, prepayment=True, on=date(2026, 12, 20))
    assert (result.means, result.due_date) == ("prepayment", date(2027, 1, 3))  # across the year end
    assert "Vorkasse" in result.text


@pytest.mark.parametrize(
    "monthly,mandate,above,means",
    [
        ("50.00", True, False, "direct_debit"),  # the boundary: up to 50,00 € by direct debit
        ("49.99", True, False, "direct_debit"),
        ("50.01", True, False, "transfer"),  # above 50,00 €: invoice …
        ("50.01", True, True, "direct_debit"),  # … unless the mandate says "auch über 50 €"
        ("60.00", True, True, "direct_debit"),
        ("22.50", False, False, "transfer"),  # no mandate: invoice
        ("179.00", False, True, "transfer"),
    ],
)
def test_subscription_payment_means(monthly, mandate, above, means):
    assert terms(monthly, mandate=mandate, above=above).means == means


def test_a_debit_is_announced_for_a_target2_business_day():
    # 21.11.2026 + 14 days = Sat 05.12.2026 → Mon 07.12.2026; a transfer stays due on the 05.12.
    result = terms("9.77")
    assert (result.means, result.due_date) == ("direct_debit", date(2026, 12, 7))
    assert result.text == "Der Betrag wird am 07.12.2026 per SEPA-Basislastschrift eingezogen."
    # 11.12.2026 + 14 = Fri 25.12. (Christmas) → Sat, Sun, Mon 28.12.2026.
    assert terms("9.77", on=date(2026, 12, 11)).due_date == date(2026, 12, 28)
    # 18.12.2026 + 14 = Fri 01.01.2027 (New Year) → Mon 04.01.2027.
    assert terms("9.77", on=date(2026, 12, 18)).due_date == date(2027, 1, 4)


def test_purchases_are_collected_with_the_subscriptions_of_the_invoice():
    # ORD-8 decision: 1.299,00 € purchase + 10 €/month subscription, mandate → the whole invoice is debited.
    assert terms("10.00", purchases=True).means == "direct_debit"
    # Purchases only: no monthly amount → transfer, even with a mandate.
    assert terms(None, purchases=True).means == "transfer"
    # Support time only (neither purchase nor subscription) → transfer.
    assert terms(None).means == "transfer"
    # Prepayment required: goods wait for the money, whatever else the invoice holds.
    assert terms("10.00", purchases=True, prepayment=True).means == "prepayment"
    assert terms("10.00", prepayment=True).means == "direct_debit"  # no purchase: the rule applies


@pytest.mark.parametrize(
    "start,end,months",
    [
        (date(2027, 1, 1), date(2027, 3, 31), 3),  # a quarter
        (date(2026, 12, 1), date(2026, 12, 31), 1),
        (date(2026, 12, 1), date(2027, 11, 30), 12),  # a plan year
        (date(2026, 11, 21), date(2026, 11, 30), 1),  # SUB-2's first partial month: a started month
        (date(2026, 1, 31), date(2026, 2, 28), 1),  # GEN-1 clamp
    ],
)
def test_period_months(start, end, months):
    assert rules.period_months(start, end) == months


def test_invoice_monthly_amount_per_line_net_over_its_months():
    quarter = (D("60.00"), date(2027, 1, 1), date(2027, 3, 31))  # 20 €/month billed quarterly
    assert rules.invoice_monthly_amount([quarter]) == D("20.00")
    month = (D("20.00"), date(2027, 1, 1), date(2027, 1, 31))
    assert rules.invoice_monthly_amount([month, month, month]) == D("60.00")  # 3 × 20 → transfer
    plan_year = (D("828.00"), date(2026, 12, 1), date(2027, 11, 30))  # Premium: 828 / 12 = 69,00
    assert rules.invoice_monthly_amount([plan_year]) == D("69.00")
    # 33,25 € × 3 (quarter) + 100,00 / 3 (a 3-month line) = 33,25 + 33,333… = 66,583… → 66,58
    assert rules.invoice_monthly_amount(
        [(D("99.75"), date(2026, 12, 1), date(2027, 2, 28)), (D("100.00"), date(2026, 12, 1), date(2027, 2, 28))]
    ) == D("66.58")


def test_needs_new_date_with_the_submission_lead():
    # Announced Mon 21.12.2026, 1 business day lead: the file must reach the bank by Fri 18.12.
    assert not rules.direct_debit_needs_new_date(date(2026, 12, 21), date(2026, 12, 18), 1)
    assert rules.direct_debit_needs_new_date(date(2026, 12, 21), date(2026, 12, 19), 1)
    assert rules.direct_debit_needs_new_date(date(2026, 12, 20), date(2026, 12, 21), 1)  # passed
    # Mon 04.01.2027 with 2 days lead: 31.12. and 30.12. (01.01. is closed) → by 30.12.2026.
    assert not rules.direct_debit_needs_new_date(date(2027, 1, 4), date(2026, 12, 30), 2)
    assert rules.direct_debit_needs_new_date(date(2027, 1, 4), date(2026, 12, 31), 2)


# --- ORD-9: cancel until the key is generated ---------------------------------------------------------


@pytest.mark.parametrize(
    "state,keys,cancellable",
    [
        ("draft", False, True),
        ("confirmed", False, True),
        ("confirmed", True, False),  # the key exists: no cancellation (LIC-8)
        ("fulfilled", True, False),
        ("fulfilled", False, False),
        ("cancelled", False, False),
    ],
)
def test_cancel_refusal(state, keys, cancellable):
    assert (rules.cancel_refusal(state=state, keys_generated=keys) is None) is cancellable


def test_cancel_refusal_says_why_in_german():
    assert "bereits erzeugt" in rules.cancel_refusal(state="confirmed", keys_generated=True)
    assert "bereits storniert" in rules.cancel_refusal(state="cancelled", keys_generated=False)


# --- INV-1: document numbers ------------------------------------------------------------------------------


def test_document_numbers():
    assert rules.document_number(rules.INVOICE_PREFIX, 2026, 123) == "RE-2026-000123"
    assert rules.document_number(rules.CREDIT_NOTE_PREFIX, 2026, 7) == "GS-2026-000007"
    assert rules.document_number("RE", 2027, 999999) == "RE-2027-999999"


@pytest.mark.parametrize(
    "prefix,year,seq", [("RE", 2026, 0), ("RE", 2026, 1_000_000), ("re", 2026, 1), ("R-E", 2026, 1), ("RE", 26, 1)]
)
def test_document_number_refuses_impossible_values(prefix, year, seq):
    with pytest.raises(BillingInputError):
        rules.document_number(prefix, year, seq)


# --- SUB-7 decision: a tier change applies from the first period not billed yet ----------------


@pytest.mark.parametrize(
    "billing_months,today,billed,expected",
    [
        # Quarterly from 01.01.2027, the first quarter invoiced in advance on 20.12.2026: the
        # quarter that begins 01.01. keeps its price, the change starts 01.04.2027.
        (3, date(2026, 12, 20), {date(2027, 1, 1)}, date(2027, 4, 1)),
        # Nothing billed yet before the term starts: the first quarter.
        (3, date(2026, 12, 20), set(), date(2027, 1, 1)),
        # In the running quarter (billed): the next quarter.
        (3, date(2027, 2, 10), {date(2027, 1, 1)}, date(2027, 4, 1)),
        # The running quarter is not billed yet (the run is late): still the next one (ORD-6).
        (3, date(2027, 1, 2), set(), date(2027, 4, 1)),
        # Monthly, January and February billed on 15.01. (a catch-up ran ahead): March.
        (1, date(2027, 1, 15), {date(2027, 1, 1), date(2027, 2, 1)}, date(2027, 3, 1)),
    ],
)
def test_tier_change_starts_at_the_first_unbilled_period(billing_months, today, billed, expected):
    start = rules.first_unbilled_period_start(date(2027, 1, 1), 24, billing_months, today=today, billed_starts=billed)
    assert start == expected


def test_tier_change_after_the_last_period_is_none():
    # Monthly from 01.12.2026, ends 30.11.2028: on 15.11.2028 no later period exists.
    assert (
        rules.first_unbilled_period_start(
            date(2026, 12, 1), 24, 1, today=date(2028, 11, 15), billed_starts=set(), ends_on=date(2028, 11, 30)
        )
        is None
    )
    # December 2028 is billed already, the subscription ends 31.12.2028 → nothing left.
    assert (
        rules.first_unbilled_period_start(
            date(2026, 12, 1),
            24,
            1,
            today=date(2028, 11, 20),
            billed_starts={date(2028, 12, 1)},
            ends_on=date(2028, 12, 31),
        )
        is None
    )
