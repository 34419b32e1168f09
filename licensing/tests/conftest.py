import pytest


@pytest.fixture
def prices(db):
    """Seed catalog plus the sample prices of the Call Assist articles (CAT-8)."""
    from demo.loader import SAMPLE_PRICE_LIST
    from licensing.services.catalog import SEED_PRICE_LIST
    from licensing.tests.catalog_cache import catalog_load_cached

    catalog_load_cached(price_lists=[SEED_PRICE_LIST, SAMPLE_PRICE_LIST])
