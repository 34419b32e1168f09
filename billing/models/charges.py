"""Charges (Nebenforderungen, issue 18): what a partner owes besides the price of a delivery —
the fee the bank took for a returned direct debit, the dunning flat fee, default interest.

A charge is damages, not the consideration for a supply, so it carries no VAT (nicht
steuerbarer Schadensersatz). It waits (``billed_on`` empty) until the partner's next monthly
invoicing run bills every waiting charge of the partner on one separate "Rechnung über
Nebenforderungen" (EN 16931 category O only: BR-O-11 forbids an O group next to others), and
is billed exactly once: ``billed_on`` is set in the transaction that writes that invoice
(:func:`billing.services.charges.charges_bill`). ``dedup_key`` makes adding idempotent: the
same return or dunning level adds one charge however often it is processed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from billing.models._common import MONEY
from billing.models.invoices import Invoice
from vendorportal import clock


class Charge(models.Model):
    RETURN_FEE = "return_fee"
    DUNNING_FEE = "dunning_fee"
    DEFAULT_INTEREST = "default_interest"
    KIND_CHOICES = [
        (RETURN_FEE, _("Rücklastschriftgebühr")),
        (DUNNING_FEE, _("Mahnpauschale")),
        (DEFAULT_INTEREST, _("Verzugszinsen")),
    ]
    # The article each kind is billed under on the "Rechnung über Nebenforderungen".
    ARTICLES = {RETURN_FEE: "NF-RLS", DUNNING_FEE: "NF-MAHN", DEFAULT_INTEREST: "NF-ZINS"}

    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="charges", verbose_name=_("Partner")
    )
    kind = models.CharField(_("Art"), max_length=20, choices=KIND_CHOICES)
    description = models.CharField(
        _("Beschreibung"), max_length=300, help_text=_("steht so als Position auf der Rechnung")
    )
    amount = models.DecimalField(_("Betrag"), **MONEY)
    source_invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        verbose_name=_("zu Rechnung"),
        help_text=_("die Rechnung, aus der die Forderung entstand (Rücklastschrift, Mahnung)"),
    )
    reason = models.CharField(
        _("Grund"), max_length=300, blank=True, help_text=_("bei Nebenforderungen, die von Hand erfasst werden")
    )
    dedup_key = models.CharField(_("Schlüssel"), max_length=120, unique=True, editable=False)
    created_at = models.DateTimeField(_("erfasst am"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("erfasst von"),
    )
    billed_on = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="billed_charges",
        verbose_name=_("berechnet mit"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Nebenforderung")
        verbose_name_plural = _("Nebenforderungen")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=["return_fee", "dunning_fee", "default_interest"]), name="charge_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(dedup_key=""), name="charge_dedup_key_given"),
        ]
        indexes = [models.Index(fields=["partner", "billed_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} € ({self.partner})"

    @property
    def is_billed(self) -> bool:
        return self.billed_on_id is not None
