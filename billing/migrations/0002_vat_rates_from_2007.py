"""VAT rates as data (GEN-2): the German standard rate of 19 % in force since 2007-01-01,
and the 0 % categories reverse charge (AE) and not taxable (O). Finance enters later
changes as new rows in the admin. Adds only missing rows; reversing removes nothing."""

from datetime import date

from django.db import migrations

RATES = [("S", "19.00"), ("AE", "0.00"), ("O", "0.00")]
SINCE = date(2007, 1, 1)


def add_rates(apps, schema_editor):
    VatRate = apps.get_model("billing", "VatRate")
    for category, percent in RATES:
        VatRate.objects.get_or_create(category=category, valid_from=SINCE, defaults={"percent": percent})


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(add_rates, migrations.RunPython.noop)]
