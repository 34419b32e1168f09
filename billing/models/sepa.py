"""SEPA mandates and direct-debit batches (ORD-8)."""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from billing.exceptions import SepaMandateRefused
from billing.models._common import MONEY
from vendorportal import clock
from vendorportal.formats import format_date
from vendorportal.parties import validators as party_validators

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

    A mandate is created with its reference before it is signed, so the form the debtor
    signs carries it (issue 16): ``signed_on`` empty = "wartet auf Unterschrift" (pending); it
    becomes active when the signature is recorded. A partner has at most one active mandate
    (signed, ``revoked_on`` empty) and at most one pending — two partial unique constraints.
    Only an active mandate is collected under. The sequence type is FRST until the first collection under the mandate
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
    signed_on = models.DateField(
        _("unterschrieben am"), null=True, blank=True, help_text=_("leer = wartet auf Unterschrift")
    )
    sequence_type = models.CharField(
        _("Sequenztyp"),
        max_length=4,
        choices=SEQUENCE_CHOICES,
        default=FRST,
        editable=False,
        help_text=_("FRST bis zur ersten eingereichten Lastschrift, danach RCUR."),
    )
    above_limit = models.BooleanField(
        _("auch über 50 €"),
        default=False,
        help_text=_(
            "Abo-Rechnungen auch über 50,00 € netto im Monat per Lastschrift einziehen (ORD-8); "
            "sonst werden sie überwiesen."
        ),
    )
    revoked_on = models.DateField(_("widerrufen am"), null=True, blank=True, editable=False)
    # A returned direct debit with a mandate-related reason (issue 18, rules.return_reason) marks
    # the mandate: nothing is collected under it any more (ORD-8 → transfer) until the partner
    # gives a new one, which replaces it.
    suspended_on = models.DateField(_("ausgesetzt am"), null=True, blank=True, editable=False)
    suspended_reason = models.CharField(_("ausgesetzt wegen"), max_length=300, blank=True, editable=False)
    # The portal form's one-time token: the same form posted twice records one mandate.
    portal_token = models.CharField(max_length=40, blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["partner", "-signed_on", "-id"]
        verbose_name = _("SEPA-Lastschriftmandat")
        verbose_name_plural = _("SEPA-Lastschriftmandate")
        constraints = [
            models.UniqueConstraint(
                fields=["partner"],
                condition=Q(revoked_on__isnull=True, signed_on__isnull=False),
                name="sepamandate_one_active_per_partner",
                violation_error_message=_(
                    "Dieser Partner hat schon ein aktives SEPA-Mandat; bitte das alte zuerst widerrufen."
                ),
            ),
            models.UniqueConstraint(
                fields=["partner"],
                condition=Q(revoked_on__isnull=True, signed_on__isnull=True),
                name="sepamandate_one_pending_per_partner",
                violation_error_message=_("Für diesen Partner wartet schon ein SEPA-Mandat auf die Unterschrift."),
            ),
            # STYLE 14: a double post of the portal form cannot record two mandates.
            models.UniqueConstraint(
                fields=["partner", "portal_token"],
                condition=~Q(portal_token=""),
                name="sepamandate_portal_token_unique",
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
        """Signed, not revoked and not suspended: collections may use it."""
        return self.revoked_on is None and self.signed_on is not None and self.suspended_on is None

    @property
    def is_suspended(self) -> bool:
        """Still the partner's mandate, but suspended after a return (issue 18): not collected under."""
        return self.revoked_on is None and self.suspended_on is not None

    @property
    def is_pending(self) -> bool:
        """Created, its form not signed yet ("wartet auf Unterschrift")."""
        return self.revoked_on is None and self.signed_on is None

    @property
    def state_label(self) -> str:
        if self.revoked_on is not None:
            return str(_("widerrufen"))
        if self.suspended_on is not None:
            return str(_("ausgesetzt (Rücklastschrift)"))
        return str(_("aktiv")) if self.signed_on else str(_("wartet auf Unterschrift"))

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

    def suspend(self, on: date, reason: str) -> bool:
        """Suspend in memory after a returned debit (issue 18); a revoked or already suspended
        mandate stays as it is (returns false: nothing to do)."""
        if self.revoked_on is not None or self.suspended_on is not None:
            return False
        self.suspended_on = on
        self.suspended_reason = reason[:300]
        return True

    def mark_submitted(self) -> None:
        """The first collection was submitted: later ones are recurring (FRST → RCUR), in memory."""
        self.sequence_type = self.RCUR

    def revoke(self, on: date) -> None:
        """Revoke in memory; raises :class:`SepaMandateRefused` if already revoked or before signing."""
        if self.revoked_on is not None:
            raise SepaMandateRefused(
                _("Das Mandat %(reference)s wurde schon am %(date)s widerrufen.")
                % {"reference": self.reference, "date": format_date(self.revoked_on)},
                code="mandate_revoked",
            )
        if self.signed_on is not None and on < self.signed_on:
            raise SepaMandateRefused(
                _("Ein Mandat kann nicht vor seiner Unterschrift widerrufen werden."), code="mandate_revoke_date"
            )
        self.revoked_on = on


class SepaBatch(models.Model):
    """One submitted pain.008 file (Lastschrift-Einreichung) with its XML, as sent to the bank.

    The XML is stored in the database, in the transaction that creates the batch and its
    items: a rolled-back batch leaves no file behind and a stored one is never re-rendered.
    """

    # The last collection day in the file: each item is collected on its invoice's announced
    # day (SepaBatchItem.collection_date), one payment block per day and sequence type.
    collection_date = models.DateField(_("Einzug bis (letzter Einzugstag)"))
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
    # The day the invoice announced (ORD-8 / SEPA): this item's payment block asks for it.
    collection_date = models.DateField(_("Einzug am"), null=True)
    amount = models.DecimalField(_("Betrag"), **MONEY)
    # The statement entry that brought this debit back (issue 18); a debit comes back once, an
    # entry may bring several back (a batch booking of returns).
    return_entry = models.ForeignKey(
        "billing.BankEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="returned_collections",
        verbose_name=_("Rücklastschrift"),
    )
    # The return came before the collection's credit was imported (issue 18): nothing was paid,
    # so nothing was reversed. When that credit arrives it must not pay the invoice — the money
    # went back with the return (billing.services.returns.debit_return_late_credits).
    credit_outstanding = models.BooleanField(
        _("Gutschrift des Einzugs steht aus"),
        default=False,
        editable=False,
        help_text=_("zurückgegeben, bevor die Gutschrift des Einzugs eingelesen war; sie bezahlt die Rechnung nicht"),
    )

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
