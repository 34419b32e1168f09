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

A return that comes before the collection's credit was imported (the invoice not yet paid)
does all of the above except reversing (there is nothing to reverse), and marks the debit
``credit_outstanding``: when that credit arrives in a later statement,
:func:`debit_return_late_credits` books it against the return — it never pays the invoice, the
money went back.

A return whose collection is not found waits (``UNMATCHED``); finance assigns it in the admin to
the right debit (:func:`debit_return_assign`), which books it exactly as above.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from billing import camt, rules, selectors
from billing.constants import DEBIT_RETURN_KIND
from billing.exceptions import InvoiceRefused
from billing.models import BankEntry, Charge, Invoice, Payment, SepaBatchItem, SepaMandate
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
    # 6. the partner's e-mail; 7. the batch shows it came back. Nothing reversed: the
    # collection's credit was not imported yet — when it comes, it pays nothing.
    _return_mail(invoice, item, entry, reason, fee, suspended)
    item.return_entry = entry
    item.credit_outstanding = reversed_amount == 0
    item.save(update_fields=["return_entry", "credit_outstanding"])
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


def _normalized_iban(iban: str) -> str:
    return (iban or "").replace(" ", "").upper()


@transaction.atomic
def debit_return_assign(*, entry: BankEntry, invoice_number: str, by=None) -> ReturnBooked:
    """Finance assigns a waiting returned direct debit (one whose collection the import did not
    find) to the debit it returns, named by its invoice number (= the debit's end-to-end id).
    Booked like a matched return (:func:`debit_return_book`'s steps 2–7: payment reversed,
    invoice reopened for transfer, fee as a charge, e-mail, mandate suspended for mandate codes).

    Refused with a German message and nothing changed when the entry is no waiting return, the
    invoice does not exist or was not collected by direct debit, the debit came back already,
    the debtor's account (when the statement names it and a mandate of ours has it) belongs to
    another partner, or the debit is larger than what the entry has not explained yet."""
    entry = BankEntry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
    if entry.credit or entry.state != BankEntry.UNMATCHED:
        raise InvoiceRefused(
            _("Dieser Umsatz ist keine offene Rücklastschrift; zuordnen lassen sich nur wartende Rücklastschriften."),
            code="return_not_waiting",
        )
    number = (invoice_number or "").strip().upper()
    invoice = Invoice.objects.filter(number=number, kind=Invoice.INVOICE).select_related("partner").first()
    if invoice is None:
        raise InvoiceRefused(_("Eine Rechnung %(number)s gibt es nicht.") % {"number": number}, code="no_invoice")
    item = (
        SepaBatchItem.objects.select_for_update(of=("self",))
        .select_related("mandate", "batch", "return_entry")
        .filter(end_to_end_id=number)
        .first()
    )
    if item is None:
        raise InvoiceRefused(
            _(
                "Rechnung %(number)s wurde nicht per SEPA-Lastschrift eingezogen; eine Rücklastschrift gehört nur zu "
                "einer eingezogenen Lastschrift."
            )
            % {"number": number},
            code="not_a_direct_debit",
        )
    if item.return_entry_id is not None:
        raise InvoiceRefused(
            _("Die Lastschrift zu %(number)s kam bereits mit dem Umsatz %(ref)s vom %(date)s zurück.")
            % {
                "number": number,
                "ref": item.return_entry.reference,
                "date": format_date(item.return_entry.booked_on),
            },
            code="already_returned",
        )
    debtor_iban = _normalized_iban(entry.party_iban)
    if debtor_iban:
        debtors = set(SepaMandate.objects.filter(iban=debtor_iban).values_list("partner_id", flat=True))
        if debtors and invoice.partner_id not in debtors:
            raise InvoiceRefused(
                _(
                    "Die Rücklastschrift kommt vom Konto %(iban)s eines anderen Partners; Rechnung %(number)s gehört "
                    "%(partner)s."
                )
                % {"iban": group_iban(debtor_iban), "number": number, "partner": invoice.partner.company},
                code="other_partner",
            )
    returned_before = sum((i.amount for i in entry.returned_collections.all()), ZERO)
    unexplained = entry.amount - returned_before
    if item.amount > unexplained:
        raise InvoiceRefused(
            _(
                "Die Lastschrift zu %(number)s über %(item)s ist größer als der noch nicht zugeordnete Betrag der "
                "Rücklastschrift (%(left)s)."
            )
            % {"number": number, "item": format_eur(item.amount), "left": format_eur(unexplained)},
            code="return_amount",
        )
    tx = camt.Transaction(
        end_to_end_id=item.end_to_end_id,
        party_name=entry.party_name,
        party_iban=entry.party_iban,
        remittance=entry.remittance,
        return_reason=entry.return_reason,
        charges=ZERO,
        amount=item.amount,
    )
    # The entry's charges belong to its first return only (with several they cannot be split).
    done = _book_one(entry, tx, item, clock.today(), by, entry.charges if not returned_before else ZERO)
    entry.invoices.add(invoice)
    reason = rules.return_reason(entry.return_reason)
    text = _(
        "Von Hand zugeordnet am %(date)s von %(user)s: Rücklastschrift %(code)s, %(number)s wieder offen, "
        "%(reversed)s Zahlung storniert"
    ) % {
        "date": format_date(clock.today()),
        "user": getattr(by, "username", "") or _("System"),
        "code": reason.code,
        "number": done.number,
        "reversed": format_eur(done.reversed_amount),
    }
    if done.fee > 0:
        text += ", " + _("Gebühr %(fee)s als Nebenforderung") % {"fee": format_eur(done.fee)}
    if done.mandate_suspended:
        text += ", " + _("Mandat ausgesetzt")
    # Explained in full (the bank's charges may be part of the amount): the entry is done.
    if unexplained - item.amount <= entry.charges:
        entry.state = BankEntry.RETURNED
    entry.note = "; ".join(filter(None, [entry.note, text + "."]))[-1000:]
    entry.save(update_fields=["state", "note"])
    return done


def debit_return_late_credits(*, entry: BankEntry, raw: camt.Entry) -> list[SepaBatchItem]:
    """The collections a credit entry brings that came back before their credit was imported
    (``credit_outstanding``, see the module docstring): a transaction with a returned debit's
    end-to-end id and its amount. Each is marked done and linked to the entry (its invoice in
    the entry's list, a note); the caller leaves their amounts and invoices out of the payments."""
    found: list[SepaBatchItem] = []
    single = len(raw.transactions) == 1
    for tx in raw.transactions:
        if not tx.end_to_end_id or tx.end_to_end_id == "NOTPROVIDED":
            continue
        amount = tx.amount if tx.amount is not None else (raw.amount if single else None)
        item = (
            SepaBatchItem.objects.select_for_update(of=("self",))
            .select_related("return_entry")
            .filter(end_to_end_id=tx.end_to_end_id, credit_outstanding=True)
            .first()
        )
        if item is None or amount != item.amount:
            continue
        item.credit_outstanding = False
        item.save(update_fields=["credit_outstanding"])
        entry.invoices.add(Invoice.objects.get(number=item.end_to_end_id))
        found.append(item)
    return found


def late_credit_note(items: list[SepaBatchItem]) -> str:
    """The entry's note for the credits of debits that had come back already."""
    return "; ".join(
        _(
            "Gutschrift der Lastschrift zu %(number)s über %(amount)s: sie kam bereits am %(date)s zurück (Umsatz "
            "%(ref)s), keine Zahlung, die Rechnung bleibt offen."
        )
        % {
            "number": item.end_to_end_id,
            "amount": format_eur(item.amount),
            "date": format_date(item.return_entry.booked_on),
            "ref": item.return_entry.reference,
        }
        for item in items
    )
