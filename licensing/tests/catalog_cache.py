"""The seed catalog for tests, loaded once per test process and then copied in (issue 17).

``catalog_load`` reads the CSV files, runs ``get_or_create`` and ``full_clean`` for every
product and price and writes a history row per product: ≈ 0.45 s of CPU, and the
``catalog`` fixture is used by hundreds of tests. Every test rolls its transaction back
(or flushes), so each one loads the same rows again.

``catalog_load_cached`` runs the real ``catalog_load`` the first time in a process and keeps
the rows it wrote; later, on catalog tables that are empty again, it writes exactly those
rows back with ``bulk_create`` (same primary keys, same values, history rows included, the
history rows' date set to now as a fresh load would). The ``modules`` fixture (module and PBX
versions on top of the catalog) is kept the same way (``rows_cached``). Where any catalog table already has
rows (a test made its own products first), it falls back to the real ``catalog_load`` — the
result is always what ``catalog_load`` on that database would give.

The copy keeps the primary keys of the first load. On SQLite a rolled-back insert gives its
ids back, on PostgreSQL the sequences have already moved past them with that first load, so
rows a test creates afterwards never collide with the copied ones.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

_snapshots: dict[object, list[tuple[type, list[str], list[tuple]]]] = {}


def _catalog_models() -> list[type]:
    from licensing.models import Price, PriceList, Product

    # Parents before children: PostgreSQL checks the price's foreign keys on insert.
    base = [Product, PriceList, Price]
    return base + [model.history.model for model in base]


def _tables_empty(models) -> bool:
    return not any(model._default_manager.exists() for model in models)


def rows_cached(key, models: list[type], load) -> None:
    """Run ``load()`` — or, where it already ran in this process on the same empty ``models``
    tables, write back the rows it wrote there. ``models`` must hold every table ``load``
    writes, parents before children."""
    if not _tables_empty(models):
        load()
        return
    snapshot = _snapshots.get(key)
    if snapshot is None:
        load()
        _snapshots[key] = [
            (model, names, list(model._default_manager.order_by("pk").values_list(*names)))
            for model in models
            for names in [[field.attname for field in model._meta.concrete_fields]]
        ]
        return
    now = timezone.now()
    for model, names, rows in snapshot:
        objects = [model(**dict(zip(names, row))) for row in rows]
        if "history_date" in names:
            for obj in objects:
                obj.history_date = now
        model._default_manager.bulk_create(objects)


def catalog_load_cached(*, price_lists: list[dict] | None = None) -> None:
    """``catalog_load(price_lists=...)`` for a test, from this process's copy when possible."""
    from licensing.services.catalog import catalog_load

    key = ("catalog", tuple(sorted(spec["name"] for spec in price_lists)) if price_lists is not None else None)
    rows_cached(key, _catalog_models(), lambda: catalog_load(price_lists=price_lists))


def module_versions_create() -> None:
    """What the ``modules`` fixture gives: versions 1.8, 2.0 (paid update) and 2.1 of every module,
    PBX versions 7.3.0.10 (tested with 1.8 and 2.0), 8.2.0.5 (tested with 2.1) and 9.0.0.4."""
    from licensing.models import ModuleVersion, PbxVersion, Product

    pbx_old = PbxVersion.objects.create(number="7.3.0.10", released_on=date(2022, 5, 10))
    pbx = PbxVersion.objects.create(number="8.2.0.5", released_on=date(2025, 6, 24))
    PbxVersion.objects.create(number="9.0.0.4", released_on=date(2026, 10, 6))
    for product in Product.objects.filter(kind=Product.MODULE):
        ModuleVersion.objects.create(product=product, version="1.8", released_on=date(2018, 3, 12)).tested_with.set(
            [pbx_old]
        )
        ModuleVersion.objects.create(
            product=product, version="2.0", released_on=date(2021, 2, 1), is_paid_update=True
        ).tested_with.set([pbx_old])
        ModuleVersion.objects.create(product=product, version="2.1", released_on=date(2024, 4, 15)).tested_with.set(
            [pbx]
        )


def module_version_models() -> list[type]:
    from licensing.models import ModuleVersion, PbxVersion

    return [PbxVersion, ModuleVersion, ModuleVersion.tested_with.through]


def module_versions_cached() -> None:
    """``module_versions_create()`` for a test, from this process's copy when possible."""
    from licensing.models import Product

    # The copy names products by id: valid only over the very same products.
    products = tuple(Product.objects.order_by("pk").values_list("pk", "article", "kind"))
    rows_cached(("modules", products), module_version_models(), module_versions_create)
