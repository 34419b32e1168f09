"""Rules of payment terms and SEPA direct-debit collection (ORD-8): the monthly amount of an
invoice, transfer or direct debit, the pre-notified collection day on the TARGET2 calendar.

Pure functions over ``date``, ``Decimal`` and plain values (STYLE 2): no ORM, no ``now()``,
no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import holidays
from django.utils.translation import gettext as _

from billing.exceptions import BillingInputError
from vendorportal.formats import format_date
from vendorportal.money import ZERO, D, round_cents
from vendorportal.periods import month_period_end

# --- ORD-8: payment terms ---------------------------------------------------------------------

PAYMENT_DAYS = 14
DIRECT_DEBIT_LIMIT = Decimal("50.00")
TRANSFER = "transfer"
DIRECT_DEBIT = "direct_debit"
PREPAYMENT = "prepayment"
#: SEPA core pre-notification: the debtor learns the day of the debit at least 14 calendar
#: days before it (SEPA rulebook default; the invoice is the pre-notification).
PRENOTIFICATION_DAYS = 14


@dataclass(frozen=True)
class PaymentTerms:
    """How and by when an invoice is paid (ORD-8), with the sentence the invoice prints.
    For a direct debit ``due_date`` is the announced collection day (pre-notification)."""

    means: str  # TRANSFER | DIRECT_DEBIT | PREPAYMENT
    due_date: date
    text: str


@lru_cache(maxsize=32)
def _target_closing_days(year: int):
    return holidays.financial_holidays("ECB", years=year)


def is_sepa_business_day(day: date) -> bool:
    """A TARGET2 business day (SEPA settles only on these): Mon–Fri except 1 Jan, Good
    Friday, Easter Monday, 1 May, 25 and 26 Dec."""
    return day.weekday() < 5 and day not in _target_closing_days(day.year)


def sepa_business_day_on_or_after(day: date) -> date:
    """The collection day for "not before ``day``" (ORD-8 / SEPA): ``day`` itself if it is a
    TARGET2 business day, else the next one. 05.12.2026 (Sat) → 07.12.2026; 25.12.2026 (Fri) →
    28.12.2026; 01.01.2027 (Fri) → 04.01.2027."""
    while not is_sepa_business_day(day):
        day += timedelta(days=1)
    return day


def sepa_business_days_before(day: date, count: int) -> date:
    """The business day ``count`` TARGET2 business days before ``day``: the last day a file
    collecting on ``day`` may reach the bank (SEPA core: D-1). 04.01.2027, 1 → 31.12.2026."""
    while count > 0:
        day -= timedelta(days=1)
        if is_sepa_business_day(day):
            count -= 1
    return day


def direct_debit_collection_day(announced_on: date) -> date:
    """The day a direct debit announced on ``announced_on`` is collected (ORD-8 / SEPA
    decision): ``PRENOTIFICATION_DAYS`` later, moved to the next TARGET2 business day, so the
    file can ask for exactly that day. Invoice 21.11.2026 → 05.12.2026 is a Saturday → 07.12.2026."""
    return sepa_business_day_on_or_after(announced_on + timedelta(days=PRENOTIFICATION_DAYS))


def direct_debit_needs_new_date(announced: date, today: date, lead_days: int) -> bool:
    """ORD-8 / SEPA decision: a debit is collected on exactly the announced day, and SEPA core
    wants the file at the bank ``lead_days`` business days before it. A debit whose day has
    passed, or whose file could not reach the bank in time any more (``today`` after the last
    submission day), must be announced again with a new day. Announced 21.12.2026 (Mon),
    lead 1: the file must reach the bank on 18.12. (Fri) — in time then, not on 19.12. or later."""
    return today > sepa_business_days_before(announced, lead_days)


def period_months(start: date, end: date) -> int:
    """The months a billed period spans for ORD-8's monthly amount, counted from its start by
    GEN-1 and rounded up to started months: 01.01.–31.03. → 3; 01.12.2026–30.11.2027 → 12;
    a first partial month (SUB-2, 21.11.–30.11.) → 1."""
    if end < start:
        raise BillingInputError(_("Ein Zeitraum kann nicht vor seinem Beginn enden."))
    months = 1
    while month_period_end(start, months) < end:
        months += 1
    return months


def invoice_monthly_amount(recurring: Iterable[tuple[Decimal, date, date]]) -> Decimal:
    """ORD-8 (decision in RULES.md): the "monthly amount" of an invoice is the sum, over its
    subscription and plan lines ``(net, period start, period end)``, of each line's net divided
    by the months of its period (:func:`period_months`), rounded half up to cents at the end.
    A quarter of 60,00 € counts 20,00 €; a plan year of 828,00 € counts 69,00 €."""
    total = sum((D(net) / period_months(start, end) for net, start, end in recurring), ZERO)
    return round_cents(total)


def payment_terms(
    *,
    monthly_amount: Decimal | None,
    has_purchases: bool,
    has_mandate: bool,
    mandate_above_limit: bool,
    prepayment_required: bool,
    invoice_date: date,
    mandate_suspended: bool = False,
) -> PaymentTerms:
    """Payment terms of an invoice (ORD-8), the one rule every invoice writer reads.

    Decision (RULES.md, "ORD-8"): the "monthly amount" of an invoice is the sum, over its
    subscription and plan lines, of each line's net divided by the months of its period
    (:func:`invoice_monthly_amount`; ``None`` when it has no such line); purchases and
    support time do not count towards it but are collected with the invoice. ≤ 50,00 € with
    an active mandate → direct debit on :func:`direct_debit_collection_day`; above → transfer,
    due in 14 days, unless the partner's mandate allows debits above 50 €
    (``mandate_above_limit``; seed 000: invoice payment above 50 € is possible, not required).

    An invoice without subscription or plan lines is a purchase invoice: transfer, due in 14
    days. Staff may require prepayment of a partner's purchases: an invoice with purchase
    lines is then prepayment, whatever else it holds (the goods wait for the money).

    A mandate suspended after a returned debit (``mandate_suspended``, issue 18) collects
    nothing: transfer, due in 14 days, until the partner gives a new mandate.

    Examples (invoice 21.11.2026, mandate): monthly 50,00 → debit on 07.12.2026 (05.12. is a
    Saturday); 50,01 → transfer due 05.12.2026; 60,00 with "auch über 50 €" → debit; a
    1.299,00 € purchase plus a 10 €/month subscription → debit of the whole invoice.
    """
    due = invoice_date + timedelta(days=PAYMENT_DAYS)
    if has_purchases and prepayment_required:
        return PaymentTerms(
            PREPAYMENT,
            due,
            _("Vorkasse: Die Lieferung erfolgt nach Zahlungseingang, spätestens zahlbar bis %(date)s.")
            % {"date": format_date(due)},
        )
    if monthly_amount is not None and has_mandate and not mandate_suspended:
        if D(monthly_amount) < 0:
            raise BillingInputError(_("Ein monatlicher Betrag kann nicht negativ sein."))
        if D(monthly_amount) <= DIRECT_DEBIT_LIMIT or mandate_above_limit:
            day = direct_debit_collection_day(invoice_date)
            return PaymentTerms(DIRECT_DEBIT, day, direct_debit_text(day))
    return transfer_terms(due)


def direct_debit_text(collection_day: date) -> str:
    """The pre-notification sentence of a direct-debit invoice (ORD-8)."""
    return _("Der Betrag wird am %(date)s per SEPA-Basislastschrift eingezogen.") % {
        "date": format_date(collection_day)
    }


def transfer_terms(due: date) -> PaymentTerms:
    """Payment by bank transfer, due on ``due`` (ORD-8)."""
    return PaymentTerms(
        TRANSFER, due, _("Zahlbar ohne Abzug bis %(date)s per Überweisung.") % {"date": format_date(due)}
    )
