"""The customer's DPA date and service contract move from Customer into support, every date kept."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("support", "0001_support_desk"), ("parties", "0003_partner_sepa_fields_moved_to_billing")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.migration
@pytest.mark.django_db(transaction=True)
def test_dpa_and_service_contract_dates_move_to_support():
    old = _migrate(BEFORE)
    Partner = old.get_model("parties", "Partner")
    Customer = old.get_model("parties", "Customer")
    partner = Partner.objects.create(company="Muster GmbH", delivery_email="l@m.test", invoice_email="r@m.test")
    both = Customer.objects.create(
        partner=partner,
        company="Bäckerei Brezel",
        dpa_on_file_since=date(2024, 1, 15),
        service_contract_until=date(2027, 12, 31),
    )
    contract_only = Customer.objects.create(
        partner=partner, company="Kanzlei", service_contract_until=date(2026, 6, 30)
    )
    nothing = Customer.objects.create(partner=partner, company="Praxis")

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    from support.models import CustomerSupportFacts

    facts = {f.customer_id: (f.dpa_on_file_since, f.service_contract_until) for f in CustomerSupportFacts.objects.all()}
    assert facts == {
        both.pk: (date(2024, 1, 15), date(2027, 12, 31)),
        contract_only.pk: (None, date(2026, 6, 30)),
    }
    assert nothing.pk not in facts
    assert CustomerSupportFacts.objects.get(customer_id=both.pk).history.count() == 1
    columns = [
        c.name for c in connection.introspection.get_table_description(connection.cursor(), "licensing_customer")
    ]
    assert "dpa_on_file_since" not in columns and "service_contract_until" not in columns
