"""Factories for the core's parties — the one place their test data is built (STYLE 10)."""

from datetime import date

import factory
from django.contrib.auth import get_user_model

from vendorportal.parties.models import Customer, Partner, PartnerLevel, PartnerUser


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
