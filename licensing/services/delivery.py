"""Delivery notes (Lieferscheine, ORD-2): the module licence keys of one issue, without
prices, as a PDF to the delivery e-mail.

Flow: :func:`delivery_note_create` runs inside the transaction that issues the keys
and writes the note's e-mail as an outbox row (``vendorportal.outbox``, STYLE 13) in
that same transaction. A worker sends it: the outbox calls
:func:`delivery_note_attachments`, which renders the PDF once and stores it
(:func:`delivery_note_render`), and after the send :func:`delivery_note_sent`, which
counts the delivery on the note. A killed worker or a lost broker message loses
nothing: the periodic outbox job sends what is due and unsent. The stored PDF is the
document that was sent: it is never rendered again or replaced, and a resend (a new
outbox row) attaches the same bytes.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from licensing.exceptions import DeliveryNoteError
from licensing.models import DeliveryNote, Installation, License, LicenseBinding
from licensing.selectors.delivery import DOCUMENT_TIMEZONE, delivery_note_context
from vendorportal import clock
from vendorportal.documents import document_bytes, sha256_hex
from vendorportal.i18n import for_partner
from vendorportal.models import OutboxMessage
from vendorportal.outbox import OutboxDraft, outbox_enqueue, outbox_enqueue_fresh, outbox_resend
from vendorportal.pdf import render_pdf
from vendorportal.sequences import next_document_numbers
from vendorportal.webhooks import constants as webhook_events
from vendorportal.webhooks import payloads as webhook_payloads
from vendorportal.webhooks.events import webhook_event_emit

logger = logging.getLogger(__name__)

NUMBER_PREFIX = "LS"
OUTBOX_KIND = "delivery-note"
TEMPLATE = "documents/delivery_note.html"
# Documents and their e-mails are German whatever language the user who triggered
# them has chosen (staff may use the English admin).


def _redundancy_group_ids(installation: Installation) -> set[int]:
    """The installation and its redundancy partners (LIC-9): primary and secondaries."""
    ids = {installation.pk}
    primary_id = installation.secondary_of_id or installation.pk
    ids.add(primary_id)
    ids.update(Installation.objects.filter(secondary_of_id=primary_id).values_list("pk", flat=True))
    return ids


def _checked_licenses(installation: Installation, licenses) -> list[License]:
    wanted = []
    for lic in licenses:
        if lic.pk is None:
            raise DeliveryNoteError(_("Die Lizenz ist noch nicht gespeichert."), code="unsaved_license")
        if lic.pk not in wanted:
            wanted.append(lic.pk)
    if not wanted:
        raise DeliveryNoteError(
            _("Ein Lieferschein braucht mindestens einen Modullizenzschlüssel."), code="no_licenses"
        )
    # Fresh from the database: the state and bindings as committed, not as the caller saw them.
    by_pk = License.objects.select_related("product").in_bulk(wanted)
    group = _redundancy_group_ids(installation)
    bound = set(
        LicenseBinding.objects.filter(license_id__in=wanted, installation_id__in=group).values_list(
            "license_id", flat=True
        )
    )
    result = []
    for pk in wanted:
        lic = by_pk.get(pk)
        if lic is None:
            raise DeliveryNoteError(_("Eine der Lizenzen gibt es nicht (mehr)."), code="unknown_license")
        if pk not in bound and lic.installation_id not in group:
            raise DeliveryNoteError(
                _(
                    "Die Lizenz Nr. %(serial)s (%(module)s) gehört nicht zur Installation %(identifier)s – "
                    "ein Lieferschein enthält nur Schlüssel dieser Anlage (oder ihrer Redundanzanlage)."
                )
                % {"serial": lic.serial, "module": lic.product.name, "identifier": installation.identifier},
                code="foreign_license",
            )
        if lic.state != License.ACTIVE:
            raise DeliveryNoteError(
                _("Die Lizenz Nr. %(serial)s (%(module)s) ist %(state)s und wird nicht mehr ausgeliefert.")
                % {"serial": lic.serial, "module": lic.product.name, "state": lic.get_state_display()},
                code="inactive_license",
            )
        result.append(lic)
    return result


def delivery_note_recipient(installation: Installation, recipient_email: str | None) -> str:
    """The checked address a note goes to: ``recipient_email`` or the partner's delivery e-mail."""
    if recipient_email is None:
        recipient_email = installation.customer.partner.delivery_email
    recipient = (recipient_email or "").strip()
    if not recipient:
        raise DeliveryNoteError(
            _(
                "Für den Lieferschein fehlt die Liefer-E-Mail-Adresse. Bitte beim Partner eine Liefer-E-Mail hinterlegen."
            ),
            code="no_recipient",
        )
    try:
        validate_email(recipient)
    except ValidationError:
        raise DeliveryNoteError(
            _("„%(email)s“ ist keine gültige E-Mail-Adresse für den Lieferschein.") % {"email": recipient},
            code="invalid_recipient",
        ) from None
    return recipient


@transaction.atomic
def delivery_note_create(*, installation: Installation, licenses, recipient_email: str | None = None) -> DeliveryNote:
    """Create the Lieferschein for freshly issued keys (ORD-2) and queue its delivery.

    Runs inside the caller's transaction (the one that issues the keys), so a
    rolled-back issue leaves neither a note nor a gap in the LS numbers. The
    recipient defaults to the partner's delivery e-mail; a partner may name its end
    customer's address instead. Raises :class:`DeliveryNoteError` before writing
    anything when there is no licence, a licence of another installation, or no
    valid e-mail address.
    """
    checked = _checked_licenses(installation, licenses)
    recipient = delivery_note_recipient(installation, recipient_email)

    return delivery_notes_write([(installation, checked, recipient)])[0]


def delivery_notes_write(groups: list[tuple[Installation, list[License], str]]) -> list[DeliveryNote]:
    """Write one note per ``(installation, licences, checked recipient)`` with its outbox
    e-mail, in the caller's transaction; four statements however many notes (numbers,
    notes, their licences, e-mails).

    For keys written in this transaction for these installations (licenses_issue) or checked
    by :func:`delivery_note_create`: nothing is read again. The database checks the rest
    (unique numbers, foreign keys).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Delivery notes are written in the transaction that issues their keys.")
    now = clock.now()
    year = timezone.localtime(now, DOCUMENT_TIMEZONE).year
    numbers = next_document_numbers(NUMBER_PREFIX, year, len(groups))
    notes = DeliveryNote.objects.bulk_create(
        DeliveryNote(number=number, installation=installation, recipient_email=recipient, created_at=now)
        for number, (installation, _licenses, recipient) in zip(numbers, groups)
    )
    through = DeliveryNote.licenses.through
    through.objects.bulk_create(
        through(deliverynote=note, license=lic)
        for note, (_inst, licenses, _r) in zip(notes, groups)
        for lic in licenses
    )
    outbox_enqueue_fresh(
        kind=OUTBOX_KIND,
        drafts=[
            OutboxDraft(
                dedup_key=f"{OUTBOX_KIND}:{note.pk}:initial",
                recipients=[note.recipient_email],
                document=note,
                from_email=settings.DEFAULT_FROM_EMAIL,
            )
            for note in notes
        ],
    )
    return notes


def _delivery_note_enqueue(*, note: DeliveryNote, dedup_key: str) -> OutboxMessage:
    """The note's e-mail as an outbox row, in the caller's transaction (STYLE 13).

    Subject and body are composed when the row is first sent
    (:func:`delivery_note_compose`): the note's context takes a dozen queries, which
    would cut the issuing rate (bench/bench_issue.py) by more than half.
    """
    return outbox_enqueue(
        kind=OUTBOX_KIND,
        dedup_key=dedup_key,
        recipients=[note.recipient_email],
        document=note,
        from_email=settings.DEFAULT_FROM_EMAIL,
    )


def delivery_note_render(*, note: DeliveryNote) -> None:
    """Render the PDF once and store it in ``note.pdf``; never re-render or replace it.

    Concurrency: the row is locked (``select_for_update``) and checked again before
    the file is stored, so of two workers only the first stores a PDF and the other
    keeps it. The rendering itself happens *before* the lock: on SQLite a write
    transaction locks the whole database, and holding it for a WeasyPrint run would
    stall every other writer for that long. In a race a second render is wasted,
    never stored.
    """
    if _stored_pdf_name(note.pk):
        note.refresh_from_db(fields=["pdf", "pdf_sha256"])
        return
    with for_partner(note.installation.customer.partner):
        pdf_bytes = render_pdf(TEMPLATE, delivery_note_context(note))
    with transaction.atomic():
        locked = DeliveryNote.objects.select_for_update().get(pk=note.pk)
        if not locked.pdf:
            # The storage never overwrites: an existing file gets a new name.
            locked.pdf.save(f"{locked.number}.pdf", ContentFile(pdf_bytes), save=False)
            locked.pdf_sha256 = sha256_hex(pdf_bytes)  # GoBD: the file proves itself later
            locked.save(update_fields=["pdf", "pdf_sha256"])
    note.refresh_from_db(fields=["pdf", "pdf_sha256"])


def _stored_pdf_name(note_pk: int) -> str:
    return DeliveryNote.objects.filter(pk=note_pk).values_list("pdf", flat=True).first() or ""


def delivery_mail_subject(context: dict) -> str:
    """``Lieferschein LS-2026-00001 – Modullizenz Call Recording für ABCDE-…``"""
    modules = list(dict.fromkeys(lic["module"] for lic in context["licenses"]))
    return ngettext(
        "Lieferschein %(number)s – Modullizenz %(modules)s für %(identifier)s",
        "Lieferschein %(number)s – Modullizenzen %(modules)s für %(identifier)s",
        len(context["licenses"]),
    ) % {
        "number": context["note"]["number"],
        "modules": ", ".join(modules),
        "identifier": context["installation"]["identifier"],
    }


def delivery_mail_body(context: dict) -> str:
    """Plain-text body: module, version, installation and the key(s) in full."""
    installation = context["installation"]
    parts = [
        _("Guten Tag,"),
        "",
        ngettext(
            "anbei erhalten Sie den Lieferschein %(number)s mit Ihrem Modullizenzschlüssel.",
            "anbei erhalten Sie den Lieferschein %(number)s mit Ihren Modullizenzschlüsseln.",
            len(context["licenses"]),
        )
        % {"number": context["note"]["number"]},
        "",
        _("Endkunde: %(name)s") % {"name": context["customer"]["name"]},
        f"{installation['identifier_label']}: {installation['identifier']}",
        "",
    ]
    for lic in context["licenses"]:
        parts += [
            _("Modul: %(module)s") % {"module": lic["module"]},
            _("Lizenzierte Version: %(version)s") % {"version": lic["version"]},
            _("Lizenzart: %(kind)s") % {"kind": lic["kind"]},
        ]
        if lic["valid_until"]:
            parts.append(_("gültig bis: %(date)s") % {"date": lic["valid_until"]})
        parts += [
            _("Gültig für: %(ids)s") % {"ids": ", ".join(f"{b['label']} {b['identifier']}" for b in lic["bindings"])},
            _("Modullizenzschlüssel:"),
            lic["key"],
            "",
        ]
    parts += [
        _(
            "Serverlizenz- und Modullizenzschlüssel gehören immer zusammen: Der Schlüssel gilt nur für die Anlage "
            "mit dem oben genannten %(label)s. Bitte tragen Sie ihn in der Modulkonfiguration im Bereich "
            "„Lizenzierung“ (ältere Module: Reiter „Lizenzen“) ein."
        )
        % {"label": installation["identifier_label"]},
        "",
        _("Der Lieferschein liegt als PDF bei."),
        "",
        _("Mit freundlichen Grüßen"),
        settings.VENDOR["name"],
    ]
    return "\n".join(parts)


def _note_of(message: OutboxMessage) -> DeliveryNote:
    note = DeliveryNote.objects.filter(pk=message.document_id).first()
    if note is None:  # cannot happen through the admin (notes are not deletable); retrying will not help
        raise DeliveryNoteError(_("Den Lieferschein zu dieser E-Mail gibt es nicht mehr."), code="note_missing")
    return note


def delivery_note_compose(message: OutboxMessage) -> tuple[str, str]:
    """Outbox hook: subject and body of the note's e-mail, in the partner's language."""
    note = _note_of(message)
    with for_partner(note.installation.customer.partner):
        context = delivery_note_context(note)
        return delivery_mail_subject(context), delivery_mail_body(context)


def delivery_note_attachments(message: OutboxMessage) -> list[tuple[str, bytes, str]]:
    """Outbox hook: the stored PDF (rendered and stored first if there is none yet)."""
    note = _note_of(message)
    delivery_note_render(note=note)
    return [(f"{note.number}.pdf", document_bytes(note), "application/pdf")]


def delivery_note_sent(message: OutboxMessage) -> None:
    """Outbox hook, in the transaction that marks the e-mail sent: count the delivery."""
    now = clock.now()
    DeliveryNote.objects.filter(pk=message.document_id).update(send_count=F("send_count") + 1, sent_at=now)
    note = DeliveryNote.objects.select_related("installation__customer").filter(pk=message.document_id).first()
    if note is not None:
        webhook_event_emit(
            partner=note.installation.customer.partner_id,
            event=webhook_events.DELIVERY_NOTE_SENT,
            payload=webhook_payloads.delivery_note_payload(note, recipients=list(message.recipients), sent_at=now),
            dedup_key=f"{webhook_events.DELIVERY_NOTE_SENT}:{message.pk}",
        )
    logger.info("Delivery note %s sent to %s", message.document_id, ", ".join(message.recipients))


def _refuse_inactive_keys(note: DeliveryNote) -> None:
    inactive = note.licenses.exclude(state=License.ACTIVE).select_related("product").first()
    if inactive is not None:
        raise DeliveryNoteError(
            _(
                "Lieferschein %(number)s wird nicht erneut gesendet: Die Lizenz Nr. %(serial)s (%(module)s) ist %(state)s."
            )
            % {
                "number": note.number,
                "serial": inactive.serial,
                "module": inactive.product.name,
                "state": inactive.get_state_display(),
            },
            code="inactive_license",
        )


def delivery_note_resend_check(message: OutboxMessage) -> None:
    """Outbox hook: staff may resend a note's e-mail only while all its keys are active."""
    _refuse_inactive_keys(_note_of(message))


@transaction.atomic
def delivery_note_resend(*, note: DeliveryNote, by=None) -> OutboxMessage:
    """Staff: send the delivery note again — the same stored PDF, to the same address.

    A new outbox row (``delivery-note:<pk>:resend-<n>``), unless an e-mail of this note
    is still waiting to be sent: then that one is sent now instead, so a double click
    sends one e-mail, not two. Refused while one of its keys is revoked or blocked:
    the note would hand out a key that must no longer be used (e.g. the old key after
    a move, LIC-10).
    """
    _refuse_inactive_keys(note)
    logger.info("Delivery note %s queued for resending by %s", note.number, getattr(by, "username", None) or "system")
    rows = OutboxMessage.objects.filter(
        kind=OUTBOX_KIND, document_type=ContentType.objects.get_for_model(DeliveryNote), document_id=note.pk
    )
    waiting = rows.filter(sent_at__isnull=True).order_by("pk").first()
    if waiting is not None:
        return outbox_resend(message=waiting)
    return _delivery_note_enqueue(note=note, dedup_key=f"{OUTBOX_KIND}:{note.pk}:resend-{rows.count()}")


def delivery_note_queue_initial(*, note: DeliveryNote) -> OutboxMessage:
    """The note's first e-mail as an outbox row, for a note created before the outbox
    existed (its broker message may still be on its way); the same row if it exists."""
    with transaction.atomic():
        return _delivery_note_enqueue(note=note, dedup_key=f"{OUTBOX_KIND}:{note.pk}:initial")
