"""SEPA mandates and direct-debit files (ORD-8; decision "ORD-8 / SEPA": a direct debit is
collected on exactly the day its invoice announced).

How a debit travels:

1. *Announced* — the invoice writer (:func:`billing.services.invoices.invoice_write`) decides
   ORD-8 and, for a direct debit, stores the collection day as the invoice's ``due_date``
   (14 days after the invoice, moved to a TARGET2 business day); the invoice is the
   pre-notification. PDF, portal, admin and the open-items report all read that one field.
2. *Announced again* — a debit that can no longer be collected on its day (the day passed
   unexported, or the file could not reach the bank ``SEPA_SUBMISSION_LEAD_DAYS`` business
   days before it any more) gets a new day and a new pre-notification e-mail (outbox):
   :func:`direct_debits_reannounce`, run by every export first.
3. *Collected* — :func:`sepa_export` writes every open debit announced up to a day into one
   pain.008 file, each in the payment block of its own day and sequence type; the batch
   items' unique end-to-end ids keep an invoice out of a second file.
4. *Moved* — a new mandate moves the partner's open debits to itself (announced again) when
   the invoice still qualifies under ORD-8, else to transfer due in 14 days; a revoked mandate
   without a successor moves them to transfer. Each move sends a notice e-mail. No open debit
   names a revoked mandate (:func:`billing.selectors.direct_debits_naming_inactive_mandates`).

The document itself (number, lines, amounts, the stored PDF) never changes; only how it is
collected does (:data:`billing.models.Invoice.COLLECTION_FIELDS`), each change with its e-mail.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import rules, selectors, sepa
from billing.constants import DEBIT_NOTICE_KIND
from billing.exceptions import (
    SepaCollectionRefused,
    SepaMandateRefused,
)
from billing.models import (
    Invoice,
    SepaBatch,
    SepaBatchItem,
    SepaMandate,
)
from billing.models.sepa import group_iban
from billing.services.confirmations import (
    MANDATE_CHANGED,
    MANDATE_CREATED,
    MANDATE_REVOKED,
    MANDATE_SIGNED,
    confirmation_mandate,
)
from vendorportal import clock
from vendorportal.formats import format_date
from vendorportal.i18n import for_partner
from vendorportal.money import format_eur, sum_money
from vendorportal.outbox import outbox_enqueue
from vendorportal.parties.models import Partner
from vendorportal.sequences import next_document_number

logger = logging.getLogger(__name__)


def submission_lead_days() -> int:
    """Business days a file must reach the bank before its collection day (SEPA core: 1)."""
    return settings.SEPA_SUBMISSION_LEAD_DAYS


# --- moving and re-announcing open debits ----------------------------------------------------


def _debit_notice(invoice: Invoice, *, old_date: date | None, old_reference: str, why: str) -> None:
    """The e-mail that tells the partner how an open invoice is collected now (a new
    pre-notification, or the move to transfer), in the transaction that changed it."""
    with for_partner(invoice.partner):
        amount = format_eur(selectors.invoice_amount_due(invoice))
        if invoice.payment_means == rules.DIRECT_DEBIT:
            subject = _("Neuer Einzugstag für Rechnung %(number)s: %(date)s") % {
                "number": invoice.number,
                "date": format_date(invoice.due_date),
            }
            news = _(
                "wir ziehen den offenen Betrag von %(amount)s zu unserer Rechnung %(number)s am %(date)s per "
                "SEPA-Basislastschrift von Ihrem Konto %(iban)s ein (Mandatsreferenz %(reference)s, "
                "Gläubiger-ID %(creditor)s)."
            ) % {
                "amount": amount,
                "number": invoice.number,
                "date": format_date(invoice.due_date),
                "iban": group_iban(invoice.debtor_iban),
                "reference": invoice.mandate_reference,
                "creditor": settings.SEPA_CREDITOR_ID,
            }
        else:
            subject = _("Rechnung %(number)s: bitte überweisen bis %(date)s") % {
                "number": invoice.number,
                "date": format_date(invoice.due_date),
            }
            news = _(
                "den offenen Betrag von %(amount)s zu unserer Rechnung %(number)s ziehen wir nicht per Lastschrift "
                "ein. Bitte überweisen Sie ihn bis %(date)s auf unser Konto %(iban)s (Verwendungszweck %(number)s)."
            ) % {
                "amount": amount,
                "number": invoice.number,
                "date": format_date(invoice.due_date),
                "iban": group_iban(settings.VENDOR.get("iban", "")),
            }
        before = (
            _(
                "Angekündigt war der Einzug am %(date)s unter dem Mandat %(reference)s; diese Ankündigung ersetzen wir hiermit."
            )
            % {"date": format_date(old_date), "reference": old_reference}
            if old_date
            else ""
        )
        body = "\n".join(
            [_("Guten Tag,"), "", news, why, before, "", _("Mit freundlichen Grüßen"), settings.VENDOR["name"]]
        )
    outbox_enqueue(
        kind=DEBIT_NOTICE_KIND,
        dedup_key=(
            f"{DEBIT_NOTICE_KIND}:{invoice.pk}:{invoice.payment_means}:{invoice.mandate_reference}:"
            f"{invoice.due_date.isoformat()}"
        ),
        recipients=[invoice.email],
        subject=subject,
        body=body,
        document=invoice,
        from_email=settings.DEFAULT_FROM_EMAIL,
    )


def _announce(invoice: Invoice, mandate: SepaMandate, today: date, why: str) -> None:
    old_date, old_reference = invoice.due_date, invoice.mandate_reference
    day = rules.direct_debit_collection_day(today)
    invoice.payment_means = rules.DIRECT_DEBIT
    invoice.due_date = day
    invoice.payment_terms = rules.direct_debit_text(day)
    invoice.mandate_reference = mandate.reference
    invoice.debtor_iban = mandate.iban
    invoice.save(update_fields=sorted(Invoice.COLLECTION_FIELDS))
    _debit_notice(invoice, old_date=old_date, old_reference=old_reference, why=why)


def _to_transfer(invoice: Invoice, today: date, why: str) -> None:
    old_date, old_reference = invoice.due_date, invoice.mandate_reference
    terms = rules.transfer_terms(today + timedelta(days=rules.PAYMENT_DAYS))
    invoice.payment_means = terms.means
    invoice.due_date = terms.due_date
    invoice.payment_terms = terms.text
    invoice.mandate_reference = ""
    invoice.debtor_iban = ""
    invoice.save(update_fields=sorted(Invoice.COLLECTION_FIELDS))
    _debit_notice(invoice, old_date=old_date, old_reference=old_reference, why=why)


def _qualifies(invoice: Invoice, mandate: SepaMandate) -> bool:
    """ORD-8 for an issued invoice under ``mandate``: its monthly amount ≤ 50,00 €, or the
    mandate allows debits above (the invoice was a direct debit, so it has recurring lines). A
    mandate suspended after a returned debit (issue 18) covers nothing."""
    if mandate.suspended_on is not None:
        return False
    recurring = selectors.invoice_recurring_lines(invoice)
    if not recurring:
        return False
    return mandate.above_limit or rules.invoice_monthly_amount(recurring) <= rules.DIRECT_DEBIT_LIMIT


def _move_open_debits(*, partner: Partner, mandate: SepaMandate | None, today: date) -> int:
    """Every open debit of the partner not under ``mandate`` as it is now (another reference,
    another account) moves to ``mandate``, announced again, if it qualifies (ORD-8), else to
    transfer; with ``mandate=None`` (revoked, no successor) all go to transfer. Debits already
    under ``mandate`` that no longer qualify (its "auch über 50 €" was switched off) go to
    transfer too. Returns how many moved."""
    moved = 0
    for invoice in selectors.open_direct_debits(partner=partner).select_for_update(of=("self",)):
        if mandate is not None and _qualifies(invoice, mandate):
            if invoice.mandate_reference == mandate.reference and invoice.debtor_iban == mandate.iban:
                continue
            _announce(
                invoice,
                mandate,
                today,
                _("Grund: Ihr SEPA-Lastschriftmandat hat sich geändert; der Einzug läuft über das neue Mandat."),
            )
        elif mandate is None:
            _to_transfer(invoice, today, _("Grund: Ihr SEPA-Lastschriftmandat wurde widerrufen."))
        else:
            _to_transfer(
                invoice,
                today,
                _(
                    "Grund: Ihr SEPA-Mandat deckt Abo-Rechnungen über 50,00 € netto im Monat nicht ab; "
                    "sie werden überwiesen."
                ),
            )
        moved += 1
    return moved


def direct_debits_reannounce(*, today: date | None = None) -> list[Invoice]:
    """Announce again every open debit that can no longer be collected on its day (ORD-8 /
    SEPA decision): its day has passed unexported, or a file written today could not reach the
    bank ``SEPA_SUBMISSION_LEAD_DAYS`` business days before it. New day: 14 days from today on
    a TARGET2 business day; new pre-notification e-mail (outbox); the invoice stores the day.
    A debit that names a revoked mandate moves to the partner's active one or to transfer.
    Each invoice in its own transaction; returns the invoices changed."""
    today = today or clock.today()
    lead = submission_lead_days()
    horizon = today + timedelta(days=lead * 7 + 7)  # later days are in time whatever the holidays
    # Debits naming a revoked mandate (left by data from before mandates moved them) are never
    # collectable: they move too, to the partner's active mandate or to transfer.
    stranded = set(selectors.direct_debits_naming_inactive_mandates().values_list("pk", flat=True))
    due = set(selectors.open_direct_debits().filter(due_date__lte=horizon).values_list("pk", flat=True))
    done = []
    for pk in sorted(due | stranded):
        with transaction.atomic():
            invoice = selectors.open_direct_debits().select_for_update(of=("self",)).filter(pk=pk).first()
            if invoice is None:
                continue
            mandate = SepaMandate.objects.filter(
                reference=invoice.mandate_reference, revoked_on__isnull=True, suspended_on__isnull=True
            ).first()
            if mandate is None:
                active = selectors.partner_mandate(invoice.partner)
                if active is not None and _qualifies(invoice, active):
                    _announce(
                        invoice,
                        active,
                        today,
                        _(
                            "Grund: Ihr SEPA-Lastschriftmandat hat sich geändert; der Einzug läuft über das neue Mandat."
                        ),
                    )
                else:
                    _to_transfer(invoice, today, _("Grund: Das SEPA-Mandat dieser Rechnung ist nicht mehr gültig."))
                done.append(invoice)
                continue
            if not rules.direct_debit_needs_new_date(invoice.due_date, today, lead):
                continue
            else:
                _announce(
                    invoice,
                    mandate,
                    today,
                    _("Grund: Der Einzug konnte nicht am angekündigten Tag erfolgen."),
                )
            done.append(invoice)
    return done


# --- mandates --------------------------------------------------------------------------------


def _mandate_save(mandate: SepaMandate, by=None) -> SepaMandate:
    mandate.full_clean()
    mandate._history_user = by  # who changed it, in the mandate's history
    try:
        with transaction.atomic():
            mandate.save()
    except IntegrityError:
        # Two saves racing past full_clean: the partial unique constraints refuse the second.
        raise SepaMandateRefused(
            _("Dieser Partner hat schon ein aktives SEPA-Mandat, oder die Mandatsreferenz ist vergeben."),
            code="mandate_conflict",
        ) from None
    return mandate


@transaction.atomic
def sepa_mandate_create(
    *,
    partner: Partner,
    iban: str,
    reference: str = "",
    signed_on: date | None = None,
    bic: str = "",
    account_holder: str = "",
    above_limit: bool = False,
    portal_token: str = "",
    by=None,
) -> SepaMandate:
    """Record a mandate — signed (``signed_on``) or waiting for its signature (``None``: the
    reference exists now, so the form the debtor signs carries it). Without ``reference`` the
    vendor's next one is assigned (:func:`mandate_reference_next`). Refused
    (``ValidationError``) if the partner has an active (or, unsigned, a pending) one. Writes
    the written confirmation (issue 16); a signed one takes over the partner's open debits
    that name a revoked mandate (announced again) or moves them to transfer (ORD-8)."""
    mandate = SepaMandate(
        partner=partner,
        iban=iban,
        bic=bic,
        reference=(reference or "").strip() or mandate_reference_next(partner),
        signed_on=signed_on,
        account_holder=(account_holder or "").strip(),
        above_limit=above_limit,
        portal_token=portal_token,
    )
    mandate = _mandate_save(mandate, by)
    confirmation_mandate(mandate=mandate, event=MANDATE_CREATED, by=by)
    if mandate.is_active:
        _move_open_debits(partner=partner, mandate=mandate, today=clock.today())
    return mandate


PORTAL_MANDATE_PREFIX = "VP"


def mandate_reference_next(partner: Partner) -> str:
    """The vendor's mandate reference ``VP-<partner>-<n>`` (n counts the partner's mandates);
    call with the partner row locked."""
    number = SepaMandate.objects.filter(partner=partner).count() + 1
    return f"{PORTAL_MANDATE_PREFIX}-{partner.pk:06d}-{number:03d}"


@transaction.atomic
def sepa_mandate_sign(*, mandate: SepaMandate, signed_on: date, by=None) -> SepaMandate:
    """Record the signature of a pending mandate: it becomes the partner's active one, the
    mandate active until then is revoked that day (both or neither), and the open debits move
    to it (announced again) or to transfer (ORD-8). Refused for a mandate that is signed or
    revoked already."""
    Partner.objects.select_for_update().get(pk=mandate.partner_id)  # one change of mandate at a time
    locked = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    if not locked.is_pending:
        raise SepaMandateRefused(
            _("Das Mandat %(reference)s wartet nicht (mehr) auf eine Unterschrift.") % {"reference": locked.reference},
            code="mandate_not_pending",
        )
    active = selectors.partner_mandate(locked.partner)
    if active is not None:
        _revoke_confirmed(active, max(clock.today(), active.signed_on), by)
    locked.signed_on = signed_on
    locked = _mandate_save(locked, by)
    confirmation_mandate(mandate=locked, event=MANDATE_SIGNED, by=by)
    _move_open_debits(partner=locked.partner, mandate=locked, today=clock.today())
    return locked


def _mandate_by_token(partner: Partner, token: str) -> SepaMandate | None:
    return SepaMandate.objects.filter(partner=partner, portal_token=token).first()


@transaction.atomic
def sepa_mandate_enter(
    *,
    partner: Partner,
    account_holder: str,
    iban: str,
    bic: str,
    token: str,
    signed_on: date | None = None,
    above_limit: bool = False,
    by=None,
) -> SepaMandate:
    """A partner enters a new mandate in the portal, with the vendor's reference
    (:func:`mandate_reference_next`). Signed (``signed_on``): the active one (if any) is
    revoked today and the new one recorded, both or neither, and the open debits move to it
    (announced again) or, where it does not cover them, to transfer (ORD-8). Not signed yet: it
    waits for its signature (printable as a form with its reference) and the active one stays
    until :func:`sepa_mandate_sign`. A form still waiting is replaced by the new one.

    ``token`` is the form's one-time token (STYLE 14): the same form posted again returns the
    mandate of the first post — checked under the partner's row lock, and the
    ``sepamandate_portal_token_unique`` constraint decides should two posts race past it."""
    token = (token or "").strip()
    if not token or len(token) > SepaMandate._meta.get_field("portal_token").max_length:
        raise SepaMandateRefused(_("Das Formular ist abgelaufen; bitte die Seite neu laden."), code="token")
    partner = Partner.objects.select_for_update().get(pk=partner.pk)  # one new mandate at a time
    existing = _mandate_by_token(partner, token)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            pending = selectors.partner_pending_mandate(partner)
            if pending is not None:
                _revoke_confirmed(pending, clock.today(), by)
            active = selectors.partner_mandate(partner)
            if active is not None and signed_on is not None:
                _revoke_confirmed(active, max(clock.today(), active.signed_on), by)
            return sepa_mandate_create(
                partner=partner,
                iban=iban,
                bic=bic,
                reference=mandate_reference_next(partner),
                signed_on=signed_on,
                account_holder=account_holder,
                above_limit=above_limit,
                portal_token=token,
                by=by,
            )
    except (SepaMandateRefused, ValidationError):
        # The same form posted twice at once, past the check above (no row lock on the partner
        # where the database has none): full_clean's unique check or the constraint refused the
        # second — the savepoint took its revocation back, and the first one's mandate stands.
        existing = _mandate_by_token(partner, token)
        if existing is None:
            raise
        return existing


@transaction.atomic
def sepa_mandate_update(
    *,
    mandate: SepaMandate,
    iban: str,
    bic: str,
    reference: str,
    signed_on: date,
    above_limit: bool | None = None,
    by=None,
) -> SepaMandate:
    """Correct an active or pending mandate's data (e.g. a new account of the same debtor); a
    pending one given its signature date is signed (:func:`sepa_mandate_sign`). Open debits
    follow an active one: announced again when reference or account changed, moved to transfer
    when it no longer covers them (ORD-8)."""
    locked = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    if locked.revoked_on is not None:
        raise SepaMandateRefused(_("Ein widerrufenes Mandat kann nicht mehr geändert werden."), code="mandate_revoked")
    signs = locked.is_pending and signed_on is not None
    locked.iban, locked.bic, locked.reference = iban, bic, reference
    if above_limit is not None:
        locked.above_limit = above_limit
    if not signs:
        locked.signed_on = signed_on
    locked = _mandate_save(locked, by)
    if signs:
        return sepa_mandate_sign(mandate=locked, signed_on=signed_on, by=by)
    confirmation_mandate(mandate=locked, event=MANDATE_CHANGED, by=by)
    if locked.is_active:
        _move_open_debits(partner=locked.partner, mandate=locked, today=clock.today())
    return locked


@transaction.atomic
def sepa_mandate_set_above_limit(*, mandate: SepaMandate, above_limit: bool, by=None) -> SepaMandate:
    """The partner's choice "auch über 50 €" on its active mandate (ORD-8). Switched off, the
    open debits it no longer covers move to transfer (with a notice); switched on, it applies
    to the invoices issued from now on."""
    locked = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    if not locked.is_active:
        raise SepaMandateRefused(_("Ein widerrufenes Mandat kann nicht mehr geändert werden."), code="mandate_revoked")
    locked.above_limit = above_limit
    locked._history_user = by
    locked.save(update_fields=["above_limit"])
    confirmation_mandate(mandate=locked, event=MANDATE_CHANGED, by=by)
    _move_open_debits(partner=locked.partner, mandate=locked, today=clock.today())
    return locked


def _revoke(mandate: SepaMandate, on: date, by) -> SepaMandate:
    locked = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    locked.revoke(on)
    locked._history_user = by
    locked.save(update_fields=["revoked_on"])
    return locked


def _revoke_confirmed(mandate: SepaMandate, on: date, by) -> SepaMandate:
    """Revoke with its written confirmation; the caller decides where the open debits go."""
    locked = _revoke(mandate, on, by)
    confirmation_mandate(mandate=locked, event=MANDATE_REVOKED, by=by)
    return locked


@transaction.atomic
def sepa_mandate_revoke(*, mandate: SepaMandate, on: date | None = None, by=None) -> SepaMandate:
    """Revoke the mandate (today unless ``on`` is given); no later collection may use it: its
    open debits move to transfer, due in 14 days, each with a notice e-mail (ORD-8)."""
    locked = _revoke_confirmed(mandate, on or clock.today(), by)
    if locked.signed_on is not None:  # a form that never got its signature collected nothing
        _move_open_debits(partner=locked.partner, mandate=None, today=clock.today())
    return locked


# --- direct-debit files ----------------------------------------------------------------------


def _collection_refused(message: str, code: str):
    raise SepaCollectionRefused(message, code=code)


def sepa_batch_create(*, collections: Sequence[sepa.DueCollection], by=None) -> SepaBatch:
    """Write one pain.008 file for ``collections`` and record it, all or nothing.

    The caller selects the due direct-debit invoices and passes them as plain values
    (number, amount, mandate reference, announced day). This service locks the mandates,
    refuses a revoked or unknown mandate, an invoice that is already in a file and a day that
    a file written today cannot reach any more (ORD-8 / SEPA: collected on exactly the
    announced day, never another — announce it again first), gives each mandate's first
    collection the sequence type FRST while the mandate has never been submitted (later ones
    RCUR), builds and schema-validates the file (one payment block per day and sequence
    type), stores it with one item per invoice and moves the submitted mandates to RCUR. The
    unique end-to-end id of the items is the database's guard against collecting an invoice
    twice, also when two exports run at once.
    """
    try:
        return _sepa_batch_create(collections=collections, by=by)
    except IntegrityError:
        raise SepaCollectionRefused(
            _("Eine dieser Rechnungen wurde gerade in einer anderen Lastschriftdatei eingereicht; bitte neu starten."),
            code="sepa_already_collected",
        ) from None


@transaction.atomic
def _sepa_batch_create(*, collections, by) -> SepaBatch:
    if not collections:
        _collection_refused(_("Es gibt keine Lastschriften einzureichen."), "sepa_empty")
    today, lead = clock.today(), submission_lead_days()
    late = sorted(
        c.end_to_end_id for c in collections if rules.direct_debit_needs_new_date(c.collection_date, today, lead)
    )
    if late:
        _collection_refused(
            _(
                "Der angekündigte Einzugstag ist vorbei oder zu nah, um die Datei rechtzeitig einzureichen: "
                "%(numbers)s. Bitte neu ankündigen."
            )
            % {"numbers": ", ".join(late)},
            "sepa_collection_date",
        )
    numbers = [c.end_to_end_id for c in collections]
    twice = sorted({n for n in numbers if numbers.count(n) > 1})
    if twice:
        _collection_refused(
            _("Doppelt übergeben: %(numbers)s.") % {"numbers": ", ".join(twice)}, "sepa_duplicate_input"
        )
    mandates = {
        m.reference: m
        for m in SepaMandate.objects.select_for_update(of=("self",))
        .select_related("partner")
        .filter(reference__in={c.mandate_reference for c in collections})
        .order_by("pk")
    }
    for c in collections:
        mandate = mandates.get(c.mandate_reference)
        if mandate is None or not mandate.is_active:
            _collection_refused(
                _("%(number)s: das SEPA-Mandat %(reference)s ist unbekannt oder widerrufen.")
                % {"number": c.end_to_end_id, "reference": c.mandate_reference},
                "sepa_mandate_inactive",
            )
    done = sorted(SepaBatchItem.objects.filter(end_to_end_id__in=numbers).values_list("end_to_end_id", flat=True))
    if done:
        _collection_refused(
            _("Schon in einer Lastschriftdatei eingereicht: %(numbers)s.") % {"numbers": ", ".join(done)},
            "sepa_already_collected",
        )

    # The first collection of a never-submitted mandate is FRST — the earliest by day.
    first_used: set[str] = set()
    lines: list[sepa.Collection] = []
    for c in sorted(collections, key=lambda c: (c.collection_date, c.end_to_end_id)):
        mandate = mandates[c.mandate_reference]
        is_first = mandate.sequence_type == SepaMandate.FRST and mandate.reference not in first_used
        first_used.add(mandate.reference)
        lines.append(
            sepa.Collection(
                end_to_end_id=c.end_to_end_id,
                amount=c.amount,
                mandate_reference=mandate.reference,
                mandate_signed_on=mandate.signed_on,
                sequence_type=sepa.FRST if is_first else sepa.RCUR,
                collection_date=c.collection_date,
                debtor_name=mandate.account_holder or mandate.partner.company,
                debtor_iban=mandate.iban,
                debtor_bic=mandate.bic,
                remittance=c.remittance or _("Rechnung %(number)s") % {"number": c.end_to_end_id},
            )
        )
    now = clock.now()
    message_id = next_document_number("SEPA", today.year)
    xml = sepa.build_pain008(
        creditor=selectors.sepa_creditor(),
        collections=lines,
        message_id=message_id,
        created_at=timezone.localtime(now),
    )
    batch = SepaBatch.objects.create(
        collection_date=max(line.collection_date for line in lines),
        message_id=message_id,
        created_at=now,
        created_by=by,
        xml=xml.decode("utf-8"),
        count=len(lines),
        total=sum_money(line.amount for line in lines),
    )
    SepaBatchItem.objects.bulk_create(
        [
            SepaBatchItem(
                batch=batch,
                end_to_end_id=line.end_to_end_id,
                mandate=mandates[line.mandate_reference],
                sequence_type=line.sequence_type,
                collection_date=line.collection_date,
                amount=line.amount,
            )
            for line in lines
        ]
    )
    for reference in sorted(first_used):
        mandate = mandates[reference]
        if mandate.sequence_type == SepaMandate.FRST:
            mandate.mark_submitted()
            mandate.save(update_fields=["sequence_type"])
    return batch


def sepa_export_default_through(today: date) -> date:
    """What an export without a day collects: everything announced for the next
    ``PRENOTIFICATION_DAYS`` days (banks take core files up to 14 calendar days ahead)."""
    return today + timedelta(days=rules.PRENOTIFICATION_DAYS)


def sepa_export(*, through: date | None = None, by=None) -> SepaBatch | None:
    """The direct-debit file of every open debit announced for a day up to ``through``
    (default :func:`sepa_export_default_through`), each collected on exactly its announced
    day (ORD-8 / SEPA). Debits that can no longer make their day are announced again first
    (:func:`direct_debits_reannounce`: new day, new e-mail) and are in this file if their new
    day is up to ``through``, else in a later one. ``None`` when nothing is due — a second run
    finds nothing. The batch items' unique end-to-end ids keep an invoice out of a second
    file even when two exports run at once."""
    today = clock.today()
    through = through or sepa_export_default_through(today)
    if through < today:
        _collection_refused(
            _("„Einzüge bis“ %(date)s liegt vor dem heutigen Tag.") % {"date": format_date(through)},
            "sepa_collection_date",
        )
    direct_debits_reannounce(today=today)
    due = selectors.direct_debits_due(through)
    if not due:
        return None
    return sepa_batch_create(collections=due, by=by)


# --- returned direct debits (issue 18) --------------------------------------------------------


def sepa_mandate_suspend(*, mandate: SepaMandate, on: date, reason: str, by=None) -> bool:
    """Suspend the mandate after a returned debit with a mandate-related reason (issue 18,
    :func:`billing.rules.return_reason`): nothing more is collected under it — ORD-8 makes the
    next invoices transfers — until the partner gives a new mandate, which replaces it. The
    partner's open debits under it move to transfer, each with its notice e-mail. In the
    caller's transaction; returns whether it was suspended now (False: revoked or suspended
    already)."""
    locked = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    if not locked.suspend(on, reason):
        return False
    locked._history_user = by
    locked._change_reason = reason[:100]
    locked.save(update_fields=["suspended_on", "suspended_reason"])
    for invoice in selectors.open_direct_debits(
        partner=locked.partner, mandate_reference=locked.reference
    ).select_for_update(of=("self",)):
        _to_transfer(
            invoice,
            on,
            _(
                "Grund: Ihr SEPA-Lastschriftmandat %(reference)s ist nach einer Rücklastschrift ausgesetzt; bis Sie uns "
                "ein neues Mandat erteilen, überweisen Sie bitte."
            )
            % {"reference": locked.reference},
        )
    return True


def invoice_debit_returned(*, invoice: Invoice, on: date) -> Invoice:
    """An invoice whose direct debit came back is paid by transfer now (issue 18,
    :func:`billing.rules.returned_debit_terms`: due a few days after ``on``); it no longer names
    the mandate. The caller holds the invoice's lock and tells the partner (one e-mail for the
    whole return)."""
    terms = rules.returned_debit_terms(on)
    invoice.payment_means = terms.means
    invoice.due_date = terms.due_date
    invoice.payment_terms = terms.text
    invoice.mandate_reference = ""
    invoice.debtor_iban = ""
    invoice.save(update_fields=sorted(Invoice.COLLECTION_FIELDS))
    return invoice
