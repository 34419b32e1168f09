"""Partners (resellers), their portal logins and their end customers — the core's parties.

Moved out of ``licensing`` (issue 7) without touching a row: every model keeps its old
table (``Meta.db_table``), history tables included, and the indexes keep their names.
Areas keep their own facts about a party in their own models (a SEPA mandate in
billing — ``billing.SepaMandate`` — a DPA and the service contract in support —
``support.CustomerSupportFacts``); add no such fields here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from vendorportal import clock
from vendorportal.parties import validators
from vendorportal.validators import plausible_date_check, validate_plausible_date


class PartnerLevel(models.Model):
    """A STARFACE partner level (e.g. Registered, Certified, Gold), managed by staff.

    ``rank`` orders the levels so "Certified and above" is ``rank__gte``; the
    discount is the partner purchase condition of ORD-5.
    """

    name = models.CharField(_("Bezeichnung"), max_length=80, unique=True)
    rank = models.PositiveSmallIntegerField(_("Rang"), unique=True, help_text=_("Höherer Rang = höhere Partnerstufe."))
    discount_percent = models.DecimalField(
        _("Partnerrabatt in %"),
        max_digits=5,
        decimal_places=2,
        default=0,
        help_text=_("Einkaufskondition für bestätigte Partner dieser Stufe (ORD-5)."),
    )
    grants_partner_conditions = models.BooleanField(
        _("Partnerkonditionen"),
        default=False,
        help_text=_("Partner ab dieser Stufe (z. B. „Certified“) erhalten Partnerkonditionen."),
    )

    class Meta:
        db_table = "licensing_partnerlevel"
        ordering = ["rank"]
        verbose_name = _("Partnerstufe")
        verbose_name_plural = _("Partnerstufen")
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="partnerlevel_discount_0_100",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    company = models.CharField(_("Firma"), max_length=200)
    street = models.CharField(_("Straße und Hausnummer"), max_length=200, blank=True)
    postal_code = models.CharField(_("PLZ"), max_length=12, blank=True)
    city = models.CharField(_("Ort"), max_length=100, blank=True)
    country = models.CharField(
        _("Land"),
        max_length=2,
        default="DE",
        validators=[validators.validate_country_code],
        help_text=_("ISO-Ländercode, z. B. DE, AT, CH."),
    )

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        self.country = (self.country or "").strip().upper()


class Partner(Address):
    """A reseller that orders licences for its customers' installations."""

    vat_id = models.CharField(
        _("USt-IdNr."),
        max_length=20,
        blank=True,
        validators=[validators.validate_vat_id],
        help_text=_("Mit Länderkennung, z. B. DE123456789."),
    )
    level = models.ForeignKey(
        PartnerLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partners",
        verbose_name=_("Partnerstufe"),
    )
    status_confirmed_on = models.DateField(
        _("Partnerstatus bestätigt am"),
        null=True,
        blank=True,
        help_text=_("Ohne Bestätigung gelten Endkundenpreise (ORD-5)."),
        validators=[validate_plausible_date],
    )
    delivery_email = models.EmailField(
        _("Liefer-E-Mail (Standard)"), help_text=_("Empfänger der Lieferscheine mit Lizenzschlüsseln (ORD-2).")
    )
    invoice_email = models.EmailField(_("Rechnungs-E-Mail (Standard)"))
    prepayment_required = models.BooleanField(_("Vorkasse erforderlich"), default=False)
    # Issue 21: documents and e-mails to the partner (invoices, delivery notes, confirmations,
    # reminders, Softwarepflege notices, support mails) in this language; see docs/i18n.md.
    language = models.CharField(
        _("Sprache der Dokumente"),
        max_length=8,
        choices=[("de", "Deutsch"), ("en", "English")],
        default="de",
        help_text=_("Rechnungen, Lieferscheine, Bestätigungen und E-Mails an den Partner in dieser Sprache."),
    )
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
    history = HistoricalRecords(table_name="licensing_historicalpartner")

    class Meta:
        db_table = "licensing_partner"
        ordering = ["company"]
        verbose_name = _("Partner")
        verbose_name_plural = _("Partner")
        indexes = [models.Index(fields=["company"], name="licensing_p_company_0a27a2_idx")]
        constraints = [
            plausible_date_check("status_confirmed_on", "partner_status_confirmed_on_plausible"),
            models.CheckConstraint(condition=Q(language__in=["de", "en"]), name="partner_language_valid"),
        ]

    def __str__(self) -> str:
        return self.company

    def clean(self):
        super().clean()
        self.vat_id = validators.compact_vat_id(self.vat_id)


class PartnerUser(models.Model):
    """A login of the partner portal, belonging to exactly one partner."""

    ADMIN = "admin"
    MEMBER = "member"
    ROLE_CHOICES = [(ADMIN, _("Administrator")), (MEMBER, _("Mitarbeiter"))]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="partner_user",
        verbose_name=_("Benutzer"),
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="users", verbose_name=_("Partner"))
    role = models.CharField(_("Rolle"), max_length=10, choices=ROLE_CHOICES, default=MEMBER)

    class Meta:
        db_table = "licensing_partneruser"
        verbose_name = _("Partner-Benutzer")
        verbose_name_plural = _("Partner-Benutzer")
        constraints = [models.CheckConstraint(condition=Q(role__in=["admin", "member"]), name="partneruser_role_valid")]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.partner})"


class Customer(Address):
    """An end customer of one partner."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="customers", verbose_name=_("Partner"))
    delivery_email = models.EmailField(
        _("Liefer-E-Mail für Schlüssel"),
        blank=True,
        help_text=_(
            "Optional: Lieferscheine mit den Modulschlüsseln für Anlagen dieses Kunden gehen direkt hierhin (ORD-2); "
            "leer = an die Liefer-E-Mail der Bestellung."
        ),
    )
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
    history = HistoricalRecords(table_name="licensing_historicalcustomer")

    class Meta:
        db_table = "licensing_customer"
        ordering = ["company"]
        verbose_name = _("Kunde")
        verbose_name_plural = _("Kunden")
        indexes = [models.Index(fields=["partner", "company"], name="licensing_c_partner_8f9f34_idx")]

    def __str__(self) -> str:
        return self.company
