"""Pure rules of licensing/catalog: tiers (CAT-2), identifiers (LIC-1, SYS-1), NFR (LIC-7)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensing import rules


@pytest.mark.parametrize(
    "users, tier",
    [
        (1, "1-20"),
        (20, "1-20"),
        (21, "21-40"),
        (40, "21-40"),
        (41, "41-80"),
        (80, "41-80"),
        (81, "81-150"),
        (150, "81-150"),
        (151, "151-250"),
        (250, "151-250"),
        (251, ">250"),
        (5000, ">250"),
    ],
)
def test_tier_for_boundaries(users, tier):
    assert rules.tier_for(users) == tier


@pytest.mark.parametrize("bad", [0, -1, 1.5, "20", True])
def test_tier_for_refuses_non_positive_or_non_integer(bad):
    with pytest.raises(ValueError):
        rules.tier_for(bad)


def test_tier_counts_installed_licences_not_users_created():
    # CAT-2: 15 PBX user licences + 10 User Light = 25 installed → 21-40
    assert rules.tier_for(rules.installed_user_count(15, 10)) == "21-40"


@given(st.integers(min_value=1, max_value=10_000))
def test_tier_limit_contains_the_count(users):
    tier = rules.tier_for(users)
    limit = rules.tier_user_limit(tier)
    assert limit is None or users <= limit
    if rules.tier_rank(tier) > 0:
        lower_limit = rules.tier_user_limit(rules.TIER_LABELS[rules.tier_rank(tier) - 1])
        assert users > lower_limit


@pytest.mark.parametrize(
    "typed, normalised",
    [
        ("abcde-12345-fghij-67890", "ABCDE-12345-FGHIJ-67890"),
        ("  ABCDE-12345-FGHIJ-67890 ", "ABCDE-12345-FGHIJ-67890"),
        ("ABCDE12345FGHIJ67890", "ABCDE-12345-FGHIJ-67890"),
        ("ABCDE 12345 FGHIJ 67890", "ABCDE-12345-FGHIJ-67890"),
    ],
)
def test_server_key_normalised(typed, normalised):
    assert rules.normalize_identifier(rules.SERVER_KEY, typed) == normalised


@pytest.mark.parametrize(
    "bad",
    ["ABCDE-12345-FGHIJ", "ABCDE-12345-FGHIJ-6789", "ABCDE-12345-FGHIJ-67890-XXXXX", "ÄBCDE-12345-FGHIJ-67890", ""],
)
def test_server_key_format_error_says_what_is_valid(bad):
    with pytest.raises(rules.IdentifierFormatError) as exc:
        rules.normalize_identifier(rules.SERVER_KEY, bad)
    assert "vier Gruppen zu je 5 Buchstaben oder Ziffern" in str(exc.value)
    assert "ABCDE-12345-FGHIJ-67890" in str(exc.value)


def test_hardware_id_and_serial():
    assert rules.normalize_identifier(rules.HARDWARE_ID, " 3f9a-77c1-d2e4-0b6a ") == "3F9A-77C1-D2E4-0B6A"
    assert rules.normalize_identifier(rules.SERIAL_NUMBER, "1ac5 008123") == "1AC5008123"
    with pytest.raises(rules.IdentifierFormatError, match="Hardware-ID"):
        rules.normalize_identifier(rules.HARDWARE_ID, "abc")
    with pytest.raises(rules.IdentifierFormatError, match="Seriennummer"):
        rules.normalize_identifier(rules.SERIAL_NUMBER, "12#45")


def test_identifier_kind_by_vendor_and_edition():
    assert rules.identifier_kind_for("starface", "appliance") == rules.SERVER_KEY
    assert rules.identifier_kind_for("starface", "cloud") == rules.SERVER_KEY
    assert rules.identifier_kind_for("starface", "free") == rules.HARDWARE_ID
    assert rules.identifier_kind_for("auerswald", "comtrexx_next") == rules.SERIAL_NUMBER


def test_nfr_installation_and_cloud_never_nfr():
    vm = rules.InstallationFacts(vendor="starface", edition="vm", has_nfr_user_license=True)
    cloud = rules.InstallationFacts(vendor="starface", edition="cloud", has_nfr_server_license=True)
    plain = rules.InstallationFacts(vendor="starface", edition="appliance")
    assert rules.installation_has_nfr(vm)
    assert not rules.installation_has_nfr(cloud)
    assert not rules.installation_has_nfr(plain)
    assert rules.nfr_license_conflict("cloud", True, False)
    assert rules.nfr_license_conflict("vm", True, True) is None


def test_looks_like_server_key():
    assert rules.looks_like_server_key("abcde 12345 fghij 67890")
    assert not rules.looks_like_server_key("ABCDE-12345")
