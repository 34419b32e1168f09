"""The base rates published by the Deutsche Bundesbank (§ 247 BGB) from 2024 on, and the
friendly reminders already sent before the dunning levels (issue 18) counted as their
Zahlungserinnerung, so no invoice is reminded twice."""

from datetime import timedelta
from decimal import Decimal

from django.db import migrations

PUBLISHED = [
    ("2024-01-01", "3.62"),
    ("2024-07-01", "3.37"),
    ("2025-01-01", "2.27"),
    ("2025-07-01", "1.27"),
]
REMINDER_DEADLINE_DAYS = 10  # billing.rules.DUNNING_DEADLINE_DAYS[1], as of this migration


def forwards(apps, schema_editor):
    from datetime import date

    BaseRate = apps.get_model("billing", "BaseRate")
    for valid_from, rate in PUBLISHED:
        BaseRate.objects.get_or_create(
            valid_from=date.fromisoformat(valid_from),
            defaults={"rate_percent": Decimal(rate), "source": "Deutsche Bundesbank"},
        )
    Invoice = apps.get_model("billing", "Invoice")
    DunningNotice = apps.get_model("billing", "DunningNotice")
    reminded = Invoice.objects.filter(reminder_sent_at__isnull=False).exclude(dunning_notices__level=1)
    for invoice in reminded.iterator():
        issued_on = invoice.reminder_sent_at.date()
        # The e-mail of the old reminder is the letter; no PDF was written for it.
        DunningNotice.objects.create(
            invoice=invoice,
            partner_id=invoice.partner_id,
            level=1,
            issued_on=issued_on,
            deadline=issued_on + timedelta(days=REMINDER_DEADLINE_DAYS),
            email=invoice.email,
            created_at=invoice.reminder_sent_at,
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0017_dunning_levels_base_rates")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
