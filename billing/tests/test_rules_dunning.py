"""Dunning rules (issue 18): level dates, deadlines, the flat fee, default interest by day and the
base rate's half-years — no database, numbers worked out by hand."""

from datetime import date
from decimal import Decimal

import pytest

from billing import rules
from billing.exceptions import BillingInputError

D = Decimal
RATES = [
    (date(2024, 1, 1), D("3.62")),
    (date(2024, 7, 1), D("3.37")),
    (date(2025, 1, 1), D("2.27")),
    (date(2025, 7, 1), D("1.27")),
]
DUE = date(2025, 6, 10)


def nxt(last_level, last_issued_on, today):
    return rules.dunning_next_level(due_date=DUE, last_level=last_level, last_issued_on=last_issued_on, today=today)


def test_timeline_of_one_invoice_due_10_june_2025():
    # Zahlungserinnerung 7 days after the due date: 17.06.2025, not on 16.06.
    assert nxt(0, None, date(2025, 6, 16)) is None
    assert nxt(0, None, date(2025, 6, 17)) == rules.DUNNING_REMINDER
    # 1. Mahnung 14 days after the Zahlungserinnerung was issued: 01.07.2025.
    assert nxt(1, date(2025, 6, 17), date(2025, 6, 30)) is None
    assert nxt(1, date(2025, 6, 17), date(2025, 7, 1)) == rules.DUNNING_FIRST
    # letzte Mahnung 14 days after the 1. Mahnung: 15.07.2025; after it nothing more.
    assert nxt(2, date(2025, 7, 1), date(2025, 7, 14)) is None
    assert nxt(2, date(2025, 7, 1), date(2025, 7, 15)) == rules.DUNNING_FINAL
    assert nxt(3, date(2025, 7, 15), date(2026, 1, 1)) is None


def test_a_late_level_pushes_the_next_one_back_and_none_is_skipped():
    # The Zahlungserinnerung went out only on 01.08.2025 (a pause): the 1. Mahnung on 15.08.2025.
    assert nxt(1, date(2025, 8, 1), date(2025, 8, 14)) is None
    assert nxt(1, date(2025, 8, 1), date(2025, 8, 15)) == rules.DUNNING_FIRST
    # Months later without any level: still only the Zahlungserinnerung first.
    assert nxt(0, None, date(2025, 12, 1)) == rules.DUNNING_REMINDER


def test_deadlines_and_fee():
    assert rules.dunning_deadline(rules.DUNNING_REMINDER, date(2025, 6, 17)) == date(2025, 6, 27)
    assert rules.dunning_deadline(rules.DUNNING_FIRST, date(2025, 7, 1)) == date(2025, 7, 11)
    assert rules.dunning_deadline(rules.DUNNING_FINAL, date(2025, 7, 15)) == date(2025, 7, 29)
    assert [rules.dunning_fee(level) for level in rules.DUNNING_LEVELS] == [D("0.00"), D("0.00"), D("40.00")]
    assert [rules.dunning_level_title(level) for level in rules.DUNNING_LEVELS] == [
        "Zahlungserinnerung",
        "1. Mahnung",
        "letzte Mahnung",
    ]


def test_interest_splits_at_the_base_rate_change_of_1_july():
    # 11.06.–30.06.2025: 20 days at 2,27 + 9 = 11,27 %: 4.730,49 × 0,1127 × 20 / 365 = 29,212396
    # 01.07.–15.07.2025: 15 days at 1,27 + 9 = 10,27 %: 4.730,49 × 0,1027 × 15 / 365 = 19,965260
    # sum 49,177656 → 49,18 €
    interest = rules.default_interest(principal=D("4730.49"), due_date=DUE, through=date(2025, 7, 15), base_rates=RATES)
    assert interest.amount == D("49.18")
    assert interest.days == 35
    assert [(s.start, s.end, s.days, s.rate) for s in interest.spans] == [
        (date(2025, 6, 11), date(2025, 6, 30), 20, D("11.27")),
        (date(2025, 7, 1), date(2025, 7, 15), 15, D("10.27")),
    ]


def test_interest_within_one_rate_and_rounding_half_up():
    # 1.000,00 € due 31.01.2025, through 02.02.2025: 2 days at 11,27 %:
    # 1000 × 0,1127 × 2 / 365 = 0,617534… → 0,62 €
    one = rules.default_interest(
        principal=D("1000.00"), due_date=date(2025, 1, 31), through=date(2025, 2, 2), base_rates=RATES
    )
    assert (one.amount, one.days) == (D("0.62"), 2)
    # 365,00 € for 1 day at 10,27 %: 365 × 0,1027 / 365 = 0,1027 → 0,10 €; above half a cent → up:
    # 50,00 € × 11,27 % × 1 / 365 = 0,015438… → 0,02 €
    assert rules.default_interest(
        principal=D("365.00"), due_date=date(2025, 7, 1), through=date(2025, 7, 2), base_rates=RATES
    ).amount == D("0.10")
    assert rules.default_interest(
        principal=D("50.00"), due_date=date(2025, 3, 1), through=date(2025, 3, 2), base_rates=RATES
    ).amount == D("0.02")


def test_interest_over_a_year_end_uses_each_half_years_rate():
    # 10.000,00 € due 20.12.2024, through 10.01.2025:
    # 21.12.–31.12.2024: 11 days at 3,37 + 9 = 12,37 %: 10000 × 0,1237 × 11 / 365 = 37,279452
    # 01.01.–10.01.2025: 10 days at 11,27 %:             10000 × 0,1127 × 10 / 365 = 30,876712
    # sum 68,156164 → 68,16 €
    interest = rules.default_interest(
        principal=D("10000.00"), due_date=date(2024, 12, 20), through=date(2025, 1, 10), base_rates=reversed(RATES)
    )
    assert interest.amount == D("68.16") and interest.days == 21


def test_no_interest_before_default_and_no_rate_no_interest():
    assert rules.default_interest(principal=D("100.00"), due_date=DUE, through=DUE, base_rates=RATES).amount == D(
        "0.00"
    )
    with pytest.raises(BillingInputError, match="01.01.2026"):
        # The newest rate (01.07.2025) covers its half-year only: 2026 has no rate entered.
        rules.default_interest(
            principal=D("100.00"), due_date=date(2025, 12, 20), through=date(2026, 1, 5), base_rates=RATES
        )
    with pytest.raises(BillingInputError, match="31.12.2023"):
        rules.default_interest(
            principal=D("100.00"), due_date=date(2023, 12, 30), through=date(2024, 1, 5), base_rates=RATES
        )


def test_base_rate_stale_from_the_next_half_year():
    assert rules.half_year_start(date(2025, 5, 15)) == date(2025, 1, 1)
    assert rules.half_year_start(date(2026, 12, 6)) == date(2026, 7, 1)
    assert rules.half_year_end(date(2025, 7, 1)) == date(2025, 12, 31)
    assert not rules.base_rate_stale(date(2025, 7, 1), date(2025, 12, 31))
    assert rules.base_rate_stale(date(2025, 7, 1), date(2026, 1, 1))
    assert rules.base_rate_stale(None, date(2025, 1, 1))


def test_unknown_level_is_refused():
    with pytest.raises(BillingInputError):
        nxt(4, date(2025, 7, 1), date(2025, 8, 1))


def test_open_amount_counts_corrections_and_payments():
    assert rules.invoice_open_amount(gross=D("4730.49"), credited=D("160.89"), paid=D("1000.00")) == D("3569.60")
    assert rules.invoice_open_amount(gross=D("4730.49"), credited=D("4730.49"), paid=D("0")) == D("0.00")
    assert rules.invoice_open_amount(gross=D("100.00"), credited=D("60.00"), paid=D("50.00")) == D("0.00")  # never < 0


def test_debt_behind_a_block_is_settled_when_nothing_is_open():
    assert rules.dunning_debt_settled([D("0.00"), D("0.00")])
    assert not rules.dunning_debt_settled([D("0.00"), D("0.01")])
    assert rules.dunning_debt_settled([])
