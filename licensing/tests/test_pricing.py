"""Pricing a rules cart (``licensing.pricing``): pure, prices passed in (CAT-1, GEN-2)."""

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from licensing import rules
from licensing.exceptions import MissingPriceError
from licensing.pricing import ArticlePrice, price_cart, renewal_quote_priced

PRICES = {
    rules.PACK_1: ArticlePrice(rules.PACK_1, "1-User-Lizenz-Paket", Decimal("29.00"), sample=False),
    rules.SWP_12: ArticlePrice(rules.SWP_12, "Softwarepflege 12 Monate", Decimal("12.00"), sample=True),
    rules.SWP_DAY: ArticlePrice(rules.SWP_DAY, "Softwarepflege pro Tag", Decimal("0.035"), sample=False),
}


def test_cart_lines_sorted_by_article_rounded_half_up_and_summed():
    # Seed 003 add-users example: 5 × 94375 and 795 × 94381.
    # 5 × 29,00 = 145,00; 795 × 0,035 = 27,825 → 27,83 (half up); total 172,83.
    priced = price_cart(Counter({rules.SWP_DAY: 795, rules.PACK_1: 5}), PRICES, date(2025, 7, 4))
    assert [(line.article, line.quantity, line.total) for line in priced.lines] == [
        ("94375", 5, Decimal("145.00")),
        ("94381", 795, Decimal("27.83")),
    ]
    assert priced.net_total == Decimal("172.83")
    assert priced.sample_prices is False
    assert priced.lines[1].total_display == "27,83 €"


def test_missing_price_names_article_and_german_date():
    with pytest.raises(MissingPriceError, match="Für Artikel 94380 gibt es am 04.07.2025 keinen Preis"):
        price_cart(Counter({rules.SWP_36: 5}), PRICES, date(2025, 7, 4))


def test_renewal_quote_priced_with_surcharge():
    # SWP-6: old end 2024-12-31, ordered 2025-07-03 → 184 lapsed days, 5 users:
    # 5 × 94379 at 12,00 = 60,00; 920 × 94381 at 0,035 = 32,20; total 92,20; a sample price is in it.
    quote = renewal_quote_priced(
        installation_id=7,
        serial="1AC5008123",
        coverage_end=date(2024, 12, 31),
        users=5,
        months=12,
        today=date(2025, 7, 3),
        prices=PRICES,
    )
    assert quote.articles == {rules.SWP_12: 5, rules.SWP_DAY: 920}
    assert (quote.coverage_start, quote.coverage_end) == (date(2025, 1, 1), date(2025, 12, 31))
    assert (quote.lapsed_days, quote.surcharge_days) == (184, 184)
    assert quote.net_total == Decimal("92.20") and quote.net_total_display == "92,20 €"
    assert quote.sample_prices is True
    assert quote.pack_users == {}
