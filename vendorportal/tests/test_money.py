"""GEN-2 rounding and GEN-3 combined discounts."""

from decimal import Decimal

import pytest

from vendorportal.money import D, combine_discounts, format_eur, parse_german_amount, round_cents


@pytest.mark.parametrize(
    "raw, rounded",
    [
        ("14.915", "14.92"),
        ("14.914", "14.91"),
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("-2.345", "-2.35"),
        ("1299", "1299.00"),
    ],
)
def test_round_half_up_to_cents(raw, rounded):
    assert round_cents(Decimal(raw)) == Decimal(rounded)


def test_sub2_first_month_example_rounds_to_14_92():
    # RULES SUB-2: 44,75 € × 10/30 = 14,91666… → 14,92 €
    assert round_cents(Decimal("44.75") * 10 / 30) == Decimal("14.92")


def test_ord7_combined_discount_example():
    # GEN-3 / ORD-7: Enterprise 90 % and "< 6 months" 50 % → 1.299,00 × 0.1 × 0.5 = 64,95 €
    factor = combine_discounts(Decimal("0.9"), Decimal("0.5"))
    assert factor == Decimal("0.05")
    assert round_cents(Decimal("1299.00") * factor) == Decimal("64.95")


def test_bundle_and_volume_discount_multiply():
    # ORD-4 with GEN-3: 0.9 × 0.9 = 0.81, not 0.80
    assert combine_discounts(Decimal("0.1"), Decimal("0.1")) == Decimal("0.81")


def test_discount_out_of_range_is_refused():
    with pytest.raises(ValueError):
        combine_discounts(Decimal("1.5"))


def test_float_is_refused():
    with pytest.raises(TypeError):
        D(0.1)


@pytest.mark.parametrize(
    "amount, text",
    [
        ("1299", "1.299,00 €"),
        ("64.95", "64,95 €"),
        ("0", "0,00 €"),
        ("1234567.891", "1.234.567,89 €"),
        ("-7.5", "-7,50 €"),
    ],
)
def test_german_format(amount, text):
    assert format_eur(Decimal(amount)) == text


def test_parse_german_amount():
    assert parse_german_amount("2.165,00 €") == Decimal("2165.00")


@pytest.mark.parametrize(
    "amount, german, english",
    [
        ("1299", "1.299,00 €", "€1,299.00"),
        ("1234567.5", "1.234.567,50 €", "€1,234,567.50"),
        ("0.005", "0,01 €", "€0.01"),  # rounded half up first (GEN-2)
        ("-12", "-12,00 €", "-€12.00"),
        ("999.99", "999,99 €", "€999.99"),
    ],
)
def test_amounts_follow_the_active_language(amount, german, english):
    from django.utils import translation

    from vendorportal.money import format_eur_de

    with translation.override("de"):
        assert format_eur(D(amount)) == german
    with translation.override("en"):
        assert format_eur(D(amount)) == english
        assert format_eur_de(D(amount)) == german
