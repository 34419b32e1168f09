"""The customer's DPA date and service contract leave the core: they are support's own facts
now (``support.CustomerSupportFacts``). Support's migration
``0002_customer_support_facts_from_customers`` copies every date before this one removes
the columns (it declares ``run_before`` this migration, so the core does not depend on
support)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0003_partner_sepa_fields_moved_to_billing"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="customer",
            name="customer_dpa_on_file_since_plausible",
        ),
        migrations.RemoveConstraint(
            model_name="customer",
            name="customer_service_contract_until_plausible",
        ),
        migrations.RemoveField(
            model_name="customer",
            name="dpa_on_file_since",
        ),
        migrations.RemoveField(
            model_name="customer",
            name="service_contract_until",
        ),
        migrations.RemoveField(
            model_name="historicalcustomer",
            name="dpa_on_file_since",
        ),
        migrations.RemoveField(
            model_name="historicalcustomer",
            name="service_contract_until",
        ),
    ]
