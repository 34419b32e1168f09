"""Loading the catalog from the data files in ``licensing/data`` (CAT-1, CAT-8)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from licensing import rules
from licensing.exceptions import CatalogImportError
from licensing.models import Price, PriceList, Product
from vendorportal.money import D

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PRODUCTS_FILE = DATA_DIR / "products.csv"
SEED_PRICE_LIST = {
    "name": "Preisliste Module und Service-Pläne (Stand 09/2022)",
    "valid_from": date(2022, 9, 1),
    "file": DATA_DIR / "pricelist_2022-09.csv",
    "source": "Preisliste des Herstellers, Stand 09/2022 (seed 001)",
}


@dataclass
class CatalogLoadResult:
    products_created: int = 0
    prices_created: int = 0
    unchanged: int = 0
    messages: list[str] = field(default_factory=list)


def _data_rows(path: Path):
    """Rows of a CSV data file, skipping ``#`` comment lines; yields (line number, dict)."""
    with path.open(newline="", encoding="utf-8") as handle:
        lines = [(no, line) for no, line in enumerate(handle, start=1) if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(line for _no, line in lines)
    for (line_no, _line), row in zip(lines[1:], reader):
        yield line_no, row


def _flag(value: str, *, path: Path, line_no: int, column: str) -> bool:
    if value not in ("0", "1"):
        raise CatalogImportError(
            _("%(file)s, Zeile %(line)s: Spalte %(col)s muss 0 oder 1 sein, nicht „%(value)s“.")
            % {"file": path.name, "line": line_no, "col": column, "value": value}
        )
    return value == "1"


@transaction.atomic
def catalog_load(*, products_file: Path = PRODUCTS_FILE, price_lists: list[dict] | None = None) -> CatalogLoadResult:
    """Create missing products and prices from the data files; idempotent.

    Existing rows are never changed: a price that differs from the file stops the
    load with an error (prices are history; a new price needs a new price list).
    """
    result = CatalogLoadResult()
    kinds = {k for k, _l in Product.KIND_CHOICES}
    models_ = {k for k, _l in Product.PRICING_CHOICES}
    for line_no, row in _data_rows(products_file):
        article = (row.get("article") or "").strip()
        if not article or row["kind"] not in kinds or row["pricing_model"] not in models_:
            raise CatalogImportError(
                _("%(file)s, Zeile %(line)s: Artikelnummer, Art oder Preismodell fehlt oder ist unbekannt.")
                % {"file": products_file.name, "line": line_no}
            )
        flags = {
            col: _flag(row[col], path=products_file, line_no=line_no, column=col)
            for col in ("purchase_allowed", "subscription_allowed", "subscription_only", "nfr_allowed", "demo_allowed")
        }
        product, created = Product.objects.get_or_create(
            article=article,
            defaults={"name": row["name"].strip(), "kind": row["kind"], "pricing_model": row["pricing_model"], **flags},
        )
        if created:
            product.full_clean()
            result.products_created += 1
        else:
            result.unchanged += 1

    for spec in price_lists if price_lists is not None else [SEED_PRICE_LIST]:
        _load_price_list(spec, result)
    return result


def _load_price_list(spec: dict, result: CatalogLoadResult) -> None:
    path: Path = spec["file"]
    price_list, _created = PriceList.objects.get_or_create(
        name=spec["name"],
        valid_from=spec["valid_from"],
        defaults={"source": spec.get("source", ""), "is_sample": spec.get("is_sample", False)},
    )
    products = {p.article: p for p in Product.objects.all()}
    existing = {
        (p.product.article, p.kind, p.tier, p.term_months): p
        for p in Price.objects.filter(price_list=price_list).select_related("product")
    }
    new_prices = []
    for line_no, row in _data_rows(path):
        where = {"file": path.name, "line": line_no}
        product = products.get(row["article"])
        if product is None:
            raise CatalogImportError(
                _("%(file)s, Zeile %(line)s: unbekannte Artikelnummer „%(article)s“.")
                % {**where, "article": row["article"]}
            )
        try:
            amount = D(row["price_net"])
            term = int(row["term_months"])
        except (ValueError, TypeError):
            raise CatalogImportError(
                _("%(file)s, Zeile %(line)s: Preis oder Laufzeit ist keine Zahl.") % where
            ) from None
        if amount != amount.quantize(Decimal("0.01")) or amount < 0:
            raise CatalogImportError(
                _("%(file)s, Zeile %(line)s: Preise haben höchstens zwei Nachkommastellen und sind nicht negativ.")
                % where
            )
        tier = row["tier"].strip()
        if tier:
            try:
                rules.tier_rank(tier)
            except ValueError:
                raise CatalogImportError(
                    _("%(file)s, Zeile %(line)s: unbekannte Benutzerstaffel „%(tier)s“.") % {**where, "tier": tier}
                ) from None
        key = (product.article, row["kind"], tier, term)
        if key in existing:
            if existing[key].amount != amount:
                raise CatalogImportError(
                    _(
                        "%(file)s, Zeile %(line)s: In der Preisliste steht bereits %(old)s statt %(new)s. "
                        "Preise einer Liste werden nie überschrieben – bitte eine neue Preisliste anlegen."
                    )
                    % {**where, "old": existing[key].amount, "new": amount}
                )
            result.unchanged += 1
            continue
        price = Price(
            price_list=price_list,
            product=product,
            kind=row["kind"],
            tier=tier,
            term_months=term,
            unit=row["unit"],
            amount=amount,
        )
        try:
            price.full_clean(exclude=["price_list"])
        except Exception as exc:  # ValidationError: say where
            raise CatalogImportError(_("%(file)s, Zeile %(line)s: %(error)s") % {**where, "error": exc}) from None
        new_prices.append(price)
        existing[key] = price
    Price.objects.bulk_create(new_prices)
    result.prices_created += len(new_prices)
