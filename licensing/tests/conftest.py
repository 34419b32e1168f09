import pytest


@pytest.fixture
def prices(db):
    """Seed catalog plus the sample prices of the Call Assist articles (CAT-8)."""
    from licensing.services.catalog import SEED_PRICE_LIST, catalog_load
    from vendorportal.demo import SAMPLE_PRICE_LIST

    catalog_load(price_lists=[SEED_PRICE_LIST, SAMPLE_PRICE_LIST])
