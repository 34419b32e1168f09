"""Subscriptions, their price changes, service plans and billed periods (SUB-1…SUB-8, INV-3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from billing import rules
from billing.models._common import MONEY
from billing.models.invoices import InvoiceLine
from billing.models.orders import OrderLine
from vendorportal import clock
from vendorportal.formats import format_date_de


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
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
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
    created_at = models.DateTimeField(_("erfasst"), default=clock.now, editable=False)
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
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
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
    created_at = models.DateTimeField(_("abgerechnet"), default=clock.now, editable=False)

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
