"""Factories for tests — the one place test data is built (STYLE 10)."""
import itertools
from datetime import date

import factory
from django.contrib.auth import get_user_model

from licensing.models import Customer, Installation, Partner, PartnerLevel, PartnerUser

_key_counter = itertools.count(1)


def server_key(n: int | None = None) -> str:
    n = next(_key_counter) if n is None else n
    return f"TEST{n % 10}-{n:05d}-ABCDE-{(n * 7919) % 100000:05d}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("pw-123456")


class PartnerLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerLevel
        django_get_or_create = ("name",)

    name = "Certified"
    rank = 20
    discount_percent = 20
    grants_partner_conditions = True


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    company = factory.Sequence(lambda n: f"Partner {n} GmbH")
    city = "Stuttgart"
    vat_id = "DE123456788"
    delivery_email = factory.Sequence(lambda n: f"lieferung{n}@partner.test")
    invoice_email = factory.Sequence(lambda n: f"rechnung{n}@partner.test")
    level = factory.SubFactory(PartnerLevelFactory)
    status_confirmed_on = date(2025, 1, 1)


class PartnerUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerUser

    user = factory.SubFactory(UserFactory)
    partner = factory.SubFactory(PartnerFactory)
    role = PartnerUser.ADMIN


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    partner = factory.SubFactory(PartnerFactory)
    company = factory.Sequence(lambda n: f"Kunde {n} AG")


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
