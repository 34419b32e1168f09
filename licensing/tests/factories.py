"""Factories for tests — the one place test data is built (STYLE 10)."""
import itertools
import factory

from licensing.models import Installation
from vendorportal.parties.tests.factories import (  # noqa: F401 — licensing tests build parties through these
    CustomerFactory,
    PartnerFactory,
    PartnerLevelFactory,
    PartnerUserFactory,
    UserFactory,
)

_key_counter = itertools.count(1)


def server_key(n: int | None = None) -> str:
    n = next(_key_counter) if n is None else n
    return f"TEST{n % 10}-{n:05d}-ABCDE-{(n * 7919) % 100000:05d}"


class InstallationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Installation

    customer = factory.SubFactory(CustomerFactory)
    vendor = "starface"
    edition = "appliance"
    identifier_kind = "server_key"
    identifier = factory.LazyFunction(server_key)
    pbx_users = 10
    pbx_version = "8.2.0.5"
