"""The tests' copy of the seed catalog (catalog_cache.py) is what ``catalog_load`` writes."""

import pytest
from django.db import transaction

from demo.loader import SAMPLE_PRICE_LIST
from licensing.models import Price, PriceList, Product
from licensing.services.catalog import SEED_PRICE_LIST, catalog_load
from licensing.tests.catalog_cache import (
    _catalog_models,
    catalog_load_cached,
    module_version_models,
    module_versions_cached,
    module_versions_create,
)

pytestmark = pytest.mark.django_db


def _rows() -> dict:
    skip = {"history_date"}  # the copy's history rows are dated now, as a fresh load's are
    return {
        model.__name__: list(
            model._default_manager.order_by("pk").values(
                *[f.attname for f in model._meta.concrete_fields if f.attname not in skip]
            )
        )
        for model in _catalog_models()
    }


def _loaded_for_real(price_lists=None) -> dict:
    sid = transaction.savepoint()
    catalog_load(price_lists=price_lists)
    rows = _rows()
    transaction.savepoint_rollback(sid)
    return rows


@pytest.mark.parametrize("price_lists", [None, [SEED_PRICE_LIST, SAMPLE_PRICE_LIST]], ids=["seed", "with-sample"])
def test_the_copy_writes_the_rows_of_a_real_load(price_lists):
    catalog_load_cached(price_lists=price_lists)  # the first load in this process, or a copy
    first = _rows()
    assert PriceList.objects.count() == (1 if price_lists is None else 2)
    assert Product.objects.filter(article="ADSYNC").exists() and Price.objects.exists()
    assert Product.history.filter(article="ADSYNC", history_type="+").count() == 1
    _empty_catalog()

    catalog_load_cached(price_lists=price_lists)  # from the copy now
    copied = _rows()
    _empty_catalog()

    assert copied == first
    real = _loaded_for_real(price_lists)
    # The real load gives new primary keys on PostgreSQL (sequences do not roll back): compare without them.
    assert _without_keys(copied) == _without_keys(real)


def test_tables_with_rows_get_the_real_load():
    Product.objects.create(article="OWN-1", name="Eigenes Produkt", kind=Product.MODULE, pricing_model=Product.PER_USER)
    catalog_load_cached()
    assert Product.objects.filter(article="OWN-1").exists()
    assert Product.objects.filter(article="ADSYNC").exists()


def _empty_catalog() -> None:
    # Children first; the history tables last, since deleting a product writes a history row.
    for model in [Price, PriceList, Product, *(m.history.model for m in (Price, PriceList, Product))]:
        model._default_manager.all().delete()
    assert all(not model._default_manager.exists() for model in _catalog_models())


def _without_keys(rows: dict) -> dict:
    keys = {"id", "history_id", "product_id", "price_list_id", "moduleversion_id", "pbxversion_id"}
    return {name: [{k: v for k, v in row.items() if k not in keys} for row in table] for name, table in rows.items()}


def test_the_copy_of_the_module_versions_is_what_the_fixture_writes():
    catalog_load_cached()
    module_versions_cached()
    first = _version_rows()
    assert (
        len(first["PbxVersion"]) == 3
        and len(first["ModuleVersion"]) == 3 * Product.objects.filter(kind="module").count()
    )
    _empty_versions()

    module_versions_cached()  # from the copy now
    copied = _version_rows()
    _empty_versions()
    assert copied == first

    sid = transaction.savepoint()
    module_versions_create()
    real = _version_rows()
    transaction.savepoint_rollback(sid)
    # Without the keys: a real run on PostgreSQL takes new ids (sequences do not roll back).
    assert _without_keys(copied) == _without_keys(real)
    assert len(real["ModuleVersion_tested_with"]) == len(copied["ModuleVersion_tested_with"])


def _version_rows() -> dict:
    return {
        model.__name__: list(
            model._default_manager.order_by("pk").values(*[f.attname for f in model._meta.concrete_fields])
        )
        for model in module_version_models()
    }


def _empty_versions() -> None:
    for model in reversed(module_version_models()):
        model._default_manager.all().delete()
