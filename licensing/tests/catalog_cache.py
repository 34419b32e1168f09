"""The seed catalog for tests, loaded once per test process and then copied in (issue 17).

``catalog_load`` reads the CSV files, runs ``get_or_create`` and ``full_clean`` for every
product and price and writes a history row per product: ≈ 0.45 s of CPU, and the
``catalog`` fixture is used by hundreds of tests. Every test rolls its transaction back
(or flushes), so each one loads the same rows again.

``catalog_load_cached`` runs the real ``catalog_load`` the first time in a process and keeps
the rows it wrote; later, on catalog tables that are empty again, it writes exactly those
rows back with ``bulk_create`` (same primary keys, same values, history rows included, the
history rows' date set to now as a fresh load would). Where any catalog table already has
rows (a test made its own products first), it falls back to the real ``catalog_load`` — the
result is always what ``catalog_load`` on that database would give.

The copy keeps the primary keys of the first load. On SQLite a rolled-back insert gives its
ids back, on PostgreSQL the sequences have already moved past them with that first load, so
rows a test creates afterwards never collide with the copied ones.
"""

from __future__ import annotations

from django.utils import timezone

_snapshots: dict[tuple, list[tuple[type, list[str], list[tuple]]]] = {}


def _catalog_models() -> list[type]:
    from licensing.models import Price, PriceList, Product

    # Parents before children: PostgreSQL checks the price's foreign keys on insert.
    base = [Product, PriceList, Price]
    return base + [model.history.model for model in base]


def _tables_empty(models) -> bool:
    return not any(model._default_manager.exists() for model in models)


def catalog_load_cached(*, price_lists: list[dict] | None = None) -> None:
    """``catalog_load(price_lists=...)`` for a test, from this process's copy when possible."""
    from licensing.services.catalog import catalog_load

    key = tuple(sorted(spec["name"] for spec in price_lists)) if price_lists is not None else None
    models = _catalog_models()
    if not _tables_empty(models):
        catalog_load(price_lists=price_lists)
        return
    snapshot = _snapshots.get(key)
    if snapshot is None:
        catalog_load(price_lists=price_lists)
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
