"""Rules of bank statements (issue 18): which open invoices a credit pays.

Pure functions over plain values (STYLE 2): no ORM, no ``now()``, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from billing.exceptions import BillingInputError
from billing.rules.invoices import INVOICE_PREFIX, NUMBER_DIGITS

# --- Bank statements (issue 18): which open invoices a credit pays ---------------------------

INVOICE_NUMBER_IN_TEXT = re.compile(rf"\b{INVOICE_PREFIX}[\s-]?(\d{{4}})[\s-]?(\d{{{NUMBER_DIGITS}}})\b", re.IGNORECASE)


def invoice_numbers_in(text: str) -> list[str]:
    """The invoice numbers a remittance text names, in their order, each once: banks and
    payers write them as "RE-2026-000001", "RE 2026 000001" or "re2026000001"."""
    seen: list[str] = []
    for year, sequence in INVOICE_NUMBER_IN_TEXT.findall(text or ""):
        number = f"{INVOICE_PREFIX}-{year}-{sequence}"
        if number not in seen:
            seen.append(number)
    return seen


@dataclass(frozen=True)
class Allocation:
    """How a credit is split over the invoices it names: ``paid`` per invoice number, the
    ``rest`` no named invoice could take (an overpayment), and the numbers only partly paid."""

    paid: dict[str, Decimal]
    rest: Decimal
    partial: tuple[str, ...]


def allocate_credit(amount: Decimal, due_by_number: list[tuple[str, Decimal]]) -> Allocation:
    """**Decision (issue 18):** a credit pays the open invoices its text names, in the order
    named, each up to what is still due; what is left is an overpayment for finance to look at;
    an invoice that gets less than its due is partly paid (and stays open).

    120,00 € naming RE-1 (due 100,00) and RE-2 (due 50,00) → RE-1 100,00, RE-2 20,00 (partial);
    160,00 € naming the same → both paid, 10,00 € rest.
    """
    if amount < 0:
        raise BillingInputError(_("Ein Zahlungseingang ist nicht negativ."))
    left = amount
    paid: dict[str, Decimal] = {}
    partial: list[str] = []
    for number, due in due_by_number:
        if left <= 0 or due <= 0:
            continue
        take = min(left, due)
        paid[number] = take
        left -= take
        if take < due:
            partial.append(number)
    return Allocation(paid, left, tuple(partial))
