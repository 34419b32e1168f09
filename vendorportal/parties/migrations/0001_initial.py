"""The parties move into the core without touching a row (issue 7).

Partners, partner levels, partner users and customers (with their history tables) were
created by ``licensing``'s migrations. This migration only tells Django's model state that
they now belong to ``parties``: the tables keep their names (``Meta.db_table``), so no
SQL runs (``SeparateDatabaseAndState`` without database operations). Their content types
are renamed so permissions, group rights and admin log entries stay attached.
``licensing.0007`` then points licensing's foreign keys here and drops its copies from
the state.
"""

import django.db.models.deletion
import simple_history.models
import vendorportal.parties.validators
from django.conf import settings
from django.db import migrations, models

MOVED_MODELS = ["partnerlevel", "partner", "historicalpartner", "partneruser", "customer", "historicalcustomer"]


def content_types_follow(apps, schema_editor, src="licensing", dst="parties"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED_MODELS:
        if not ContentType.objects.filter(app_label=dst, model=model).exists():
            ContentType.objects.filter(app_label=src, model=model).update(app_label=dst)


def content_types_back(apps, schema_editor):
    content_types_follow(apps, schema_editor, src="parties", dst="licensing")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        # The tables were created there.
        ("licensing", "0006_staff_group_names"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Partner",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("company", models.CharField(max_length=200, verbose_name="Firma")),
                        ("street", models.CharField(blank=True, max_length=200, verbose_name="Straße und Hausnummer")),
                        ("postal_code", models.CharField(blank=True, max_length=12, verbose_name="PLZ")),
                        ("city", models.CharField(blank=True, max_length=100, verbose_name="Ort")),
                        (
                            "country",
                            models.CharField(
                                default="DE",
                                help_text="ISO-Ländercode, z. B. DE, AT, CH.",
                                max_length=2,
                                validators=[vendorportal.parties.validators.validate_country_code],
                                verbose_name="Land",
                            ),
                        ),
                        (
                            "vat_id",
                            models.CharField(
                                blank=True,
                                help_text="Mit Länderkennung, z. B. DE123456789.",
                                max_length=20,
                                validators=[vendorportal.parties.validators.validate_vat_id],
                                verbose_name="USt-IdNr.",
                            ),
                        ),
                        (
                            "status_confirmed_on",
                            models.DateField(
                                blank=True,
                                help_text="Ohne Bestätigung gelten Endkundenpreise (ORD-5).",
                                null=True,
                                verbose_name="Partnerstatus bestätigt am",
                            ),
                        ),
                        (
                            "delivery_email",
                            models.EmailField(
                                help_text="Empfänger der Lieferscheine mit Lizenzschlüsseln (ORD-2).",
                                max_length=254,
                                verbose_name="Liefer-E-Mail (Standard)",
                            ),
                        ),
                        (
                            "invoice_email",
                            models.EmailField(max_length=254, verbose_name="Rechnungs-E-Mail (Standard)"),
                        ),
                        (
                            "prepayment_required",
                            models.BooleanField(default=False, verbose_name="Vorkasse erforderlich"),
                        ),
                        (
                            "sepa_iban",
                            models.CharField(
                                blank=True,
                                max_length=34,
                                validators=[vendorportal.parties.validators.validate_iban],
                                verbose_name="IBAN",
                            ),
                        ),
                        (
                            "sepa_bic",
                            models.CharField(
                                blank=True,
                                max_length=11,
                                validators=[vendorportal.parties.validators.validate_bic],
                                verbose_name="BIC",
                            ),
                        ),
                        (
                            "sepa_mandate_reference",
                            models.CharField(blank=True, max_length=35, verbose_name="Mandatsreferenz"),
                        ),
                        (
                            "sepa_mandate_signed_on",
                            models.DateField(blank=True, null=True, verbose_name="Mandat unterschrieben am"),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="angelegt")),
                    ],
                    options={
                        "verbose_name": "Partner",
                        "verbose_name_plural": "Partner",
                        "db_table": "licensing_partner",
                        "ordering": ["company"],
                    },
                ),
                migrations.CreateModel(
                    name="HistoricalCustomer",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        ("company", models.CharField(max_length=200, verbose_name="Firma")),
                        ("street", models.CharField(blank=True, max_length=200, verbose_name="Straße und Hausnummer")),
                        ("postal_code", models.CharField(blank=True, max_length=12, verbose_name="PLZ")),
                        ("city", models.CharField(blank=True, max_length=100, verbose_name="Ort")),
                        (
                            "country",
                            models.CharField(
                                default="DE",
                                help_text="ISO-Ländercode, z. B. DE, AT, CH.",
                                max_length=2,
                                validators=[vendorportal.parties.validators.validate_country_code],
                                verbose_name="Land",
                            ),
                        ),
                        (
                            "dpa_on_file_since",
                            models.DateField(
                                blank=True,
                                help_text="Ohne AV-Vertrag keine Fernwartung und keine Log-Analyse (SUP-4).",
                                null=True,
                                verbose_name="AV-Vertrag vorhanden seit",
                            ),
                        ),
                        (
                            "service_contract_until",
                            models.DateField(
                                blank=True,
                                help_text="Softwarepflege oder Updatevertrag zählen nicht als Service- und Wartungsvertrag (SUP-10).",
                                null=True,
                                verbose_name="Service- und Wartungsvertrag bis",
                            ),
                        ),
                        ("created_at", models.DateTimeField(blank=True, editable=False, verbose_name="angelegt")),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "partner",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="parties.partner",
                                verbose_name="Partner",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical Kunde",
                        "verbose_name_plural": "historical Kunden",
                        "db_table": "licensing_historicalcustomer",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="PartnerLevel",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=80, unique=True, verbose_name="Bezeichnung")),
                        (
                            "rank",
                            models.PositiveSmallIntegerField(
                                help_text="Höherer Rang = höhere Partnerstufe.", unique=True, verbose_name="Rang"
                            ),
                        ),
                        (
                            "discount_percent",
                            models.DecimalField(
                                decimal_places=2,
                                default=0,
                                help_text="Einkaufskondition für bestätigte Partner dieser Stufe (ORD-5).",
                                max_digits=5,
                                verbose_name="Partnerrabatt in %",
                            ),
                        ),
                        (
                            "grants_partner_conditions",
                            models.BooleanField(
                                default=False,
                                help_text="Partner ab dieser Stufe (z. B. „Certified“) erhalten Partnerkonditionen.",
                                verbose_name="Partnerkonditionen",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "Partnerstufe",
                        "verbose_name_plural": "Partnerstufen",
                        "db_table": "licensing_partnerlevel",
                        "ordering": ["rank"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("discount_percent__gte", 0), ("discount_percent__lte", 100)),
                                name="partnerlevel_discount_0_100",
                            )
                        ],
                    },
                ),
                migrations.AddField(
                    model_name="partner",
                    name="level",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="partners",
                        to="parties.partnerlevel",
                        verbose_name="Partnerstufe",
                    ),
                ),
                migrations.CreateModel(
                    name="HistoricalPartner",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        ("company", models.CharField(max_length=200, verbose_name="Firma")),
                        ("street", models.CharField(blank=True, max_length=200, verbose_name="Straße und Hausnummer")),
                        ("postal_code", models.CharField(blank=True, max_length=12, verbose_name="PLZ")),
                        ("city", models.CharField(blank=True, max_length=100, verbose_name="Ort")),
                        (
                            "country",
                            models.CharField(
                                default="DE",
                                help_text="ISO-Ländercode, z. B. DE, AT, CH.",
                                max_length=2,
                                validators=[vendorportal.parties.validators.validate_country_code],
                                verbose_name="Land",
                            ),
                        ),
                        (
                            "vat_id",
                            models.CharField(
                                blank=True,
                                help_text="Mit Länderkennung, z. B. DE123456789.",
                                max_length=20,
                                validators=[vendorportal.parties.validators.validate_vat_id],
                                verbose_name="USt-IdNr.",
                            ),
                        ),
                        (
                            "status_confirmed_on",
                            models.DateField(
                                blank=True,
                                help_text="Ohne Bestätigung gelten Endkundenpreise (ORD-5).",
                                null=True,
                                verbose_name="Partnerstatus bestätigt am",
                            ),
                        ),
                        (
                            "delivery_email",
                            models.EmailField(
                                help_text="Empfänger der Lieferscheine mit Lizenzschlüsseln (ORD-2).",
                                max_length=254,
                                verbose_name="Liefer-E-Mail (Standard)",
                            ),
                        ),
                        (
                            "invoice_email",
                            models.EmailField(max_length=254, verbose_name="Rechnungs-E-Mail (Standard)"),
                        ),
                        (
                            "prepayment_required",
                            models.BooleanField(default=False, verbose_name="Vorkasse erforderlich"),
                        ),
                        (
                            "sepa_iban",
                            models.CharField(
                                blank=True,
                                max_length=34,
                                validators=[vendorportal.parties.validators.validate_iban],
                                verbose_name="IBAN",
                            ),
                        ),
                        (
                            "sepa_bic",
                            models.CharField(
                                blank=True,
                                max_length=11,
                                validators=[vendorportal.parties.validators.validate_bic],
                                verbose_name="BIC",
                            ),
                        ),
                        (
                            "sepa_mandate_reference",
                            models.CharField(blank=True, max_length=35, verbose_name="Mandatsreferenz"),
                        ),
                        (
                            "sepa_mandate_signed_on",
                            models.DateField(blank=True, null=True, verbose_name="Mandat unterschrieben am"),
                        ),
                        ("created_at", models.DateTimeField(blank=True, editable=False, verbose_name="angelegt")),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "level",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="parties.partnerlevel",
                                verbose_name="Partnerstufe",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical Partner",
                        "verbose_name_plural": "historical Partner",
                        "db_table": "licensing_historicalpartner",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="PartnerUser",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[("admin", "Administrator"), ("member", "Mitarbeiter")],
                                default="member",
                                max_length=10,
                                verbose_name="Rolle",
                            ),
                        ),
                        (
                            "partner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="users",
                                to="parties.partner",
                                verbose_name="Partner",
                            ),
                        ),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="partner_user",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="Benutzer",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "Partner-Benutzer",
                        "verbose_name_plural": "Partner-Benutzer",
                        "db_table": "licensing_partneruser",
                    },
                ),
                migrations.CreateModel(
                    name="Customer",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("company", models.CharField(max_length=200, verbose_name="Firma")),
                        ("street", models.CharField(blank=True, max_length=200, verbose_name="Straße und Hausnummer")),
                        ("postal_code", models.CharField(blank=True, max_length=12, verbose_name="PLZ")),
                        ("city", models.CharField(blank=True, max_length=100, verbose_name="Ort")),
                        (
                            "country",
                            models.CharField(
                                default="DE",
                                help_text="ISO-Ländercode, z. B. DE, AT, CH.",
                                max_length=2,
                                validators=[vendorportal.parties.validators.validate_country_code],
                                verbose_name="Land",
                            ),
                        ),
                        (
                            "dpa_on_file_since",
                            models.DateField(
                                blank=True,
                                help_text="Ohne AV-Vertrag keine Fernwartung und keine Log-Analyse (SUP-4).",
                                null=True,
                                verbose_name="AV-Vertrag vorhanden seit",
                            ),
                        ),
                        (
                            "service_contract_until",
                            models.DateField(
                                blank=True,
                                help_text="Softwarepflege oder Updatevertrag zählen nicht als Service- und Wartungsvertrag (SUP-10).",
                                null=True,
                                verbose_name="Service- und Wartungsvertrag bis",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="angelegt")),
                        (
                            "partner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="customers",
                                to="parties.partner",
                                verbose_name="Partner",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "Kunde",
                        "verbose_name_plural": "Kunden",
                        "db_table": "licensing_customer",
                        "ordering": ["company"],
                        "indexes": [models.Index(fields=["partner", "company"], name="licensing_c_partner_8f9f34_idx")],
                    },
                ),
                migrations.AddIndex(
                    model_name="partner",
                    index=models.Index(fields=["company"], name="licensing_p_company_0a27a2_idx"),
                ),
                migrations.AddConstraint(
                    model_name="partneruser",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("role__in", ["admin", "member"])), name="partneruser_role_valid"
                    ),
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, content_types_back),
    ]
