"""The SEPA mandate fields leave the partner: mandates are billing's own model now
(``billing.SepaMandate``). Billing's migration ``0005_sepa_mandates_from_partners`` copies
every mandate before this one removes the columns (it declares ``run_before`` this
migration, so the core does not depend on billing)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0002_plausible_dates"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="historicalpartner",
            name="sepa_bic",
        ),
        migrations.RemoveField(
            model_name="historicalpartner",
            name="sepa_iban",
        ),
        migrations.RemoveField(
            model_name="historicalpartner",
            name="sepa_mandate_reference",
        ),
        migrations.RemoveField(
            model_name="historicalpartner",
            name="sepa_mandate_signed_on",
        ),
        migrations.RemoveField(
            model_name="partner",
            name="sepa_bic",
        ),
        migrations.RemoveField(
            model_name="partner",
            name="sepa_iban",
        ),
        migrations.RemoveField(
            model_name="partner",
            name="sepa_mandate_reference",
        ),
        migrations.RemoveField(
            model_name="partner",
            name="sepa_mandate_signed_on",
        ),
    ]
