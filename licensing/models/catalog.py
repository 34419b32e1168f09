"""The catalog: products, bundles, price lists and prices, module and PBX versions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from licensing import rules
from licensing.constants import STARFACE, VENDOR_CHOICES
from licensing.validators import plausible_date_check, validate_plausible_date
from vendorportal.formats import format_date_de


class Product(models.Model):
    MODULE = "module"
    SERVICE_PLAN = "service_plan"
    CALL_ASSIST = "call_assist"
    SAAS = "saas"
    SYSTEM = "system"
    KIND_CHOICES = [
        (MODULE, _("Modul")),
        (SERVICE_PLAN, _("Service-Plan")),
        (CALL_ASSIST, _("PBX Call Assist-Artikel")),
        (SAAS, _("SaaS-Abonnement")),
        (SYSTEM, _("Auerswald-Systemlizenz")),
    ]
    TIERED = "tiered"
    FLAT = "flat"
    PER_STARTED_5_USERS = "per_started_5_users"
    PER_USER = "per_user"
    PER_USER_DAY = "per_user_day"
    PRICING_CHOICES = [
        (TIERED, _("nach Benutzerstaffel")),
        (FLAT, _("pauschal")),
        (PER_STARTED_5_USERS, _("je angefangene 5 Benutzer")),
        (PER_USER, _("je Benutzer")),
        (PER_USER_DAY, _("je Benutzer und Tag")),
    ]

    article = models.CharField(_("Artikelnummer"), max_length=32, unique=True)
    name = models.CharField(_("Bezeichnung"), max_length=120)
    kind = models.CharField(_("Art"), max_length=16, choices=KIND_CHOICES)
    pricing_model = models.CharField(_("Preismodell"), max_length=24, choices=PRICING_CHOICES)
    purchase_allowed = models.BooleanField(_("Kauf möglich"), default=True)
    subscription_allowed = models.BooleanField(_("Abo möglich"), default=True)
    subscription_only = models.BooleanField(_("nur im Abo"), default=False)
    nfr_allowed = models.BooleanField(
        _("NFR-Freischaltung"),
        default=True,
        help_text=_("Läuft auf Anlagen mit NFR-Lizenz ohne Modulschlüssel (LIC-7)."),
    )
    demo_allowed = models.BooleanField(_("Demo-Schlüssel möglich"), default=True, help_text=_("LIC-6"))
    active = models.BooleanField(_("aktiv"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("Produkt")
        verbose_name_plural = _("Produkte")
        constraints = [
            models.CheckConstraint(
                condition=Q(subscription_only=False) | Q(purchase_allowed=False, subscription_allowed=True),
                name="product_subscription_only_consistent",
            ),
            models.CheckConstraint(
                condition=Q(purchase_allowed=True) | Q(subscription_allowed=True),
                name="product_sellable_somehow",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.article})"

    @property
    def is_module(self) -> bool:
        return self.kind == self.MODULE


class Bundle(models.Model):
    """A named set of modules; all bought in one order give the bundle discount (ORD-3)."""

    name = models.CharField(_("Bezeichnung"), max_length=120, unique=True)
    products = models.ManyToManyField(
        Product, related_name="bundles", verbose_name=_("Module"), limit_choices_to={"kind": Product.MODULE}
    )
    active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Bundle")
        verbose_name_plural = _("Bundles")

    def __str__(self) -> str:
        return self.name


class PriceList(models.Model):
    """A price list valid from a date (CAT-1). A list may be partial: for each
    product the newest list valid on the order date that prices it applies."""

    name = models.CharField(_("Bezeichnung"), max_length=120)
    valid_from = models.DateField(_("gültig ab"), validators=[validate_plausible_date])
    is_sample = models.BooleanField(
        _("Beispielpreise"),
        default=False,
        help_text=_("Keine Herstellerangabe – nur für Demo und Test (CAT-8)."),
    )
    source = models.CharField(_("Quelle"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-valid_from", "name"]
        verbose_name = _("Preisliste")
        verbose_name_plural = _("Preislisten")
        constraints = [
            models.UniqueConstraint(fields=["name", "valid_from"], name="pricelist_name_valid_from_unique"),
            plausible_date_check("valid_from", "pricelist_valid_from_plausible"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (ab {format_date_de(self.valid_from)})"


class Price(models.Model):
    PURCHASE = "purchase"
    SUBSCRIPTION = "subscription"
    KIND_CHOICES = [(PURCHASE, _("Kauf")), (SUBSCRIPTION, _("Abo"))]
    ONCE = "once"
    MONTH = "month"
    YEAR = "year"
    UNIT_CHOICES = [(ONCE, _("einmalig")), (MONTH, _("pro Monat")), (YEAR, _("pro Jahr"))]
    SUBSCRIPTION_TERMS = (1, 12, 24, 36)

    price_list = models.ForeignKey(
        PriceList, on_delete=models.PROTECT, related_name="prices", verbose_name=_("Preisliste")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="prices", verbose_name=_("Produkt"))
    kind = models.CharField(_("Kauf / Abo"), max_length=12, choices=KIND_CHOICES)
    tier = models.CharField(
        _("Benutzerstaffel"), max_length=8, blank=True, choices=[("", "—")] + [(t, t) for t in rules.TIER_LABELS]
    )
    term_months = models.PositiveSmallIntegerField(_("Mindestlaufzeit (Monate)"), default=0, help_text=_("0 bei Kauf"))
    unit = models.CharField(_("Einheit"), max_length=8, choices=UNIT_CHOICES)
    amount = models.DecimalField(_("Preis netto (EUR)"), max_digits=12, decimal_places=2)
    history = HistoricalRecords()

    class Meta:
        ordering = ["price_list", "product__name", "kind", "term_months", "tier"]
        verbose_name = _("Preis")
        verbose_name_plural = _("Preise")
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "kind", "tier", "term_months"], name="price_unique_per_list"
            ),
            models.CheckConstraint(
                condition=Q(kind="purchase", term_months=0) | Q(kind="subscription", term_months__in=[1, 12, 24, 36]),
                name="price_term_matches_kind",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="price_not_negative"),
        ]

    def __str__(self) -> str:
        parts = [str(self.product.article), self.get_kind_display()]
        if self.term_months:
            parts.append(f"{self.term_months} M")
        if self.tier:
            parts.append(self.tier)
        return " / ".join(parts)

    def clean(self):
        super().clean()
        if self.product_id:
            if self.product.pricing_model == Product.TIERED and not self.tier:
                raise ValidationError({"tier": _("Staffelpreise brauchen eine Benutzerstaffel.")})
            if self.product.pricing_model != Product.TIERED and self.tier:
                raise ValidationError({"tier": _("Nur Produkte mit Staffelpreisen haben eine Benutzerstaffel.")})
            if self.kind == self.PURCHASE and not self.product.purchase_allowed:
                raise ValidationError({"kind": _("Dieses Produkt kann nicht gekauft werden (nur Abo).")})
            if self.kind == self.SUBSCRIPTION and not self.product.subscription_allowed:
                raise ValidationError({"kind": _("Dieses Produkt gibt es nicht im Abo.")})


class PbxVersion(models.Model):
    """A released PBX version (alpha/beta versions are never listed, LIC-5)."""

    vendor = models.CharField(_("Hersteller"), max_length=12, choices=VENDOR_CHOICES, default=STARFACE)
    number = models.CharField(_("Version"), max_length=20)
    released_on = models.DateField(_("veröffentlicht am"), validators=[validate_plausible_date])

    class Meta:
        ordering = ["vendor", "-released_on"]
        verbose_name = _("Anlagenversion")
        verbose_name_plural = _("Anlagenversionen")
        constraints = [
            models.UniqueConstraint(fields=["vendor", "number"], name="pbxversion_unique"),
            plausible_date_check("released_on", "pbxversion_released_on_plausible"),
        ]

    def __str__(self) -> str:
        return f"{self.get_vendor_display()} {self.number}"


class ModuleVersion(models.Model):
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("Modul"),
        limit_choices_to={"kind": Product.MODULE},
    )
    version = models.CharField(_("Version"), max_length=20)
    released_on = models.DateField(_("veröffentlicht am"), validators=[validate_plausible_date])
    is_paid_update = models.BooleanField(
        _("kostenpflichtiges Update"),
        default=False,
        help_text=_("Wer auf oder über diese Version aktualisiert, braucht einen neuen Schlüssel (LIC-4)."),
    )
    changelog = models.TextField(_("Änderungen"), blank=True)
    tested_with = models.ManyToManyField(
        PbxVersion,
        blank=True,
        related_name="module_versions",
        verbose_name=_("getestet mit"),
        help_text=_("Nur tatsächlich getestete Kombinationen gelten als kompatibel (LIC-5)."),
    )

    class Meta:
        ordering = ["product__name", "released_on"]
        verbose_name = _("Modulversion")
        verbose_name_plural = _("Modulversionen")
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="moduleversion_unique"),
            plausible_date_check("released_on", "moduleversion_released_on_plausible"),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} {self.version}"
