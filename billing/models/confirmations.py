"""Written confirmations (schriftliche Bestätigungen) of changes with legal effect: a notice, a
special termination, a tier change, a service-plan booking or notice, a SEPA mandate."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Confirmation(models.Model):
    """One written confirmation, as it was sent: what changed, in German sentences and a table
    of facts, written in the transaction that makes the change (with its outbox e-mail, which
    carries it as a one-page PDF rendered from this row — :mod:`billing.services.confirmations`).

    The row is the record: the text is fixed when the change is made, so a later change of the
    subscription or mandate does not change what was confirmed. ``key`` names the change (e.g.
    ``subscription-notice:17:2028-11-30``): unique, so the same change confirmed twice — a
    double submit, a re-run — is one row and one e-mail.
    """

    SUBSCRIPTION_NOTICE = "subscription_notice"
    SPECIAL_TERMINATION = "special_termination"
    TIER_CHANGE = "tier_change"
    PLAN_BOOKING = "plan_booking"
    PLAN_NOTICE = "plan_notice"
    MANDATE_CREATED = "mandate_created"
    MANDATE_SIGNED = "mandate_signed"
    MANDATE_CHANGED = "mandate_changed"
    MANDATE_REVOKED = "mandate_revoked"
    KIND_CHOICES = [
        (SUBSCRIPTION_NOTICE, _("Kündigung eines Abos")),
        (SPECIAL_TERMINATION, _("Sonderkündigung eines Abos")),
        (TIER_CHANGE, _("Staffelwechsel eines Abos")),
        (PLAN_BOOKING, _("Buchung eines Service-Plans")),
        (PLAN_NOTICE, _("Kündigung eines Service-Plans")),
        (MANDATE_CREATED, _("SEPA-Mandat angelegt")),
        (MANDATE_SIGNED, _("SEPA-Mandat unterschrieben")),
        (MANDATE_CHANGED, _("SEPA-Mandat geändert")),
        (MANDATE_REVOKED, _("SEPA-Mandat widerrufen")),
    ]

    kind = models.CharField(_("Art"), max_length=30, choices=KIND_CHOICES)
    key = models.CharField(_("Schlüssel"), max_length=200, unique=True)
    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="confirmations", verbose_name=_("Partner")
    )
    reference = models.CharField(_("Bezug"), max_length=40, help_text=_("z. B. ABO-2026-000042, SP-…, VP-…"))
    title = models.CharField(_("Titel"), max_length=200)
    # The partner's address as the letter names it on that day.
    address = models.JSONField(_("Anschrift"), default=list)
    paragraphs = models.JSONField(_("Text"), default=list, help_text=_("Absätze, deutsch"))
    facts = models.JSONField(_("Angaben"), default=list, help_text=_("[Bezeichnung, Wert], …"))
    email = models.EmailField(_("E-Mail an"))
    confirmed_on = models.DateField(_("Datum"))
    created_at = models.DateTimeField(_("geschrieben am"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("von"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Schriftliche Bestätigung")
        verbose_name_plural = _("Schriftliche Bestätigungen")
        constraints = [
            models.CheckConstraint(condition=~Q(key=""), name="confirmation_key_not_empty"),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "subscription_notice",
                        "special_termination",
                        "tier_change",
                        "plan_booking",
                        "plan_notice",
                        "mandate_created",
                        "mandate_signed",
                        "mandate_changed",
                        "mandate_revoked",
                    ]
                ),
                name="confirmation_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.reference})"

    @property
    def filename(self) -> str:
        # A mandate reference may hold "/" and other characters no file name should carry.
        reference = re.sub(r"[^A-Za-z0-9-]+", "-", self.reference)
        return f"Bestaetigung-{reference}-{self.confirmed_on:%Y%m%d}-{self.pk}.pdf"
