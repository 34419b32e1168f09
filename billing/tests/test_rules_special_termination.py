"""Pure rules added for subscriptions (no database): PBX version order and the special
termination right (SUB-6), the months of a billing period (SUB-3). Dates worked out by hand."""

from datetime import date

import pytest

from billing import rules
from billing.exceptions import BillingInputError

RELEASES = [
    ("7.3.0.10", date(2022, 5, 10)),
    ("8.2.0.5", date(2025, 6, 24)),
    ("9.0.0.4", date(2026, 10, 6)),
    ("8.2.0.6", date(2026, 11, 2)),  # a patch of the older 8.2 line: not new
]


def test_pbx_version_key_compares_four_part_numbers():
    assert rules.pbx_version_key("9.0.0.4") == (9, 0, 0, 4)
    assert rules.pbx_version_key("9.0") == rules.pbx_version_key("9.0.0") == (9,)
    assert rules.pbx_version_key("10.1") > rules.pbx_version_key("9.9.9.9")
    with pytest.raises(BillingInputError, match="keine Versionsnummer"):
        rules.pbx_version_key("9.0-beta")


def test_only_versions_higher_than_all_before_are_new():
    assert rules.new_highest_pbx_versions(RELEASES) == RELEASES[:3]


def ground(on, signed_on=date(2026, 11, 21), minimum_end=date(2028, 11, 30), compatible=None):
    return rules.special_termination_ground(
        new_versions=rules.new_highest_pbx_versions(RELEASES),
        compatible_since={"7.3.0.10": date(2018, 3, 12), "8.2.0.5": date(2024, 4, 15), **(compatible or {})},
        signed_on=signed_on,
        minimum_end=minimum_end,
        on=on,
    )


def test_right_from_three_months_after_the_release():
    # 2026-10-06 + 3 months = 2027-01-06.
    assert ground(date(2027, 1, 5)) is None
    assert ground(date(2027, 1, 6)) == rules.SpecialTerminationGround("9.0.0.4", date(2026, 10, 6), date(2027, 1, 6))


def test_right_lapses_with_a_compatible_module_version():
    assert ground(date(2027, 2, 28), compatible={"9.0.0.4": date(2027, 3, 1)}) is not None
    assert ground(date(2027, 3, 1), compatible={"9.0.0.4": date(2027, 3, 1)}) is None


def test_right_only_inside_the_minimum_term_and_not_for_a_known_gap():
    assert ground(date(2028, 12, 1)) is None  # after the minimum term
    assert ground(date(2027, 3, 1), signed_on=date(2027, 1, 7)) is None  # the 3 months passed before signing
    assert ground(date(2027, 3, 1), signed_on=date(2027, 1, 6)) is not None  # … on the signing day: still a right


@pytest.mark.parametrize(
    "start, end, months",
    [
        (date(2026, 12, 1), date(2026, 12, 31), 1),
        (date(2026, 12, 1), date(2027, 2, 28), 3),
        (date(2026, 12, 1), date(2028, 11, 30), 24),
    ],
)
def test_months_in_period(start, end, months):
    assert rules.months_in_period(start, end) == months


def test_months_in_period_refuses_a_broken_period():
    with pytest.raises(BillingInputError, match="kein Zeitraum aus ganzen Monaten"):
        rules.months_in_period(date(2026, 12, 1), date(2026, 12, 15))
