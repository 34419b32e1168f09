"""Reading an inbound e-mail as a mail administrator expects: pure functions over a parsed
:class:`email.message.EmailMessage` (no ORM, no I/O), used by :mod:`support.inbound`.

- :func:`automatic_reason` — RFC 3834 loop prevention: why a message was sent by a machine
  (an auto-reply, a bounce, list or bulk mail), or ``""`` for a person's mail. Such a
  message gets no automatic answer and never reopens a ticket.
- :func:`body_text` — the text a person wrote, whatever the sender's client did: a charset
  Python does not know or one that lies is decoded with a fallback (declared, UTF-8,
  Windows-1252, Latin-1 — the last never fails), an HTML-only mail becomes readable text
  (:func:`html_to_text`), and a broken MIME structure is reported so the caller keeps the
  raw original.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses
from html.parser import HTMLParser

# Local parts of addresses that only machines send from (bounces, RFC 3834 § 2 and RFC 5321).
MACHINE_SENDERS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})


def automatic_reason(message: Message) -> str:
    """Why ``message`` was sent automatically (German, for staff), or ``""``.

    The checks of RFC 3834 § 2 in order: ``Auto-Submitted`` other than ``no``; an empty
    return path (``Return-Path: <>``, what bounces carry); a delivery or disposition
    report (``multipart/report``); a bounce sender (MAILER-DAEMON, postmaster);
    ``Precedence: bulk/junk/list``; mailing-list headers. ``X-Autoreply`` and
    ``X-Autorespond`` are what older auto-responders set instead.
    """
    auto_submitted = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if _header(message, name):
            return f"{name}: {_header(message, name)}"
    if "Return-Path" in message and _header(message, "Return-Path").strip() in ("<>", ""):
        return "Return-Path: <>"
    if message.get_content_type() == "multipart/report":
        report = (message.get_param("report-type") or "").lower()
        return f"multipart/report ({report})" if report else "multipart/report"
    for name in ("From", "Sender", "Return-Path"):
        for _display, address in getaddresses([_header(message, name)]):
            local = address.rsplit("@", 1)[0].strip().lower()
            if local in MACHINE_SENDERS:
                return f"{name}: {address}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe"):
        if name in message:
            return name
    return ""


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a header the parser cannot turn into a value
        return ""
    return " ".join(str(value).split()) if value is not None else ""


# --- text -----------------------------------------------------------------------------------

FALLBACK_CHARSETS = ("utf-8", "cp1252")


def decode_bytes(payload: bytes, declared: str | None) -> str:
    """``payload`` as text: the declared charset if Python knows it and the bytes fit, else
    UTF-8, else Windows-1252 (what "iso-8859-1" mail from Windows clients really is), else
    Latin-1, which maps every byte and so never fails."""
    candidates = []
    if declared:
        try:
            candidates.append(codecs.lookup(declared.strip().strip('"')).name)
        except LookupError:
            pass  # "x-unknown", "utf8mb4", a typo: fall back
    for charset in (*candidates, *FALLBACK_CHARSETS):
        try:
            return payload.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
    return payload.decode("latin-1")


def part_text(part: Message) -> str:
    """The decoded text of one non-multipart part (transfer encoding and charset)."""
    payload = part.get_payload(decode=True)
    if payload is None:  # a multipart or a message/rfc822 part
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    return decode_bytes(payload, part.get_content_charset())


class _TextExtractor(HTMLParser):
    """HTML to text: the visible text, a line break where a browser breaks the line and an
    empty line between paragraphs. Breaks are held as ``pending`` until the next text, so
    nested blocks (``<div><p>``) give one break, not several."""

    SKIP = frozenset({"script", "style", "head", "title", "noscript", "template"})
    LINE = frozenset({"li", "tr", "div", "dt", "dd"})
    PARAGRAPH = frozenset(
        {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "pre", "hr"}
    )

    def __init__(self):
        super().__init__(convert_charrefs=True)  # &amp; &nbsp; &#8364; become characters
        self.parts: list[str] = []
        self.skipping = 0
        self.pending = 0  # line breaks owed before the next text

    def _block(self, tag: str) -> None:
        if tag in self.PARAGRAPH:
            self.pending = max(self.pending, 2)
        elif tag in self.LINE:
            self.pending = max(self.pending, 1)

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "br":
            self.pending += 1
        elif tag == "td" or tag == "th":
            self.parts.append(" ")
        else:
            self._block(tag)

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.pending += 1
        else:
            self._block(tag)

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        else:
            self._block(tag)

    def handle_data(self, data):
        if self.skipping:
            return
        if not data.strip():
            if not self.pending:
                self.parts.append(" ")
            return
        if self.pending and self.parts:
            self.parts.append("\n" * self.pending)
        self.pending = 0
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail: no CSS, no script, entities resolved, line breaks
    kept for ``<br>``, paragraphs, list items and table rows; at most one empty line."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # noqa: BLE001 - html.parser gives up on very broken markup: strip tags instead
        return re.sub(r"<[^>]*>", " ", html)
    text = "".join(extractor.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class BodyText:
    text: str
    broken: str = ""  # why the MIME structure is broken ("" when it is sound): keep the raw original


MULTIPART_DEFECTS = (
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "NoBoundaryInMultipartDefect",
    "MisplacedEnvelopeHeaderDefect",
    "MissingHeaderBodySeparatorDefect",
)


def _defects(message: Message) -> list[str]:
    found = []
    for part in message.walk():
        found += [type(defect).__name__ for defect in getattr(part, "defects", [])]
    return [name for name in found if name in MULTIPART_DEFECTS]


def body_text(message: Message) -> BodyText:
    """The text the sender wrote: the plain part, else the HTML part as text, else any
    text part; a multipart the parser could not split is read as text and reported."""
    defects = _defects(message)
    part = _safe_body(message, ("plain", "html"))
    if part is None:
        part = next((p for p in message.walk() if p.get_content_maintype() == "text"), None)
    if part is None:
        if defects and not message.is_multipart():
            # A multipart whose boundary was not found: the parser keeps the whole body as
            # one string. Read it as text so what the partner wrote is not lost.
            return BodyText(_strip_mime_noise(part_text(message)), broken=", ".join(defects))
        return BodyText("", broken=", ".join(defects))
    text = part_text(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    elif not text.strip():
        # Some clients send an empty plain part beside the HTML one that holds the text.
        html = _safe_body(message, ("html",))
        text = html_to_text(part_text(html)) if html is not None else ""
    return BodyText(text.strip(), broken=", ".join(defects))


def _safe_body(message: Message, preferencelist) -> Message | None:
    try:
        return message.get_body(preferencelist=preferencelist)
    except Exception:  # noqa: BLE001 - get_body walks the structure, which may be broken
        return None


def _strip_mime_noise(text: str) -> str:
    """Drop boundary lines and part headers from an unsplit multipart body."""
    kept = []
    for line in text.splitlines():
        if line.startswith("--") or re.match(r"(?i)^content-[a-z-]+:", line):
            continue
        kept.append(line)
    return "\n".join(kept).strip()
