"""Reading prices: which price applies on a day (CAT-1), the prices a cart is priced
with (:mod:`licensing.pricing`) and the article export (CAT-7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import OuterRef, Subquery

from licensing import rules
from licensing.models import Price, Product
from licensing.pricing import ArticlePrice


@dataclass(frozen=True)
class ArticleRow:
    article: str
    name: str
    kind: str  # "purchase" | "subscription"
    tier: str
    term_months: int | None
    price_net: Decimal
    unit: str
    valid_from: date
    sample: bool
    product_kind: str = ""  # Product.KIND_CHOICES: module, saas, service_plan, …
    pricing_model: str = ""  # Product.PRICING_CHOICES: tiered, flat, per_started_5_users, …


def prices_valid_on(on: date):
    """Prices in force on ``on``: for each product, those of the newest price list
    valid on that day that prices the product (CAT-1; lists may be partial)."""
    newest_list = (
        Price.objects.filter(product=OuterRef("product"), price_list__valid_from__lte=on)
        .order_by("-price_list__valid_from", "-price_list_id")
        .values("price_list")[:1]
    )
    return Price.objects.filter(price_list__valid_from__lte=on, price_list_id=Subquery(newest_list)).select_related(
        "product", "price_list"
    )


def price_for(*, product: Product, kind: str, on: date, tier: str = "", term_months: int = 0) -> Price | None:
    """The price of one product variant valid on ``on``, or None when it has none."""
    return prices_valid_on(on).filter(product=product, kind=kind, tier=tier, term_months=term_months).first()


def purchase_prices(on: date, articles) -> dict[str, ArticlePrice]:
    """One-off purchase prices (no tier, no term) of ``articles`` valid on ``on`` (CAT-1),
    by article, in one query; an article without such a price is missing from the dict."""
    prices = prices_valid_on(on).filter(product__article__in=articles, kind=Price.PURCHASE, tier="", term_months=0)
    return {
        p.product.article: ArticlePrice(p.product.article, p.product.name, p.amount, p.price_list.is_sample)
        for p in prices
    }


def article_rows(on: date) -> list[ArticleRow]:
    """Every price in force on ``on``, as the partner article export lists it (CAT-7)."""
    rows = [
        ArticleRow(
            article=p.product.article,
            name=p.product.name,
            kind=p.kind,
            tier=p.tier,
            term_months=p.term_months if p.kind == Price.SUBSCRIPTION else None,
            price_net=p.amount,
            unit=p.unit,
            valid_from=p.price_list.valid_from,
            sample=p.price_list.is_sample,
            product_kind=p.product.kind,
            pricing_model=p.product.pricing_model,
        )
        for p in prices_valid_on(on).filter(product__active=True)
    ]
    rows.sort(
        key=lambda r: (
            r.article,
            0 if r.kind == Price.PURCHASE else 1,
            r.term_months or 0,
            rules.tier_rank(r.tier) if r.tier else -1,
        )
    )
    return rows
