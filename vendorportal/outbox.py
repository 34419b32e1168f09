"""The outbox (STYLE 13): every outgoing e-mail is a row, the broker only wakes a worker.

Design, in the order a message lives through it:

1. *Enqueue* — :func:`outbox_enqueue` writes an :class:`~vendorportal.models.OutboxMessage`
   in the transaction that creates the document (a delivery note, later an invoice,
   a reminder, a report) and queues ``vendorportal.tasks.outbox_send`` on commit.
   A rolled-back document leaves no row and no task. The row's ``dedup_key`` is
   unique: writing the same e-mail twice (a re-run, a double submit) writes one row.
2. *Claim* — a worker takes the row with one conditional UPDATE: unsent, due, and
   not claimed or its claim (lease, ``claimed_until``) has run out. Of two workers
   (or two copies of the task) only one changes the row; the other does nothing.
   ``attempts`` counts claims, so a message that kills its worker every time is
   flagged like one that fails.
3. *Send* — build the e-mail from the row, let the kind's handler add the
   attachments (e.g. the stored PDF), send, then mark the row sent and let the
   handler record the delivery on the document (``send_count``), in one transaction.
   A failed send records the error, releases the claim and makes the row due again
   later (:func:`retry_delay`): the row owns the retry, not the broker.
4. *Recover* — :func:`outbox_dispatch_due` (Celery beat, every few minutes) finds
   what is due and unsent — never queued because the broker was down, lost with a
   killed worker (kombu's filesystem transport deletes a message once a worker has
   taken it, so ``acks_late`` cannot bring it back), claimed by a worker that died,
   or due again after a failure — claims those rows for the queue with a *ticket*
   and queues them again. The ticket lets exactly that task claim the row; if the
   task is lost too, the ticket runs out and the next run queues the row again.

Delivery is at least once: a worker killed after the mail server accepted the
e-mail but before the row was marked sent leaves the row to be sent again once its
claim has run out. Everything else — a lost broker message, a message queued twice,
a re-queue, two workers — sends once, because the row, not the broker, decides.

*Order* — a row may be written to go out only *after* others (``outbox_enqueue(after=…)``,
ORD-2: an order's invoice after its delivery notes). Such a row is not claimable while one of
those is unsent: not by the worker its wake-up reaches first, not by the periodic dispatch
(which so never queues it early, also after an outage that left both unsent), not by a staff
resend. When the last of them is marked sent, the send queues the rows that waited for it; a
delivery note that keeps failing keeps its invoice waiting (both flagged to staff).

Rows that failed :data:`FLAG_AFTER_ATTEMPTS` times or more are flagged to staff on
the admin index and in the job log; they are still retried (at most every
:data:`MAX_RETRY_DELAY`), so a mail server that was down for a day heals itself.

The core knows no documents: a *kind* (``"delivery-note"``) is registered by the
area that owns the document (:func:`register_kind`, from its ``AppConfig.ready``)
with dotted names of optional functions: ``compose(message)`` returns
``(subject, body)`` for a row written without them (composing a text from the
document can cost more queries than the transaction that issues it should carry;
the text is stored on the row when first claimed), ``attachments(message)`` returns
``[(filename, bytes, mimetype), …]``, ``on_sent(message)`` records the delivery and
``resend_check(message)`` refuses a resend staff may not make. Its ``label`` is what
staff read in the outbox admin ("Lieferschein").

A job that writes many e-mails in one transaction (the daily Softwarepflege notices,
one per partner) uses :func:`outbox_enqueue_many`: a fixed number of queries for the
whole batch instead of a savepoint and an insert per e-mail.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from vendorportal import clock
from vendorportal.errors import PortalError

from .models import OutboxMessage

logger = logging.getLogger(__name__)

FLAG_AFTER_ATTEMPTS = 5
FIRST_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=6)
DISPATCH_BATCH = 500  # rows one run of the periodic job queues at most


class OutboxError(PortalError):
    """An e-mail the outbox refuses to write; nothing was written."""


@dataclass(frozen=True)
class OutboxKind:
    label: str = ""  # German, for staff (admin list and filter); lazily translated
    compose: str = ""  # dotted name: f(message) -> (subject, body), for rows written without them
    attachments: str = ""  # dotted name: f(message) -> [(filename, bytes, mimetype), ...]
    on_sent: str = ""  # dotted name: f(message) -> None, runs in the transaction that marks the row sent
    resend_check: str = ""  # dotted name: f(message) -> None, raises a PortalError when staff may not resend
    # False for e-mails that carry a secret (a set-password link): composed afresh at each
    # send and never stored, so nobody who can read the outbox can use the link.
    store_text: bool = True
    # Name of the setting whose address goes into Reply-To (e.g. "SUPPORT_REPLY_TO"), read at
    # send time, so answers reach the mailbox that reads them, not the sender address.
    reply_to_setting: str = ""


_KINDS: dict[str, OutboxKind] = {}


def register_kind(
    kind: str,
    *,
    compose: str = "",
    attachments: str = "",
    on_sent: str = "",
    resend_check: str = "",
    store_text: bool = True,
    label: str = "",
    reply_to_setting: str = "",
) -> None:
    """Declare an e-mail kind; dotted names so registering imports nothing heavy."""
    if not store_text and not compose:
        raise ValueError(f"outbox kind {kind!r}: a kind that stores no text must compose it")
    _KINDS[kind] = OutboxKind(
        label=label,
        compose=compose,
        attachments=attachments,
        on_sent=on_sent,
        resend_check=resend_check,
        store_text=store_text,
        reply_to_setting=reply_to_setting,
    )


def kind_label(kind: str) -> str:
    """What staff read for a kind: its registered label, else the kind itself."""
    handler = _KINDS.get(kind)
    return str(handler.label) if handler and handler.label else kind


def registered_kinds() -> list[tuple[str, str]]:
    """(kind, label) of every registered kind, by label."""
    return sorted(((kind, kind_label(kind)) for kind in _KINDS), key=lambda pair: pair[1].casefold())


def registered_kind(kind: str) -> OutboxKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise LookupError(f"no outbox kind {kind!r} is registered") from None


def claim_lease() -> timedelta:
    """How long a claim holds: longer than any send (SMTP has ``EMAIL_TIMEOUT``)."""
    return timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: 1, 4, 16, 64, 256 minutes, then 6 hours."""
    if attempts < 1:
        return timedelta(0)
    return min(FIRST_RETRY_DELAY * 4 ** (attempts - 1), MAX_RETRY_DELAY)


def _queue_send(message_id: int, ticket: str | None = None) -> None:
    """Hand the committed row to a worker. Runs after commit, so it must not raise: with the
    broker unreachable the row stays due and the periodic dispatch sends it (the document and
    its e-mail are committed either way; the user's request must not fail for it)."""
    # Imported here: the tasks module imports this one.
    from vendorportal.tasks import outbox_send as task

    try:
        task.delay(message_id, ticket)
    except Exception:
        logger.warning("Outbox message %s not queued (broker unreachable?); the dispatch sends it", message_id)


# --- 1. Enqueue --------------------------------------------------------------------------


def outbox_clean_recipients(recipients: list[str]) -> list[str]:
    """The addresses stripped and checked; raises :class:`OutboxError` (German) for none
    or an invalid one. A caller writing many e-mails checks them first with this, so
    one bad address does not fail the batch."""
    cleaned = [address.strip() for address in recipients if address and address.strip()]
    if not cleaned:
        raise OutboxError(_("Die E-Mail hat keinen Empfänger."), code="no_recipient")
    for address in cleaned:
        try:
            validate_email(address)
        except ValidationError:
            raise OutboxError(
                _("„%(email)s“ ist keine gültige E-Mail-Adresse.") % {"email": address}, code="invalid_recipient"
            ) from None
    return cleaned


def _new_message(
    *, kind: str, dedup_key: str, recipients: list[str], subject: str, body: str, document, from_email: str, now
) -> OutboxMessage:
    handler = registered_kind(kind)  # a typo fails here, not hours later in a worker
    if not (subject and body) and not handler.compose:
        raise ValueError(f"outbox kind {kind!r} composes no text: pass subject and body")
    message = OutboxMessage(
        kind=kind,
        dedup_key=dedup_key,
        recipients=outbox_clean_recipients(recipients),
        from_email=from_email,
        subject=" ".join(subject.split()),  # a header: no line breaks
        body=body,
        created_at=now,
        due_at=now,
    )
    if document is not None:
        message.document_type = ContentType.objects.get_for_model(document)
        message.document_id = document.pk
    # The database checks the rest (unique key, constraints, the content type's foreign
    # key): three queries here are three per issued document.
    message.full_clean(exclude=["document_type"], validate_unique=False, validate_constraints=False)
    return message


def outbox_enqueue(
    *,
    kind: str,
    dedup_key: str,
    recipients: list[str],
    subject: str = "",
    body: str = "",
    document: models.Model | None = None,
    from_email: str = "",
    after: list[OutboxMessage] | None = None,
    fresh_key: bool = False,
) -> OutboxMessage:
    """Write an outgoing e-mail in the caller's transaction and send it after commit.

    ``after``: rows this e-mail must not overtake; it is sent only once every one of them
    is sent (see *Order* in the module docstring).

    ``fresh_key``: the caller vouches that no row can hold ``dedup_key`` yet (it names a
    document this transaction has just inserted): the insert then needs no savepoint (two
    queries less per document), and a conflict all the same breaks the caller's
    transaction — which rolls back the document with it — instead of returning the row.

    Must run inside the transaction that creates the document, so the document and its
    e-mail are committed together or not at all. The same ``dedup_key`` again returns
    the existing row and queues nothing (also when two transactions race: the unique
    constraint lets one insert win).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue runs inside the transaction that creates the document.")
    message = _new_message(
        kind=kind,
        dedup_key=dedup_key,
        recipients=recipients,
        subject=subject,
        body=body,
        document=document,
        from_email=from_email,
        now=clock.now(),
    )
    if fresh_key:
        message.save(force_insert=True)
    else:
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            # Written before (a re-run, a double submit) or by a concurrent transaction that
            # committed first: that row is the e-mail, nothing more is queued.
            existing = OutboxMessage.objects.filter(dedup_key=dedup_key).first()
            if existing is None:
                raise
            return existing
    if after:
        message.after.set(after)
    # robust: the document is committed by then; a broker that is down must not turn
    # that into an error page. The periodic job sends the row.
    transaction.on_commit(partial(_queue_send, message.pk), robust=True)
    return message


@dataclass(frozen=True)
class OutboxDraft:
    """One e-mail of a batch for :func:`outbox_enqueue_many`."""

    dedup_key: str
    recipients: list[str]
    subject: str = ""
    body: str = ""
    document: models.Model | None = None
    from_email: str = ""


def outbox_enqueue_many(*, kind: str, drafts: list[OutboxDraft]) -> list[OutboxMessage]:
    """Write a batch of e-mails of one kind in the caller's transaction: three queries
    however many there are (existing keys, one insert, the rows). Returns the rows in the
    order of ``drafts``; keys written before are returned as they are and not queued again.

    Raises :class:`OutboxError` for a draft without a valid recipient before writing
    anything: check addresses first (:func:`outbox_clean_recipients`) when one bad
    address must not stop the others.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue_many runs inside the transaction that creates the documents.")
    if not drafts:
        return []
    now = clock.now()
    messages = [
        _new_message(
            kind=kind,
            dedup_key=d.dedup_key,
            recipients=d.recipients,
            subject=d.subject,
            body=d.body,
            document=d.document,
            from_email=d.from_email,
            now=now,
        )
        for d in drafts
    ]
    keys = [m.dedup_key for m in messages]
    existing = set(OutboxMessage.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True))
    # ignore_conflicts: a concurrent transaction that wrote a key first keeps its row.
    OutboxMessage.objects.bulk_create([m for m in messages if m.dedup_key not in existing], ignore_conflicts=True)
    rows = OutboxMessage.objects.in_bulk(keys, field_name="dedup_key")
    for key in keys:
        if key not in existing:
            transaction.on_commit(partial(_queue_send, rows[key].pk), robust=True)
    return [rows[key] for key in keys]


def outbox_enqueue_fresh(*, kind: str, drafts: list[OutboxDraft]) -> list[OutboxMessage]:
    """Like :func:`outbox_enqueue_many` for documents created in this very transaction:
    one INSERT however many e-mails. Their keys name the new documents, so no row can
    exist yet — nothing is looked up, and a clash (a bug) fails the whole transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue_fresh runs inside the transaction that creates the documents.")
    now = clock.now()
    messages = OutboxMessage.objects.bulk_create(
        _new_message(
            kind=kind,
            dedup_key=d.dedup_key,
            recipients=d.recipients,
            subject=d.subject,
            body=d.body,
            document=d.document,
            from_email=d.from_email,
            now=now,
        )
        for d in drafts
    )
    for message in messages:
        transaction.on_commit(partial(_queue_send, message.pk), robust=True)
    return messages


# --- 2./3. Claim and send --------------------------------------------------------------


def _waiting() -> Exists:
    """True for a row with an unsent row it must wait for (``after``)."""
    return Exists(
        OutboxMessage.after.through.objects.filter(
            from_outboxmessage=OuterRef("pk"), to_outboxmessage__sent_at__isnull=True
        )
    )


def _claimable(now: datetime, ticket: str | None = None) -> Q:
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    if ticket:
        free |= Q(claimed_by=ticket)
    return Q(sent_at__isnull=True, due_at__lte=now) & free & ~Q(_waiting())


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:80]


def outbox_claim(*, message_id: int, ticket: str | None = None) -> str | None:
    """Claim the row for this worker: one conditional UPDATE. Returns the claim token,
    or ``None`` when the row is sent, not due, or another worker holds it."""
    now = clock.now()
    token = _worker_name()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id)
        .filter(_claimable(now, ticket))
        .update(claimed_by=token, claimed_until=now + claim_lease(), attempts=F("attempts") + 1)
    )
    return token if claimed else None


# Every e-mail of the outbox is written by the product, not typed by a person at the moment
# it is sent (even a staff reply is relayed by a worker): RFC 3834 § 5 asks such mail to say
# so, and auto-responders (out-of-office, ticket systems) then do not answer it — no loops.
# Exchange ignores Auto-Submitted and reads its own header instead.
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "OOF, AutoReply"}


def _build_email(message: OutboxMessage, handler: OutboxKind) -> EmailMessage:
    reply_to = getattr(settings, handler.reply_to_setting, "") if handler.reply_to_setting else ""
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(message.recipients),
        reply_to=[reply_to] if reply_to else None,
        headers=dict(AUTOMATIC_HEADERS),
    )
    if handler.attachments:
        for filename, content, mimetype in import_string(handler.attachments)(message):
            email.attach(filename, content, mimetype)
    return email


def outbox_send(*, message_id: int, ticket: str | None = None) -> bool:
    """Claim, send and mark one row; ``True`` if this call sent it.

    Any failure (mail server, a missing attachment, a bug in a handler) is recorded on
    the row, which becomes due again after :func:`retry_delay`; nothing is raised, the
    periodic job retries.
    """
    token = outbox_claim(message_id=message_id, ticket=ticket)
    if token is None:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        handler = registered_kind(message.kind)
        if not message.subject and handler.compose:
            subject, body = import_string(handler.compose)(message)
            message.subject, message.body = " ".join(subject.split()), body
            if handler.store_text:
                OutboxMessage.objects.filter(pk=message.pk).update(subject=message.subject, body=message.body)
        email = _build_email(message, handler)
        email.send(fail_silently=False)
    except Exception as exc:
        logger.exception("Outbox message %s (%s) to %s failed", message.pk, message.dedup_key, message.recipients)
        _record_failure(message, token, exc)
        return False
    with transaction.atomic():
        marked = OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
            sent_at=clock.now(), claimed_by="", claimed_until=None, last_error=""
        )
        if not marked:
            # Our claim ran out mid-send and another worker sent it first: the one
            # case of two e-mails; record the delivery once.
            logger.warning("Outbox message %s was sent by another worker as well", message.pk)
            return False
        if handler.on_sent:
            import_string(handler.on_sent)(message)
    logger.info("Outbox message %s (%s) sent to %s", message.pk, message.dedup_key, ", ".join(message.recipients))
    _queue_followers(message)
    return True


def _queue_followers(message: OutboxMessage) -> None:
    """Wake the rows that waited for this one and wait for nothing else now (ORD-2: the
    invoice once its last delivery note is out); the periodic dispatch is the safety net."""
    now = clock.now()
    for pk in OutboxMessage.objects.filter(after=message).filter(_claimable(now)).values_list("pk", flat=True):
        transaction.on_commit(partial(_queue_send, pk), robust=True)


def _record_failure(message: OutboxMessage, token: str, exc: Exception) -> None:
    attempts = OutboxMessage.objects.filter(pk=message.pk).values_list("attempts", flat=True).get()
    error = f"{type(exc).__name__}: {exc}"[:2000]
    OutboxMessage.objects.filter(pk=message.pk, claimed_by=token, sent_at__isnull=True).update(
        last_error=error, due_at=clock.now() + retry_delay(attempts), claimed_by="", claimed_until=None
    )


# --- 4. Recover ------------------------------------------------------------------------


@dataclass
class DispatchResult:
    queued: int
    failing: list[OutboxMessage]

    def summary(self) -> str:
        lines = [_("erneut eingeplant: %(count)s") % {"count": self.queued}]
        if self.failing:
            lines.append(
                _("Fehlgeschlagen (%(attempts)s Versuche oder mehr): %(count)s")
                % {"attempts": FLAG_AFTER_ATTEMPTS, "count": len(self.failing)}
            )
            lines += [
                f"- {m.subject} → {', '.join(m.recipients)} ({m.attempts}×): {m.last_error}" for m in self.failing[:20]
            ]
        return "\n".join(lines)


def outbox_failing():
    """Unsent rows that failed :data:`FLAG_AFTER_ATTEMPTS` times or more (flagged to staff)."""
    return OutboxMessage.objects.filter(sent_at__isnull=True, attempts__gte=FLAG_AFTER_ATTEMPTS).order_by("due_at")


def outbox_dispatch_due(*, limit: int = DISPATCH_BATCH) -> DispatchResult:
    """Queue again what is due, unsent and not (or no longer) claimed.

    Two queries for the batch: the candidates, then one conditional UPDATE that gives
    them this run's ticket — so when two runs overlap, each row is queued by one.
    """
    now = clock.now()
    ticket = f"queued:{uuid.uuid4().hex}"
    candidates = list(
        OutboxMessage.objects.filter(_claimable(now)).order_by("due_at", "pk").values_list("pk", flat=True)[:limit]
    )
    queued: list[int] = []
    if candidates:
        OutboxMessage.objects.filter(pk__in=candidates).filter(_claimable(now)).update(
            claimed_by=ticket, claimed_until=now + claim_lease()
        )
        queued = list(OutboxMessage.objects.filter(claimed_by=ticket).values_list("pk", flat=True))
    for pk in queued:
        transaction.on_commit(partial(_queue_send, pk, ticket), robust=True)
    return DispatchResult(queued=len(queued), failing=list(outbox_failing()[:50]))


def outbox_resend(*, message: OutboxMessage) -> OutboxMessage:
    """Staff: send this e-mail again now — unsent rows are retried at once, sent ones
    are written again as a new row (the original stays as the record of the first
    delivery). Raises the kind's refusal (a :class:`PortalError`), e.g. for a delivery
    note whose key has been revoked since."""
    handler = registered_kind(message.kind)
    if handler.resend_check:
        import_string(handler.resend_check)(message)
    if message.sent_at is None:
        now = clock.now()
        # The claim stays: a worker sending it right now finishes; a lost claim runs out.
        OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(due_at=now, attempts=0)
        transaction.on_commit(partial(_queue_send, message.pk), robust=True)
        message.refresh_from_db()
        return message
    with transaction.atomic():
        repeats = OutboxMessage.objects.filter(dedup_key__startswith=f"{message.dedup_key}:resend-").count()
        return outbox_enqueue(
            kind=message.kind,
            dedup_key=f"{message.dedup_key}:resend-{repeats + 1}",
            recipients=list(message.recipients),
            subject=message.subject,
            body=message.body,
            document=message.document,
            from_email=message.from_email,
        )
