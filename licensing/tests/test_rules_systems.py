"""Auerswald systems and PBX Call Assist 5 Softwarepflege (RULES SYS-1, SYS-2, SWP-1…SWP-9).

Pure rules, no database. Every expected number is worked out by hand from the
rules and the seed examples (arithmetic in the comments), not copied from output.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from licensing import rules
from licensing.rules import (
    ACTIVATION_REQUIRED_MODELS,
    NOTICE_21,
    NOTICE_30,
    NOTICE_60,
    NOTICE_KINDS,
    NOTICE_LAPSED,
    NOTICE_SURCHARGE,
    PACK_1,
    PACK_5,
    PACK_15,
    SWP_12,
    SWP_36,
    SWP_ACTIVE,
    SWP_DAY,
    SWP_EXPIRING,
    SWP_LAPSED,
    SWP_LAPSED_SURCHARGE,
    SWP_NOT_RENEWABLE,
    SWP_STATE_LABELS,
    InitialisationCodeError,
    LicensingError,
    MaintenanceInputError,
    MaintenanceRuleError,
    activation_required,
    add_users_quote,
    coverage_end,
    due_notice,
    initial_order_quote,
    licensing_refusal,
    maintenance_state,
    normalize_initialisation_code,
    notice_window,
    order_systems_refusal,
    renewal_quote,
    tryout_days_left,
    tryout_end,
    tryout_refusal,
    user_packs,
)
from vendorportal.errors import PortalError
from vendorportal.periods import month_period_end

D = date
ALL_AUERSWALD_MODELS = (
    "comtrexx_vm",
    "comtrexx_next",
    "comtrexx_flex",
    "comtrexx_business",
    "comtrexx_advanced",
    "compact_4000",
    "compact_5000",
    "compact_5200",
    "compact_5500r",
    "commander_6000",
    "commander_business",
)


def refusal(exc_type, func, *args):
    with pytest.raises(exc_type) as info:
        func(*args)
    return info.value


# --- CAT-8 articles, error hierarchy -------------------------------------------------


def test_article_numbers_cat_8():
    assert (PACK_1, PACK_5, PACK_15) == ("94375", "94376", "94377")
    assert (SWP_12, SWP_36, SWP_DAY) == ("94379", "94380", "94381")


def test_errors_derive_from_the_project_base():
    assert issubclass(MaintenanceRuleError, LicensingError)
    assert issubclass(LicensingError, PortalError)
    assert issubclass(InitialisationCodeError, LicensingError)
    # Impossible input is also a ValueError, so both kinds of caller catch it.
    assert issubclass(MaintenanceInputError, MaintenanceRuleError)
    assert issubclass(MaintenanceInputError, ValueError)


def test_every_refusal_has_its_own_code():
    codes = [
        refusal(MaintenanceRuleError, user_packs, 0).code,
        refusal(MaintenanceRuleError, user_packs, 5, -1).code,
        refusal(MaintenanceRuleError, user_packs, 4).code,
        refusal(MaintenanceRuleError, user_packs, 2, 3).code,
        refusal(MaintenanceRuleError, add_users_quote, D(2025, 12, 31), D(2025, 12, 11), 5).code,
        refusal(MaintenanceRuleError, renewal_quote, D(2024, 12, 31), D(2025, 1, 1), 5, 24).code,
        refusal(MaintenanceRuleError, renewal_quote, D(2024, 12, 31), D(2028, 1, 1), 5, 12).code,
        refusal(InitialisationCodeError, normalize_initialisation_code, "kurz").code,
    ]
    assert len(set(codes)) == len(codes)
    assert "invalid" not in codes


# --- SWP-1 user licence packs ---------------------------------------------------------


def test_seed_first_order_25_users():
    # Seed 003 "Neuinstallation": 25 = 1 × 15 + 2 × 5.
    assert user_packs(25) == {"94377": 1, "94376": 2}


def test_seed_first_order_25_users_cart_with_12_months_swp():
    # Seed 003 cart: 1 × 94377, 2 × 94376, SWP 12 months for all 25 users: 25 × 94379.
    assert initial_order_quote(25, 12) == {"94377": 1, "94376": 2, "94379": 25}


def test_first_order_36_months_swp():
    # 7 users = 1 × 5 + 2 × 1; SWP 36 months 7 × 94380.
    assert initial_order_quote(7, 36) == {"94376": 1, "94375": 2, "94380": 7}


def test_rules_example_7_users_first_order():
    # SWP-1: 7 = 1 × 5 + 2 × 1; the 5-pack makes the system reach 5 users.
    assert user_packs(7) == {"94376": 1, "94375": 2}


@pytest.mark.parametrize(
    "users, expected",
    [
        (5, {"94376": 1}),  # 5 = 1 × 5
        (15, {"94377": 1}),  # 15 = 1 × 15
        (16, {"94377": 1, "94375": 1}),  # 16 = 15 + 1; the 15-pack gives the 5 users
        (19, {"94377": 1, "94375": 4}),  # 19 = 15 + 4 × 1
        (20, {"94377": 1, "94376": 1}),  # 20 = 15 + 5
        (33, {"94377": 2, "94375": 3}),  # 33 = 2 × 15 + 3 × 1
        (49, {"94377": 3, "94375": 4}),  # 49 = 45 + 4 × 1
    ],
)
def test_fewest_packs(users, expected):
    assert user_packs(users) == expected


@pytest.mark.parametrize("users", [1, 2, 3, 4])
def test_first_order_needs_at_least_5_users(users):
    error = refusal(MaintenanceRuleError, user_packs, users)
    assert error.code == "first_order_minimum"
    assert "mindestens 5" in error.message


def test_single_packs_refused_below_5_system_users():
    # Existing 3 + 2 new = 2 × 1-user pack, but the system has 3 < 5 users.
    error = refusal(MaintenanceRuleError, user_packs, 2, 3)
    assert error.code == "single_pack_unusable"
    assert "5-User-Paket" in error.message
    assert "Bestellen Sie stattdessen 5 Benutzer" in error.message  # 2 rounded up to 5


def test_single_packs_allowed_from_5_existing_users():
    # Existing 5 + 3 new → 3 × 1-user pack.
    assert user_packs(3, 5) == {"94375": 3}


def test_single_packs_count_the_5_pack_of_the_same_order():
    # Existing 3 + 7 new = 1 × 5 + 2 × 1; system then has 3 + 5 = 8 ≥ 5 before the 1-packs.
    assert user_packs(7, 3) == {"94376": 1, "94375": 2}


def test_single_pack_boundary_4_existing_users():
    # 4 existing + 1 → 4 < 5: refused; 4 + 5 → one 5-pack, no 1-pack needed.
    assert refusal(MaintenanceRuleError, user_packs, 1, 4).code == "single_pack_unusable"
    assert user_packs(5, 4) == {"94376": 1}


def test_adding_fewer_than_5_users_without_single_packs_needs_no_minimum():
    # Not a first order (existing 10): the 5-user minimum does not apply.
    assert user_packs(1, 10) == {"94375": 1}


@pytest.mark.parametrize("users", [0, -1, -5, True, 2.5, "5"])
def test_user_packs_bad_user_count(users):
    error = refusal(MaintenanceInputError, user_packs, users)
    assert error.code == "invalid_user_count"
    assert isinstance(error, ValueError)


def test_user_packs_negative_existing_users():
    assert refusal(MaintenanceInputError, user_packs, 5, -1).code == "invalid_existing_users"


def test_user_packs_returns_counter_without_zero_lines():
    packs = user_packs(15)
    assert isinstance(packs, Counter)
    assert dict(packs) == {"94377": 1}
    assert packs["94375"] == 0


SIZES = {PACK_15: 15, PACK_5: 5, PACK_1: 1}


@settings(max_examples=300, deadline=None)
@given(users=st.integers(1, 400), existing=st.integers(0, 40))
def test_packs_add_up_and_are_fewest(users, existing):
    try:
        packs = user_packs(users, existing)
    except MaintenanceRuleError:
        # Refused only for a too-small first order or unusable 1-packs.
        ones = users % 5
        assert (existing == 0 and users < 5) or (ones and existing + users - ones < 5)
        return
    assert sum(SIZES[a] * n for a, n in packs.items()) == users
    fewest = min(
        a + b + (users - 15 * a - 5 * b) for a in range(users // 15 + 1) for b in range((users - 15 * a) // 5 + 1)
    )
    assert sum(packs.values()) == fewest


# --- SWP-2 coverage ---------------------------------------------------------------------


def test_coverage_12_months_from_new_year():
    assert coverage_end(D(2025, 1, 1), 12) == D(2025, 12, 31)


def test_coverage_36_months():
    assert coverage_end(D(2025, 1, 1), 36) == D(2027, 12, 31)
    # Mid-month start: 2025-07-15 + 36 months → day before 2028-07-15.
    assert coverage_end(D(2025, 7, 15), 36) == D(2028, 7, 14)


def test_coverage_from_leap_day():
    # 2028-02-29 + 12 months: 2029 has no 29 Feb → that month's last day (GEN-1).
    assert coverage_end(D(2028, 2, 29), 12) == D(2029, 2, 28)
    assert coverage_end(D(2028, 2, 29), 36) == D(2031, 2, 28)


@pytest.mark.parametrize("months", [0, 1, 6, 24, 48, -12, True])
def test_coverage_bad_term(months):
    assert refusal(MaintenanceInputError, coverage_end, D(2025, 1, 1), months).code == "invalid_term"


# --- SWP-3 adding users mid-term ----------------------------------------------------------


def test_seed_add_5_users_after_6_months():
    # 2025-07-04 → 2025-12-31: 27 (rest of July) + 31 + 30 + 31 + 30 + 31 = 180 days.
    # 5 × 180 = 900 user-days − 5 × 21 = 105 goodwill → 795 × 94381; users as 5 × 94375.
    quote = add_users_quote(D(2025, 12, 31), D(2025, 7, 4), 5)
    assert quote == {"94375": 5, "94381": 795}


def test_add_users_20_days_left_refused():
    # 2025-12-11 → 2025-12-31: 20 days < 21. Last possible day 2025-12-31 − 21 = 2025-12-10.
    error = refusal(MaintenanceRuleError, add_users_quote, D(2025, 12, 31), D(2025, 12, 11), 5)
    assert error.code == "add_users_too_late"
    assert "10.12.2025" in error.message
    assert "verlängern" in error.message


def test_add_users_exactly_21_days_left_allowed_with_zero_days():
    # 2025-12-10 → 2025-12-31: 21 days; 5 × 21 − 5 × 21 = 0 user-days.
    quote = add_users_quote(D(2025, 12, 31), D(2025, 12, 10), 5)
    assert quote == {"94375": 5}
    assert quote["94381"] == 0
    assert isinstance(quote, Counter)


def test_add_one_user_22_days_left():
    # 1 × 22 − 1 × 21 = 1 user-day.
    assert add_users_quote(D(2025, 12, 31), D(2025, 12, 9), 1) == {"94375": 1, "94381": 1}


def test_add_users_across_a_leap_day():
    # 2028-02-01 is day 32 of 2028, 2028-12-31 day 366: 366 − 32 = 334 days.
    # 2 × 334 − 2 × 21 = 668 − 42 = 626.
    assert add_users_quote(D(2028, 12, 31), D(2028, 2, 1), 2) == {"94375": 2, "94381": 626}


def test_add_users_after_coverage_end_refused():
    error = refusal(MaintenanceRuleError, add_users_quote, D(2025, 12, 31), D(2026, 1, 5), 1)
    assert error.code == "add_users_too_late"


@pytest.mark.parametrize("users", [0, -1])
def test_add_users_bad_count(users):
    refusal(MaintenanceInputError, add_users_quote, D(2025, 12, 31), D(2025, 7, 4), users)


# --- SWP-4 renewal in term ------------------------------------------------------------------


def test_seed_renewal_in_term_8_users_36_months():
    # 2 months before the end (2026-01-31 for an end of 2026-03-31): new coverage
    # starts 2026-04-01 and ends the day before 2029-04-01.
    quote = renewal_quote(D(2026, 3, 31), D(2026, 1, 31), 8, 36)
    assert quote.start == D(2026, 4, 1)
    assert quote.end == D(2029, 3, 31)
    assert quote.lines == {"94380": 8}
    assert quote.lapsed_days == 0
    assert quote.surcharge is False


def test_renewal_on_the_last_covered_day_is_in_term():
    quote = renewal_quote(D(2025, 12, 31), D(2025, 12, 31), 3, 12)
    assert (quote.start, quote.end) == (D(2026, 1, 1), D(2026, 12, 31))
    assert quote.lines == {"94379": 3}
    assert (quote.lapsed_days, quote.surcharge) == (0, False)


def test_renewal_long_before_the_end_still_starts_after_old_end():
    quote = renewal_quote(D(2027, 6, 30), D(2025, 1, 10), 5, 12)
    assert (quote.start, quote.end) == (D(2027, 7, 1), D(2028, 6, 30))


# --- SWP-5 lapsed ≤ 3 months ------------------------------------------------------------------


@pytest.mark.parametrize(
    "order_date, lapsed",
    [
        (D(2025, 3, 1), 60),  # 31 (Jan) + 28 (Feb) + 1 = 60
        (D(2025, 3, 31), 90),  # 31 + 28 + 31 = 90; last day of month_period_end(2025-01-01, 3)
    ],
)
def test_seed_lapsed_under_3_months_6_users(order_date, lapsed):
    quote = renewal_quote(D(2024, 12, 31), order_date, 6, 12)
    assert quote.start == D(2025, 1, 1)  # retroactive
    assert quote.end == D(2025, 12, 31)
    assert quote.lines == {"94379": 6}
    assert quote.surcharge is False
    assert quote.lapsed_days == lapsed


def test_lapse_window_after_end_of_february():
    # Old end 2025-02-28 → start 2025-03-01; month_period_end(2025-03-01, 3) = 2025-05-31.
    free = renewal_quote(D(2025, 2, 28), D(2025, 5, 31), 2, 12)
    assert free.surcharge is False
    assert free.lines == {"94379": 2}
    assert free.lapsed_days == 31 + 30 + 31  # March + April + May = 92
    late = renewal_quote(D(2025, 2, 28), D(2025, 6, 1), 2, 12)
    assert late.surcharge is True
    # 93 lapsed days × 2 users = 186.
    assert late.lines == {"94379": 2, "94381": 186}
    assert (late.start, late.end) == (D(2025, 3, 1), D(2026, 2, 28))


def test_lapse_window_from_the_31st_ends_on_the_30th():
    # Old end 2025-10-30 → start 2025-10-31; the 3rd following month (January) has
    # a 31st, so the window ends the day before it: 2026-01-30 (GEN-1).
    assert renewal_quote(D(2025, 10, 30), D(2026, 1, 30), 1, 12).surcharge is False
    late = renewal_quote(D(2025, 10, 30), D(2026, 1, 31), 1, 12)
    # Lapsed days: 1 (31 Oct) + 30 + 31 + 31 = 93.
    assert late.lines == {"94379": 1, "94381": 93}


# --- SWP-6 lapsed > 3 months ----------------------------------------------------------------------


def test_seed_lapsed_184_days_5_users():
    # 2024-12-31 → 2025-07-03: 31 + 28 + 31 + 30 + 31 + 30 + 3 = 184 days.
    # Surcharge 5 × 184 = 920 × 94381 on top of 5 × 94379.
    quote = renewal_quote(D(2024, 12, 31), D(2025, 7, 3), 5, 12)
    assert quote.lines == {"94379": 5, "94381": 920}
    assert quote.lapsed_days == 184
    assert quote.surcharge is True
    # The seed says "01.01.24"; 01.01.25 is meant (RULES SWP-6).
    assert (quote.start, quote.end) == (D(2025, 1, 1), D(2025, 12, 31))


def test_first_day_past_the_3_month_window():
    # 2025-04-01: 31 + 28 + 31 + 1 = 91 lapsed days; 1 user → 91 × 94381.
    quote = renewal_quote(D(2024, 12, 31), D(2025, 4, 1), 1, 12)
    assert quote.lapsed_days == 91
    assert quote.surcharge is True
    assert quote.lines == {"94379": 1, "94381": 91}


def test_seed_four_months_lapsed_charged_twice():
    # Seed 003: old end 31.12.24, noticed 30.04.25 → 4 months lapsed, charged as 8:
    # the 12-month SWP covers them once, 94381 once more: 31 + 28 + 31 + 30 = 120 days.
    quote = renewal_quote(D(2024, 12, 31), D(2025, 4, 30), 1, 12)
    assert quote.lines == {"94379": 1, "94381": 120}


def test_surcharge_with_36_month_renewal():
    # 3 users, 36 months, 184 lapsed days → 3 × 94380 + 3 × 184 = 552 × 94381.
    quote = renewal_quote(D(2024, 12, 31), D(2025, 7, 3), 3, 36)
    assert quote.lines == {"94380": 3, "94381": 552}
    assert quote.end == D(2027, 12, 31)


def test_surcharge_across_a_leap_february():
    # Old end 2027-12-31 → window ends month_period_end(2028-01-01, 3) = 2028-03-31.
    # 2028-04-01: 31 + 29 + 31 + 1 = 92 days; 2 users → 184.
    quote = renewal_quote(D(2027, 12, 31), D(2028, 4, 1), 2, 12)
    assert quote.lines == {"94379": 2, "94381": 184}
    assert renewal_quote(D(2027, 12, 31), D(2028, 3, 31), 2, 12).surcharge is False


# --- SWP-7 lapsed > 36 months --------------------------------------------------------------------


def test_exactly_36_months_lapsed_still_renewable():
    # month_period_end(2025-01-01, 36) = 2027-12-31; 3 × 365 = 1095 days (no leap year in 2025–2027).
    quote = renewal_quote(D(2024, 12, 31), D(2027, 12, 31), 1, 12)
    assert quote.lapsed_days == 1095
    assert quote.lines == {"94379": 1, "94381": 1095}


def test_more_than_36_months_lapsed_refused():
    error = refusal(MaintenanceRuleError, renewal_quote, D(2024, 12, 31), D(2028, 1, 1), 1, 12)
    assert error.code == "not_renewable"
    assert "nicht möglich" in error.message
    assert "31.12.2024" in error.message


# --- renewal: leap years and bad input -------------------------------------------------------------


def test_renewal_from_leap_day():
    # Old end 2028-02-28 → start 2028-02-29; 12 months → 2029-02-28 (no 29 Feb in 2029).
    quote = renewal_quote(D(2028, 2, 28), D(2028, 1, 15), 4, 12)
    assert (quote.start, quote.end) == (D(2028, 2, 29), D(2029, 2, 28))
    quote36 = renewal_quote(D(2028, 2, 28), D(2028, 1, 15), 4, 36)
    assert quote36.end == D(2031, 2, 28)


def test_renewal_over_a_leap_year():
    # Old end 2027-12-31 → 2028-01-01 … 2028-12-31 (366 days, still 12 months).
    quote = renewal_quote(D(2027, 12, 31), D(2027, 11, 1), 4, 12)
    assert (quote.start, quote.end) == (D(2028, 1, 1), D(2028, 12, 31))


@pytest.mark.parametrize("months", [24, 0, 6, -12])
def test_renewal_bad_term(months):
    error = refusal(MaintenanceInputError, renewal_quote, D(2024, 12, 31), D(2025, 1, 1), 5, months)
    assert error.code == "invalid_term"


@pytest.mark.parametrize("users", [0, -1])
def test_renewal_bad_users(users):
    error = refusal(MaintenanceInputError, renewal_quote, D(2024, 12, 31), D(2025, 1, 1), users, 12)
    assert error.code == "invalid_user_count"


# --- SWP-8 state ------------------------------------------------------------------------------------

END = D(2025, 12, 31)


@pytest.mark.parametrize(
    "today, state",
    [
        (D(2025, 1, 1), SWP_ACTIVE),
        (D(2025, 10, 31), SWP_ACTIVE),  # 61 days left
        (D(2025, 11, 1), SWP_EXPIRING),  # 60 days left
        (D(2025, 12, 31), SWP_EXPIRING),  # 0 days left, still covered
        (D(2026, 1, 1), SWP_LAPSED),
        (D(2026, 3, 31), SWP_LAPSED),  # month_period_end(2026-01-01, 3)
        (D(2026, 4, 1), SWP_LAPSED_SURCHARGE),
        (D(2028, 12, 31), SWP_LAPSED_SURCHARGE),  # month_period_end(2026-01-01, 36)
        (D(2029, 1, 1), SWP_NOT_RENEWABLE),
    ],
)
def test_maintenance_state(today, state):
    assert maintenance_state(END, today) == state


def test_every_state_has_a_german_label():
    states = {SWP_ACTIVE, SWP_EXPIRING, SWP_LAPSED, SWP_LAPSED_SURCHARGE, SWP_NOT_RENEWABLE}
    assert set(SWP_STATE_LABELS) == states
    assert str(SWP_STATE_LABELS[SWP_ACTIVE]) == "aktiv"
    assert all(str(label) for label in SWP_STATE_LABELS.values())


@settings(max_examples=300, deadline=None)
@given(
    old_end=st.dates(D(2000, 1, 1), D(2090, 12, 31)),
    offset=st.integers(-400, 1200),
)
def test_state_agrees_with_renewal_quote(old_end, offset):
    today = old_end + timedelta(days=offset)
    state = maintenance_state(old_end, today)
    if state == SWP_NOT_RENEWABLE:
        with pytest.raises(MaintenanceRuleError):
            renewal_quote(old_end, today, 1, 12)
        return
    quote = renewal_quote(old_end, today, 1, 12)
    assert quote.surcharge == (state == SWP_LAPSED_SURCHARGE)
    assert (quote.lapsed_days > 0) == (state in (SWP_LAPSED, SWP_LAPSED_SURCHARGE))


# --- SWP-8 reminders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today, notice",
    [
        (D(2025, 10, 31), None),  # 61 days left
        (D(2025, 11, 1), NOTICE_60),  # 60
        (D(2025, 11, 30), NOTICE_60),  # 31
        (D(2025, 12, 1), NOTICE_30),  # 30
        (D(2025, 12, 9), NOTICE_30),  # 22
        (D(2025, 12, 10), NOTICE_21),  # 21: the last day users can still be added
        (D(2025, 12, 31), NOTICE_21),  # 0
        (D(2026, 1, 1), NOTICE_LAPSED),
        (D(2026, 3, 31), NOTICE_LAPSED),
        (D(2026, 4, 1), NOTICE_SURCHARGE),
        (D(2028, 12, 31), NOTICE_SURCHARGE),
        (D(2029, 1, 1), None),
    ],
)
def test_due_notice(today, notice):
    assert due_notice(END, today) == notice


def test_notice_kind_values():
    assert NOTICE_KINDS == ("remind_60", "remind_30", "remind_21", "lapsed", "surcharge")


def test_notice_windows_on_a_leap_day():
    # today 2028-02-29: remind_60 for ends 2028-03-31 … 2028-04-29 (31 … 60 days ahead).
    today = D(2028, 2, 29)
    assert notice_window(NOTICE_60, today) == (D(2028, 3, 31), D(2028, 4, 29))
    assert notice_window(NOTICE_30, today) == (D(2028, 3, 22), D(2028, 3, 30))
    assert notice_window(NOTICE_21, today) == (D(2028, 2, 29), D(2028, 3, 21))
    # lapsed: end ≤ 2028-02-28 and month_period_end(end + 1, 3) ≥ 2028-02-29.
    # end 2027-11-29 → start 11-30 → window ends 2028-02-29 (last day of February): due.
    # end 2027-11-28 → start 11-29 → window ends 2028-02-28: not due any more.
    assert notice_window(NOTICE_LAPSED, today) == (D(2027, 11, 29), D(2028, 2, 28))
    # surcharge: end 2025-02-28 → start 2025-03-01 → 36 months end 2028-02-29: due;
    # end 2025-02-27 → start 02-28 → ends 2028-02-27: not.
    assert notice_window(NOTICE_SURCHARGE, today) == (D(2025, 2, 28), D(2027, 11, 28))


def test_notice_window_unknown_kind():
    with pytest.raises(ValueError):
        notice_window("remind_90", D(2026, 1, 1))


def test_notice_windows_match_due_notice_every_day_of_a_leap_year(monkeypatch):
    """For every day of 2028: due_notice(end, today) == kind ⇔ end in notice_window(kind, today)."""
    # month_period_end is pure; memoising it only makes ~500 000 checks fast.
    monkeypatch.setattr(rules.systems, "month_period_end", lru_cache(maxsize=None)(month_period_end))
    today = D(2028, 1, 1)
    while today.year == 2028:
        windows = {kind: notice_window(kind, today) for kind in NOTICE_KINDS}
        # Windows lie next to each other, oldest ends first, without gaps or overlaps.
        ordered = [windows[k] for k in (NOTICE_SURCHARGE, NOTICE_LAPSED, NOTICE_21, NOTICE_30, NOTICE_60)]
        for (_low, high), (next_low, _next_high) in zip(ordered, ordered[1:]):
            assert next_low == high + timedelta(days=1)
        low, high = ordered[0][0], ordered[-1][1]
        # Every end from well before the oldest window to after the newest one.
        end = low - timedelta(days=40)
        while end <= high + timedelta(days=40):
            due = due_notice(end, today)
            expected = next((k for k, (a, b) in windows.items() if a <= end <= b), None)
            assert due == expected, (today, end)
            end += timedelta(days=1)
        today += timedelta(days=1)


@settings(max_examples=400, deadline=None)
@given(today=st.dates(D(1990, 1, 1), D(2100, 12, 31)), offset=st.integers(-1200, 120))
def test_notice_windows_match_due_notice_any_day(today, offset):
    end = today + timedelta(days=offset)
    due = due_notice(end, today)
    for kind in NOTICE_KINDS:
        low, high = notice_window(kind, today)
        assert (due == kind) == (low <= end <= high)


# --- SWP-9 one purchase per system -------------------------------------------------------------------


def test_one_system_per_order():
    assert order_systems_refusal(["1AB2345678"]) is None
    assert order_systems_refusal(["1AB2345678", "1AB2345678"]) is None
    message = order_systems_refusal(["1AB2345678", "9ZZ0000001"])
    assert "2 Systeme" in message


# --- SYS-2 activation and tryout ----------------------------------------------------------------------


def test_activation_required_models():
    assert ACTIVATION_REQUIRED_MODELS == {"comtrexx_business", "comtrexx_advanced"}


@pytest.mark.parametrize("model", ALL_AUERSWALD_MODELS)
def test_activation_required(model):
    assert activation_required(model) is (model in ("comtrexx_business", "comtrexx_advanced"))


def test_tryout_constants():
    assert (rules.TRYOUT_DAYS, rules.TRYOUT_TEST_USERS) == (14, 3)


@pytest.mark.parametrize("model", ["comtrexx_business", "comtrexx_advanced"])
def test_no_tryout_for_activation_models(model):
    message = tryout_refusal(model, None, False)
    assert "keinen Tryout-Modus" in message
    assert "Systemaktivierung" in message


@pytest.mark.parametrize("model", [m for m in ALL_AUERSWALD_MODELS if m not in ACTIVATION_REQUIRED_MODELS])
def test_tryout_allowed_once_for_other_models(model):
    assert tryout_refusal(model, None, False) is None


def test_tryout_only_once_per_system():
    message = tryout_refusal("comtrexx_vm", D(2026, 11, 1), False)
    assert "01.11.2026" in message
    assert "nur einmal" in message


def test_no_tryout_after_licences_were_bought():
    assert "erworben" in tryout_refusal("comtrexx_vm", None, True)


def test_tryout_end_inclusive_14_days():
    # 2026-11-01 is day 1, 2026-11-14 is day 14.
    assert tryout_end(D(2026, 11, 1)) == D(2026, 11, 14)
    # Across the leap day: 2028-02-20 + 13 days = 2028-03-04 (29 Feb counted).
    assert tryout_end(D(2028, 2, 20)) == D(2028, 3, 4)


@pytest.mark.parametrize(
    "today, purchased, left",
    [
        (D(2026, 11, 1), None, 14),  # start day
        (D(2026, 11, 2), None, 13),
        (D(2026, 11, 14), None, 1),  # last day
        (D(2026, 11, 15), None, 0),
        (D(2027, 1, 1), None, 0),
        (D(2026, 10, 30), None, 14),  # not started yet
        (D(2026, 11, 5), D(2026, 11, 5), 0),  # bought today: tryout over
        (D(2026, 11, 6), D(2026, 11, 5), 0),
        (D(2026, 11, 4), D(2026, 11, 5), 11),  # purchase still ahead: Nov 4 … Nov 14 = 11 days
    ],
)
def test_tryout_days_left(today, purchased, left):
    assert tryout_days_left(D(2026, 11, 1), today, purchased) == left


def test_activation_models_need_activation_before_anything_else():
    message = licensing_refusal("comtrexx_business", False, False)
    assert "Systemaktivierung" in message
    assert "COMtrexx Business" in message
    assert licensing_refusal("comtrexx_advanced", True, False) is None
    # The activation itself is what can be licensed first.
    assert licensing_refusal("comtrexx_advanced", False, True) is None


def test_activation_bought_only_once():
    assert "bereits aktiviert" in licensing_refusal("comtrexx_business", True, True)


def test_other_models_have_no_system_activation():
    assert licensing_refusal("comtrexx_vm", False, False) is None
    assert licensing_refusal("compact_5200", False, False) is None
    assert "nur für COMtrexx Business und COMtrexx Advanced" in licensing_refusal("comtrexx_vm", False, True)


# --- SYS-1 initialisation code ------------------------------------------------------------------------


def test_initialisation_code_line_breaks_and_spaces_removed_case_kept():
    text = "  QUJD REVG\nR0hJ\tSktM\r\nTU5Pcw==  \n"
    assert normalize_initialisation_code(text) == "QUJDREVGR0hJSktMTU5Pcw=="


def test_initialisation_code_length_bounds():
    assert normalize_initialisation_code("A" * 16) == "A" * 16
    assert normalize_initialisation_code("a/+=" * 1024) == "a/+=" * 1024  # 4096 characters
    for text in ("A" * 15, "A" * 4097):
        error = refusal(InitialisationCodeError, normalize_initialisation_code, text)
        assert error.code == "invalid_initialisation_code"


@pytest.mark.parametrize("text", ["", "   \n", "ABCDEFGHIJKLMNOP!", "ABCDEFGH-IJKLMNOPQ", "ÄBCDEFGHIJKLMNOPQ"])
def test_initialisation_code_refused(text):
    error = refusal(InitialisationCodeError, normalize_initialisation_code, text)
    assert "Administration > Lizenzen" in error.message
