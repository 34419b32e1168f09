"""Test data of the support desk, built in one place (STYLE 10)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from billing.models import ServicePlan
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory, PartnerUserFactory
from support.models import CustomerSupportFacts, HourlyRate

_refs = itertools.count(1)

__all__ = [
    "CustomerFactory",
    "InstallationFactory",
    "PartnerFactory",
    "PartnerUserFactory",
    "make_plan",
    "make_facts",
    "make_rates",
]


def make_plan(installation, plan: str = "enterprise", starts_on: date = date(2026, 1, 1)) -> ServicePlan:
    return ServicePlan.objects.create(
        reference=f"SP-TEST-{next(_refs):04d}",
        partner=installation.customer.partner,
        installation=installation,
        plan=plan,
        yearly_price=Decimal("1548.00") if plan == "enterprise" else Decimal("828.00"),
        signed_on=starts_on,
        starts_on=starts_on,
        billed_from=starts_on,
    )


def make_facts(customer, *, dpa: date | None = None, contract_until: date | None = None) -> CustomerSupportFacts:
    return CustomerSupportFacts.objects.create(
        customer=customer, dpa_on_file_since=dpa, service_contract_until=contract_until
    )


def make_rates(normal: str = "120.00", discounted: str = "96.00", valid_from: date = date(2022, 9, 1)):
    return (
        HourlyRate.objects.create(kind=HourlyRate.NORMAL, amount=Decimal(normal), valid_from=valid_from),
        HourlyRate.objects.create(kind=HourlyRate.DISCOUNTED, amount=Decimal(discounted), valid_from=valid_from),
    )
