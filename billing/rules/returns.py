"""Rules of charges (Nebenforderungen) and returned direct debits (issue 18; ORD-8 / SEPA): the
payment terms of a "Rechnung über Nebenforderungen" and of a returned invoice, and what a
SEPA return reason code means.

Pure functions over ``date`` and plain values (STYLE 2): no ORM, no ``now()``, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from billing.rules.collection import PAYMENT_DAYS, TRANSFER, PaymentTerms, transfer_terms
from vendorportal.formats import format_date

# --- Charges and returned direct debits (issue 18; ORD-8 / SEPA) ------------------------------

#: Charges (Nebenforderungen: return fees, dunning fees, default interest) are damages, not the
#: consideration for a supply: not subject to VAT (EN 16931 category O, no rate).
CHARGES_VAT_NOTE = gettext_noop(
    "Nicht steuerbarer Schadensersatz (kein Leistungsaustausch, Abschn. 1.3 Abs. 1 UStAE): ohne Umsatzsteuer."
)
#: Days a partner has to transfer an invoice whose direct debit came back (decision, issue 18).
RETURN_PAYMENT_DAYS = 7


def charges_payment_terms(invoice_date: date) -> PaymentTerms:
    """Payment terms of a "Rechnung über Nebenforderungen" (ORD-8, issue 18): always transfer,
    due in 14 days. Never a direct debit, whatever mandate the partner has: a damages claim is
    not the subscription the mandate was given for, and debiting it would need a separate
    announcement (pre-notification) of its own. 01.12.2026 → due 15.12.2026."""
    terms = transfer_terms(invoice_date + timedelta(days=PAYMENT_DAYS))
    return PaymentTerms(
        terms.means,
        terms.due_date,
        _("Zahlbar ohne Abzug bis %(date)s per Überweisung; Nebenforderungen ziehen wir nicht per Lastschrift ein.")
        % {"date": format_date(terms.due_date)},
    )


def returned_debit_terms(processed_on: date) -> PaymentTerms:
    """How an invoice whose direct debit came back is paid now (ORD-8 / SEPA, issue 18): by
    transfer, due :data:`RETURN_PAYMENT_DAYS` days after the return was processed — never
    debited again on its own (the bank just refused it, and a new debit needs a new
    pre-notification). 02.12.2026 → due 09.12.2026."""
    due = processed_on + timedelta(days=RETURN_PAYMENT_DAYS)
    return PaymentTerms(
        TRANSFER,
        due,
        _("Die Lastschrift wurde zurückgegeben; zahlbar ohne Abzug bis %(date)s per Überweisung.")
        % {"date": format_date(due)},
    )


@dataclass(frozen=True)
class ReturnReason:
    """A SEPA R-transaction reason code (ISO 20022 ExternalReturnReason1Code) as the partner
    reads it, and whether it marks (suspends) the mandate (ORD-8 / SEPA)."""

    code: str
    text: str  # German, for the partner's e-mail and the admin
    suspends_mandate: bool
    partner_pays_fee: bool  # the bank's return fee is the partner's damage to pay (a charge)


# code → (German text, suspends the mandate). A code suspends the mandate when the debit would
# fail again the same way or the debtor has objected to it: the account or mandate is unusable
# (AC01, AC04, AC06, AC13, AG01, DNOR, MD01, MD02, MD07, RC01, RR01, RR02, SL01), or the debtor
# refused or reclaimed the debit (MS02, MD06 — debiting again against an objection only causes
# another return and another fee). It does not when the next debit may well succeed: no funds
# (AM04), a duplicate (AM05), reasons on the banks' or the creditor's side (AG02, BE05, CNOR,
# FF01, MS03, RR03, RR04, TM01, FOCR) or a code we do not know.
#
# The bank's return fee becomes a charge (damages) only when the return is the partner's doing
# or in its sphere; not for the codes that are ours or the banks' (AG02, AM05, BE05, CNOR,
# FF01, FOCR, RR03, TM01).
_NOT_THE_PARTNERS = frozenset({"AG02", "AM05", "BE05", "CNOR", "FF01", "FOCR", "RR03", "TM01"})
_RETURN_REASONS: dict[str, tuple[str, bool]] = {
    "AC01": (gettext_noop("Die IBAN ist falsch oder existiert nicht."), True),
    "AC04": (gettext_noop("Das Konto ist aufgelöst."), True),
    "AC06": (gettext_noop("Das Konto ist gesperrt."), True),
    "AC13": (gettext_noop("Das Konto lässt keine Firmenlastschriften zu (Verbraucherkonto)."), True),
    "AG01": (gettext_noop("Auf diesem Konto sind Lastschriften nicht zugelassen."), True),
    "AG02": (gettext_noop("Die Bank hat einen Formfehler der Lastschrift gemeldet."), False),
    "AM04": (gettext_noop("Das Konto war nicht ausreichend gedeckt."), False),
    "AM05": (gettext_noop("Die Lastschrift wurde doppelt eingereicht."), False),
    "BE05": (
        gettext_noop("Die Bank kennt uns als Zahlungsempfänger nicht (technischer Fehler auf unserer Seite)."),
        False,
    ),
    "CNOR": (gettext_noop("Unsere Bank ist für SEPA-Lastschriften nicht erreichbar."), False),
    "DNOR": (gettext_noop("Ihre Bank nimmt keine SEPA-Lastschriften an."), True),
    "FF01": (gettext_noop("Die Lastschriftdatei war fehlerhaft (technischer Fehler auf unserer Seite)."), False),
    "FOCR": (gettext_noop("Die Lastschrift wurde auf unsere Bitte zurückgerufen."), False),
    "MD01": (gettext_noop("Für diese Lastschrift liegt Ihrer Bank kein gültiges Mandat vor."), True),
    "MD02": (gettext_noop("Im Mandat fehlen Angaben (z. B. Name oder Anschrift des Kontoinhabers)."), True),
    "MD06": (gettext_noop("Sie haben der Lastschrift widersprochen und den Betrag zurückgefordert."), True),
    "MD07": (gettext_noop("Der Kontoinhaber ist verstorben."), True),
    "MS02": (gettext_noop("Sie haben die Lastschrift abgelehnt (ohne Angabe von Gründen)."), True),
    "MS03": (gettext_noop("Ihre Bank hat die Lastschrift ohne Angabe von Gründen zurückgegeben."), False),
    "RC01": (gettext_noop("Der BIC ist falsch."), True),
    "RR01": (gettext_noop("Konto oder Kennung des Zahlers fehlen (aufsichtsrechtlicher Grund)."), True),
    "RR02": (gettext_noop("Name oder Anschrift des Zahlers fehlen (aufsichtsrechtlicher Grund)."), True),
    "RR03": (gettext_noop("Name oder Anschrift des Zahlungsempfängers fehlen (aufsichtsrechtlicher Grund)."), False),
    "RR04": (gettext_noop("Die Bank hat die Lastschrift aus aufsichtsrechtlichen Gründen zurückgegeben."), False),
    "SL01": (gettext_noop("Ihre Bank hat Lastschriften von uns gesperrt (Lastschriftsperre oder Positivliste)."), True),
    "TM01": (gettext_noop("Die Lastschrift kam nach Annahmeschluss bei der Bank an."), False),
}


def return_reason(code: str) -> ReturnReason:
    """The German text of a SEPA return reason code, whether the mandate is suspended and
    whether the partner pays the bank's fee (ORD-8 / SEPA, issue 18). "MD06" → "Sie haben der
    Lastschrift widersprochen …", suspends, fee; "AM04" → "… nicht ausreichend gedeckt.", does
    not suspend, fee; "FF01" → our file was wrong: no fee; an unknown code → a generic text,
    does not suspend, fee."""
    code = (code or "").strip().upper()
    known = _RETURN_REASONS.get(code)
    if known is None:
        return ReturnReason(
            code,
            _("Die Bank hat die Lastschrift zurückgegeben (Grund %(code)s).") % {"code": code or "?"},
            False,
            True,
        )
    return ReturnReason(code, _(known[0]), known[1], code not in _NOT_THE_PARTNERS)
