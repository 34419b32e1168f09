"""Bank statements (issue 18): a camt.053 file settles the invoices its credits name.

:func:`bank_statement_import` reads the whole file first (:func:`billing.camt.statement_parse`
refuses a malformed one with a German message before anything is written), then, in one
transaction, stores every entry the database does not know yet — an entry's bank reference is
unique per account, so the same statement imported twice changes nothing — and books it:

- a credit pays the open invoices its transactions name (remittance text or end-to-end id —
  a direct debit's end-to-end id is its invoice number), split by
  :func:`billing.rules.allocate_credit`; each payment goes through
  :func:`billing.services.payment_record` like a manual one (same checks, same state
  changes) and points to its entry. Partial and over-payments are flagged; a credit that names
  no open invoice waits in the list of unmatched entries for finance to assign;
- a credit of a direct debit that came back before its credit was imported pays nothing (the
  money went back): noted on the entry, left out of the payments;
- a debit with a return reason (or a reversed debit) is a returned direct debit: booked against
  its collection by :func:`billing.services.returns.debit_return_book` — payment reversed,
  invoice reopened for transfer, the bank's fee a charge, the partner told, the mandate
  suspended for mandate-related reasons; one whose collection is not found waits for finance;
- any other debit (bank fees, outgoing transfers) is not a partner's payment: noted, ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from billing import camt, rules, selectors
from billing.exceptions import InvoiceRefused
from billing.models import BankEntry, BankStatement, Invoice
from billing.services.payments import payment_record
from billing.services.returns import debit_return_book, debit_return_late_credits, late_credit_note
from vendorportal.errors import PortalError
from vendorportal.money import format_eur


@dataclass
class ImportResult:
    statements: int = 0
    new_entries: int = 0
    known_entries: int = 0
    payments: int = 0
    returns: int = 0  # returned direct debits booked against their collection
    by_state: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        waiting = sum(self.by_state.get(s, 0) for s in BankEntry.WAITING)
        text = _(
            "%(new)s neue Umsätze (%(known)s schon bekannt), %(payments)s Zahlungen gebucht, %(waiting)s warten auf "
            "Zuordnung."
        ) % {"new": self.new_entries, "known": self.known_entries, "payments": self.payments, "waiting": waiting}
        if self.returns:
            text += " " + _("%(returns)s Rücklastschriften gebucht.") % {"returns": self.returns}
        return text


def _open_invoices(numbers: list[str]) -> dict[str, Invoice]:
    found = Invoice.objects.filter(
        number__in=numbers, kind=Invoice.INVOICE, state__in=[Invoice.OPEN, Invoice.OVERDUE]
    ).annotate(credited_sum=selectors.credited_gross_subquery())
    return {invoice.number: invoice for invoice in found}


def _book_credit(
    entry: BankEntry, parts: list[tuple[Decimal, str]], by, skip: frozenset[str] = frozenset(), notes=None
) -> int:
    """Pay what the entry's parts (amount, text) name, never the invoices in ``skip``; returns
    the number of payments."""
    payments = 0
    rest = Decimal("0.00")
    partial = False
    notes = list(notes or [])
    for amount, text in parts:
        numbers = [n for n in rules.invoice_numbers_in(text) if n not in skip]
        invoices = _open_invoices(numbers)
        named = [
            (n, selectors.invoice_amount_due(invoices[n], invoices[n].credited_sum or Decimal("0.00")))
            for n in numbers
            if n in invoices
        ]
        allocation = rules.allocate_credit(amount, named)
        left = allocation.rest
        for number, paid in allocation.paid.items():
            try:
                payment_record(invoice=invoices[number], amount=paid, paid_on=entry.booked_on, by=by, bank_entry=entry)
            except PortalError as refused:
                left += paid
                notes.append(f"{number}: {refused.message}")
                continue
            entry.invoices.add(invoices[number])
            payments += 1
        partial = partial or bool(allocation.partial)
        rest += left
    entry.rest = rest
    if payments == 0:
        entry.state = BankEntry.UNMATCHED
        if not notes:
            notes.append(_("Keine offene Rechnung im Verwendungszweck gefunden."))
    elif rest > 0:
        entry.state = BankEntry.OVERPAID
        notes.append(_("%(rest)s mehr als offen; bitte klären.") % {"rest": format_eur(rest)})
    elif partial:
        entry.state = BankEntry.PARTIAL
    else:
        entry.state = BankEntry.MATCHED
    entry.note = "; ".join(notes)[:1000]
    entry.save(update_fields=["state", "rest", "note"])
    return payments


def _parts(raw: camt.Entry, returned: list | None = None) -> list[tuple[Decimal, str]]:
    """What to match: per transaction when a batch booking lists each with its amount, else
    the entry as a whole with all its texts — without the credits of ``returned`` debits
    (:func:`billing.services.returns.debit_return_late_credits`)."""
    gone = {item.end_to_end_id for item in returned or ()}
    txs = raw.transactions
    if len(txs) > 1 and all(t.amount is not None for t in txs) and sum(t.amount for t in txs) == raw.amount:
        return [(t.amount, f"{t.end_to_end_id} {t.remittance}") for t in txs if t.end_to_end_id not in gone]
    amount = raw.amount - sum((item.amount for item in returned or ()), Decimal("0.00"))
    return [(amount, " ".join(f"{t.end_to_end_id} {t.remittance}" for t in txs if t.end_to_end_id not in gone))]


@transaction.atomic
def bank_statement_import(*, content: bytes, file_name: str, by=None) -> ImportResult:
    statements = camt.statement_parse(content)  # refuses a broken file before any write
    result = ImportResult()
    for parsed in statements:
        statement, _created = BankStatement.objects.get_or_create(
            iban=parsed.iban,
            statement_id=parsed.statement_id,
            defaults={"file_name": file_name[:200], "imported_by": by},
        )
        result.statements += 1
        known = set(
            BankEntry.objects.filter(iban=parsed.iban, reference__in=[e.reference for e in parsed.entries]).values_list(
                "reference", flat=True
            )
        )
        for raw in parsed.entries:
            if raw.reference in known:
                result.known_entries += 1
                continue
            known.add(raw.reference)
            first = raw.transactions[0] if raw.transactions else None
            entry = BankEntry.objects.create(
                statement=statement,
                iban=parsed.iban,
                reference=raw.reference,
                booked_on=raw.booked_on,
                value_on=raw.value_on,
                amount=raw.amount,
                credit=raw.credit,
                party_name=(first.party_name if first else "")[:140],
                party_iban=(first.party_iban if first else "")[:34],
                remittance=raw.remittance,
                end_to_end_id=(first.end_to_end_id if first else "")[:35],
                return_reason=raw.return_reason[:4],
                charges=raw.charges,
                state=BankEntry.UNMATCHED,
            )
            result.new_entries += 1
            if raw.credit and not raw.reversal:
                returned = debit_return_late_credits(entry=entry, raw=raw)
                parts = _parts(raw, returned)
                if returned and not any(amount for amount, _text in parts):
                    # Only credits of debits that came back already: nothing to pay.
                    entry.state = BankEntry.RETURNED
                    entry.note = late_credit_note(returned)[:1000]
                    entry.save(update_fields=["state", "note"])
                else:
                    notes = [late_credit_note(returned)] if returned else []
                    skip = frozenset(item.end_to_end_id for item in returned)
                    result.payments += _book_credit(entry, parts, by, skip, notes)
            elif raw.return_reason or (raw.reversal and not raw.credit):
                result.returns += len(debit_return_book(entry=entry, raw=raw, by=by))
            else:
                entry.state = BankEntry.IGNORED
                entry.note = _("Abbuchung ohne Rückgabegrund: keine Zahlung eines Partners.")
                entry.save(update_fields=["state", "note"])
            result.by_state[entry.state] = result.by_state.get(entry.state, 0) + 1
    return result


@transaction.atomic
def bank_entry_assign(*, entry: BankEntry, invoice: Invoice, amount: Decimal | None = None, by=None) -> BankEntry:
    """Finance assigns a waiting credit (or its unassigned rest) to an invoice by hand: the
    payment goes through :func:`payment_record` with the entry's booking day."""
    entry = BankEntry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
    if not entry.credit or entry.state not in (BankEntry.UNMATCHED, BankEntry.OVERPAID, BankEntry.PARTIAL):
        raise InvoiceRefused(_("Dieser Umsatz ist schon zugeordnet oder keine Gutschrift."), code="entry_done")
    available = (
        entry.rest
        if entry.state == BankEntry.OVERPAID
        else entry.amount - sum((p.amount for p in entry.payments.all()), Decimal("0.00"))
    )
    amount = available if amount is None else amount
    if amount <= 0 or amount > available:
        raise InvoiceRefused(_("Zuordenbar sind noch %(left)s.") % {"left": format_eur(available)}, code="entry_amount")
    payment_record(invoice=invoice, amount=amount, paid_on=entry.booked_on, by=by, bank_entry=entry)
    entry.invoices.add(invoice)
    entry.rest = available - amount
    entry.state = BankEntry.ASSIGNED if entry.rest == 0 else BankEntry.OVERPAID
    entry.save(update_fields=["state", "rest"])
    return entry
