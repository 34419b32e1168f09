"""Payments and the daily overdue job: recording a payment on an invoice (which releases a
dunning block once its invoices are paid), marking invoices overdue and issuing the dunning levels."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from billing import rules, selectors
from billing.models import (
    DunningBlock,
    Invoice,
    Payment,
)
from billing.services.dunning import dunning_blocks_release
from billing.services.invoices import _invoice_refuse, _settle_state
from vendorportal import clock
from vendorportal.money import D, format_eur, round_cents
from vendorportal.prepared import PreparedRead
from vendorportal.webhooks import constants as webhook_events
from vendorportal.webhooks import payloads as webhook_payloads
from vendorportal.webhooks.events import EventDraft, has_webhooks_exists, webhook_event_emit, webhook_events_emit_many

logger = logging.getLogger(__name__)


def payment_record(*, invoice: Invoice, amount, paid_on: date, by=None, token: str = "", bank_entry=None) -> Payment:
    """Record a payment (full or partial) on an invoice; it is paid when the payments and
    the credit notes reach its gross. Refuses overpayment, a payment on a credit note or
    a cancelled invoice, and a date in the future.

    ``token`` is the form's one-time token: the same form posted again — also several
    times at the same moment — returns the payment of the first post instead of recording
    another one (``payment_form_token_unique`` decides a race; on PostgreSQL the invoice row
    lock makes the later post wait and find the first). The returned payment's
    ``recorded_before`` says whether it was already there."""
    token = (token or "").strip()
    if len(token) > Payment._meta.get_field("form_token").max_length:
        _invoice_refuse(_("Das Formular ist abgelaufen; bitte die Seite neu laden."), "token")
    try:
        with transaction.atomic():
            return _payment_record(
                invoice=invoice, amount=amount, paid_on=paid_on, by=by, token=token, bank_entry=bank_entry
            )
    except IntegrityError:
        if not token:
            raise
        # The same form, posted twice at once: the first post's payment wins.
        payment = Payment.objects.get(invoice=invoice, form_token=token)
        payment.recorded_before = True
        return payment


# Compiled by the ORM once per process (vendorportal.prepared): a bank statement books
# thousands of payments, and compiling this query with its three subqueries cost more than
# running it.
_locked_invoice_row = PreparedRead(
    lambda invoice_id: (
        Invoice.objects.select_for_update(of=("self",))
        .annotate(
            credited_sum=selectors.credited_gross_subquery(),
            has_webhooks=has_webhooks_exists(partner="partner"),
            has_blocks=Exists(DunningBlock.objects.filter(partner=OuterRef("partner"), released_at__isnull=True)),
        )
        .filter(pk=invoice_id)
    )
)


def _locked_for_payment(invoice: Invoice) -> Invoice:
    """The invoice row locked, with what recording a payment reads besides it, in one query:
    the gross its credit notes took back, whether its partner has a webhook endpoint and
    whether a dunning block of its partner waits for payments (issue 18/19)."""
    rows = list(_locked_invoice_row(invoice.pk))
    if not rows:
        raise Invoice.DoesNotExist(f"invoice {invoice.pk}")
    locked = rows[0]
    # The annotations come as the database gives them (PreparedRead): the sum as a float on
    # SQLite, the flags as 0/1 there — rounded to cents and made booleans here.
    credited = locked.credited_sum
    locked.credited_gross = round_cents(D(str(credited))) if credited is not None else Decimal("0.00")
    locked.has_webhooks, locked.has_blocks = bool(locked.has_webhooks), bool(locked.has_blocks)
    return locked


def _payment_record(*, invoice: Invoice, amount, paid_on: date, by, token: str, bank_entry) -> Payment:
    invoice = _locked_for_payment(invoice)
    if token:
        existing = Payment.objects.filter(invoice=invoice, form_token=token).first()
        if existing is not None:
            existing.recorded_before = True
            return existing
    amount = round_cents(D(str(amount)) if not isinstance(amount, Decimal) else amount)
    if invoice.is_credit_note:
        _invoice_refuse(_("Zahlungen werden auf Rechnungen erfasst, nicht auf Rechnungskorrekturen."), "credit_note")
    if invoice.state in (Invoice.CANCELLED, Invoice.PAID):
        _invoice_refuse(
            _("%(number)s ist „%(state)s“; es ist nichts mehr offen.")
            % {"number": invoice.number, "state": invoice.get_state_display()},
            "nothing_due",
        )
    if amount <= 0:
        _invoice_refuse(_("Bitte einen Betrag größer 0 angeben."), "amount")
    if paid_on > clock.today():
        _invoice_refuse(_("Das Zahlungsdatum liegt in der Zukunft."), "future")
    if paid_on < invoice.issue_date:
        _invoice_refuse(_("Das Zahlungsdatum liegt vor dem Rechnungsdatum."), "before_issue")
    credited = invoice.credited_gross  # read with the lock
    due = selectors.invoice_amount_due(invoice, credited)
    if amount > due:
        _invoice_refuse(
            _("Offen sind noch %(due)s; %(amount)s ist mehr. Bitte den Betrag prüfen.")
            % {"due": format_eur(due), "amount": format_eur(amount)},
            "overpayment",
        )
    payment = Payment(
        invoice=invoice,
        amount=amount,
        paid_on=paid_on,
        recorded_at=clock.now(),
        recorded_by=by,
        form_token=token,
        bank_entry=bank_entry,
    )
    # The invoice (locked above), the entry and the user are in hand: no foreign-key lookups;
    # the amount's constraint is checked above and again by the database on insert.
    payment.full_clean(exclude=["form_token", "invoice", "bank_entry", "recorded_by"], validate_constraints=False)
    payment.save()
    invoice.paid_amount += amount
    _settle_state(invoice, credited)
    # Only the fields INV-1 lets change after issue (Invoice.MUTABLE_FIELDS): one UPDATE, no
    # re-read of the row the lock above has just read.
    Invoice.objects.filter(pk=invoice.pk).update(paid_amount=invoice.paid_amount, state=invoice.state)
    if invoice.state == Invoice.PAID and invoice.has_webhooks:
        webhook_event_emit(
            partner=invoice.partner_id,
            event=webhook_events.INVOICE_PAID,
            payload=webhook_payloads.invoice_payload(invoice),
            dedup_key=f"{webhook_events.INVOICE_PAID}:{invoice.pk}",
        )
    # Keys blocked for late payment come back once every invoice that caused the block is paid.
    if invoice.has_blocks:
        dunning_blocks_release(invoice=invoice, by=by)
    payment.recorded_before = False
    return payment


@dataclass(frozen=True)
class OverdueResult:
    marked_overdue: int
    reminders: int  # Zahlungserinnerungen
    first_notices: int = 0  # 1. Mahnungen
    final_notices: int = 0  # letzte Mahnungen
    # Reported in the summary, not part of a result's identity (tests compare the counts).
    held: tuple[str, ...] = field(default=(), compare=False)
    base_rate_stale: bool = field(default=False, compare=False)

    def summary(self) -> str:
        text = _(
            "überfällig markiert: %(overdue)s; Zahlungserinnerungen: %(reminders)s; 1. Mahnungen: %(first)s; "
            "letzte Mahnungen: %(final)s"
        ) % {
            "overdue": self.marked_overdue,
            "reminders": self.reminders,
            "first": self.first_notices,
            "final": self.final_notices,
        }
        lines = [text]
        if self.base_rate_stale:
            lines.append(_("Achtung: Der neueste Basiszinssatz ist älter als das laufende Halbjahr; bitte nachtragen."))
        lines += [_("zurückgehalten: %(why)s") % {"why": why} for why in self.held]
        return "\n".join(lines)


@transaction.atomic
def invoices_overdue(*, today: date | None = None) -> OverdueResult:
    """The daily job: open invoices past their due date become overdue; then the dunning
    levels due today are issued (Zahlungserinnerung 7 days after the due date, 1. Mahnung and
    letzte Mahnung 14 days after the level before — :mod:`billing.services.dunning`), each once
    per invoice whatever runs twice."""
    from billing.services.dunning import dunning_issue_due

    today = today or clock.today()
    # A direct debit not yet in a file is not the partner's delay: it is announced again
    # (ORD-8 / SEPA), never reminded to be transferred.
    uncollected = selectors.open_direct_debits().values("pk")
    becoming_overdue = list(
        Invoice.objects.select_for_update()
        .filter(kind=Invoice.INVOICE, state=Invoice.OPEN, due_date__lt=today)
        .exclude(pk__in=uncollected)
        .order_by("pk")
    )
    marked = Invoice.objects.filter(pk__in=[i.pk for i in becoming_overdue]).update(state=Invoice.OVERDUE)
    for invoice in becoming_overdue:
        invoice.state = Invoice.OVERDUE
    webhook_events_emit_many(
        [
            EventDraft(
                partner_id=invoice.partner_id,
                event=webhook_events.INVOICE_OVERDUE,
                payload=webhook_payloads.invoice_payload(invoice),
                dedup_key=f"{webhook_events.INVOICE_OVERDUE}:{invoice.pk}",
            )
            for invoice in becoming_overdue
        ]
    )
    dunning = dunning_issue_due(today=today)
    return OverdueResult(
        marked,
        dunning.issued[rules.DUNNING_REMINDER],
        dunning.issued[rules.DUNNING_FIRST],
        dunning.issued[rules.DUNNING_FINAL],
        tuple(dunning.held),
        dunning.base_rate_stale,
    )
