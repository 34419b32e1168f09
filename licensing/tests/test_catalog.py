"""Catalog (CAT-1…CAT-8): the seed 001 price list, loaded and exported exactly."""

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from licensing.models import Price, PriceList, Product
from licensing.selectors.catalog import price_for
from licensing.services.catalog import CatalogImportError, catalog_load

SEED = Path(__file__).parent / "data" / "seed_001_pricelist.txt"
TIERS = ["1-20", "21-40", "41-80", "81-150", "151-250", ">250"]


def export(*args) -> list[dict]:
    out = io.StringIO()
    call_command("export_articles", *args, stdout=out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def seed_prices() -> set[tuple]:
    """Every module price printed in seed 001, read from the vendor's own table text
    (independently of the repository's CSV): (name, kind, term, tier, amount)."""
    prices = set()
    product = None
    for line in SEED.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("\t")]
        if (
            cells[0]
            and not cells[0].startswith(("Kauf", "Abo"))
            and len(cells) > 1
            and cells[1].startswith(("Kauf", "Abo"))
        ):
            product = cells[0].replace("-", "")
            cells = cells[1:]
        elif cells[0] == "" and len(cells) > 1:
            cells = cells[1:]
        else:
            continue
        match = re.fullmatch(r"(Kauf|Abo (\d+) Monate?)", cells[0])
        if not match:
            continue
        amounts = [
            Decimal(c.replace("€", "").strip().replace(".", "").replace(",", ".")) for c in cells[1:] if "€" in c
        ]
        kind = "purchase" if cells[0] == "Kauf" else "subscription"
        term = "" if kind == "purchase" else match.group(2)
        tiers = TIERS if len(amounts) == 6 else [""]
        for tier, amount in zip(tiers, amounts):
            prices.add((product, kind, term, tier, amount))
    return prices


def test_export_holds_every_price_of_seed_001_exactly(catalog):
    expected = seed_prices()
    # 3 tiered modules × 4 price kinds × 6 tiers + 18 flat modules × 4 + Teams Presence Sync × 4
    assert len(expected) == 72 + 72 + 4
    rows = export("--date", "2026-11-21")
    exported = {
        (r["name"].replace("-", ""), r["kind"], r["term_months"], r["tier"], Decimal(r["price_net"]))
        for r in rows
        if not r["article"].startswith("SP-")
    }
    assert exported == expected
    # CAT-6 service plans, from the same seed's plan table
    plans = {
        r["article"]: (r["kind"], r["term_months"], r["price_net"], r["unit"])
        for r in rows
        if r["article"].startswith("SP-")
    }
    assert plans == {
        "SP-FREE": ("purchase", "", "0.00", "once"),
        "SP-BASIC": ("purchase", "", "348.00", "once"),
        "SP-PREMIUM": ("subscription", "12", "828.00", "year"),
        "SP-ENTERPRISE": ("subscription", "12", "1548.00", "year"),
    }


def test_export_format(catalog):
    rows = export()
    assert list(rows[0].keys())[:6] == ["article", "name", "kind", "tier", "term_months", "price_net"]
    # CAT-3: Call Recording, 81-150 users, subscription 24 months: 179,00 €/month
    callrec = [r for r in rows if r["article"] == "CALLREC" and r["tier"] == "81-150" and r["term_months"] == "24"]
    assert [(r["kind"], r["price_net"], r["unit"]) for r in callrec] == [("subscription", "179.00", "month")]
    # Purchase rows have an empty term; dot decimal with two places
    adsync = next(r for r in rows if r["article"] == "ADSYNC" and r["kind"] == "purchase" and r["tier"] == "81-150")
    assert adsync["term_months"] == "" and adsync["price_net"] == "1299.00"
    # CAT-4: Teams Presence Sync is subscription only with terms 1/12/24/36
    teams = sorted((int(r["term_months"]), r["price_net"]) for r in rows if r["article"] == "TEAMSPRESENCE")
    assert teams == [(1, "7.50"), (12, "7.40"), (24, "7.30"), (36, "7.00")]


def test_export_before_any_price_list_says_so(catalog):
    with pytest.raises(CommandError, match="keine Preisliste"):
        export("--date", "2021-01-01")
    with pytest.raises(CommandError, match="JJJJ-MM-TT"):
        export("--date", "21.11.2026")


def test_load_is_idempotent(catalog):
    counts = (Product.objects.count(), Price.objects.count(), PriceList.objects.count())
    result = catalog_load()
    assert (result.products_created, result.prices_created) == (0, 0)
    assert (Product.objects.count(), Price.objects.count(), PriceList.objects.count()) == counts == (36, 152, 1)


def test_catalog_flags_from_the_seeds(catalog):
    flags = {p.article: p for p in Product.objects.all()}
    assert not flags["ADSYNC"].demo_allowed and not flags["UTPRO"].demo_allowed  # LIC-6
    assert flags["CALLREC"].demo_allowed
    assert (
        not flags["INSIGHT"].nfr_allowed and not flags["TEAMSINT"].nfr_allowed and not flags["AURORA"].nfr_allowed
    )  # LIC-7
    assert flags["TEAMSPRESENCE"].subscription_only and not flags["TEAMSPRESENCE"].purchase_allowed  # CAT-4
    assert flags["TEAMSPRESENCE"].pricing_model == Product.PER_STARTED_5_USERS
    assert {a for a, p in flags.items() if p.kind == Product.CALL_ASSIST} == {
        "94375",
        "94376",
        "94377",
        "94379",
        "94380",
        "94381",
    }  # CAT-8


def test_changed_price_in_file_is_refused_and_nothing_written(catalog, tmp_path):
    bad = tmp_path / "prices.csv"
    bad.write_text(
        "article,kind,tier,term_months,unit,price_net\nGROUPBUSY,purchase,,0,once,89.00\nNEWMOD,purchase,,0,once,1.00\n"
    )
    spec = {"name": "Preisliste Module und Service-Pläne (Stand 09/2022)", "valid_from": date(2022, 9, 1), "file": bad}
    with pytest.raises(CatalogImportError, match="nie überschrieben"):
        catalog_load(price_lists=[spec])
    assert Price.objects.get(product__article="GROUPBUSY", kind="purchase").amount == Decimal("99.00")


def test_bad_row_names_file_and_line_and_writes_nothing(catalog, tmp_path):
    bad = tmp_path / "new.csv"
    bad.write_text(
        "article,kind,tier,term_months,unit,price_net\nGROUPBUSY,purchase,,0,once,109.00\nDHCP,purchase,,0,once,zehn\n"
    )
    spec = {"name": "Preisliste 2027", "valid_from": date(2027, 1, 1), "file": bad}
    with pytest.raises(CatalogImportError, match=r"new.csv, Zeile 3"):
        catalog_load(price_lists=[spec])
    assert not PriceList.objects.filter(name="Preisliste 2027").exists()
    assert Price.objects.count() == 152


def test_partial_newer_price_list_applies_from_its_date(catalog, tmp_path):
    newer = tmp_path / "2027.csv"
    newer.write_text("article,kind,tier,term_months,unit,price_net\nGROUPBUSY,purchase,,0,once,109.00\n")
    catalog_load(price_lists=[{"name": "Preisliste 2027", "valid_from": date(2027, 1, 1), "file": newer}])
    group_busy = Product.objects.get(article="GROUPBUSY")
    dhcp = Product.objects.get(article="DHCP")
    assert price_for(product=group_busy, kind="purchase", on=date(2026, 12, 31)).amount == Decimal("99.00")
    assert price_for(product=group_busy, kind="purchase", on=date(2027, 1, 1)).amount == Decimal("109.00")
    # DHCP is not in the newer list: its 09/2022 price stays in force (CAT-1, partial lists)
    assert price_for(product=dhcp, kind="purchase", on=date(2027, 1, 1)).amount == Decimal("169.00")
