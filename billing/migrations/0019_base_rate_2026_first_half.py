"""The base rate (Basiszinssatz, § 247 BGB) from 1 January 2026: 1,27 %, unchanged.

Deutsche Bundesbank, "Basiszinssatz bleibt ab 1. Januar 2026 bei 1,27 %", published in the
Bundesanzeiger on 24.12.2025 (the ECB's main refinancing rate stayed at 2,15 % since July 2025).
Entered like 0018: a rate finance already entered for that day is kept as it is, never
duplicated or overwritten. The rate from 1 July 2026 is not entered here: it is not known to
this migration, and dunning waits for it (the admin warns finance)."""

from datetime import date
from decimal import Decimal

from django.db import migrations

PUBLISHED = [
    ("2026-01-01", "1.27"),
]


def forwards(apps, schema_editor):
    BaseRate = apps.get_model("billing", "BaseRate")
    for valid_from, rate in PUBLISHED:
        BaseRate.objects.get_or_create(
            valid_from=date.fromisoformat(valid_from),
            defaults={"rate_percent": Decimal(rate), "source": "Deutsche Bundesbank"},
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0018_base_rates_published_legacy_reminders")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
