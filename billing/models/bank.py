"""Bank statements (issue 18): each camt.053 statement imported once, each of its entries
once (the bank's reference is unique per account), and what became of every entry."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models._common import MONEY
from billing.models.invoices import Invoice
from vendorportal import clock


class BankStatement(models.Model):
    iban = models.CharField(_("Konto (IBAN)"), max_length=34)
    statement_id = models.CharField(_("Auszugsnummer"), max_length=120)
    file_name = models.CharField(_("Datei"), max_length=200)
    imported_at = models.DateTimeField(_("eingelesen am"), default=clock.now, editable=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("eingelesen von"),
    )

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("Kontoauszug")
        verbose_name_plural = _("Kontoauszüge")
        constraints = [models.UniqueConstraint(fields=["iban", "statement_id"], name="bankstatement_once")]

    def __str__(self) -> str:
        return f"{self.statement_id} ({self.iban})"


class BankEntry(models.Model):
    """One booked entry of a statement and what the import made of it."""

    MATCHED = "matched"  # paid one or more invoices in full
    PARTIAL = "partial"  # paid less than an invoice's due: it stays open
    OVERPAID = "overpaid"  # more than the named invoices' due: the rest waits for finance
    UNMATCHED = "unmatched"  # names no open invoice: waits for finance to assign
    ASSIGNED = "assigned"  # assigned by finance by hand
    RETURNED = "returned"  # a returned direct debit (R-transaction), booked against its collection
    IGNORED = "ignored"  # a debit that is not a return (e.g. bank fees): not ours to book
    STATE_CHOICES = [
        (MATCHED, _("zugeordnet")),
        (PARTIAL, _("Teilzahlung")),
        (OVERPAID, _("Überzahlung")),
        (UNMATCHED, _("offen – bitte zuordnen")),
        (ASSIGNED, _("von Hand zugeordnet")),
        (RETURNED, _("Rücklastschrift")),
        (IGNORED, _("nicht zuzuordnen (Abbuchung)")),
    ]
    # A return whose collection is not found waits as UNMATCHED (issue 18).
    WAITING = (UNMATCHED, OVERPAID)

    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="entries")
    iban = models.CharField(_("Konto (IBAN)"), max_length=34)
    reference = models.CharField(_("Referenz der Bank"), max_length=120)
    booked_on = models.DateField(_("Buchungstag"))
    value_on = models.DateField(_("Valuta"), null=True, blank=True)
    amount = models.DecimalField(_("Betrag"), **MONEY)
    credit = models.BooleanField(_("Gutschrift"), help_text=_("Geldeingang; sonst Abbuchung"))
    party_name = models.CharField(_("Auftraggeber/Empfänger"), max_length=140, blank=True)
    party_iban = models.CharField(_("IBAN der Gegenseite"), max_length=34, blank=True)
    remittance = models.TextField(_("Verwendungszweck"), blank=True)
    end_to_end_id = models.CharField(_("End-to-End-Referenz"), max_length=35, blank=True)
    return_reason = models.CharField(_("Rückgabegrund"), max_length=4, blank=True)
    charges = models.DecimalField(_("Gebühren der Bank"), **MONEY, default=0)
    state = models.CharField(_("Status"), max_length=10, choices=STATE_CHOICES)
    rest = models.DecimalField(_("nicht zugeordnet"), **MONEY, default=0)
    note = models.CharField(_("Hinweis"), max_length=1000, blank=True)
    invoices = models.ManyToManyField(Invoice, blank=True, related_name="bank_entries", verbose_name=_("Rechnungen"))

    class Meta:
        ordering = ["booked_on", "id"]
        verbose_name = _("Kontoumsatz")
        verbose_name_plural = _("Kontoumsätze")
        constraints = [
            # The same statement imported twice changes nothing (issue 18).
            models.UniqueConstraint(fields=["iban", "reference"], name="bankentry_once_per_account"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bankentry_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(
                    state__in=["matched", "partial", "overpaid", "unmatched", "assigned", "returned", "ignored"]
                ),
                name="bankentry_state_valid",
            ),
        ]
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"{self.booked_on:%d.%m.%Y} {self.amount} € {self.reference}"
