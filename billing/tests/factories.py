"""Test data of billing's tests — the one place it is built (STYLE 10)."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

from billing import services
from licensing.models import Product
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory

_subscription_numbers = itertools.count(1)


def make_partner(**kw):
    defaults = dict(
        company="Muster Kommunikation GmbH",
        street="Hauptstraße 12",
        postal_code="70173",
        city="Stuttgart",
        delivery_email="technik@muster.test",
        invoice_email="buchhaltung@muster.test",
    )
    return PartnerFactory(**{**defaults, **kw})


def make_order(partner, *lines, users=90, light=10):
    installation = InstallationFactory(
        customer=CustomerFactory(partner=partner), pbx_users=users, user_light_licenses=light
    )
    order = services.order_create(partner=partner)
    for article, kind, term in lines:
        services.order_line_add(
            order=order,
            installation=installation,
            product=Product.objects.get(article=article),
            kind=kind,
            term_months=term,
        )
    return order


def make_subscription(
    partner,
    *,
    article="CALLREC",
    monthly_price="44.75",
    term_start=date(2026, 12, 1),
    signed_on=None,
    minimum_months=12,
    billing_months=1,
    installation=None,
    **fields,
):
    """A subscription row as the subscription services would leave it (SUB-1: term start the
    1st after signing), written directly so the invoicing tests do not depend on them."""
    from billing import rules
    from billing.models import Subscription

    installation = installation or InstallationFactory(customer=CustomerFactory(partner=partner))
    signed_on = signed_on or term_start - timedelta(days=10)
    return Subscription.objects.create(
        reference=f"ABO-TEST-{next(_subscription_numbers):06d}",
        partner=partner,
        installation=installation,
        product=Product.objects.get(article=article),
        minimum_months=minimum_months,
        billing_months=billing_months,
        monthly_price=Decimal(monthly_price),
        signed_on=signed_on,
        term_start=term_start,
        minimum_end=rules.minimum_term_end(term_start, minimum_months),
        **fields,
    )


def make_service_plan(partner, *, plan="premium", yearly_price="828.00", starts_on=date(2026, 12, 1), **fields):
    from billing.models import ServicePlan

    installation = fields.pop("installation", None) or InstallationFactory(customer=CustomerFactory(partner=partner))
    return ServicePlan.objects.create(
        reference=f"SP-TEST-{next(_subscription_numbers):06d}",
        partner=partner,
        installation=installation,
        plan=plan,
        yearly_price=Decimal(yearly_price),
        signed_on=fields.pop("signed_on", starts_on),
        starts_on=starts_on,
        billed_from=fields.pop("billed_from", starts_on),
        **fields,
    )
