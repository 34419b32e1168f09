"""Migration 0012 (issue 16, decision ORD-1/ORD-4): an order's installation moves onto each of
its lines, with the order's delivery e-mail, and the order keeps no installation of its own."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("billing", "0011_historical_subscription_price_change"),
    ("licensing", "0011_installation_delivery_email"),
    ("parties", "0005_customer_delivery_email"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.migration
@pytest.mark.django_db(transaction=True)
def test_existing_orders_lines_get_the_orders_installation():
    old = _migrate(BEFORE)
    Partner = old.get_model("parties", "Partner")
    Customer = old.get_model("parties", "Customer")
    Installation = old.get_model("licensing", "Installation")
    Product = old.get_model("licensing", "Product")
    Order = old.get_model("billing", "Order")
    OrderLine = old.get_model("billing", "OrderLine")
    partner = Partner.objects.create(company="Muster GmbH", delivery_email="l@m.test", invoice_email="r@m.test")
    customer = Customer.objects.create(partner=partner, company="Bäckerei Brezel")
    first, second = (
        Installation.objects.create(
            customer=customer, vendor="starface", edition="appliance", identifier_kind="server_key", identifier=key
        )
        for key in ("AAAAA-AAAAA-AAAAA-AAAAA", "BBBBB-BBBBB-BBBBB-BBBBB")
    )
    intercom = Product.objects.create(article="T-INTERCOM", name="Intercom", kind="module", pricing_model="flat")
    holiday = Product.objects.create(article="T-HOLIDAY", name="Happy Holiday", kind="module", pricing_model="flat")
    orders = {}
    for inst, email in ((first, "kunde@brezel.test"), (second, "l@m.test")):
        order = Order.objects.create(
            partner=partner,
            installation=inst,
            order_date=date(2026, 11, 21),
            delivery_email=email,
            invoice_email="r@m.test",
        )
        for position, product in enumerate((intercom, holiday), start=1):
            OrderLine.objects.create(order=order, position=position, product=product, kind="purchase")
        orders[inst.pk] = order.pk

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    from billing.models import OrderLine as NewOrderLine

    lines = sorted(NewOrderLine.objects.values_list("order_id", "installation_id", "delivery_email"))
    assert lines == sorted(
        [(orders[first.pk], first.pk, "kunde@brezel.test")] * 2 + [(orders[second.pk], second.pk, "l@m.test")] * 2
    )
    columns = [c.name for c in connection.introspection.get_table_description(connection.cursor(), "billing_order")]
    assert "installation_id" not in columns
