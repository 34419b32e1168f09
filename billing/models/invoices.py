"""Invoices, corrections, their lines and payments (INV-1…INV-4): issued documents are never changed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing import rules
from billing.exceptions import IllegalInvoiceTransition, InvoiceImmutable
from billing.models._common import HALF_CENT, MONEY, _percent_0_100
from billing.models.orders import Order, OrderLine, VatRate


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
        refused = set(kwargs) - Invoice.BULK_MUTABLE_FIELDS - {"pdf", "pdf_sha256"}
        if refused:
            raise InvoiceImmutable(
                _(
                    "Ausgestellte Rechnungen und Rechnungskorrekturen können nicht mehr geändert werden (%(fields)s). "
                    "Korrekturen erfolgen per Rechnungskorrektur oder Stornorechnung."
                )
                % {"fields": ", ".join(sorted(refused))},
                code="immutable",
            )
        if "pdf" in kwargs and self.exclude(pdf="").exists():
            raise InvoiceImmutable(_("Das gespeicherte PDF einer Rechnung wird nie ersetzt."), code="immutable")
        if "pdf_sha256" in kwargs and self.exclude(pdf_sha256="").exists():
            raise InvoiceImmutable(_("Das gespeicherte PDF einer Rechnung wird nie ersetzt."), code="immutable")
        return super().update(**kwargs)

    def delete(self):
        if self.exists():
            raise InvoiceImmutable(
                _("Rechnungen und Rechnungskorrekturen werden nie gelöscht (INV-1)."), code="no_delete"
            )
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
    """An issued invoice (Rechnung) or a correction of one (Rechnungskorrektur, or
    Stornorechnung when it takes back the whole invoice — never "Gutschrift", INV-1), INV-1.

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
    KIND_CHOICES = [(INVOICE, _("Rechnung")), (CREDIT_NOTE, _("Rechnungskorrektur"))]
    OPEN = "open"
    PAID = "paid"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"
    STATE_CHOICES = [(OPEN, _("offen")), (PAID, _("bezahlt")), (OVERDUE, _("überfällig")), (CANCELLED, _("storniert"))]
    # A returned direct debit (issue 18) takes its payment back: a paid invoice is open again,
    # and an overdue one is open with its new due date.
    TRANSITIONS = {
        OPEN: {PAID, OVERDUE, CANCELLED},
        OVERDUE: {PAID, CANCELLED, OPEN},
        PAID: {CANCELLED, OPEN},
        CANCELLED: set(),
    }
    MEANS_CHOICES = [
        (rules.TRANSFER, _("Überweisung")),
        (rules.DIRECT_DEBIT, _("SEPA-Lastschrift")),
        (rules.PREPAYMENT, _("Vorkasse")),
    ]
    # How an issued invoice is collected, as it stands now (ORD-8 / SEPA): a direct debit not
    # collected on its day is announced again with a new day, a mandate change moves open
    # debits to the new mandate or to transfer — each by a notice e-mail (outbox) that says so.
    # The document itself (number, buyer, lines, amounts, the stored PDF) never changes;
    # only :mod:`billing.services.mandates` writes these.
    COLLECTION_FIELDS = frozenset({"payment_means", "due_date", "payment_terms", "mandate_reference", "debtor_iban"})
    # What may change on an issued document: its payment state and the reminder, how it is
    # collected, and the stored PDF once (from none to the file rendered at issue).
    MUTABLE_FIELDS = frozenset({"state", "paid_amount", "reminder_sent_at", "pdf", "pdf_sha256"}) | COLLECTION_FIELDS
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
        verbose_name=_("korrigierte Rechnung"),
    )
    reason = models.CharField(_("Grund der Korrektur"), max_length=300, blank=True)
    # A "Rechnung über Nebenforderungen" (issue 18): only charges (return fees, dunning fees,
    # default interest) — damages, not subject to VAT (EN 16931 category O alone, BR-O-11).
    charges_only = models.BooleanField(_("Rechnung über Nebenforderungen"), default=False, editable=False)
    vat_category = models.CharField(_("Steuerkategorie"), max_length=2, choices=VatRate.CATEGORY_CHOICES)
    vat_note = models.TextField(_("Steuerhinweis"), blank=True)
    net_total = models.DecimalField(_("netto"), **MONEY)
    vat_total = models.DecimalField(_("USt."), **MONEY)
    gross_total = models.DecimalField(_("brutto"), **MONEY)
    payment_means = models.CharField(_("Zahlungsart"), max_length=12, choices=MEANS_CHOICES, default=rules.TRANSFER)
    # For a direct debit: the announced collection day (pre-notification, ORD-8 / SEPA), the
    # one day the debit is collected on; shown alike by PDF, portal, admin and open items.
    due_date = models.DateField(
        _("fällig am"), null=True, blank=True, help_text=_("bei SEPA-Lastschrift: der angekündigte Einzugstag")
    )
    payment_terms = models.CharField(_("Zahlungsbedingungen"), max_length=300, blank=True)
    mandate_reference = models.CharField(_("Mandatsreferenz"), max_length=35, blank=True)
    debtor_iban = models.CharField(_("IBAN des Zahlers"), max_length=34, blank=True)
    state = models.CharField(_("Status"), max_length=10, choices=STATE_CHOICES, default=OPEN)
    paid_amount = models.DecimalField(_("bezahlt"), **MONEY, default=0)
    pdf = models.FileField(_("PDF"), upload_to=invoice_pdf_path, blank=True, editable=False)
    # GoBD: the SHA-256 of the stored PDF, written with it (vendorportal.documents).
    pdf_sha256 = models.CharField(_("SHA-256 des PDF"), max_length=64, blank=True, editable=False)
    reminder_sent_at = models.DateTimeField(_("Zahlungserinnerung geschrieben"), null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-number"]
        verbose_name = _("Rechnung / Rechnungskorrektur")
        verbose_name_plural = _("Rechnungen und Rechnungskorrekturen")
        permissions = [
            ("credit_invoice", _("Rechnungskorrektur / Stornorechnung erstellen")),
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
        indexes = [
            models.Index(fields=["state", "due_date"]),
            models.Index(fields=["issue_date"]),
            # The cockpit's revenue per month (issue 20) reads these three of every document of
            # 12 months; from the index alone, without a lookup into the table per document.
            models.Index(fields=["issue_date", "kind", "vat_category"], name="invoice_issue_kind_vat"),
        ]

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
                if not stored["pdf_sha256"]:
                    changed.discard("pdf_sha256")  # its hash likewise (GoBD)
                refused = changed - (self.MUTABLE_FIELDS - {"pdf", "pdf_sha256"})
                if refused:
                    raise InvoiceImmutable(
                        _(
                            "%(number)s ist ausgestellt und kann nicht mehr geändert werden (%(fields)s). "
                            "Korrekturen erfolgen per Rechnungskorrektur oder Stornorechnung."
                        )
                        % {"number": stored["number"], "fields": ", ".join(sorted(refused))},
                        code="immutable",
                    )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise InvoiceImmutable(_("Rechnungen und Rechnungskorrekturen werden nie gelöscht (INV-1)."), code="no_delete")

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.CREDIT_NOTE

    @property
    def correction_kind(self) -> str:
        """A correction's kind by INV-1 (``rules.CANCELLATION`` / ``rules.CORRECTION``); "" for an invoice."""
        if not self.is_credit_note:
            return ""
        return rules.correction_kind(correction_gross=self.gross_total, invoice_gross=self.credited_invoice.gross_total)

    @property
    def document_title(self) -> str:
        """What the document is called wherever a user reads it: "Rechnung",
        "Rechnung über Nebenforderungen", "Rechnungskorrektur" or "Stornorechnung" (INV-1)."""
        return str(document_title(self.correction_kind, charges_only=self.charges_only))

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


def document_title(correction_kind: str, *, charges_only: bool = False):
    """The German title of a document of kind ``correction_kind`` ("" = an invoice)."""
    if charges_only and not correction_kind:
        return _("Rechnung über Nebenforderungen")
    return {
        rules.CANCELLATION: _("Stornorechnung"),
        rules.CORRECTION: _("Rechnungskorrektur"),
    }.get(correction_kind, _("Rechnung"))


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
        verbose_name=_("korrigierte Position"),
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
        # The cockpit's revenue by product group (issue 20) sums the lines of 12 months' documents
        # by article: from the index alone, without a lookup into the table per line.
        indexes = [models.Index(fields=["invoice", "article", "net_total"], name="invoiceline_article_net")]

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
    # "Zahlung erfassen" carries a one-time token: the same form posted twice (or ten times
    # at once) records one payment (STYLE 14, decided by the unique constraint).
    form_token = models.CharField(_("Formular-Token"), max_length=40, blank=True, editable=False)
    # Recorded by a bank statement import (issue 18); empty for a payment entered by hand.
    bank_entry = models.ForeignKey(
        "billing.BankEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("Kontoumsatz"),
    )
    # Taken back by a returned direct debit (issue 18): the row stays (what happened is never
    # lost), the invoice's paid amount no longer counts it.
    reversed_on = models.DateField(_("storniert am"), null=True, blank=True, editable=False)
    reversal_entry = models.ForeignKey(
        "billing.BankEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="reversed_payments",
        verbose_name=_("storniert durch Rücklastschrift"),
    )

    class Meta:
        ordering = ["invoice", "paid_on", "id"]
        verbose_name = _("Zahlung")
        verbose_name_plural = _("Zahlungen")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["invoice", "form_token"], condition=~Q(form_token=""), name="payment_form_token_unique"
            ),
            models.CheckConstraint(
                condition=Q(reversed_on__isnull=True, reversal_entry__isnull=True)
                | Q(reversed_on__isnull=False, reversal_entry__isnull=False),
                name="payment_reversal_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice.number}: {self.amount} €"
