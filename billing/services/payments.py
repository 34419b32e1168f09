"""Payments and payment reminders: recording a payment on an invoice, the daily overdue job."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing import selectors
from billing.constants import REMINDER_AFTER_DAYS, REMINDER_KIND
from billing.models import (
    Invoice,
    Payment,
)
from billing.services.invoices import _invoice_refuse, _locked_invoice, _settle_state
from vendorportal import clock
from vendorportal.formats import format_date_de
from vendorportal.i18n import for_partner
from vendorportal.money import D, format_eur, round_cents
from vendorportal.outbox import outbox_enqueue

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


def _payment_record(*, invoice: Invoice, amount, paid_on: date, by, token: str, bank_entry) -> Payment:
    invoice = _locked_invoice(invoice)
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
    due = selectors.invoice_amount_due(invoice)
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
    payment.full_clean(exclude=["form_token"])
    payment.save()
    invoice.paid_amount += amount
    _settle_state(invoice)
    invoice.save(update_fields=["paid_amount", "state"])
    payment.recorded_before = False
    return payment


def _reminder_mail(invoice: Invoice, due: Decimal) -> tuple[str, str]:
    with for_partner(invoice.partner):
        subject = _("Freundliche Zahlungserinnerung: Rechnung %(number)s") % {"number": invoice.number}
        body = "\n".join(
            [
                _("Guten Tag,"),
                "",
                _(
                    "sicher ist es im Alltag untergegangen: Unsere Rechnung %(number)s vom %(date)s über %(gross)s "
                    "war am %(due_date)s fällig, und bei uns ist noch kein vollständiger Zahlungseingang verbucht."
                )
                % {
                    "number": invoice.number,
                    "date": format_date_de(invoice.issue_date),
                    "gross": format_eur(invoice.gross_total),
                    "due_date": format_date_de(invoice.due_date),
                },
                _("Offen sind noch %(due)s. Wir freuen uns, wenn Sie den Betrag in den nächsten Tagen überweisen.")
                % {"due": format_eur(due)},
                "",
                _(
                    "Sollte sich Ihre Zahlung mit dieser Erinnerung überschnitten haben, betrachten Sie diese E-Mail "
                    "bitte als gegenstandslos. Die Rechnung liegt noch einmal als PDF bei."
                ),
                "",
                _("Mit freundlichen Grüßen"),
                settings.VENDOR["name"],
            ]
        )
    return subject, body


@dataclass(frozen=True)
class OverdueResult:
    marked_overdue: int
    reminders: int

    def summary(self) -> str:
        return _("überfällig markiert: %(overdue)s; Zahlungserinnerungen: %(reminders)s") % {
            "overdue": self.marked_overdue,
            "reminders": self.reminders,
        }


@transaction.atomic
def invoices_overdue(*, today: date | None = None) -> OverdueResult:
    """The daily job: open invoices past their due date become overdue; an overdue invoice
    gets ONE friendly reminder e-mail 7 days after its due date (outbox, key
    ``invoice-reminder:<pk>``, so re-runs and two workers write one)."""
    today = today or clock.today()
    # A direct debit not yet in a file is not the partner's delay: it is announced again
    # (ORD-8 / SEPA), never reminded to be transferred.
    uncollected = selectors.open_direct_debits().values("pk")
    marked = (
        Invoice.objects.filter(kind=Invoice.INVOICE, state=Invoice.OPEN, due_date__lt=today)
        .exclude(pk__in=uncollected)
        .update(state=Invoice.OVERDUE)
    )
    reminders = 0
    due_for_reminder = (
        Invoice.objects.select_for_update(of=("self",))
        .filter(
            kind=Invoice.INVOICE,
            state=Invoice.OVERDUE,
            reminder_sent_at__isnull=True,
            due_date__lte=today - timedelta(days=REMINDER_AFTER_DAYS),
        )
        .order_by("number")
    )
    for invoice in due_for_reminder:
        subject, body = _reminder_mail(invoice, selectors.invoice_amount_due(invoice))
        outbox_enqueue(
            kind=REMINDER_KIND,
            dedup_key=f"{REMINDER_KIND}:{invoice.pk}",
            recipients=[invoice.email],
            subject=subject,
            body=body,
            document=invoice,
            from_email=settings.DEFAULT_FROM_EMAIL,
        )
        Invoice.objects.filter(pk=invoice.pk).update(reminder_sent_at=clock.now())
        reminders += 1
    return OverdueResult(marked, reminders)
