"""Billing's models: VAT rates (GEN-2), orders and their priced lines (ORD-1…ORD-9).

Fields, constraints and state transitions only (STYLE 4): pricing is in
:mod:`billing.pricing` over :mod:`billing.rules`, writes go through :mod:`billing.services`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from billing import rules
from billing.exceptions import IllegalInvoiceTransition, IllegalOrderTransition, InvoiceImmutable, SepaMandateRefused
from vendorportal import clock
from vendorportal.formats import format_date_de
from vendorportal.parties import validators as party_validators

PERCENT = {"max_digits": 5, "decimal_places": 2, "default": 0}
MONEY = {"max_digits": 12, "decimal_places": 2}
HALF_CENT = models.Value(Decimal("0.005"), output_field=models.DecimalField(max_digits=4, decimal_places=3))


def _percent_0_100(field: str) -> Q:
    return Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100})


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
    """A partner's order for one installation (ORD-1), priced line by line (ORD-3…ORD-7).

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
    installation = models.ForeignKey(
        "licensing.Installation", on_delete=models.PROTECT, related_name="orders", verbose_name=_("Installation")
    )
    order_date = models.DateField(_("Bestelldatum"), help_text=_("Die an diesem Tag gültige Preisliste gilt (CAT-1)."))
    delivery_email = models.EmailField(
        _("Liefer-E-Mail"), help_text=_("Empfänger des Lieferscheins mit den Schlüsseln (ORD-2).")
    )
    invoice_email = models.EmailField(_("Rechnungs-E-Mail"))
    state = models.CharField(_("Status"), max_length=10, choices=STATE_CHOICES, default=DRAFT)
    created_at = models.DateTimeField(_("angelegt"), auto_now_add=True)
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
    """One product of an order with its stored price breakdown (ORD-3…ORD-7, GEN-2, GEN-3).

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
            # ORD-6 decision: a module is bought at most once per installation — so once per order.
            models.UniqueConstraint(
                fields=["order", "product"], condition=Q(upgrade_kind=""), name="orderline_product_once_per_order"
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

    @property
    def is_upgrade(self) -> bool:
        return self.upgrade_kind != self.UPGRADE_NONE

    @property
    def is_maintenance(self) -> bool:
        """A Softwarepflege line of licensing's Call Assist quote."""
        return self.swp_kind != self.SWP_NONE


# --- Invoices and credit notes (INV-1…INV-4, GEN-2, ORD-8) --------------------------------


def invoice_pdf_path(instance: Invoice, filename: str) -> str:
    # Private: MEDIA_ROOT has no URL; staff and the partner download through checked views
    # (vendorportal.stored_files). The year is the number's year.
    return f"invoices/{instance.issue_date:%Y}/{instance.number}.pdf"


class InvoiceQuerySet(models.QuerySet):
    """The immutability of issued documents (INV-1) for bulk writes too: ``update()`` and
    ``delete()`` run no ``save()``/``delete()`` of the model, so they check here.

    ``update()`` may change only the payment bookkeeping the services do in bulk —
    :data:`Invoice.BULK_MUTABLE_FIELDS` (state, paid amount, reminder timestamp) — and the
    PDF of rows that have none yet; anything else raises :class:`InvoiceImmutable`.
    ``delete()`` of any row raises (every row is an issued document). ``bulk_update()``
    goes through ``update()`` and is checked too. ``Model.save()`` uses Django's internal
    ``_update`` and has its own field-by-field check.
    """

    def update(self, **kwargs):
        refused = set(kwargs) - Invoice.BULK_MUTABLE_FIELDS - {"pdf"}
        if refused:
            raise InvoiceImmutable(
                _(
                    "Ausgestellte Rechnungen und Gutschriften können nicht mehr geändert werden (%(fields)s). "
                    "Korrekturen erfolgen per Gutschrift."
                )
                % {"fields": ", ".join(sorted(refused))},
                code="immutable",
            )
        if "pdf" in kwargs and self.exclude(pdf="").exists():
            raise InvoiceImmutable(_("Das gespeicherte PDF einer Rechnung wird nie ersetzt."), code="immutable")
        return super().update(**kwargs)

    def delete(self):
        if self.exists():
            raise InvoiceImmutable(_("Rechnungen und Gutschriften werden nie gelöscht (INV-1)."), code="no_delete")
        return super().delete()

    delete.queryset_only = True


class InvoiceLineQuerySet(models.QuerySet):
    """Lines of issued documents are never changed or deleted, in bulk neither (INV-1)."""

    def update(self, **kwargs):
        raise InvoiceImmutable(_("Positionen einer ausgestellten Rechnung werden nie geändert."), code="immutable")

    def delete(self):
        if self.exists():
            raise InvoiceImmutable(_("Positionen einer ausgestellten Rechnung werden nie gelöscht."), code="no_delete")
        return super().delete()

    delete.queryset_only = True


class Invoice(models.Model):
    """An issued invoice (Rechnung) or credit note (Gutschrift), INV-1.

    There are no drafts: a row is written when the document is issued, with its number
    (``RE-2026-000123`` / ``GS-2026-000007``), the buyer as it was then and the totals
    by GEN-2. From then on it is immutable (:meth:`save` refuses changes to anything but
    :data:`MUTABLE_FIELDS`) and never deleted (PROTECT; nobody has the delete
    permission): corrections are credit notes that reference it.

    State machine: open → paid / overdue / cancelled; overdue → paid / cancelled. A
    fully credited invoice is cancelled (shown "storniert").
    """

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    KIND_CHOICES = [(INVOICE, _("Rechnung")), (CREDIT_NOTE, _("Gutschrift"))]
    OPEN = "open"
    PAID = "paid"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"
    STATE_CHOICES = [(OPEN, _("offen")), (PAID, _("bezahlt")), (OVERDUE, _("überfällig")), (CANCELLED, _("storniert"))]
    TRANSITIONS = {OPEN: {PAID, OVERDUE, CANCELLED}, OVERDUE: {PAID, CANCELLED}, PAID: {CANCELLED}, CANCELLED: set()}
    MEANS_CHOICES = [
        (rules.TRANSFER, _("Überweisung")),
        (rules.DIRECT_DEBIT, _("SEPA-Lastschrift")),
        (rules.PREPAYMENT, _("Vorkasse")),
    ]
    # What may change on an issued document: its payment state and the reminder, and
    # the stored PDF once (from none to the file rendered at issue).
    MUTABLE_FIELDS = frozenset({"state", "paid_amount", "reminder_sent_at", "pdf"})
    # What a queryset's update() may write (InvoiceQuerySet): the payment state the daily
    # overdue job moves and the reminder it stamps, payments.
    BULK_MUTABLE_FIELDS = frozenset({"state", "paid_amount", "reminder_sent_at"})

    kind = models.CharField(_("Art"), max_length=12, choices=KIND_CHOICES, default=INVOICE)
    number = models.CharField(_("Nummer"), max_length=20, unique=True)
    issue_date = models.DateField(_("Rechnungsdatum"))
    issued_at = models.DateTimeField(_("ausgestellt am"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ausgestellt von"),
    )
    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="invoices", verbose_name=_("Partner")
    )
    # The buyer as the document names it on the issue date (a later change of the
    # partner's address does not change an issued invoice).
    buyer_name = models.CharField(_("Käufer"), max_length=200)
    buyer_street = models.CharField(_("Straße"), max_length=200, blank=True)
    buyer_postal_code = models.CharField(_("PLZ"), max_length=20, blank=True)
    buyer_city = models.CharField(_("Ort"), max_length=100, blank=True)
    buyer_country = models.CharField(_("Land"), max_length=2)
    buyer_vat_id = models.CharField(_("USt-IdNr. des Käufers"), max_length=20, blank=True)
    email = models.EmailField(_("Rechnungs-E-Mail"))
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices", verbose_name=_("Bestellung")
    )
    credited_invoice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("gutgeschriebene Rechnung"),
    )
    reason = models.CharField(_("Grund der Gutschrift"), max_length=300, blank=True)
    vat_category = models.CharField(_("Steuerkategorie"), max_length=2, choices=VatRate.CATEGORY_CHOICES)
    vat_note = models.TextField(_("Steuerhinweis"), blank=True)
    net_total = models.DecimalField(_("netto"), **MONEY)
    vat_total = models.DecimalField(_("USt."), **MONEY)
    gross_total = models.DecimalField(_("brutto"), **MONEY)
    payment_means = models.CharField(_("Zahlungsart"), max_length=12, choices=MEANS_CHOICES, default=rules.TRANSFER)
    due_date = models.DateField(_("fällig am"), null=True, blank=True)
    payment_terms = models.CharField(_("Zahlungsbedingungen"), max_length=300, blank=True)
    mandate_reference = models.CharField(_("Mandatsreferenz"), max_length=35, blank=True)
    debtor_iban = models.CharField(_("IBAN des Zahlers"), max_length=34, blank=True)
    state = models.CharField(_("Status"), max_length=10, choices=STATE_CHOICES, default=OPEN)
    paid_amount = models.DecimalField(_("bezahlt"), **MONEY, default=0)
    pdf = models.FileField(_("PDF"), upload_to=invoice_pdf_path, blank=True, editable=False)
    reminder_sent_at = models.DateTimeField(_("Zahlungserinnerung geschrieben"), null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-number"]
        verbose_name = _("Rechnung / Gutschrift")
        verbose_name_plural = _("Rechnungen und Gutschriften")
        permissions = [
            ("credit_invoice", _("Gutschrift erstellen")),
            ("pay_invoice", _("Zahlung erfassen")),
            ("resend_invoice", _("Rechnung erneut senden")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["invoice", "credit_note"]), name="invoice_kind_valid"),
            models.CheckConstraint(
                condition=Q(state__in=["open", "paid", "overdue", "cancelled"]), name="invoice_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(net_total__gte=0) & Q(vat_total__gte=0) & Q(paid_amount__gte=0),
                name="invoice_amounts_not_negative",
            ),
            # gross = net + VAT to the cent. Written as a half-cent band: SQLite keeps
            # decimals as binary floats (9.77 + 1.86 ≠ 11.63 there); on PostgreSQL's exact
            # numeric(12,2) the band holds only the exact sum.
            models.CheckConstraint(
                condition=Q(gross_total__gte=models.F("net_total") + models.F("vat_total") - HALF_CENT)
                & Q(gross_total__lte=models.F("net_total") + models.F("vat_total") + HALF_CENT),
                name="invoice_gross_is_net_plus_vat",
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__lte=models.F("gross_total")), name="invoice_paid_not_above"
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credited_invoice__isnull=True)
                | Q(kind="credit_note", credited_invoice__isnull=False),
                name="invoice_credit_note_references_invoice",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", number__startswith="RE-") | Q(kind="credit_note", number__startswith="GS-"),
                name="invoice_number_prefix_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(vat_category="S") | Q(vat_total=0), name="invoice_no_vat_unless_standard"
            ),
            models.CheckConstraint(
                condition=~Q(payment_means="direct_debit") | ~Q(mandate_reference=""),
                name="invoice_direct_debit_has_mandate",
            ),
            models.CheckConstraint(
                condition=Q(payment_means__in=["transfer", "direct_debit", "prepayment"]),
                name="invoice_payment_means_valid",
            ),
            # One invoice per order (STYLE 14): confirming twice cannot invoice twice.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="invoice", order__isnull=False), name="invoice_once_per_order"
            ),
        ]
        indexes = [models.Index(fields=["state", "due_date"]), models.Index(fields=["issue_date"])]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        """Refuse any change of an issued document but its state, payments, reminder and
        the first storing of its PDF (INV-1)."""
        if self.pk is not None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values().first()
            if stored is not None:
                changed = {
                    f.attname
                    for f in self._meta.concrete_fields
                    if f.attname in stored and _db_value(f, self) != stored[f.attname]
                }
                if not stored["pdf"]:
                    changed.discard("pdf")  # the PDF is stored once, never replaced
                refused = changed - (self.MUTABLE_FIELDS - {"pdf"})
                if refused:
                    raise InvoiceImmutable(
                        _(
                            "%(number)s ist ausgestellt und kann nicht mehr geändert werden (%(fields)s). "
                            "Korrekturen erfolgen per Gutschrift."
                        )
                        % {"number": stored["number"], "fields": ", ".join(sorted(refused))},
                        code="immutable",
                    )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise InvoiceImmutable(_("Rechnungen und Gutschriften werden nie gelöscht (INV-1)."), code="no_delete")

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.CREDIT_NOTE

    def move_to(self, state: str) -> None:
        """Change the state in memory; raises :class:`IllegalInvoiceTransition` when not allowed."""
        if state == self.state:
            return
        if state not in self.TRANSITIONS[self.state]:
            raise IllegalInvoiceTransition(
                _("Eine Rechnung im Status „%(old)s“ kann nicht „%(new)s“ werden.")
                % {"old": self.get_state_display(), "new": dict(self.STATE_CHOICES).get(state, state)},
                code="illegal_transition",
            )
        self.state = state


def _db_value(field, obj):
    value = field.value_from_object(obj)
    if isinstance(field, models.FileField):
        return value.name or ""
    return value


class InvoiceLine(models.Model):
    """One line of an issued invoice or credit note (INV-2): immutable like its document."""

    UNIT_CHOICES = [
        ("C62", _("Stück")),
        ("MON", _("Monat")),
        ("ANN", _("Jahr")),
        ("DAY", _("Tag")),
        ("HUR", _("Stunde")),
    ]

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines", verbose_name=_("Rechnung"))
    position = models.PositiveSmallIntegerField(_("Pos."))
    article = models.CharField(_("Artikel"), max_length=40)
    description = models.CharField(_("Beschreibung"), max_length=300)
    quantity = models.DecimalField(_("Menge"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("Einheit"), max_length=3, choices=UNIT_CHOICES, default="C62")
    unit_price = models.DecimalField(_("Einzelpreis netto"), **MONEY)
    net_total = models.DecimalField(_("Gesamt netto"), **MONEY)
    vat_category = models.CharField(_("Steuerkategorie"), max_length=2, choices=VatRate.CATEGORY_CHOICES)
    vat_percent = models.DecimalField(_("USt. %"), max_digits=5, decimal_places=2)
    period_start = models.DateField(_("Leistung von"), null=True, blank=True)
    period_end = models.DateField(_("Leistung bis"), null=True, blank=True, help_text=_("einschließlich"))
    order_line = models.ForeignKey(
        OrderLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
        verbose_name=_("Bestellposition"),
    )
    credited_line = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_lines",
        verbose_name=_("gutgeschriebene Position"),
    )

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "position"]
        verbose_name = _("Rechnungsposition")
        verbose_name_plural = _("Rechnungspositionen")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoiceline_position_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoiceline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(net_total__gte=0), name="invoiceline_amounts_not_negative"
            ),
            models.CheckConstraint(condition=_percent_0_100("vat_percent"), name="invoiceline_vat_percent_0_100"),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=models.F("period_start")),
                name="invoiceline_period_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} / {self.position}: {self.description}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise InvoiceImmutable(_("Positionen einer ausgestellten Rechnung werden nie geändert."), code="immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise InvoiceImmutable(_("Positionen einer ausgestellten Rechnung werden nie gelöscht."), code="no_delete")


class Payment(models.Model):
    """A payment staff recorded against an invoice (full or partial)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("Rechnung"))
    amount = models.DecimalField(_("Betrag"), **MONEY)
    paid_on = models.DateField(_("bezahlt am"))
    recorded_at = models.DateTimeField(_("erfasst am"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("erfasst von"),
    )

    class Meta:
        ordering = ["invoice", "paid_on", "id"]
        verbose_name = _("Zahlung")
        verbose_name_plural = _("Zahlungen")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.invoice.number}: {self.amount} €"


# --- SEPA direct debit (ORD-8) ------------------------------------------------

# SEPA core direct debits exist since 2009-11-02; a mandate signed earlier is a typo.
SEPA_START = date(2009, 11, 2)
# Mandate reference (Mandatsreferenz): at most 35 characters of the SEPA set, no spaces
# (DK rules for MndtId), not starting with "/" and without "//" (EPC identifier rule).
MANDATE_REFERENCE_RE = re.compile(r"(?!/)(?!.*//)[A-Za-z0-9/\-?:().,'+]{1,35}")


def validate_mandate_reference(value: str) -> None:
    if not MANDATE_REFERENCE_RE.fullmatch(value or ""):
        raise ValidationError(
            _(
                "„%(value)s“ ist keine gültige Mandatsreferenz: höchstens 35 Zeichen aus A–Z, a–z, 0–9 und / - ? : ( ) . , ' + – ohne Leerzeichen, nicht mit „/“ beginnend und ohne „//“."
            ),
            params={"value": value},
            code="invalid_mandate_reference",
        )


def group_iban(iban: str) -> str:
    """``DE89370400440532013000`` → ``DE89 3704 0044 0532 0130 00`` (as printed and shown)."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


class SepaMandate(models.Model):
    """A partner's SEPA core direct-debit mandate (SEPA-Lastschriftmandat, ORD-8).

    A partner has at most one active mandate (``revoked_on`` empty) — a partial unique
    constraint. The sequence type is FRST until the first collection under the mandate
    was submitted in a batch, then RCUR (:meth:`mark_submitted`, called by
    :func:`billing.services.sepa_batch_create`). IBAN and BIC are stored compact.
    """

    FRST = "FRST"
    RCUR = "RCUR"
    SEQUENCE_CHOICES = [(FRST, _("FRST – Erstlastschrift")), (RCUR, _("RCUR – Folgelastschrift"))]

    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="sepa_mandates", verbose_name=_("Partner")
    )
    iban = models.CharField(_("IBAN"), max_length=34, validators=[party_validators.validate_iban])
    bic = models.CharField(
        _("BIC"),
        max_length=11,
        blank=True,
        validators=[party_validators.validate_bic],
        help_text=_("Bei deutschen IBANs optional."),
    )
    account_holder = models.CharField(
        _("Kontoinhaber"), max_length=70, blank=True, help_text=_("leer = der Partner selbst")
    )
    reference = models.CharField(
        _("Mandatsreferenz"),
        max_length=35,
        unique=True,
        validators=[validate_mandate_reference],
        error_messages={"unique": _("Diese Mandatsreferenz ist schon vergeben.")},
    )
    signed_on = models.DateField(_("unterschrieben am"))
    sequence_type = models.CharField(
        _("Sequenztyp"),
        max_length=4,
        choices=SEQUENCE_CHOICES,
        default=FRST,
        editable=False,
        help_text=_("FRST bis zur ersten eingereichten Lastschrift, danach RCUR."),
    )
    revoked_on = models.DateField(_("widerrufen am"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("angelegt"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["partner", "-signed_on", "-id"]
        verbose_name = _("SEPA-Lastschriftmandat")
        verbose_name_plural = _("SEPA-Lastschriftmandate")
        constraints = [
            models.UniqueConstraint(
                fields=["partner"],
                condition=Q(revoked_on__isnull=True),
                name="sepamandate_one_active_per_partner",
                violation_error_message=_(
                    "Dieser Partner hat schon ein aktives SEPA-Mandat; bitte das alte zuerst widerrufen."
                ),
            ),
            models.CheckConstraint(condition=Q(sequence_type__in=["FRST", "RCUR"]), name="sepamandate_sequence_valid"),
            models.CheckConstraint(condition=Q(signed_on__gte=SEPA_START), name="sepamandate_signed_after_sepa_start"),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_on__gte=models.F("signed_on")),
                name="sepamandate_revoked_after_signed",
            ),
            models.CheckConstraint(condition=~Q(iban="") & ~Q(reference=""), name="sepamandate_iban_reference_given"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.partner})"

    @property
    def is_active(self) -> bool:
        return self.revoked_on is None

    @property
    def iban_grouped(self) -> str:
        return group_iban(self.iban)

    def clean(self):
        super().clean()
        self.iban = party_validators.compact_iban(self.iban)
        self.bic = (self.bic or "").replace(" ", "").upper()
        self.reference = (self.reference or "").strip()
        errors = {}
        if self.iban and not self.iban.startswith("DE") and not self.bic:
            errors["bic"] = _("Für eine IBAN außerhalb Deutschlands bitte den BIC angeben.")
        if self.signed_on:
            if self.signed_on > clock.today():
                errors["signed_on"] = _("Das Unterschriftsdatum liegt in der Zukunft.")
            elif self.signed_on < SEPA_START:
                errors["signed_on"] = _("SEPA-Lastschriften gibt es erst seit dem 02.11.2009.")
        if errors:
            raise ValidationError(errors)

    def mark_submitted(self) -> None:
        """The first collection was submitted: later ones are recurring (FRST → RCUR), in memory."""
        self.sequence_type = self.RCUR

    def revoke(self, on: date) -> None:
        """Revoke in memory; raises :class:`SepaMandateRefused` if already revoked or before signing."""
        if self.revoked_on is not None:
            raise SepaMandateRefused(
                _("Das Mandat %(reference)s wurde schon am %(date)s widerrufen.")
                % {"reference": self.reference, "date": format_date_de(self.revoked_on)},
                code="mandate_revoked",
            )
        if on < self.signed_on:
            raise SepaMandateRefused(
                _("Ein Mandat kann nicht vor seiner Unterschrift widerrufen werden."), code="mandate_revoke_date"
            )
        self.revoked_on = on


class SepaBatch(models.Model):
    """One submitted pain.008 file (Lastschrift-Einreichung) with its XML, as sent to the bank.

    The XML is stored in the database, in the transaction that creates the batch and its
    items: a rolled-back batch leaves no file behind and a stored one is never re-rendered.
    """

    collection_date = models.DateField(_("Fälligkeitstag (Einzug am)"))
    message_id = models.CharField(_("Nachrichten-ID"), max_length=35, unique=True)
    created_at = models.DateTimeField(_("erstellt"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("erstellt von"),
    )
    xml = models.TextField(_("pain.008-Datei"), editable=False)
    count = models.PositiveIntegerField(_("Anzahl Lastschriften"))
    total = models.DecimalField(_("Summe"), **MONEY)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("SEPA-Lastschriftdatei")
        verbose_name_plural = _("SEPA-Lastschriftdateien")
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1) & Q(total__gt=0), name="sepabatch_not_empty"),
        ]

    def __str__(self) -> str:
        return self.message_id

    @property
    def filename(self) -> str:
        return f"{self.message_id}.xml"


class SepaBatchItem(models.Model):
    """One collection of a batch. ``end_to_end_id`` (the invoice number) is unique over all
    batches: the database refuses to collect an invoice twice."""

    batch = models.ForeignKey(SepaBatch, on_delete=models.PROTECT, related_name="items", verbose_name=_("Datei"))
    end_to_end_id = models.CharField(_("Rechnungsnummer (End-to-End-ID)"), max_length=35, unique=True)
    mandate = models.ForeignKey(
        SepaMandate, on_delete=models.PROTECT, related_name="collections", verbose_name=_("Mandat")
    )
    sequence_type = models.CharField(_("Sequenztyp"), max_length=4, choices=SepaMandate.SEQUENCE_CHOICES)
    amount = models.DecimalField(_("Betrag"), **MONEY)

    class Meta:
        ordering = ["batch", "sequence_type", "end_to_end_id"]
        verbose_name = _("Lastschrift")
        verbose_name_plural = _("Lastschriften")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="sepabatchitem_amount_positive"),
            models.CheckConstraint(
                condition=Q(sequence_type__in=["FRST", "RCUR"]), name="sepabatchitem_sequence_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.end_to_end_id


# --- Subscriptions, service plans and billed periods (SUB-1…SUB-8, INV-3) ------------------------


class Subscription(models.Model):
    """A module rented for one installation (Abo): SUB-1…SUB-7.

    The monthly price is fixed at signing from the price list of that day (SUB-4); a tier
    change applies from the next billing period (SUB-7) and is recorded as a
    :class:`SubscriptionPriceChange`. Dates follow GEN-1 (inclusive ends). A subscription of
    a package (ORD-4) shares start and term with the others of the package and is ended
    only together with them. Billing happens in :class:`BilledPeriod` rows (INV-3).
    """

    INTERVAL_CHOICES = [
        (rules.BILL_MONTHLY, _("monatlich")),
        (rules.BILL_QUARTERLY, _("vierteljährlich")),
        (rules.BILL_HALF_YEARLY, _("halbjährlich")),
        (rules.BILL_YEARLY, _("jährlich")),
        (rules.BILL_WHOLE_TERM, _("gesamte Mindestlaufzeit im Voraus")),
    ]
    TERM_CHOICES = [(m, _("%(months)d Monate") % {"months": m}) for m in rules.MINIMUM_TERMS]

    reference = models.CharField(
        _("Abo-Nummer"),
        max_length=32,
        unique=True,
        help_text=_("z. B. ABO-2026-000042; steht in den Lizenzen des Abos (subscription_reference)."),
    )
    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("Partner")
    )
    installation = models.ForeignKey(
        "licensing.Installation", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("Installation")
    )
    product = models.ForeignKey(
        "licensing.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("Produkt")
    )
    tier = models.CharField(_("Benutzerstaffel"), max_length=8, blank=True)
    users = models.PositiveIntegerField(
        _("Benutzer"), null=True, blank=True, help_text=_("nur Teams Presence Sync: je angefangene 5 Benutzer (CAT-4)")
    )
    quantity = models.PositiveIntegerField(_("Anzahl Lizenzen"), default=1)
    package = models.CharField(
        _("Paket"),
        max_length=32,
        blank=True,
        db_index=True,
        help_text=_(
            "Abos mit gleicher Paketnummer haben gemeinsamen Beginn und Laufzeit und enden nur zusammen (ORD-4)."
        ),
    )
    minimum_months = models.PositiveSmallIntegerField(_("Mindestlaufzeit (Monate)"), choices=TERM_CHOICES)
    billing_months = models.PositiveSmallIntegerField(
        _("Abrechnungsintervall"), choices=INTERVAL_CHOICES, default=rules.BILL_MONTHLY
    )
    monthly_price = models.DecimalField(_("Monatspreis netto"), **MONEY, help_text=_("bei Abschluss festgelegt"))
    signed_on = models.DateField(_("abgeschlossen am"))
    term_start = models.DateField(_("Laufzeitbeginn"), help_text=_("SUB-1"))
    minimum_end = models.DateField(_("Ende der Mindestlaufzeit"))
    order_line = models.ForeignKey(
        OrderLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subscriptions",
        verbose_name=_("Bestellposition"),
    )
    licenses = models.ManyToManyField(
        "licensing.License", blank=True, related_name="subscriptions", verbose_name=_("Lizenzen des Abos")
    )
    notice_on = models.DateField(_("Kündigung eingegangen am"), null=True, blank=True)
    notice_at = models.DateTimeField(_("Kündigung erfasst"), null=True, blank=True)
    notice_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gekündigt von"),
    )
    notice_special = models.BooleanField(_("Sonderkündigung (SUB-6)"), default=False)
    ends_on = models.DateField(_("endet am"), null=True, blank=True, help_text=_("letzter Tag des Abos"))
    keys_blocked_at = models.DateTimeField(_("Schlüssel gesperrt"), null=True, blank=True)
    created_at = models.DateTimeField(_("angelegt"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["partner", "installation", "product"]
        verbose_name = _("Abo")
        verbose_name_plural = _("Abos")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="subscription_quantity_at_least_1"),
            models.CheckConstraint(condition=Q(monthly_price__gte=0), name="subscription_price_not_negative"),
            models.CheckConstraint(
                condition=Q(minimum_months__in=list(rules.MINIMUM_TERMS)), name="subscription_minimum_term_valid"
            ),
            models.CheckConstraint(
                condition=Q(billing_months__in=list(rules.BILLING_INTERVALS)), name="subscription_interval_valid"
            ),
            models.CheckConstraint(
                condition=Q(term_start__gte=models.F("signed_on")), name="subscription_term_starts_after_signing"
            ),
            models.CheckConstraint(
                condition=Q(minimum_end__gte=models.F("term_start")), name="subscription_minimum_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(notice_on__isnull=False),
                name="subscription_end_needs_notice",
            ),
            # Confirming an order twice never makes a second subscription of one line (STYLE 14).
            models.UniqueConstraint(
                fields=["order_line"], condition=Q(order_line__isnull=False), name="subscription_once_per_order_line"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.product.name}"


class SubscriptionPriceChange(models.Model):
    """A tier change of a subscription (SUB-7): the new monthly price from ``effective_from``,
    the start of the next billing period; term and start stay."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="price_changes", verbose_name=_("Abo")
    )
    effective_from = models.DateField(_("gültig ab"))
    tier = models.CharField(_("neue Benutzerstaffel"), max_length=8, blank=True)
    users = models.PositiveIntegerField(_("neue Benutzerzahl"), null=True, blank=True)
    monthly_price = models.DecimalField(_("neuer Monatspreis netto"), **MONEY)
    created_at = models.DateTimeField(_("erfasst"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A partner's tier change from the portal is in the history staff see (issue 12).
    history = HistoricalRecords()

    class Meta:
        ordering = ["subscription", "effective_from"]
        verbose_name = _("Staffelwechsel")
        verbose_name_plural = _("Staffelwechsel")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "effective_from"], name="subscription_price_change_once_per_day"
            ),
            models.CheckConstraint(condition=Q(monthly_price__gte=0), name="subscription_price_change_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}: {self.monthly_price} ab {format_date_de(self.effective_from)}"


class ServicePlan(models.Model):
    """A Premium or Enterprise service plan on one server licence key (SUB-8): billed yearly
    in advance, plan years aligned to ``starts_on``, notice 3 months to the end of a plan
    year; booked once per server key (database constraint). ``retroactive``: booked back
    to an earlier start for a customer who bought before 2022-01-01, without surcharge;
    periods before ``billed_from`` are not billed."""

    PLAN_CHOICES = [(rules.PLAN_PREMIUM, "Premium"), (rules.PLAN_ENTERPRISE, "Enterprise")]

    reference = models.CharField(_("Plan-Nummer"), max_length=32, unique=True)
    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="service_plans", verbose_name=_("Partner")
    )
    installation = models.OneToOneField(
        "licensing.Installation",
        on_delete=models.PROTECT,
        related_name="service_plan",
        verbose_name=_("Installation (Serverlizenzschlüssel)"),
    )
    plan = models.CharField(_("Service-Plan"), max_length=10, choices=PLAN_CHOICES)
    yearly_price = models.DecimalField(_("Jahrespreis netto"), **MONEY)
    signed_on = models.DateField(_("gebucht am"))
    starts_on = models.DateField(_("Beginn"))
    retroactive = models.BooleanField(_("rückwirkend gebucht"), default=False)
    billed_from = models.DateField(
        _("abgerechnet ab"), help_text=_("Planjahre vor diesem Tag werden nicht berechnet (rückwirkende Buchung).")
    )
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("Bestellposition")
    )
    notice_on = models.DateField(_("Kündigung eingegangen am"), null=True, blank=True)
    notice_at = models.DateTimeField(_("Kündigung erfasst"), null=True, blank=True)
    notice_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gekündigt von"),
    )
    ends_on = models.DateField(_("endet am"), null=True, blank=True)
    created_at = models.DateTimeField(_("angelegt"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["partner", "installation"]
        verbose_name = _("Service-Plan")
        verbose_name_plural = _("Service-Pläne")
        constraints = [
            models.CheckConstraint(condition=Q(plan__in=["premium", "enterprise"]), name="serviceplan_plan_valid"),
            models.CheckConstraint(condition=Q(yearly_price__gte=0), name="serviceplan_price_not_negative"),
            models.CheckConstraint(
                condition=Q(billed_from__gte=models.F("starts_on")), name="serviceplan_billed_from_after_start"
            ),
            models.CheckConstraint(
                condition=Q(retroactive=True) | Q(starts_on__gte=models.F("signed_on")),
                name="serviceplan_backdated_only_retroactive",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(notice_on__isnull=False), name="serviceplan_end_needs_notice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.get_plan_display()}"


class BilledPeriod(models.Model):
    """One billing period of a subscription or service plan, billed once (INV-3).

    The unique constraints are the exactly-once guarantee: whatever runs the billing
    (the monthly job, a re-run, two workers at once, ``run_invoicing`` by hand) can write a
    period's row only once, in the same transaction as the invoice line that bills it.
    The first partial month (SUB-2) is a period from the signing day to the day before
    the term start.
    """

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="billed_periods"
    )
    service_plan = models.ForeignKey(
        ServicePlan, on_delete=models.PROTECT, null=True, blank=True, related_name="billed_periods"
    )
    period_start = models.DateField(_("Zeitraum von"))
    period_end = models.DateField(_("Zeitraum bis"), help_text=_("einschließlich"))
    amount = models.DecimalField(_("Betrag netto"), **MONEY)
    invoice_line = models.OneToOneField(
        InvoiceLine, on_delete=models.PROTECT, related_name="billed_period", verbose_name=_("Rechnungsposition")
    )
    created_at = models.DateTimeField(_("abgerechnet"), auto_now_add=True)

    class Meta:
        ordering = ["period_start"]
        verbose_name = _("abgerechneter Zeitraum")
        verbose_name_plural = _("abgerechnete Zeiträume")
        constraints = [
            models.CheckConstraint(
                condition=(Q(subscription__isnull=False) & Q(service_plan__isnull=True))
                | (Q(subscription__isnull=True) & Q(service_plan__isnull=False)),
                name="billedperiod_one_owner",
            ),
            models.UniqueConstraint(fields=["subscription", "period_start"], name="billedperiod_subscription_once"),
            models.UniqueConstraint(fields=["service_plan", "period_start"], name="billedperiod_serviceplan_once"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="billedperiod_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{format_date_de(self.period_start)}–{format_date_de(self.period_end)}"


def finance_report_path(instance: FinanceReport, filename: str) -> str:
    return f"finance-reports/{instance.report_date:%Y}/{filename}"


class FinanceReport(models.Model):
    """A scheduled PDF report to finance, one per kind and period: the monthly invoice
    journal (Rechnungsausgangsbuch, period ``2026-11``) and the weekly open items
    (Offene Posten, period ``2026-W48``).

    The PDF is rendered once, stored and e-mailed through the outbox with the files it
    went out with (the journal: the month's SEPA files); a resend attaches the same bytes.
    The unique (kind, period) makes a re-run or a second worker write no second report
    and no second e-mail.
    """

    JOURNAL = "journal"
    OPEN_ITEMS = "open_items"
    KIND_CHOICES = [(JOURNAL, _("Rechnungsausgangsbuch")), (OPEN_ITEMS, _("Offene Posten"))]

    kind = models.CharField(_("Art"), max_length=12, choices=KIND_CHOICES)
    period = models.CharField(_("Zeitraum"), max_length=8, help_text=_("Monat 2026-11 oder ISO-Woche 2026-W48"))
    report_date = models.DateField(_("Stichtag"))
    pdf = models.FileField(_("PDF"), upload_to=finance_report_path, editable=False)
    document_count = models.PositiveIntegerField(_("Anzahl Belege"))
    gross_total = models.DecimalField(_("Summe brutto"), **MONEY)
    sepa_batches = models.ManyToManyField(
        SepaBatch, blank=True, related_name="finance_reports", verbose_name=_("SEPA-Dateien im Anhang")
    )
    created_at = models.DateTimeField(_("erstellt am"))

    class Meta:
        ordering = ["-report_date", "kind"]
        verbose_name = _("Finanzbericht")
        verbose_name_plural = _("Finanzberichte")
        constraints = [
            models.UniqueConstraint(fields=["kind", "period"], name="financereport_once_per_period"),
            models.CheckConstraint(condition=Q(kind__in=["journal", "open_items"]), name="financereport_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period}"

    @property
    def filename(self) -> str:
        slug = "rechnungsausgangsbuch" if self.kind == self.JOURNAL else "offene-posten"
        return f"{slug}-{self.period}.pdf"
