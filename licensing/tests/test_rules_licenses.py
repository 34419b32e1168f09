"""LIC rules as pure functions, with cases worked out by hand from RULES.md section 3."""

from datetime import date

import pytest

from licensing import rules

VERSIONS = [("1.8", False), ("2.0", True), ("2.1", False), ("3.0", True), ("3.2", False)]


@pytest.mark.parametrize(
    "licensed, target, covered",
    [
        ("2.0", "2.1", True),  # free update keeps the key
        ("2.1", "2.0", True),  # older versions are always covered
        ("2.1", "1.8", True),
        ("1.8", "2.0", False),  # onto a paid version: new key
        ("1.8", "2.1", False),  # jumping over the paid 2.0: new key
        ("2.1", "3.2", False),  # over the paid 3.0
        ("3.0", "3.2", True),
        ("2.0", "2.0", True),
    ],
)
def test_lic4_key_covers_version(licensed, target, covered):
    assert rules.key_covers_version(licensed, target, VERSIONS) is covered


def test_lic4_required_version_is_newest_paid_at_or_below_target():
    assert rules.required_key_version("3.2", VERSIONS) == "3.0"
    assert rules.required_key_version("2.1", VERSIONS) == "2.0"
    assert rules.required_key_version("1.8", VERSIONS) is None
    # numeric, not text order: 10.0 > 9.0
    assert rules.required_key_version("10.1", [("9.0", True), ("10.0", True)]) == "10.0"


def test_lic6_demo_refusals():
    assert "keine Demo-Schlüssel" in rules.demo_refusal(
        product_name="Active Directory Synchronisation", demo_allowed=False, version_released_on=date(2024, 1, 1)
    )
    assert "03/2019" in rules.demo_refusal(
        product_name="Call Recording", demo_allowed=True, version_released_on=date(2019, 2, 28)
    )
    assert (
        rules.demo_refusal(product_name="Call Recording", demo_allowed=True, version_released_on=date(2019, 3, 1))
        is None
    )


def test_lic6_demo_expiry_is_inclusive():
    # 30 days from 2026-11-21, the issue day counting as day 1: 21.11. … 20.12.
    assert rules.demo_expiry(date(2026, 11, 21)) == date(2026, 12, 20)
    assert rules.demo_expiry(date(2026, 11, 21), 1) == date(2026, 11, 21)
    assert rules.demo_expiry(date(2028, 2, 1), 30) == date(2028, 3, 1)  # leap February: 29 days + 1
    for bad in (0, -3, 91, True):
        with pytest.raises(rules.LicensingError):
            rules.demo_expiry(date(2026, 1, 1), bad)


def test_lic9_multi_binding_from_08_2018():
    assert rules.multi_binding_refusal(version_released_on=date(2018, 7, 31), installations=2)
    assert rules.multi_binding_refusal(version_released_on=date(2018, 8, 1), installations=2) is None
    assert rules.multi_binding_refusal(version_released_on=date(2010, 1, 1), installations=1) is None


def test_lic7_lic8_nfr_unlock():
    assert rules.nfr_unlocks_module(installation_has_nfr=True, product_nfr_allowed=True, nfr_locked=False)
    assert not rules.nfr_unlocks_module(
        installation_has_nfr=True, product_nfr_allowed=False, nfr_locked=False
    )  # Insight
    assert not rules.nfr_unlocks_module(installation_has_nfr=True, product_nfr_allowed=True, nfr_locked=True)  # LIC-8
    assert not rules.nfr_unlocks_module(installation_has_nfr=False, product_nfr_allowed=True, nfr_locked=False)


def test_lic10_move_outcomes():
    assert (
        rules.move_outcome(old_identifier_kind="server_key", same_identifier=True, decommission_proven=False) == "same"
    )
    assert (
        rules.move_outcome(old_identifier_kind="server_key", same_identifier=False, decommission_proven=True)
        == rules.MOVE_GOODWILL
    )
    assert (
        rules.move_outcome(old_identifier_kind="server_key", same_identifier=False, decommission_proven=False)
        == rules.MOVE_NEW_PURCHASE
    )
    # Free Edition: a new hardware ID is a new system, proof or not
    assert (
        rules.move_outcome(old_identifier_kind="hardware_id", same_identifier=False, decommission_proven=True)
        == rules.MOVE_NO_TRANSFER
    )


def test_lic11_transfer_only_with_the_installation():
    assert rules.transfer_refusal(same_identifier=True) is None
    assert "Neukauf" in rules.transfer_refusal(same_identifier=False)


@pytest.mark.parametrize(
    "own, sold, due",
    [
        ("21-40", ["21-40"], True),  # seed 000's example: one 21-40 sale
        ("21-40", ["1-20", "1-20"], True),  # … or two 1-20 sales (20 + 20 = 40)
        ("21-40", ["1-20"], False),  # 20 < 40
        ("21-40", ["41-80"], True),  # "21-40 (oder mehr)"
        ("41-80", ["21-40", "1-20"], False),  # 40 + 20 = 60 < 80
        ("41-80", ["21-40", "21-40"], True),
        (">250", ["151-250"], False),  # 250 < 251
        (">250", ["151-250", "1-20"], True),
        ("1-20", [], False),
    ],
)
def test_lic13_insight_refund(own, sold, due):
    assert rules.insight_refund_due(own, sold) is due


@pytest.mark.parametrize("verdict", rules.VERDICTS)
def test_lic3_every_verdict_has_a_german_sentence(verdict):
    text = rules.diagnosis_message(
        verdict,
        module="Call Recording",
        key_module="Intercom",
        expiry=date(2026, 12, 20),
        licensed_version="2.0",
        required_version="3.0",
        identifier="ABCDE-12345-FGHIJ-67890",
    )
    assert len(text) > 40 and text.endswith(".")


def test_lic3_sentences_carry_the_details():
    assert "20.12.2026" in rules.diagnosis_message(rules.VERDICT_EXPIRED, expiry=date(2026, 12, 20))
    assert "Intercom" in rules.diagnosis_message(
        rules.VERDICT_OTHER_MODULE, module="Call Recording", key_module="Intercom"
    )
    paid = rules.diagnosis_message(rules.VERDICT_PAID_UPDATE, licensed_version="2.0", required_version="3.0")
    assert "2.0" in paid and "3.0" in paid
    assert "kein Modullizenzschlüssel" in rules.diagnosis_message(rules.VERDICT_SERVER_KEY_ENTERED)
