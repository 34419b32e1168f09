"""Returned direct debits (Rücklastschriften, issue 18; ORD-8 / SEPA) from the bank statement.

A return arrives in the camt.053 statement as a debit entry with a return reason
(``RtrInf/Rsn/Cd``, e.g. MD06) and the original end-to-end id — which our pain.008 sets to the
invoice number (:mod:`billing.sepa`, :class:`billing.models.SepaBatchItem`). For each returned
transaction, in the import's transaction, :func:`debit_return_book`:

1. finds the collection: the batch item with that end-to-end id, else one whose invoice number
   the remittance names. None found → the entry waits in the unmatched list for finance;
2. takes the payment back: the invoice's payments, newest first, up to the collected amount,
   are marked reversed by this entry (the rows stay), the paid amount goes down;
3. reopens the invoice: open again, payable by transfer within
   :data:`billing.rules.RETURN_PAYMENT_DAYS` days (it is never debited again on its own —
   the bank has just refused it, and a new debit would need a new pre-notification);
4. records the bank's return fee as a charge (the statement's ``Chrgs`` of the transaction, or
   of the entry when it returns one debit, else ``SEPA_RETURN_FEE``), billed with the partner's next invoicing run — unless the reason is
   ours or the banks' (:func:`billing.rules.return_reason`);
5. for a mandate-related reason suspends the mandate (:func:`billing.services.mandates.sepa_mandate_suspend`):
   ORD-8 makes the next invoices transfers until the partner gives a new mandate;
6. tells the partner through the outbox: what came back, why (the reason in words), the fee,
   how to pay now by transfer to the vendor's account;
7. links the item to the entry (``SepaBatchItem.return_entry``): the SEPA batch shows what came
   back, and a debit comes back only once.

Idempotent: the entry's bank reference is unique per account (the import skips a known one),
the item takes one return, the charge and the e-mail have keys of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from billing import camt, rules, selectors
from billing.constants import DEBIT_RETURN_KIND
from billing.models import BankEntry, Charge, Invoice, Payment, SepaBatchItem
from billing.models.sepa import group_iban
from billing.services.charges import charge_add
from billing.services.mandates import invoice_debit_returned, sepa_mandate_suspend
from vendorportal import clock
from vendorportal.formats import format_date
from vendorportal.i18n import for_partner
from vendorportal.money import ZERO, D, format_eur
from vendorportal.outbox import outbox_enqueue


@dataclass(frozen=True)
class ReturnBooked:
    """What one returned transaction did (for the entry's note and the import's summary)."""

    number: str
    reversed_amount: Decimal
    fee: Decimal
    mandate_suspended: bool


def return_fee_default() -> Decimal:
    """The fee a return costs when the statement does not say (setting ``SEPA_RETURN_FEE``)."""
    return D(str(settings.SEPA_RETURN_FEE))


def _collection(tx: camt.Transaction) -> SepaBatchItem | None:
    """The collection a returned transaction names: by its end-to-end id (our invoice number),
    else by an invoice number in its remittance text that was collected."""
    candidates = [tx.end_to_end_id] if tx.end_to_end_id and tx.end_to_end_id != "NOTPROVIDED" else []
    candidates += rules.invoice_numbers_in(f"{tx.end_to_end_id} {tx.remittance}")
    for number in candidates:
        item = (
            SepaBatchItem.objects.select_for_update(of=("self",))
            .select_related("mandate", "batch")
            .filter(end_to_end_id=number)
            .first()
        )
        if item is not None:
            return item
    return None


def _reverse_payments(invoice: Invoice, amount: Decimal, entry: BankEntry) -> Decimal:
    """Mark the invoice's payments reversed, newest first, as far as they fit into ``amount``;
    returns the sum reversed."""
    left = amount
    reversed_total = ZERO
    for payment in Payment.objects.filter(invoice=invoice, reversed_on__isnull=True).order_by("-paid_on", "-pk"):
        if left <= 0 or payment.amount > left:
            break
        payment.reversed_on = entry.booked_on
        payment.reversal_entry = entry
        payment.save(update_fields=["reversed_on", "reversal_entry"])
        left -= payment.amount
        reversed_total += payment.amount
    return reversed_total


def _return_mail(invoice: Invoice, item: SepaBatchItem, entry: BankEntry, reason, fee: Decimal, suspended: bool):
    vendor = settings.VENDOR
    with for_partner(invoice.partner):  # the partner's language (issue 21)
        due = selectors.invoice_amount_due(invoice)
        facts = {
            "number": invoice.number,
            "issued": format_date(invoice.issue_date),
            "amount": format_eur(item.amount),
            "collected": format_date(item.collection_date or item.batch.collection_date),
            "returned": format_date(entry.booked_on),
            "code": reason.code,
            "why": rules.return_reason(reason.code).text,  # in the partner's language
            "due": format_eur(due),
            "date": format_date(invoice.due_date),
            "iban": group_iban(vendor.get("iban", "")),
            "bic": vendor.get("bic", ""),
            "bank": vendor.get("bank_name", ""),
            "fee": format_eur(fee),
            "mandate": item.mandate.reference,
        }
        subject = _("Rücklastschrift zu Rechnung %(number)s: bitte überweisen bis %(date)s") % facts
        lines = [
            _("Guten Tag,"),
            "",
            _(
                "die SEPA-Lastschrift über %(amount)s zu unserer Rechnung %(number)s vom %(issued)s, eingezogen am "
                "%(collected)s, hat Ihre Bank am %(returned)s zurückgegeben."
            )
            % facts,
            _("Grund laut Bank (%(code)s): %(why)s") % facts,
            "",
            _(
                "Bitte überweisen Sie den offenen Betrag von %(due)s bis %(date)s auf unser Konto IBAN %(iban)s "
                "(BIC %(bic)s, %(bank)s), Verwendungszweck %(number)s. Wir ziehen ihn nicht noch einmal per Lastschrift ein."
            )
            % facts,
        ]
        if fee > 0:
            lines.append(
                _(
                    "Für die Rücklastschrift hat uns die Bank %(fee)s berechnet. Diesen Betrag stellen wir Ihnen mit der "
                    "nächsten monatlichen Abrechnung auf einer Rechnung über Nebenforderungen in Rechnung (Schadensersatz, "
                    "ohne Umsatzsteuer)."
                )
                % facts
            )
        if suspended:
            lines += [
                "",
                _(
                    "Unter Ihrem SEPA-Lastschriftmandat %(mandate)s ziehen wir bis auf Weiteres nichts mehr ein: Ihre "
                    "nächsten Rechnungen sind per Überweisung zahlbar. Möchten Sie wieder per Lastschrift zahlen, erteilen "
                    "Sie uns bitte im Portal unter „SEPA-Mandat“ ein neues Mandat."
                )
                % facts,
            ]
        lines += [
            "",
            _("Sollte sich Ihre Zahlung mit dieser E-Mail überschnitten haben, betrachten Sie sie bitte als erledigt."),
            "",
            _("Mit freundlichen Grüßen"),
            vendor["name"],
        ]
    outbox_enqueue(
        kind=DEBIT_RETURN_KIND,
        dedup_key=f"{DEBIT_RETURN_KIND}:{item.pk}",
        recipients=[invoice.email],
        subject=subject,
        body="\n".join(lines),
        document=invoice,
        from_email=settings.DEFAULT_FROM_EMAIL,
    )


def _book_one(
    entry: BankEntry, tx: camt.Transaction, item: SepaBatchItem, today: date, by, entry_charges: Decimal
) -> ReturnBooked:
    invoice = Invoice.objects.select_for_update(of=("self",)).get(number=item.end_to_end_id)
    reason = rules.return_reason(tx.return_reason or entry.return_reason)
    # 2. the payment back
    reversed_amount = _reverse_payments(invoice, item.amount, entry)
    invoice.paid_amount -= reversed_amount
    # 3. open again, by transfer (a cancelled invoice stays cancelled: nothing is due)
    if invoice.state != Invoice.CANCELLED and selectors.invoice_amount_due(invoice) > 0:
        invoice.move_to(Invoice.OPEN)
    invoice.save(update_fields=["paid_amount", "state"])
    invoice_debit_returned(invoice=invoice, on=today)
    # 4. the bank's fee, a charge on the next invoicing run
    fee = ZERO
    # The charge's text becomes a line of the partner's invoice, the mandate's reason is shown
    # in its portal: both in the partner's language (issue 21), whoever imports the statement.
    with for_partner(invoice.partner):
        description = _("Rücklastschrift zu Rechnung %(number)s, eingezogen am %(date)s (Grund %(code)s)") % {
            "number": invoice.number,
            "date": format_date(item.collection_date or item.batch.collection_date),
            "code": reason.code,
        }
        suspend_reason = _("Rücklastschrift %(code)s zu %(number)s: %(why)s") % {
            "code": reason.code,
            "number": invoice.number,
            "why": rules.return_reason(reason.code).text,
        }
    if reason.partner_pays_fee:
        fee = tx.charges if tx.charges > 0 else entry_charges if entry_charges > 0 else return_fee_default()
    if fee > 0:
        charge_add(
            partner=invoice.partner,
            kind=Charge.RETURN_FEE,
            amount=fee,
            description=description,
            source_invoice=invoice,
            dedup_key=f"return-fee:{item.pk}",
            by=by,
        )
    # 5. the mandate
    suspended = False
    if reason.suspends_mandate:
        suspended = sepa_mandate_suspend(
            mandate=item.mandate,
            on=today,
            reason=suspend_reason,
            by=by,
        )
    # 6. the partner's e-mail; 7. the batch shows it came back
    _return_mail(invoice, item, entry, reason, fee, suspended)
    item.return_entry = entry
    item.save(update_fields=["return_entry"])
    return ReturnBooked(invoice.number, reversed_amount, fee, suspended)


def debit_return_book(*, entry: BankEntry, raw: camt.Entry, by=None) -> list[ReturnBooked]:
    """Book a returned direct debit entry of the statement (see the module docstring), in the
    import's transaction. Sets the entry's state — ``RETURNED`` when every returned transaction
    found its collection, else ``UNMATCHED`` (it waits for finance) — and its note."""
    today = clock.today()
    transactions = raw.transactions or (
        camt.Transaction(
            end_to_end_id="",
            party_name="",
            party_iban="",
            remittance=raw.remittance,
            return_reason=raw.return_reason,
            charges=raw.charges,
            amount=raw.amount,
        ),
    )
    booked: list[ReturnBooked] = []
    notes: list[str] = []
    waiting = False
    for tx in transactions:
        reason = rules.return_reason(tx.return_reason or raw.return_reason)
        item = _collection(tx)
        label = tx.end_to_end_id or _("ohne Referenz")
        if item is None:
            waiting = True
            notes.append(
                _("Rücklastschrift %(code)s zu %(ref)s: keine eigene Lastschrift gefunden, bitte klären.")
                % {"code": reason.code, "ref": label}
            )
            continue
        if item.return_entry_id is not None:
            waiting = True
            notes.append(
                _("%(number)s kam schon mit einem anderen Umsatz zurück; bitte prüfen.")
                % {"number": item.end_to_end_id}
            )
            continue
        # Charges given for the whole entry belong to its one transaction; with several they
        # cannot be split, and each return costs the default fee.
        done = _book_one(entry, tx, item, today, by, raw.entry_charges if len(transactions) == 1 else ZERO)
        booked.append(done)
        entry.invoices.add(Invoice.objects.get(number=done.number))
        text = _("Rücklastschrift %(code)s (%(why)s): %(number)s wieder offen, %(reversed)s Zahlung storniert") % {
            "code": reason.code,
            "why": reason.text,
            "number": done.number,
            "reversed": format_eur(done.reversed_amount),
        }
        if done.fee > 0:
            text += ", " + _("Gebühr %(fee)s als Nebenforderung") % {"fee": format_eur(done.fee)}
        if done.mandate_suspended:
            text += ", " + _("Mandat ausgesetzt")
        notes.append(text + ".")
    entry.state = BankEntry.UNMATCHED if waiting else BankEntry.RETURNED
    entry.note = "; ".join(notes)[:1000]
    entry.save(update_fields=["state", "note"])
    return booked
