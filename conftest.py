import pytest


@pytest.fixture
def catalog(db):
    """The seed 001 catalog and price list, loaded as ``make run`` loads it."""
    from licensing.services.catalog import catalog_load

    catalog_load()


@pytest.fixture
def portal_user(db):
    from licensing.tests.factories import PartnerUserFactory

    return PartnerUserFactory()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness (≈0.5 s per password) is not what the tests examine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
