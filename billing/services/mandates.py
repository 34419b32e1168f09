"""SEPA mandates and direct-debit batches (ORD-8)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import selectors, sepa
from billing.exceptions import (
    SepaCollectionRefused,
    SepaMandateRefused,
)
from billing.models import (
    SepaBatch,
    SepaBatchItem,
    SepaMandate,
)
from billing.services.confirmations import (
    MANDATE_CHANGED,
    MANDATE_CREATED,
    MANDATE_REVOKED,
    MANDATE_SIGNED,
    confirmation_mandate,
)
from vendorportal import clock
from vendorportal.formats import format_date_de
from vendorportal.money import sum_money
from vendorportal.parties.models import Partner
from vendorportal.sequences import next_document_number

logger = logging.getLogger(__name__)

# --- SEPA mandates and direct-debit batches (ORD-8) ---------------------------


def _mandate_save(mandate: SepaMandate, by=None) -> SepaMandate:
    mandate.full_clean()
    mandate._history_user = by  # who changed it, in the mandate's history
    try:
        with transaction.atomic():
            mandate.save()
    except IntegrityError:
        # Two saves racing past full_clean: the partial unique constraint refuses the second.
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
    by=None,
) -> SepaMandate:
    """Record a mandate — signed (``signed_on``) or waiting for its signature (``None``: the
    reference exists now, so the form the debtor signs carries it). Without ``reference`` the
    vendor's next one is assigned (:func:`mandate_reference_next`). Refused
    (``ValidationError``) if the partner has an active (or, unsigned, a pending) one. Writes
    the written confirmation (issue 16)."""
    mandate = SepaMandate(
        partner=partner,
        iban=iban,
        bic=bic,
        reference=(reference or "").strip() or mandate_reference_next(partner),
        signed_on=signed_on,
        account_holder=(account_holder or "").strip(),
    )
    mandate = _mandate_save(mandate, by)
    confirmation_mandate(mandate=mandate, event=MANDATE_CREATED, by=by)
    return mandate


PORTAL_MANDATE_PREFIX = "VP"


def mandate_reference_next(partner: Partner) -> str:
    """The vendor's mandate reference ``VP-<partner>-<n>`` (n counts the partner's mandates);
    call with the partner row locked."""
    number = SepaMandate.objects.filter(partner=partner).count() + 1
    return f"{PORTAL_MANDATE_PREFIX}-{partner.pk:06d}-{number:03d}"


@transaction.atomic
def sepa_mandate_sign(*, mandate: SepaMandate, signed_on: date, by=None) -> SepaMandate:
    """Record the signature of a pending mandate: it becomes the partner's active one, and the
    mandate active until then is revoked that day (both or neither). Refused for a mandate
    that is signed or revoked already."""
    Partner.objects.select_for_update().get(pk=mandate.partner_id)  # one change of mandate at a time
    locked = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    if not locked.is_pending:
        raise SepaMandateRefused(
            _("Das Mandat %(reference)s wartet nicht (mehr) auf eine Unterschrift.") % {"reference": locked.reference},
            code="mandate_not_pending",
        )
    active = selectors.partner_mandate(locked.partner)
    if active is not None:
        sepa_mandate_revoke(mandate=active, on=max(clock.today(), active.signed_on), by=by)
    locked.signed_on = signed_on
    locked = _mandate_save(locked, by)
    confirmation_mandate(mandate=locked, event=MANDATE_SIGNED, by=by)
    return locked


@transaction.atomic
def sepa_mandate_enter(
    *, partner: Partner, account_holder: str, iban: str, bic: str, signed_on: date | None = None, by=None
) -> SepaMandate:
    """A partner enters a new mandate in the portal, with the vendor's reference
    (:func:`mandate_reference_next`). Signed (``signed_on``): the active one (if any) is
    revoked today and the new one recorded, both or neither. Not signed yet: it waits for its
    signature (printable as a form with its reference) and the active one stays until
    :func:`sepa_mandate_sign`. A form still waiting is replaced by the new one."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)  # one new mandate at a time
    pending = selectors.partner_pending_mandate(partner)
    if pending is not None:
        sepa_mandate_revoke(mandate=pending, by=by)
    active = selectors.partner_mandate(partner)
    if active is not None and signed_on is not None:
        sepa_mandate_revoke(mandate=active, on=max(clock.today(), active.signed_on), by=by)
    return sepa_mandate_create(
        partner=partner,
        iban=iban,
        bic=bic,
        reference=mandate_reference_next(partner),
        signed_on=signed_on,
        account_holder=account_holder,
        by=by,
    )


@transaction.atomic
def sepa_mandate_update(
    *, mandate: SepaMandate, iban: str, bic: str, reference: str, signed_on: date, by=None
) -> SepaMandate:
    """Correct an active or pending mandate's data (e.g. a new account of the same debtor); a
    pending one given its signature date is signed (:func:`sepa_mandate_sign`)."""
    locked = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    if locked.revoked_on is not None:
        raise SepaMandateRefused(_("Ein widerrufenes Mandat kann nicht mehr geändert werden."), code="mandate_revoked")
    signs = locked.is_pending and signed_on is not None
    locked.iban, locked.bic, locked.reference = iban, bic, reference
    if not signs:
        locked.signed_on = signed_on
    locked = _mandate_save(locked, by)
    if signs:
        return sepa_mandate_sign(mandate=locked, signed_on=signed_on, by=by)
    confirmation_mandate(mandate=locked, event=MANDATE_CHANGED, by=by)
    return locked


@transaction.atomic
def sepa_mandate_revoke(*, mandate: SepaMandate, on: date | None = None, by=None) -> SepaMandate:
    """Revoke the mandate (today unless ``on`` is given); no later collection may use it."""
    locked = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    locked.revoke(on or clock.today())
    locked._history_user = by
    locked.save(update_fields=["revoked_on"])
    confirmation_mandate(mandate=locked, event=MANDATE_REVOKED, by=by)
    return locked


def _collection_refused(message: str, code: str):
    raise SepaCollectionRefused(message, code=code)


def sepa_batch_create(*, collections: Sequence[sepa.DueCollection], collection_date: date, by=None) -> SepaBatch:
    """Write one pain.008 batch for ``collections`` and record it, all or nothing.

    The caller selects the due direct-debit invoices and passes them as plain values
    (number, gross, mandate reference). This service locks the mandates, refuses a
    revoked or unknown mandate and an invoice that is already in a batch, gives each
    mandate's first collection the sequence type FRST while the mandate has never been
    submitted (later ones RCUR), builds and schema-validates the file, stores it with
    one item per invoice and moves the submitted mandates to RCUR. The unique
    end-to-end id of the items is the database's guard against collecting an invoice
    twice, also when two exports run at once.
    """
    try:
        return _sepa_batch_create(collections=collections, collection_date=collection_date, by=by)
    except IntegrityError:
        raise SepaCollectionRefused(
            _("Eine dieser Rechnungen wurde gerade in einer anderen Lastschriftdatei eingereicht; bitte neu starten."),
            code="sepa_already_collected",
        ) from None


@transaction.atomic
def _sepa_batch_create(*, collections, collection_date: date, by) -> SepaBatch:
    if not collections:
        _collection_refused(_("Es gibt keine Lastschriften einzureichen."), "sepa_empty")
    if collection_date <= clock.today():
        _collection_refused(
            _("Der Einzugstag %(date)s muss nach dem heutigen Tag liegen.") % {"date": format_date_de(collection_date)},
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

    first_used: set[str] = set()
    lines: list[sepa.Collection] = []
    for c in sorted(collections, key=lambda c: c.end_to_end_id):
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
                debtor_name=mandate.account_holder or mandate.partner.company,
                debtor_iban=mandate.iban,
                debtor_bic=mandate.bic,
                remittance=c.remittance or _("Rechnung %(number)s") % {"number": c.end_to_end_id},
            )
        )
    now = clock.now()
    message_id = next_document_number("SEPA", clock.today().year)
    xml = sepa.build_pain008(
        creditor=selectors.sepa_creditor(),
        collections=lines,
        collection_date=collection_date,
        message_id=message_id,
        created_at=timezone.localtime(now),
    )
    batch = SepaBatch.objects.create(
        collection_date=collection_date,
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


def sepa_export(*, collection_date: date, by=None) -> SepaBatch | None:
    """The direct-debit file for ``collection_date``: every due direct-debit invoice not yet
    collected (:func:`billing.selectors.direct_debits_due`) in one pain.008 batch, or
    ``None`` when nothing is due — a second run for the same day finds nothing. The batch
    items' unique end-to-end ids keep an invoice out of a second file even when two
    exports run at once."""
    if collection_date <= clock.today():
        _collection_refused(
            _("Der Einzugstag %(date)s muss nach dem heutigen Tag liegen.") % {"date": format_date_de(collection_date)},
            "sepa_collection_date",
        )
    due = selectors.direct_debits_due(collection_date)
    if not due:
        return None
    return sepa_batch_create(collections=due, collection_date=collection_date, by=by)
