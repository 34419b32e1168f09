"""Services of Auerswald systems: tryout, system licences, re-initialisation (SYS-1,
SYS-2) and PBX Call Assist 5 quotes and confirmations (SWP-1…SWP-9).

Prices are the sample list of the demo data (valid from 2024-11-01):
94375 1-user pack 29,00 · 94376 5-user pack 139,00 · 94377 15-user pack 399,00 ·
94379 SWP 12 months/user 12,00 · 94380 SWP 36 months/user 30,00 ·
94381 SWP per user and day 0,04. Every expected amount is worked out by hand below.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings

from licensing import keys, rules
from licensing.exceptions import MissingPriceError
from licensing.keys import ReinitialisationResponseError, verify_reinitialisation_response
from licensing.models import MaintenanceCoverage, Price, PriceList, Product, Reinitialisation, SystemLicense, Tryout
from licensing.selectors.systems import system_facts
from licensing.services.systems import (
    SystemLicensingError,
    call_assist_quote,
    maintenance_confirm,
    maintenance_coverage_book_manual,
    system_licenses_add,
    system_reinitialise,
    tryout_start,
)
from licensing.tests.factories import InstallationFactory, book, make_system

pytestmark = pytest.mark.django_db


def snapshot():
    """Every row the services may write, to prove a refusal wrote nothing."""
    return (
        list(MaintenanceCoverage.objects.values()),
        list(SystemLicense.objects.values()),
        list(Tryout.objects.values()),
        list(Reinitialisation.objects.values()),
    )


# --- PBX Call Assist 5 quotes (SWP-1…SWP-7) ------------------------------------------


def test_first_order_seed_example_25_users_12_months(prices):
    system = make_system()
    quote = call_assist_quote(installation=system, users=25, months=12, today=date(2025, 1, 1))
    # SWP-1: 25 = 1 × 15 + 2 × 5; SWP 25 × 94379.
    # 1 × 399,00 = 399,00; 2 × 139,00 = 278,00; 25 × 12,00 = 300,00 → 977,00.
    assert [(line.article, line.quantity, line.unit_price, line.total) for line in quote.lines] == [
        ("94376", 2, Decimal("139.00"), Decimal("278.00")),
        ("94377", 1, Decimal("399.00"), Decimal("399.00")),
        ("94379", 25, Decimal("12.00"), Decimal("300.00")),
    ]
    assert quote.net_total == Decimal("977.00")
    assert quote.kind == MaintenanceCoverage.INITIAL and quote.sample_prices
    # SWP-2: 2025-01-01 + 12 months → 2025-12-31.
    assert (quote.coverage_start, quote.coverage_end) == (date(2025, 1, 1), date(2025, 12, 31))

    coverage = maintenance_confirm(installation=system, quote=quote, order_reference="B-1")
    assert (coverage.kind, coverage.start, coverage.end, coverage.users, coverage.months) == (
        "initial",
        date(2025, 1, 1),
        date(2025, 12, 31),
        25,
        12,
    )
    # Licences per pack: the 15-pack gives 15 users, the two 5-packs 10.
    assert sorted(SystemLicense.objects.filter(installation=system).values_list("article", "quantity")) == [
        ("94376", 10),
        ("94377", 15),
    ]
    facts = system_facts(system)
    assert (facts.coverage_end, facts.call_assist_users) == (date(2025, 12, 31), 25)


def test_first_order_below_five_users_is_refused_and_writes_nothing(prices):
    system = make_system()
    before = snapshot()
    with pytest.raises(rules.MaintenanceRuleError, match="mindestens 5"):
        call_assist_quote(installation=system, users=4, months=12, today=date(2025, 1, 1))
    assert snapshot() == before


def test_adding_users_seed_example(prices):
    system = make_system()
    book(system, start=date(2025, 1, 1), end=date(2025, 12, 31), users=25)
    quote = call_assist_quote(installation=system, users=5, today=date(2025, 7, 4))
    # SWP-3: 2025-12-31 − 2025-07-04 = 180 days; 5 × 180 − 5 × 21 = 795 user-days.
    # 5 × 29,00 = 145,00; 795 × 0,04 = 31,80 → 176,80.
    assert quote.articles == {"94375": 5, "94381": 795}
    assert quote.net_total == Decimal("176.80")
    assert quote.kind == MaintenanceCoverage.ADD_USERS
    assert (quote.coverage_start, quote.coverage_end) == (date(2025, 7, 4), date(2025, 12, 31))

    first = MaintenanceCoverage.objects.get(installation=system)
    first_values = MaintenanceCoverage.objects.filter(pk=first.pk).values().get()
    maintenance_confirm(installation=system, quote=quote)
    # The existing ledger row is untouched; a new row covers the 5 new users.
    assert MaintenanceCoverage.objects.filter(pk=first.pk).values().get() == first_values
    added = MaintenanceCoverage.objects.exclude(pk=first.pk).get()
    assert (added.kind, added.start, added.end, added.users) == ("add_users", date(2025, 7, 4), date(2025, 12, 31), 5)
    assert system_facts(system).call_assist_users == 30  # 25 + 5 × 1-user packs


def test_adding_users_with_20_days_left_is_refused(prices):
    system = make_system()
    book(system, start=date(2025, 1, 1), end=date(2025, 12, 31), users=25)
    before = snapshot()
    # 2025-12-31 − 2025-12-11 = 20 days < 21 → renew first; last day was 2025-12-10.
    with pytest.raises(rules.MaintenanceRuleError, match="10.12.2025"):
        call_assist_quote(installation=system, users=5, today=date(2025, 12, 11))
    assert snapshot() == before


def test_renewal_in_term_36_months(prices):
    system = make_system()
    book(system, start=date(2025, 1, 1), end=date(2025, 12, 31), users=8)
    quote = call_assist_quote(installation=system, users=None, months=36, today=date(2025, 10, 31))
    # SWP-4: 8 × 94380 = 8 × 30,00 = 240,00; starts the day after the old end,
    # 36 months from 2026-01-01 → 2028-12-31.
    assert quote.articles == {"94380": 8}
    assert quote.net_total == Decimal("240.00")
    assert (quote.coverage_start, quote.coverage_end, quote.surcharge_days) == (date(2026, 1, 1), date(2028, 12, 31), 0)
    coverage = maintenance_confirm(installation=system, quote=quote)
    assert (coverage.kind, coverage.users, coverage.months) == ("renewal", 8, 36)
    # A renewal adds no user licences.
    assert system_facts(system).call_assist_users == 8
    assert system_facts(system).coverage_end == date(2028, 12, 31)


def test_renewal_lapsed_under_three_months_is_retroactive_without_surcharge(prices):
    system = make_system()
    book(system, start=date(2024, 1, 1), end=date(2024, 12, 31), users=6)
    quote = call_assist_quote(installation=system, users=6, months=12, today=date(2025, 3, 1))
    # SWP-5: 6 × 94379 = 72,00; coverage 2025-01-01…2025-12-31 (retroactive).
    assert quote.articles == {"94379": 6}
    assert quote.net_total == Decimal("72.00")
    assert (quote.coverage_start, quote.coverage_end, quote.surcharge_days) == (date(2025, 1, 1), date(2025, 12, 31), 0)


def test_renewal_lapsed_over_three_months_charges_surcharge(prices):
    system = make_system()
    book(system, start=date(2024, 1, 1), end=date(2024, 12, 31), users=5)
    # SWP-6: 2024-12-31 + 184 days = 2025-07-03 (Jan 31 + Feb 28 + Mar 31 + Apr 30 + May 31
    # + Jun 30 = 181, + 3). 5 × 12,00 = 60,00; 5 × 184 = 920 × 0,04 = 36,80 → 96,80.
    quote = call_assist_quote(installation=system, users=None, months=12, today=date(2025, 7, 3))
    assert quote.articles == {"94379": 5, "94381": 920}
    assert quote.net_total == Decimal("96.80")
    coverage = maintenance_confirm(installation=system, quote=quote)
    assert (coverage.start, coverage.end, coverage.surcharge_days) == (date(2025, 1, 1), date(2025, 12, 31), 184)


def test_renewal_lapsed_over_36_months_is_refused(prices):
    system = make_system()
    book(system, start=date(2021, 1, 1), end=date(2021, 12, 31), users=5)
    before = snapshot()
    # 2022-01-01 + 36 months ends 2024-12-31; on 2025-01-01 no online renewal (SWP-7).
    with pytest.raises(rules.MaintenanceRuleError, match="länger als 36 Monate"):
        call_assist_quote(installation=system, users=None, months=12, today=date(2025, 1, 1))
    assert snapshot() == before


def test_renewal_covers_all_users_of_the_system(prices):
    system = make_system()
    book(system, start=date(2025, 1, 1), end=date(2025, 12, 31), users=8)
    with pytest.raises(rules.MaintenanceRuleError, match="alle 8 Benutzer"):
        call_assist_quote(installation=system, users=5, months=12, today=date(2025, 12, 1))


def test_quote_uses_the_price_list_valid_on_the_order_day(prices):
    # CAT-1: a newer list from 2026-01-01 prices 94379 at 13,50.
    newer = PriceList.objects.create(name="Preise 2026", valid_from=date(2026, 1, 1))
    Price.objects.create(
        price_list=newer,
        product=Product.objects.get(article="94379"),
        kind="purchase",
        unit="once",
        amount=Decimal("13.50"),
    )
    system = make_system()
    book(system, start=date(2025, 1, 1), end=date(2025, 12, 31), users=3)
    # 3 × 12,00 = 36,00 on 2025-12-31; 3 × 13,50 = 40,50 on 2026-01-01 (lapsed 1 day, no surcharge).
    assert call_assist_quote(installation=system, users=None, months=12, today=date(2025, 12, 31)).net_total == Decimal(
        "36.00"
    )
    later = call_assist_quote(installation=system, users=None, months=12, today=date(2026, 1, 1))
    assert later.net_total == Decimal("40.50") and not later.sample_prices


def test_quote_without_price_is_refused_in_german(catalog):
    system = make_system()  # only the seed 001 list: no Call Assist prices (CAT-8)
    with pytest.raises(MissingPriceError, match="keinen Preis"):
        call_assist_quote(installation=system, users=5, months=12, today=date(2025, 1, 1))


def test_confirming_a_quote_for_another_system_is_refused(prices):
    # SWP-9: one purchase per system.
    first, second = make_system(), make_system()
    quote = call_assist_quote(installation=first, users=5, months=12, today=date(2025, 1, 1))
    before = snapshot()
    with pytest.raises(rules.MaintenanceRuleError, match="je System"):
        maintenance_confirm(installation=second, quote=quote)
    assert snapshot() == before


def test_stale_quote_is_refused(prices):
    system = make_system()
    book(system, start=date(2025, 1, 1), end=date(2025, 12, 31), users=8)
    quote = call_assist_quote(installation=system, users=None, months=12, today=date(2025, 12, 1))
    maintenance_confirm(installation=system, quote=quote)
    before = snapshot()
    with pytest.raises(rules.MaintenanceRuleError, match="neu berechnen"):
        maintenance_confirm(installation=system, quote=quote)  # same quote confirmed twice
    assert snapshot() == before
    assert system_facts(system).coverage_end == date(2026, 12, 31)


def test_manual_coverage_must_extend(prices):
    system = make_system()
    book(system, start=date(2021, 1, 1), end=date(2021, 12, 31), users=5)
    row = maintenance_coverage_book_manual(
        installation=system, start=date(2022, 1, 1), end=date(2025, 12, 31), users=5, note="SWP-7 von Hand"
    )
    assert row.kind == "manual"
    with pytest.raises(rules.MaintenanceRuleError, match="31.12.2025"):
        maintenance_coverage_book_manual(installation=system, start=date(2025, 1, 1), end=date(2025, 6, 30), users=5)


# --- Tryout and activation (SYS-2) ----------------------------------------------------


def test_tryout_once_per_system():
    system = make_system("comtrexx_vm")
    tryout = tryout_start(installation=system, today=date(2026, 11, 1))
    assert (tryout.started_on, tryout.test_users) == (date(2026, 11, 1), 3)
    # tryout_end: 2026-11-01 + 13 days = 2026-11-14.
    assert rules.tryout_end(tryout.started_on) == date(2026, 11, 14)
    with pytest.raises(SystemLicensingError, match="nur einmal"):
        tryout_start(installation=system, today=date(2027, 1, 1))
    assert Tryout.objects.filter(installation=system).count() == 1


@pytest.mark.parametrize("edition", ["comtrexx_business", "comtrexx_advanced"])
def test_no_tryout_for_business_and_advanced(edition):
    system = make_system(edition)
    with pytest.raises(SystemLicensingError, match="keinen Tryout-Modus"):
        tryout_start(installation=system, today=date(2026, 11, 1))
    assert not Tryout.objects.exists()


def test_buying_user_licences_ends_tryout_and_blocks_a_new_one():
    system = make_system("comtrexx_vm")
    tryout_start(installation=system, today=date(2026, 11, 1))
    system_licenses_add(installation=system, kind="user_licenses", quantity=10, today=date(2026, 11, 5))
    tryout = Tryout.objects.get(installation=system)
    assert tryout.ended_by_purchase_on == date(2026, 11, 5)
    assert rules.tryout_days_left(tryout.started_on, date(2026, 11, 5), tryout.ended_by_purchase_on) == 0

    other = make_system("comtrexx_vm")
    system_licenses_add(installation=other, kind="user_licenses", quantity=3, today=date(2026, 11, 5))
    with pytest.raises(SystemLicensingError, match="bereits Lizenzen erworben"):
        tryout_start(installation=other, today=date(2026, 11, 6))


def test_buying_after_tryout_expired_leaves_it_as_it_ended():
    system = make_system("comtrexx_vm")
    tryout_start(installation=system, today=date(2026, 11, 1))
    # Last tryout day 2026-11-14; bought on 2026-11-20: it had already ended by itself.
    system_licenses_add(installation=system, kind="user_licenses", quantity=5, today=date(2026, 11, 20))
    assert Tryout.objects.get(installation=system).ended_by_purchase_on is None


def test_comtrexx_business_needs_activation_first():
    system = make_system("comtrexx_business")
    before = snapshot()
    with pytest.raises(SystemLicensingError, match="zuerst die Systemaktivierung"):
        system_licenses_add(installation=system, kind="user_licenses", quantity=10, today=date(2026, 11, 1))
    assert snapshot() == before

    system_licenses_add(installation=system, kind="activation", quantity=1, article="CTX-ACT", today=date(2026, 11, 1))
    system_licenses_add(
        installation=system, kind="user_licenses", quantity=10, article="CTX-USER", today=date(2026, 11, 1)
    )
    facts = system_facts(system)
    assert (facts.has_activation, facts.user_licenses) == (True, 10)
    with pytest.raises(SystemLicensingError, match="bereits aktiviert"):
        system_licenses_add(installation=system, kind="activation", quantity=1, today=date(2026, 11, 2))


def test_call_assist_on_business_needs_activation_first(prices):
    system = make_system("comtrexx_business")
    with pytest.raises(SystemLicensingError, match="zuerst die Systemaktivierung"):
        call_assist_quote(installation=system, users=5, months=12, today=date(2026, 11, 1))
    system_licenses_add(installation=system, kind="activation", quantity=1, today=date(2026, 11, 1))
    assert call_assist_quote(installation=system, users=5, months=12, today=date(2026, 11, 1)).articles == {
        "94376": 1,
        "94379": 5,
    }


def test_activation_is_refused_on_models_without_one():
    system = make_system("comtrexx_vm")
    with pytest.raises(SystemLicensingError, match="nur für COMtrexx Business"):
        system_licenses_add(installation=system, kind="activation", quantity=1, today=date(2026, 11, 1))


@pytest.mark.parametrize(
    "kind, quantity, message",
    [
        ("user_licenses", 0, "ab 1"),
        ("user_licenses", -3, "ab 1"),
        ("activation", 2, "genau eine"),
        ("call_assist_users", 5, "Softwarepflege"),
        ("modem", 1, "Unbekannte Lizenzart"),
    ],
)
def test_bad_licence_input_changes_nothing(kind, quantity, message):
    system = make_system("comtrexx_business")
    before = snapshot()
    with pytest.raises(SystemLicensingError, match=message):
        system_licenses_add(installation=system, kind=kind, quantity=quantity, today=date(2026, 11, 1))
    assert snapshot() == before


def test_starface_installation_is_not_a_system():
    installation = InstallationFactory()
    with pytest.raises(SystemLicensingError, match="keine Auerswald-Anlage"):
        tryout_start(installation=installation, today=date(2026, 11, 1))


# --- Re-initialisation (SYS-1) -------------------------------------------------------

CODE = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n  MDEyMzQ1Njc4OQ=="


def _public_keys():
    signing_key = keys.load_or_create_signing_key(settings.LICENSE_SIGNING_KEY_FILE)
    return keys.load_public_keys(signing_key, settings.LICENSE_PUBLIC_KEYS_DIR)


def test_reinitialisation_response_verifies_and_lists_every_licence(prices):
    system = make_system("comtrexx_business")
    system_licenses_add(installation=system, kind="activation", quantity=1, today=date(2025, 1, 1))
    system_licenses_add(installation=system, kind="user_licenses", quantity=20, today=date(2025, 1, 1))
    system_licenses_add(installation=system, kind="user_licenses", quantity=5, today=date(2025, 6, 1))
    quote = call_assist_quote(installation=system, users=25, months=12, today=date(2025, 1, 1))
    maintenance_confirm(installation=system, quote=quote)
    renewal = call_assist_quote(installation=system, users=None, months=36, today=date(2025, 11, 1))
    maintenance_confirm(installation=system, quote=renewal)

    # After a reset the system shows a new initialisation code; the response gives
    # back everything: activation 1, 20 + 5 = 25 user licences, 15 + 10 = 25 Call
    # Assist users, Softwarepflege until 2026-01-01 + 36 months − 1 day = 2028-12-31.
    row = system_reinitialise(installation=system, initialisation_code=CODE)
    payload = verify_reinitialisation_response(row.response, _public_keys())
    assert payload["serial"] == system.identifier
    assert payload["licenses"] == {"activation": 1, "user_licenses": 25, "call_assist_users": 25}
    assert payload["swp_end"] == "2028-12-31"
    assert payload["model"] == "comtrexx_business"
    # The stored code is normalised (whitespace removed, case kept).
    assert row.initialisation_code == "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=MDEyMzQ1Njc4OQ=="
    # Written like a module key: groups of five, and typed sloppily it still verifies.
    groups = row.response.split("-")
    assert all(len(g) == 5 for g in groups[:-1]) and 1 <= len(groups[-1]) <= 5
    sloppy = " ".join(groups).lower()
    assert verify_reinitialisation_response(sloppy, _public_keys()) == payload

    # Each re-initialisation is logged; a second reset gets the same licences.
    again = system_reinitialise(installation=system, initialisation_code="ANOTHERCODE12345678")
    assert verify_reinitialisation_response(again.response, _public_keys())["licenses"] == payload["licenses"]
    assert Reinitialisation.objects.filter(installation=system).count() == 2


def test_reinitialisation_response_answers_its_own_code():
    system = make_system()
    first = verify_reinitialisation_response(
        system_reinitialise(installation=system, initialisation_code="CODEONE123456789").response, _public_keys()
    )
    second = verify_reinitialisation_response(
        system_reinitialise(installation=system, initialisation_code="CODETWO123456789").response, _public_keys()
    )
    assert first["code_sha256"] != second["code_sha256"]
    assert first["licenses"] == {"activation": 0, "user_licenses": 0, "call_assist_users": 0}
    assert first["swp_end"] is None


def test_changed_response_or_unknown_key_fails_verification():
    system = make_system()
    response = system_reinitialise(installation=system, initialisation_code=CODE).response
    compact = response.replace("-", "")
    # Change one character in the middle (inside the JSON payload).
    middle = len(compact) // 2
    changed = compact[:middle] + ("A" if compact[middle] != "A" else "B") + compact[middle + 1 :]
    with pytest.raises(ReinitialisationResponseError):
        verify_reinitialisation_response(changed, _public_keys())
    with pytest.raises(ReinitialisationResponseError, match="unknown key id"):
        verify_reinitialisation_response(response, {})
    with pytest.raises(ReinitialisationResponseError):
        verify_reinitialisation_response("not a response ü", _public_keys())
    with pytest.raises(ReinitialisationResponseError):
        verify_reinitialisation_response(compact[:-7], _public_keys())


@pytest.mark.parametrize("code", ["", "   ", "kurz", "ÄÖÜ-ungültig-1234567890", "x" * 4097])
def test_bad_initialisation_code_writes_nothing(code):
    system = make_system()
    with pytest.raises(rules.InitialisationCodeError, match="Initialisierungscode"):
        system_reinitialise(installation=system, initialisation_code=code)
    assert not Reinitialisation.objects.exists()
