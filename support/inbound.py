"""Inbound support e-mail: ``manage.py fetch_support_mail`` and its periodic task (queue
``mail-in``, so a slow mailbox never delays outgoing mail).

Source: IMAP over TLS when ``SUPPORT_IMAP_URL`` is set (``imaps://user:pw@host:993/INBOX``;
certificate verified, timeouts, German errors: :mod:`support.imap`; unseen messages, marked
seen once handled), else the Maildir ``SUPPORT_MAILDIR`` (under ``var/`` by default; new
messages, moved to ``cur`` with the seen flag once handled).

Each message, in its own transaction, ends as exactly one :class:`~support.models.InboundMail`
row, by Message-ID (or, without one, a hash of the bytes) — a message seen again is skipped:

- an automatic message (RFC 3834: auto-reply, bounce, list or bulk mail;
  :func:`support.mailtext.automatic_reason`) is never answered and never opens or reopens a
  ticket; one that names a ticket of the sender's partner is kept on it as a visible
  "Automatische Antwort" entry (:func:`support.services.ticket_automatic_reply`);
- a sender who is an active partner login opens a ticket for that partner, or replies to
  a ticket when the subject carries the number of one of the partner's tickets
  (``[T-2026-00012]``); the text survives unknown charsets, HTML-only mail and a broken
  MIME structure (then the raw original is attached as ``original.eml``); attachments are
  kept privately up to the portal's limit, those the desk refuses are noted;
- an unknown sender gets a polite answer pointing to the portal (through the outbox);
- a message that cannot be read or handled is recorded as "nicht lesbar"/"Fehler" with its
  raw original, the support staff are told by e-mail, and it never stops the run.
"""

from __future__ import annotations

import email
import hashlib
import imaplib
import logging
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.utils import parseaddr
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from support import mailtext, rules, services
from support.exceptions import SupportError
from support.imap import ImapSource, Oversized
from support.models import InboundMail, Ticket
from vendorportal import clock
from vendorportal.outbox import OutboxError, outbox_enqueue
from vendorportal.parties.models import PartnerUser

logger = logging.getLogger(__name__)

TICKET_NUMBER = re.compile(r"\b(T-\d{4}-\d{5})\b")
ORIGINAL_NAME = "original.eml"


@dataclass
class FetchResult:
    tickets: int = 0
    replies: int = 0
    unknown: int = 0
    automatic: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "tickets": self.tickets,
            "replies": self.replies,
            "unknown": self.unknown,
            "automatic": self.automatic,
            "skipped": self.skipped,
            "failed": self.failed,
        }

    def summary(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.counts().items())


# --- sources -------------------------------------------------------------------------------


class MaildirSource:
    def __init__(self, path: str | Path, *, max_bytes: int | None = None):
        self.box = mailbox.Maildir(str(path), factory=None, create=True)
        self.max_bytes = max_bytes

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for key in list(self.box.keys()):
            try:
                if "S" in self.box.get_message(key).get_flags():
                    continue
                yield key, self._read(key)
            except Exception as exc:  # noqa: BLE001 - one unreadable file never stops the run
                logger.warning("support mail: cannot read maildir message %s: %r", key, exc)

    def _read(self, key: str) -> bytes:
        with self.box.get_file(key) as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(0)
            if not self.max_bytes or size <= self.max_bytes:
                return handle.read()
            header = b""
            for line in handle:  # the header only, up to the empty line
                if line in (b"\n", b"\r\n") or len(header) > 1024 * 1024:
                    break
                header += line
            return Oversized(header, size)

    def done(self, key: str) -> None:
        message = self.box.get_message(key)
        message.set_subdir("cur")
        message.add_flag("S")
        self.box[key] = message

    def close(self) -> None:
        self.box.close()


def default_source(imap_class=imaplib.IMAP4_SSL):
    """IMAPS when ``SUPPORT_IMAP_URL`` is set, else the Maildir. Raises
    :class:`~support.exceptions.MailboxError` (German) when the mailbox cannot be opened."""
    url = getattr(settings, "SUPPORT_IMAP_URL", "")
    if url:
        return ImapSource(
            url,
            ca_file=settings.SUPPORT_MAIL_CA_FILE,
            timeout=settings.SUPPORT_MAIL_TIMEOUT,
            max_bytes=settings.SUPPORT_MAIL_MAX_BYTES,
            imap_class=imap_class,
        )
    return MaildirSource(settings.SUPPORT_MAILDIR, max_bytes=settings.SUPPORT_MAIL_MAX_BYTES)


# --- processing ------------------------------------------------------------------------------


def fetch_support_mail(source=None) -> FetchResult:
    """Handle every new message of the mailbox. Raises
    :class:`~support.exceptions.MailboxError` when the mailbox cannot be read (the messages
    handled before that are kept and marked)."""
    source = source or default_source()
    result = FetchResult()
    try:
        for key, raw in source.messages():
            outcome = process_oversized(raw) if isinstance(raw, Oversized) else process_message(raw)
            if outcome == "skipped":
                result.skipped += 1
            elif outcome == InboundMail.TICKET:
                result.tickets += 1
            elif outcome == InboundMail.REPLY:
                result.replies += 1
            elif outcome == InboundMail.UNKNOWN_SENDER:
                result.unknown += 1
            elif outcome == InboundMail.AUTOMATIC:
                result.automatic += 1
            else:
                result.failed += 1
            try:
                source.done(key)
            except Exception as exc:  # noqa: BLE001 - the Message-ID record keeps it from a second run
                logger.warning("support mail: cannot mark %s handled: %r", key, exc)
    finally:
        source.close()
    return result


def _message_id(parsed, raw: bytes) -> str:
    try:
        value = (parsed.get("Message-ID") or "").strip() if parsed is not None else ""
    except Exception:  # noqa: BLE001 - a Message-ID header the parser cannot read
        value = ""
    return value[:255] if value else "sha256:" + hashlib.sha256(raw).hexdigest()


def _record(message_id: str, outcome: str, *, sender="", subject="", ticket=None, error="", raw=None):
    row = InboundMail(
        message_id=message_id,
        outcome=outcome,
        sender=sender[:255],
        subject=subject[:255],
        ticket=ticket,
        error=error,
        processed_at=clock.now(),
    )
    if raw is not None:
        name = hashlib.sha256(message_id.encode()).hexdigest()[:32] + ".eml"
        row.original.save(name, ContentFile(raw), save=False)
    row.save()
    return row


def _header_text(parsed, name: str) -> str:
    try:
        return " ".join(str(parsed.get(name, "") or "").split())
    except Exception:  # noqa: BLE001 - the parser replaces undecodable bytes; this is the rest
        return ""


def process_message(raw: bytes) -> str:
    """Handle one message; returns its outcome (or "skipped" when seen before). Never raises."""
    sender = subject = ""
    try:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        message_id = _message_id(parsed, raw)
        sender = parseaddr(_header_text(parsed, "From"))[1].strip().lower()
        subject = _header_text(parsed, "Subject")
    except Exception as exc:  # noqa: BLE001 - malformed headers
        message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
        if InboundMail.objects.filter(message_id=message_id).exists():
            return "skipped"
        return _record_unreadable(message_id, InboundMail.MALFORMED, raw=raw, error=repr(exc)[:2000])
    if InboundMail.objects.filter(message_id=message_id).exists():
        return "skipped"
    try:
        with transaction.atomic():
            outcome, ticket, note = _handle(parsed, raw=raw, message_id=message_id, sender=sender, subject=subject)
            _record(message_id, outcome, sender=sender, subject=subject, ticket=ticket, error=note)
        return outcome
    except IntegrityError:
        if InboundMail.objects.filter(message_id=message_id).exists():
            return "skipped"  # a concurrent run took it
        outcome, error = InboundMail.FAILED, "IntegrityError"
    except Exception as exc:  # noqa: BLE001 - a malformed message never stops the run
        logger.warning("support mail: message %s failed: %r", message_id, exc)
        outcome, error = (InboundMail.MALFORMED if not sender else InboundMail.FAILED), repr(exc)[:2000]
    return _record_unreadable(message_id, outcome, raw=raw, sender=sender, subject=subject, error=error)


def process_oversized(header: Oversized) -> str:
    """A message over ``SUPPORT_MAIL_MAX_BYTES``: only its header was read. Recorded with the
    header as the original, and the support staff are told (they fetch it from the mailbox,
    where it stays, or ask the partner to upload the files in the portal). Never raises."""

    def mb(size: int) -> str:
        return f"{size / (1024 * 1024):.1f}".replace(".", ",")  # German decimal comma

    error = (
        _("Zu groß: %(size)s MB, angenommen werden höchstens %(limit)s MB (SUPPORT_MAIL_MAX_BYTES).")
        % {"size": mb(header.size), "limit": mb(settings.SUPPORT_MAIL_MAX_BYTES)}
        + " "
        + _("Die E-Mail liegt weiter im Postfach.")
    )
    try:
        parsed = email.message_from_bytes(bytes(header), policy=policy.default)
        message_id = _message_id(parsed, bytes(header))
        sender = parseaddr(_header_text(parsed, "From"))[1].strip().lower()
        subject = _header_text(parsed, "Subject")
    except Exception:  # noqa: BLE001 - a header the parser cannot read
        message_id, sender, subject = _message_id(None, bytes(header)), "", ""
    if InboundMail.objects.filter(message_id=message_id).exists():
        return "skipped"
    return _record_unreadable(
        message_id, InboundMail.FAILED, raw=bytes(header), sender=sender, subject=subject, error=error
    )


def _record_unreadable(message_id: str, outcome: str, *, raw: bytes, sender="", subject="", error="") -> str:
    """A message no ticket holds: its row with the raw original, and a notice to the support
    staff (one per message) — it is not lost and somebody looks at it."""
    try:
        with transaction.atomic():
            row = _record(message_id, outcome, sender=sender, subject=subject, error=error, raw=raw)
            _notify_staff_unreadable(row, message_id=message_id, sender=sender, subject=subject, error=error)
    except IntegrityError:
        return "skipped"
    return outcome


def _notify_staff_unreadable(row: InboundMail, *, message_id: str, sender: str, subject: str, error: str) -> None:
    link = settings.PORTAL_BASE_URL.rstrip("/") + reverse("admin:support_inboundmail_change", args=[row.pk])
    try:
        with transaction.atomic():
            outbox_enqueue(
                kind="support-staff",
                dedup_key="support-inbound-" + hashlib.sha256(message_id.encode()).hexdigest()[:40],
                recipients=services.support_staff_emails(),
                subject=_("E-Mail an den Support nicht verarbeitet: %(s)s") % {"s": subject or _("ohne Betreff")},
                body=_(
                    "Eine E-Mail an das Support-Postfach konnte nicht gelesen oder verarbeitet werden und ist "
                    "kein Ticket geworden."
                )
                + "\n\n"
                + _("Absender: %(sender)s") % {"sender": sender or _("unbekannt")}
                + "\n"
                + _("Grund: %(error)s") % {"error": error}
                + "\n\n"
                + _("Das Original liegt in der Verwaltung: %(link)s") % {"link": link},
            )
    except OutboxError as exc:
        # SUPPORT_EMAIL unusable: the row is kept and visible in the admin; the mailbox goes on.
        logger.error("support mail: staff notice for %s not written: %s", message_id, exc)


def _uploads(parsed) -> tuple[list[SimpleUploadedFile], list[str]]:
    """Attachments the desk takes — as many as the portal takes
    (:data:`support.services.MAX_ATTACHMENTS_PER_MESSAGE`) — and the names of those it
    refused (noted on the ticket)."""
    taken, refused = [], []
    for part in parsed.iter_attachments():
        name = part.get_filename() or _unnamed(part.get_content_type())
        if len(taken) >= services.MAX_ATTACHMENTS_PER_MESSAGE:
            refused.append(
                _("%(name)s: höchstens %(n)s Dateien je Nachricht.")
                % {"name": name, "n": services.MAX_ATTACHMENTS_PER_MESSAGE}
            )
            continue
        payload = part.get_payload(decode=True)
        if payload is None and part.get_content_type() == "message/rfc822":
            # A forwarded mail attached as a message (Outlook, Thunderbird): its bytes.
            inner = part.get_payload()
            payload = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
        upload = SimpleUploadedFile(name, payload or b"", content_type=part.get_content_type())
        try:
            services.attachment_check(upload)
        except SupportError as exc:
            refused.append(f"{name}: {exc.message}")
            continue
        taken.append(upload)
    return taken, refused


def _unnamed(content_type: str) -> str:
    """A name for an attachment sent without one, so a type the desk takes is not refused
    for its missing extension: a forwarded mail becomes "nachricht.eml"."""
    if content_type == "message/rfc822":
        return "nachricht.eml"
    for extension, allowed in services.ALLOWED_EXTENSIONS.items():
        if allowed == content_type:
            return "anhang" + extension
    return "anhang.bin"


def _partner_login(sender: str):
    if not sender:
        return None
    return (
        PartnerUser.objects.select_related("user", "partner")
        .filter(user__email__iexact=sender, user__is_active=True)
        .order_by("pk")
        .first()
    )


def _named_ticket(subject: str, login) -> Ticket | None:
    match = TICKET_NUMBER.search(subject)
    if match is None or login is None:
        return None
    return Ticket.objects.filter(number=match.group(1), partner=login.partner).first()


def _handle(parsed, *, raw: bytes, message_id: str, sender: str, subject: str):
    """Returns (outcome, ticket or None, note for the InboundMail row)."""
    login = _partner_login(sender)
    reason = mailtext.automatic_reason(parsed)
    if reason:
        # RFC 3834: nothing is sent back and no ticket is opened or reopened.
        ticket = _named_ticket(subject, login)
        if ticket is not None:
            services.ticket_automatic_reply(
                ticket=ticket, body=mailtext.body_text(parsed).text, author_email=sender, reason=reason
            )
        return InboundMail.AUTOMATIC, ticket, reason
    if login is None:
        if sender:
            _answer_unknown_sender(sender, subject, message_id)
        return InboundMail.UNKNOWN_SENDER, None, ""
    body = mailtext.body_text(parsed)
    text = body.text or _("(ohne Text)")
    files, refused = _uploads(parsed)
    note = ""
    if body.broken:
        # The structure is broken: what the parser read may be incomplete, so the message
        # as received goes with it (beyond the limit: it is the record, not the partner's file).
        note = _("MIME-Struktur fehlerhaft (%(defects)s); Original angehängt.") % {"defects": body.broken}
        files.append(SimpleUploadedFile(ORIGINAL_NAME, raw, content_type="message/rfc822"))
        text += "\n\n" + _("Die E-Mail war nicht vollständig lesbar; das Original hängt als %(name)s an.") % {
            "name": ORIGINAL_NAME
        }
    if refused:
        text += "\n\n" + _("Nicht übernommene Anhänge:") + "\n" + "\n".join(refused)
    ticket = _named_ticket(subject, login)
    if ticket is not None:
        services.ticket_reply(
            ticket=ticket, by=login.user, body=text, from_staff=False, files=files, author_email=sender
        )
        return InboundMail.REPLY, ticket, note
    ticket = services.ticket_open(
        partner=login.partner,
        by=login.user,
        kind=rules.SUPPORT_REQUEST,
        subject=subject or _("Anfrage per E-Mail"),
        body=text,
        channel=Ticket.EMAIL,
        contact_email=sender,
        files=files,
    )
    return InboundMail.TICKET, ticket, note


def _answer_unknown_sender(sender: str, subject: str, message_id: str) -> None:
    portal = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/") + "/portal/support/"
    outbox_enqueue(
        kind="support-unknown-sender",
        dedup_key="support-unknown-" + hashlib.sha256(message_id.encode()).hexdigest()[:40],
        recipients=[sender],
        subject=_("Ihre Nachricht an den Support: %(s)s") % {"s": subject or _("ohne Betreff")},
        body=_("Guten Tag,")
        + "\n\n"
        + _(
            "vielen Dank für Ihre Nachricht. Ihre Absenderadresse ist keinem Partnerkonto zugeordnet, deshalb "
            "konnten wir daraus kein Ticket anlegen. Support erhalten Sie über Ihren STARFACE-Partner; Partner "
            "melden sich im Partnerportal an und eröffnen dort ein Ticket: %(portal)s"
        )
        % {"portal": portal}
        + "\n\n"
        + _("Antworten auf häufige Fragen finden Sie in unserer Wissensdatenbank."),
        from_email=services.support_from_email(),
    )
