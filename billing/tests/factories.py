"""Test data of billing's tests — the one place it is built (STYLE 10)."""

from billing import services
from licensing.models import Product
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory


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
    order = services.order_create(partner=partner, installation=installation)
    for article, kind, term in lines:
        services.order_line_add(order=order, product=Product.objects.get(article=article), kind=kind, term_months=term)
    return order
