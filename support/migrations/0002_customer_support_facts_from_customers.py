"""Every customer's DPA date and service-contract end (the old ``Customer`` fields) become a
``CustomerSupportFacts`` row, before the parties migration removes those fields
(``run_before``). Customers with neither date get no row (nothing to keep). Each copied row
gets a creation entry in its history. Reversing copies the dates back into the re-added
fields; migrating forward again skips customers that already have a row.
"""

from django.db import migrations
from django.utils import timezone


def copy_facts(apps, schema_editor):
    Customer = apps.get_model("parties", "Customer")
    Facts = apps.get_model("support", "CustomerSupportFacts")
    HistoricalFacts = apps.get_model("support", "HistoricalCustomerSupportFacts")
    now = timezone.now()  # a migration runs outside the portal's clock
    have = set(Facts.objects.values_list("customer_id", flat=True))
    rows = (
        Customer.objects.exclude(dpa_on_file_since__isnull=True, service_contract_until__isnull=True)
        .order_by("pk")
        .values("pk", "dpa_on_file_since", "service_contract_until")
    )
    for row in rows:
        if row["pk"] in have:
            continue
        facts = Facts.objects.create(
            customer_id=row["pk"],
            dpa_on_file_since=row["dpa_on_file_since"],
            service_contract_until=row["service_contract_until"],
        )
        HistoricalFacts.objects.create(
            id=facts.pk,
            customer_id=facts.customer_id,
            dpa_on_file_since=facts.dpa_on_file_since,
            service_contract_until=facts.service_contract_until,
            history_date=now,
            history_type="+",
            history_change_reason="aus den Kundendaten übernommen",
        )


def copy_facts_back(apps, schema_editor):
    Customer = apps.get_model("parties", "Customer")
    Facts = apps.get_model("support", "CustomerSupportFacts")
    for facts in Facts.objects.all():
        Customer.objects.filter(pk=facts.customer_id).update(
            dpa_on_file_since=facts.dpa_on_file_since, service_contract_until=facts.service_contract_until
        )


class Migration(migrations.Migration):
    dependencies = [("support", "0001_support_desk"), ("parties", "0003_partner_sepa_fields_moved_to_billing")]
    run_before = [("parties", "0004_customer_support_facts_moved_to_support")]

    operations = [migrations.RunPython(copy_facts, copy_facts_back)]
