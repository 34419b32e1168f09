"""Inbound support e-mail: ``manage.py fetch_support_mail`` and its periodic task.

Source: IMAP over TLS when ``SUPPORT_IMAP_URL`` is set (``imaps://user:pw@host:993/INBOX``;
unseen messages, marked seen once handled), else the Maildir ``SUPPORT_MAILDIR`` (under
``var/`` by default; new messages, moved to ``cur`` with the seen flag once handled).

Each message, in its own transaction:

- its Message-ID (or, without one, a hash of the bytes) is recorded once in
  :class:`~support.models.InboundMail` — a message seen again is skipped;
- a sender who is an active partner login opens a ticket for that partner, or replies to
  a ticket when the subject carries the number of one of the partner's tickets
  (``[T-2026-00012]``); attachments are kept privately, those the desk refuses are noted;
- an unknown sender gets a polite answer pointing to the portal (through the outbox);
- a message that cannot be read or handled is recorded as such and never stops the run.
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
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from support import rules, services
from support.exceptions import SupportError
from support.models import InboundMail, Ticket
from vendorportal import clock
from vendorportal.outbox import outbox_enqueue
from vendorportal.parties.models import PartnerUser

logger = logging.getLogger(__name__)

TICKET_NUMBER = re.compile(r"\b(T-\d{4}-\d{5})\b")


@dataclass
class FetchResult:
    tickets: int = 0
    replies: int = 0
    unknown: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "tickets": self.tickets,
            "replies": self.replies,
            "unknown": self.unknown,
            "skipped": self.skipped,
            "failed": self.failed,
        }

    def summary(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.counts().items())


# --- sources -------------------------------------------------------------------------------


class MaildirSource:
    def __init__(self, path: str | Path):
        self.box = mailbox.Maildir(str(path), factory=None, create=True)

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for key in list(self.box.keys()):
            try:
                if "S" in self.box.get_message(key).get_flags():
                    continue
                yield key, self.box.get_bytes(key)
            except Exception as exc:  # noqa: BLE001 - one unreadable file never stops the run
                logger.warning("support mail: cannot read maildir message %s: %r", key, exc)

    def done(self, key: str) -> None:
        message = self.box.get_message(key)
        message.set_subdir("cur")
        message.add_flag("S")
        self.box[key] = message

    def close(self) -> None:
        self.box.close()


class ImapSource:
    """Unseen messages of one IMAP folder over TLS; ``imap_class`` is replaced in tests."""

    def __init__(self, url: str, imap_class=imaplib.IMAP4_SSL):
        parsed = urlparse(url)
        if parsed.scheme != "imaps":
            raise ValueError("SUPPORT_IMAP_URL must be imaps://… (IMAP over TLS).")
        self.folder = parsed.path.lstrip("/") or "INBOX"
        self.conn = imap_class(parsed.hostname, parsed.port or 993)
        self.conn.login(unquote(parsed.username or ""), unquote(parsed.password or ""))
        self.conn.select(self.folder)

    def messages(self) -> Iterator[tuple[str, bytes]]:
        status, data = self.conn.uid("SEARCH", None, "UNSEEN")
        if status != "OK":
            return
        for uid in (data[0] or b"").split():
            status, parts = self.conn.uid("FETCH", uid, "(BODY.PEEK[])")
            if status != "OK" or not parts or not isinstance(parts[0], tuple):
                logger.warning("support mail: cannot fetch IMAP message %s", uid)
                continue
            yield uid.decode(), parts[0][1]

    def done(self, key: str) -> None:
        self.conn.uid("STORE", key, "+FLAGS", "(\\Seen)")

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            self.conn.logout()


def default_source(imap_class=imaplib.IMAP4_SSL):
    url = getattr(settings, "SUPPORT_IMAP_URL", "")
    if url:
        return ImapSource(url, imap_class=imap_class)
    return MaildirSource(settings.SUPPORT_MAILDIR)


# --- processing ------------------------------------------------------------------------------


def fetch_support_mail(source=None) -> FetchResult:
    source = source or default_source()
    result = FetchResult()
    try:
        for key, raw in source.messages():
            outcome = process_message(raw)
            if outcome == "skipped":
                result.skipped += 1
            elif outcome == InboundMail.TICKET:
                result.tickets += 1
            elif outcome == InboundMail.REPLY:
                result.replies += 1
            elif outcome == InboundMail.UNKNOWN_SENDER:
                result.unknown += 1
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
    value = (parsed.get("Message-ID") or "").strip() if parsed is not None else ""
    return value[:255] if value else "sha256:" + hashlib.sha256(raw).hexdigest()


def _record(message_id: str, outcome: str, *, sender="", subject="", ticket=None, error="") -> None:
    InboundMail.objects.create(
        message_id=message_id,
        outcome=outcome,
        sender=sender[:255],
        subject=subject[:255],
        ticket=ticket,
        error=error,
        processed_at=clock.now(),
    )


def process_message(raw: bytes) -> str:
    """Handle one message; returns its outcome (or "skipped" when seen before). Never raises."""
    try:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        message_id = _message_id(parsed, raw)
        sender = parseaddr(str(parsed.get("From", "")))[1].strip().lower()
        subject = " ".join(str(parsed.get("Subject", "") or "").split())
    except Exception as exc:  # noqa: BLE001 - malformed headers
        message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
        if InboundMail.objects.filter(message_id=message_id).exists():
            return "skipped"
        _record(message_id, InboundMail.MALFORMED, error=repr(exc)[:2000])
        return InboundMail.MALFORMED
    if InboundMail.objects.filter(message_id=message_id).exists():
        return "skipped"
    try:
        with transaction.atomic():
            outcome, ticket = _handle(parsed, message_id=message_id, sender=sender, subject=subject)
            _record(message_id, outcome, sender=sender, subject=subject, ticket=ticket)
        return outcome
    except IntegrityError:
        if InboundMail.objects.filter(message_id=message_id).exists():
            return "skipped"  # a concurrent run took it
        outcome, error = InboundMail.FAILED, "IntegrityError"
    except Exception as exc:  # noqa: BLE001 - a malformed message never stops the run
        logger.warning("support mail: message %s failed: %r", message_id, exc)
        outcome, error = (InboundMail.MALFORMED if not sender else InboundMail.FAILED), repr(exc)[:2000]
    try:
        with transaction.atomic():
            _record(message_id, outcome, sender=sender, subject=subject, error=error)
    except IntegrityError:
        return "skipped"
    return outcome


def _body_text(parsed) -> str:
    part = parsed.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    if part.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
    return text.strip()


def _uploads(parsed) -> tuple[list[SimpleUploadedFile], list[str]]:
    """Attachments the desk takes, and the names of those it refused (noted on the ticket)."""
    taken, refused = [], []
    for part in parsed.iter_attachments():
        name = part.get_filename() or "anhang.bin"
        payload = part.get_payload(decode=True) or b""
        upload = SimpleUploadedFile(name, payload, content_type=part.get_content_type())
        try:
            services.attachment_check(upload)
        except SupportError as exc:
            refused.append(f"{name}: {exc.message}")
            continue
        taken.append(upload)
    return taken, refused


def _partner_login(sender: str):
    if not sender:
        return None
    return (
        PartnerUser.objects.select_related("user", "partner")
        .filter(user__email__iexact=sender, user__is_active=True)
        .order_by("pk")
        .first()
    )


def _handle(parsed, *, message_id: str, sender: str, subject: str):
    login = _partner_login(sender)
    if login is None:
        if sender:
            _answer_unknown_sender(sender, subject, message_id)
        return InboundMail.UNKNOWN_SENDER, None
    body = _body_text(parsed) or _("(ohne Text)")
    files, refused = _uploads(parsed)
    if refused:
        body += "\n\n" + _("Nicht übernommene Anhänge:") + "\n" + "\n".join(refused)
    match = TICKET_NUMBER.search(subject)
    if match:
        ticket = Ticket.objects.filter(number=match.group(1), partner=login.partner).first()
        if ticket is not None:
            services.ticket_reply(
                ticket=ticket, by=login.user, body=body, from_staff=False, files=files, author_email=sender
            )
            return InboundMail.REPLY, ticket
    ticket = services.ticket_open(
        partner=login.partner,
        by=login.user,
        kind=rules.SUPPORT_REQUEST,
        subject=subject or _("Anfrage per E-Mail"),
        body=body,
        channel=Ticket.EMAIL,
        contact_email=sender,
        files=files,
    )
    return InboundMail.TICKET, ticket


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
        from_email=getattr(settings, "DEFAULT_FROM_EMAIL", ""),
    )
