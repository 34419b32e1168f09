"""Charges (Nebenforderungen, issue 18): adding one, and billing a partner's waiting charges.

:func:`charge_add` is what returned direct debits, dunning and finance (by hand, with a
reason) call. It is idempotent by ``dedup_key`` — the unique column decides, also when two
imports or two dunning jobs run at once — so the same event adds one charge.

:func:`charges_bill` is called by the monthly invoicing run
(:func:`billing.services.invoicing.invoicing_bill_partner`) inside the partner's transaction,
right after the partner's regular invoice, with the partner row locked. Decision (docs/finance.md):
charges are damages, not a consideration — nicht steuerbarer Schadensersatz, no VAT — and
EN 16931 BR-O-11 forbids a "not subject to VAT" (category O) group on an invoice with other VAT
groups, so every waiting charge of the partner is billed on one separate invoice, the
"Rechnung über Nebenforderungen": category O only, the RE number sequence, written by the one
invoice writer (:func:`billing.services.invoices.invoice_write`), payable by transfer in 14 days
(:func:`billing.rules.charges_payment_terms`: never debited). Each charge is billed exactly once:
``billed_on`` is set in that transaction by an ``UPDATE … WHERE billed_on IS NULL`` that must
hit every charge read, else the whole partner transaction rolls back and is tried again.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import rules
from billing.exceptions import ChargeRefused
from billing.models import Charge, Invoice
from vendorportal import clock
from vendorportal.money import round_cents
from vendorportal.parties.models import Partner

from .invoices import LineDraft, invoice_write

#: Largest single charge accepted (a typo guard: a return fee is a few euros, the dunning flat fee 40 €).
MAX_CHARGE = Decimal("10000.00")


def _refuse(message: str, code: str):
    raise ChargeRefused(message, code=code)


def _amount(value) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        _refuse(_("„%(value)s“ ist kein Betrag.") % {"value": value}, "charge_amount")
    if not amount.is_finite() or amount != round_cents(amount):
        _refuse(_("Bitte den Betrag in Euro und Cent angeben (höchstens zwei Nachkommastellen)."), "charge_amount")
    if amount <= 0:
        _refuse(_("Eine Nebenforderung muss größer als 0,00 € sein."), "charge_amount")
    if amount > MAX_CHARGE:
        _refuse(
            _("Eine Nebenforderung über 10.000,00 € wird nicht angenommen; bitte den Betrag prüfen."), "charge_amount"
        )
    return amount


def charge_add(
    *,
    partner: Partner,
    kind: str,
    amount,
    description: str,
    source_invoice: Invoice | None = None,
    dedup_key: str,
    reason: str = "",
    by=None,
) -> Charge:
    """Add a charge to be billed with the partner's next invoicing run; idempotent by
    ``dedup_key`` (the same key returns the charge already there, unchanged). Refuses, with a
    German message and nothing written: an unknown kind, an amount not above 0,00 € (or not in
    cents), an empty description, a source invoice of another partner, an empty key, and a
    key already used for another partner."""
    dedup_key = (dedup_key or "").strip()
    if not dedup_key:
        _refuse(_("Eine Nebenforderung braucht einen eindeutigen Schlüssel."), "charge_key")
    existing = Charge.objects.filter(dedup_key=dedup_key).first()
    if existing is not None:
        return _same_or_refuse(existing, partner)
    if kind not in dict(Charge.KIND_CHOICES):
        _refuse(_("„%(kind)s“ ist keine Art von Nebenforderung.") % {"kind": kind}, "charge_kind")
    amount = _amount(amount)
    description = (description or "").strip()
    if not description:
        _refuse(_("Bitte beschreiben, wofür die Nebenforderung berechnet wird."), "charge_description")
    if source_invoice is not None and source_invoice.partner_id != partner.pk:
        _refuse(
            _("Die Rechnung %(number)s gehört nicht zu diesem Partner.") % {"number": source_invoice.number},
            "charge_foreign_invoice",
        )
    charge = Charge(
        partner=partner,
        kind=kind,
        amount=amount,
        description=description[:300],
        source_invoice=source_invoice,
        reason=(reason or "").strip()[:300],
        dedup_key=dedup_key[:120],
        created_at=clock.now(),
        created_by=by,
    )
    try:
        charge.full_clean(exclude=["dedup_key"])
    except ValidationError as invalid:
        _refuse(" ".join(invalid.messages), "charge_invalid")
    charge._history_user = by
    try:
        with transaction.atomic():
            charge.save()
    except IntegrityError:
        # Added at the same moment by another import or job: the unique key decided, theirs stands.
        return _same_or_refuse(Charge.objects.get(dedup_key=dedup_key), partner)
    return charge


def _same_or_refuse(charge: Charge, partner: Partner) -> Charge:
    if charge.partner_id != partner.pk:
        _refuse(_("Dieser Schlüssel gehört schon zu einer Nebenforderung eines anderen Partners."), "charge_key")
    return charge


def charges_cutoff(month: date) -> datetime:
    """The run of ``month`` bills the charges added before the month began (Berlin time):
    "the next invoicing run" is the next monthly run, and the hourly catch-up tick of the
    current month never bills a charge added that month. Run of 2027-01 → before
    01.01.2027 00:00 Europe/Berlin."""
    return timezone.make_aware(datetime.combine(month.replace(day=1), time(0, 0)))


def charges_waiting(*, month: date, partner: Partner | None = None):
    """Charges not billed yet that the run of ``month`` bills (:func:`charges_cutoff`), oldest
    first; of one partner, or of all."""
    qs = Charge.objects.filter(billed_on__isnull=True, created_at__lt=charges_cutoff(month))
    if partner is not None:
        qs = qs.filter(partner=partner)
    return qs.order_by("created_at", "pk")


def _draft(charge: Charge) -> LineDraft:
    return LineDraft(
        article=Charge.ARTICLES[charge.kind],
        description=charge.description,
        quantity=Decimal(1),
        unit="C62",
        unit_price=charge.amount,
        net=charge.amount,
        vat_category=rules.VAT_CODE_NOT_SUBJECT,
        vat_percent=Decimal("0.00"),
    )


def charges_bill(
    *, partner: Partner, month: date, issue_date: date, render_pdf: bool = True, by=None
) -> Invoice | None:
    """Bill every charge of ``partner`` the run of ``month`` bills on one "Rechnung über
    Nebenforderungen" (see the module docstring); ``None`` when none waits. Runs in the
    caller's transaction, which must hold the partner's lock (the invoicing run's)."""
    charges = list(charges_waiting(month=month, partner=partner).select_for_update(of=("self",)))
    if not charges:
        return None
    invoice, _lines = invoice_write(
        partner=partner,
        issue_date=issue_date,
        email=partner.invoice_email,
        drafts=[_draft(charge) for charge in charges],
        vat_category=rules.VAT_CODE_NOT_SUBJECT,
        vat_note=rules.CHARGES_VAT_NOTE,  # stored in German like every VAT note (BT-120, docs/i18n.md)
        vat_percent=Decimal("0.00"),
        terms=rules.charges_payment_terms(issue_date),
        by=by,
        render_pdf=render_pdf,
        charges_only=True,
    )
    billed = Charge.objects.filter(pk__in=[c.pk for c in charges], billed_on__isnull=True).update(billed_on=invoice)
    if billed != len(charges):
        # Billed by someone not holding the partner lock meanwhile: roll back, number included.
        raise IntegrityError("charges billed concurrently")
    for charge in charges:
        charge.billed_on = invoice
    # The history shows when, and with which invoice, each charge was billed.
    Charge.history.bulk_history_create(
        charges,
        update=True,
        default_user=by,
        default_change_reason=_("berechnet mit %(number)s") % {"number": invoice.number},
    )
    return invoice
