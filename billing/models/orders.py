"""VAT rates (GEN-2), orders and their priced lines (ORD-1…ORD-9)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from billing import rules
from billing.exceptions import IllegalOrderTransition
from billing.models._common import MONEY, PERCENT, _percent_0_100
from vendorportal import clock
from vendorportal.formats import format_date_de


class VatRate(models.Model):
    """A VAT rate of one EN 16931 category, valid from a day to a day (both inclusive).

    Rates are data (GEN-2): a change of the law is a new row, never an edit of the old
    one. Reverse charge (AE) and not taxable (O) are 0 % by definition.
    """

    CATEGORY_CHOICES = [
        (rules.VAT_CODE_STANDARD, _("S – Normalsatz (Inland)")),
        (rules.VAT_CODE_REVERSE_CHARGE, _("AE – Reverse Charge (EU)")),
        (rules.VAT_CODE_NOT_SUBJECT, _("O – nicht steuerbar (Drittland)")),
    ]

    category = models.CharField(_("Steuerkategorie"), max_length=2, choices=CATEGORY_CHOICES)
    percent = models.DecimalField(_("Steuersatz in %"), max_digits=5, decimal_places=2)
    valid_from = models.DateField(_("gültig ab"))
    valid_to = models.DateField(
        _("gültig bis"), null=True, blank=True, help_text=_("einschließlich; leer = unbefristet")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "-valid_from"]
        verbose_name = _("Umsatzsteuersatz")
        verbose_name_plural = _("Umsatzsteuersätze")
        constraints = [
            models.UniqueConstraint(fields=["category", "valid_from"], name="vatrate_category_valid_from_unique"),
            models.CheckConstraint(condition=_percent_0_100("percent"), name="vatrate_percent_0_100"),
            models.CheckConstraint(
                condition=Q(category=rules.VAT_CODE_STANDARD) | Q(percent=0), name="vatrate_zero_unless_standard"
            ),
            models.CheckConstraint(condition=Q(category__in=rules.VAT_CODES), name="vatrate_category_valid"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="vatrate_valid_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        until = f" – {format_date_de(self.valid_to)}" if self.valid_to else ""
        return f"{self.category} {self.percent} % (ab {format_date_de(self.valid_from)}{until})"

    def clean(self):
        super().clean()
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("Das Ende der Gültigkeit liegt vor ihrem Beginn.")})
        if self.category and self.category != rules.VAT_CODE_STANDARD and self.percent:
            raise ValidationError({"percent": _("Reverse Charge und nicht steuerbare Leistungen haben 0 %.")})
        if self.category and self.valid_from:
            # Two rates of one category must not be valid on the same day (no overlap).
            others = VatRate.objects.filter(category=self.category).exclude(pk=self.pk)
            if self.valid_to:
                others = others.filter(valid_from__lte=self.valid_to)
            others = others.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from))
            clash = others.first()
            if clash is not None:
                raise ValidationError(
                    _("Der Zeitraum überschneidet sich mit %(other)s; bitte dessen Ende vorher setzen.")
                    % {"other": clash}
                )


class Order(models.Model):
    """A partner's order (ORD-1), priced line by line (ORD-3…ORD-7). Decision ORD-1/ORD-4:
    an order may cover several installations of the partner's customers; each line names
    its installation (:attr:`OrderLine.installation`).

    State machine: draft → confirmed → fulfilled, or cancelled from draft or confirmed —
    the latter only until a key is generated (ORD-9, see :func:`billing.rules.cancel_refusal`).
    """

    DRAFT = rules.ORDER_DRAFT
    CONFIRMED = rules.ORDER_CONFIRMED
    FULFILLED = rules.ORDER_FULFILLED
    CANCELLED = rules.ORDER_CANCELLED
    STATE_CHOICES = [
        (DRAFT, _("Entwurf")),
        (CONFIRMED, _("bestätigt")),
        (FULFILLED, _("ausgeliefert")),
        (CANCELLED, _("storniert")),
    ]
    TRANSITIONS = {DRAFT: {CONFIRMED, CANCELLED}, CONFIRMED: {FULFILLED, CANCELLED}, FULFILLED: set(), CANCELLED: set()}

    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="orders", verbose_name=_("Partner")
    )
    order_date = models.DateField(_("Bestelldatum"), help_text=_("Die an diesem Tag gültige Preisliste gilt (CAT-1)."))
    delivery_email = models.EmailField(
        _("Liefer-E-Mail"),
        help_text=_(
            "Empfänger der Lieferscheine mit den Schlüsseln (ORD-2), soweit Installation oder Kunde keine eigene "
            "Liefer-E-Mail haben."
        ),
    )
    invoice_email = models.EmailField(_("Rechnungs-E-Mail"))
    state = models.CharField(_("Status"), max_length=10, choices=STATE_CHOICES, default=DRAFT)
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("angelegt von"),
    )
    # The portal's new-order form carries a one-time token: posting the same form twice
    # finds this order instead of creating a second one (STYLE 14, a unique constraint).
    portal_token = models.CharField(_("Formular-Token"), max_length=40, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-order_date", "-id"]
        verbose_name = _("Bestellung")
        verbose_name_plural = _("Bestellungen")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["draft", "confirmed", "fulfilled", "cancelled"]), name="order_state_valid"
            ),
            models.CheckConstraint(condition=~Q(delivery_email="") & ~Q(invoice_email=""), name="order_emails_given"),
            models.UniqueConstraint(
                fields=["partner", "portal_token"], condition=~Q(portal_token=""), name="order_portal_token_unique"
            ),
        ]
        indexes = [models.Index(fields=["partner", "state"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """The order's reference as partners and licences quote it: ``B-000042``."""
        return f"B-{self.pk:06d}" if self.pk else _("neue Bestellung")

    @property
    def is_draft(self) -> bool:
        return self.state == self.DRAFT

    def can_move_to(self, state: str) -> bool:
        return state in self.TRANSITIONS[self.state]

    def move_to(self, state: str) -> None:
        """Change state in memory; raises :class:`IllegalOrderTransition` when not allowed."""
        if not self.can_move_to(state):
            raise IllegalOrderTransition(
                _("Eine Bestellung im Status „%(old)s“ kann nicht „%(new)s“ werden.")
                % {"old": self.get_state_display(), "new": dict(self.STATE_CHOICES).get(state, state)},
                code="illegal_transition",
            )
        self.state = state


class OrderLine(models.Model):
    """One product for one installation of an order with its stored price breakdown
    (ORD-1, ORD-3…ORD-7, GEN-2, GEN-3). A module line is one licence (quantity 1: a licence
    is bound to one server key, LIC-1); only Softwarepflege lines count packs and user-days.

    ``list_price`` is the list price of one licence (for Teams Presence Sync: the started
    5-user blocks × the block price; for a tier upgrade: the difference of the tiers'
    prices); the discount percentages multiply (GEN-3); ``unit_net`` is rounded half up
    to cents and ``line_net`` = quantity × ``unit_net``.
    """

    PURCHASE = rules.PURCHASE
    SUBSCRIPTION = rules.SUBSCRIPTION
    KIND_CHOICES = [(PURCHASE, _("Kauf")), (SUBSCRIPTION, _("Abo"))]
    SUBSCRIPTION_TERMS = (1, 12, 24, 36)
    UPGRADE_NONE = ""
    UPGRADE_TIER = "tier"
    UPGRADE_VERSION = "version"
    UPGRADE_CHOICES = [
        (UPGRADE_NONE, _("kein Upgrade")),
        (UPGRADE_TIER, _("Staffel-Upgrade (ORD-6)")),
        (UPGRADE_VERSION, _("kostenpflichtiges Versions-Upgrade (ORD-7)")),
    ]
    PLAN_CHOICES = [
        ("", "—"),
        (rules.PLAN_FREE, "Free"),
        (rules.PLAN_BASIC, "Basic"),
        (rules.PLAN_PREMIUM, "Premium"),
        (rules.PLAN_ENTERPRISE, "Enterprise"),
    ]
    UNIT_CHOICES = [("once", _("einmalig")), ("month", _("pro Monat")), ("year", _("pro Jahr"))]

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("Bestellung"))
    position = models.PositiveSmallIntegerField(_("Pos."), default=1)
    installation = models.ForeignKey(
        "licensing.Installation", on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("Installation")
    )
    delivery_email = models.EmailField(
        _("Liefer-E-Mail"),
        default="",
        help_text=_(
            "Empfänger des Lieferscheins dieser Installation (ORD-2): Installation, sonst Kunde, sonst Bestellung."
        ),
    )
    product = models.ForeignKey(
        "licensing.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("Produkt")
    )
    kind = models.CharField(_("Kauf / Abo"), max_length=12, choices=KIND_CHOICES)
    term_months = models.PositiveSmallIntegerField(_("Mindestlaufzeit (Monate)"), default=0, help_text=_("0 bei Kauf"))
    tier = models.CharField(_("Benutzerstaffel"), max_length=8, blank=True)
    quantity = models.PositiveIntegerField(_("Anzahl Lizenzen"), default=1)
    users = models.PositiveIntegerField(
        _("Benutzer"), null=True, blank=True, help_text=_("nur Teams Presence Sync (CAT-4)")
    )
    as_package = models.BooleanField(
        _("als Paket"),
        default=False,
        help_text=_("Abo-Paket: gemeinsame Laufzeit und gemeinsamer Beginn, nur als Ganzes kündbar (ORD-4)."),
    )
    upgrade_kind = models.CharField(
        _("Upgrade"), max_length=8, choices=UPGRADE_CHOICES, blank=True, default=UPGRADE_NONE
    )
    upgrade_from = models.ForeignKey(
        "licensing.License",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Upgrade von Lizenz"),
    )
    service_plan = models.CharField(
        _("Service-Plan"), max_length=10, choices=PLAN_CHOICES, blank=True, help_text=_("für Versions-Upgrades (ORD-7)")
    )
    price_unit = models.CharField(_("Preiseinheit"), max_length=8, choices=UNIT_CHOICES, default="once")
    list_price = models.DecimalField(_("Listenpreis netto"), **MONEY, default=0)
    bundle_discount_percent = models.DecimalField(_("Bundle-Rabatt %"), **PERCENT)
    volume_discount_percent = models.DecimalField(_("Mengenrabatt %"), **PERCENT)
    partner_discount_percent = models.DecimalField(_("Partnerkondition %"), **PERCENT)
    upgrade_plan_percent = models.DecimalField(_("Upgrade-Rabatt Service-Plan %"), **PERCENT)
    upgrade_time_percent = models.DecimalField(_("Upgrade-Zeitrabatt %"), **PERCENT)
    unit_net = models.DecimalField(_("Einzelpreis netto"), **MONEY, default=0)
    line_net = models.DecimalField(_("Gesamt netto"), **MONEY, default=0)
    licenses = models.ManyToManyField(
        "licensing.License", blank=True, related_name="order_lines", verbose_name=_("erzeugte Lizenzen")
    )
    # Softwarepflege lines (PBX Call Assist 5, SWP-3…SWP-7): one line per article of
    # licensing's quote, priced by that quote (not by the module pricing), booked through
    # licensing's maintenance_confirm when the order is confirmed.
    SWP_NONE = ""
    SWP_ADD_USERS = "add_users"
    SWP_RENEWAL = "renewal"
    SWP_CHOICES = [
        (SWP_NONE, "—"),
        (SWP_ADD_USERS, _("Softwarepflege: Benutzer hinzufügen")),
        (SWP_RENEWAL, _("Softwarepflege: Verlängerung")),
    ]
    swp_kind = models.CharField(_("Softwarepflege-Angebot"), max_length=12, choices=SWP_CHOICES, blank=True)
    swp_users = models.PositiveIntegerField(_("Benutzer (Softwarepflege)"), null=True, blank=True)
    swp_months = models.PositiveSmallIntegerField(_("Laufzeit Softwarepflege (Monate)"), null=True, blank=True)
    period_start = models.DateField(_("Leistung von"), null=True, blank=True)
    period_end = models.DateField(_("Leistung bis"), null=True, blank=True, help_text=_("einschließlich"))
    billing_months = models.PositiveSmallIntegerField(
        _("Abrechnungsintervall"),
        choices=[
            (rules.BILL_MONTHLY, _("monatlich")),
            (rules.BILL_QUARTERLY, _("vierteljährlich")),
            (rules.BILL_HALF_YEARLY, _("halbjährlich")),
            (rules.BILL_YEARLY, _("jährlich")),
            (rules.BILL_WHOLE_TERM, _("gesamte Mindestlaufzeit im Voraus")),
        ],
        default=rules.BILL_MONTHLY,
        help_text=_("nur Abos (SUB-3): in Monaten; 0 = die ganze Mindestlaufzeit im Voraus"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "position", "id"]
        verbose_name = _("Bestellposition")
        verbose_name_plural = _("Bestellpositionen")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_at_least_1"),
            models.CheckConstraint(
                condition=Q(users__isnull=True) | Q(users__gte=1), name="orderline_users_at_least_1"
            ),
            models.CheckConstraint(
                condition=Q(list_price__gte=0) & Q(unit_net__gte=0) & Q(line_net__gte=0),
                name="orderline_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    _percent_0_100("bundle_discount_percent")
                    & _percent_0_100("volume_discount_percent")
                    & _percent_0_100("partner_discount_percent")
                    & _percent_0_100("upgrade_plan_percent")
                    & _percent_0_100("upgrade_time_percent")
                ),
                name="orderline_percents_0_100",
            ),
            models.CheckConstraint(
                condition=Q(kind="purchase", term_months=0) | Q(kind="subscription", term_months__in=[1, 12, 24, 36]),
                name="orderline_term_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(upgrade_kind="", upgrade_from__isnull=True)
                | Q(upgrade_kind__in=["tier", "version"], upgrade_from__isnull=False, kind="purchase"),
                name="orderline_upgrade_consistent",
            ),
            models.CheckConstraint(
                condition=Q(upgrade_kind="version") | Q(service_plan=""), name="orderline_plan_only_for_version_upgrade"
            ),
            models.CheckConstraint(
                condition=Q(as_package=False) | Q(kind="subscription"), name="orderline_package_only_subscription"
            ),
            models.CheckConstraint(
                condition=Q(billing_months__in=[1, 3, 6, 12, 0]) & (Q(kind="subscription") | Q(billing_months=1)),
                name="orderline_billing_interval_valid",
            ),
            # ORD-6 decision: a module is bought at most once per installation — so once per
            # installation and order.
            models.UniqueConstraint(
                fields=["order", "installation", "product"],
                condition=Q(upgrade_kind=""),
                name="orderline_product_once_per_installation",
            ),
            models.UniqueConstraint(
                fields=["order", "upgrade_from"],
                condition=Q(upgrade_from__isnull=False),
                name="orderline_upgrade_once_per_order",
            ),
            models.CheckConstraint(
                condition=Q(swp_kind="") | Q(swp_kind__in=["add_users", "renewal"], kind="purchase", upgrade_kind=""),
                name="orderline_swp_is_plain_purchase",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=models.F("period_start")),
                name="orderline_period_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.reference} / {self.position}: {self.product.name}"

    def clean(self):
        super().clean()
        if self.installation_id and self.order_id and self.order.partner_id:
            if self.installation.customer.partner_id != self.order.partner_id:
                raise ValidationError({"installation": _("Die Installation gehört zu keinem Kunden dieses Partners.")})

    @property
    def is_upgrade(self) -> bool:
        return self.upgrade_kind != self.UPGRADE_NONE

    @property
    def is_maintenance(self) -> bool:
        """A Softwarepflege line of licensing's Call Assist quote."""
        return self.swp_kind != self.SWP_NONE
