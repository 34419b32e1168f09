"""Licensing's foreign keys now point at the core's parties; its own copies leave the state.

State only: the tables and their foreign-key constraints stay as they are (the parties
kept their table names), see ``vendorportal/parties/migrations/0001_initial.py``.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0006_staff_group_names"),
        ("parties", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="historicalinstallation",
                    name="customer",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="parties.customer",
                        verbose_name="Kunde",
                    ),
                ),
                migrations.AlterField(
                    model_name="installation",
                    name="customer",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="installations",
                        to="parties.customer",
                        verbose_name="Kunde",
                    ),
                ),
                migrations.RemoveField(
                    model_name="historicalcustomer",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalcustomer",
                    name="partner",
                ),
                migrations.RemoveField(
                    model_name="historicalpartner",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalpartner",
                    name="level",
                ),
                migrations.RemoveField(
                    model_name="partner",
                    name="level",
                ),
                migrations.RemoveField(
                    model_name="partneruser",
                    name="partner",
                ),
                migrations.AlterField(
                    model_name="insightownuse",
                    name="partner",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="insight_own_uses",
                        to="parties.partner",
                        verbose_name="Partner",
                    ),
                ),
                migrations.RemoveField(
                    model_name="partneruser",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="Customer",
                ),
                migrations.DeleteModel(
                    name="HistoricalCustomer",
                ),
                migrations.DeleteModel(
                    name="HistoricalPartner",
                ),
                migrations.DeleteModel(
                    name="PartnerLevel",
                ),
                migrations.DeleteModel(
                    name="Partner",
                ),
                migrations.DeleteModel(
                    name="PartnerUser",
                ),
            ],
        ),
    ]
