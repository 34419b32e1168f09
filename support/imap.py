"""The support mailbox over IMAPS, treated as an untrusted server (STYLE 20).

- **Certificate verified**: the system's CAs, or the CA file of ``SUPPORT_MAIL_CA_FILE``
  (a private CA); host name checked. The mailbox password is sent only after that.
- **Timeouts**: ``SUPPORT_MAIL_TIMEOUT`` seconds for the connect and for every read, so a
  server that accepts and never answers ends the run instead of holding the worker.
- **German one-line errors** (:class:`~support.exceptions.MailboxError`) for what an
  administrator has to fix: wrong credentials, a missing folder, a server that cannot be
  reached or does not answer, a certificate that is not trusted. Nothing else is caught
  here: a bug still shows as one.
"""

from __future__ import annotations

import base64
import imaplib
import re
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import unquote, urlparse

from django.utils.translation import gettext as _

from support.exceptions import MailboxError


class Oversized(bytes):
    """The header of a message larger than ``SUPPORT_MAIL_MAX_BYTES``: only the header was
    read (the body stays on the server); ``size`` is the whole message's size in bytes."""

    size: int

    def __new__(cls, header: bytes, size: int):
        value = super().__new__(cls, header)
        value.size = size
        return value


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """A verifying client context: ``ca_file`` if given, else the system's CAs."""
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(
            _("Die CA-Datei „%(file)s“ (SUPPORT_MAIL_CA_FILE) ist nicht lesbar: %(error)s")
            % {"file": ca_file, "error": _reason(exc)},
            code="ca_file",
        ) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or exc.reason or str(exc)
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())


def network_error(exc: BaseException, *, host: str, port: int, timeout: float) -> MailboxError:
    """The German one-liner for a failed connection or read."""
    where = f"{host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailboxError(
            _(
                "Das Zertifikat des Mailservers %(where)s ist nicht vertrauenswürdig (%(reason)s). Das Passwort wurde "
                "nicht gesendet. Bei einer eigenen CA deren Zertifikat in SUPPORT_MAIL_CA_FILE angeben."
            )
            % {"where": where, "reason": _reason(exc)},
            code="certificate",
        )
    if isinstance(exc, ssl.SSLError):
        return MailboxError(
            _("TLS-Verbindung zum Mailserver %(where)s fehlgeschlagen (%(reason)s).")
            % {"where": where, "reason": _reason(exc)},
            code="tls",
        )
    if isinstance(exc, TimeoutError):
        return MailboxError(
            _("Der Mailserver %(where)s antwortet nicht (nach %(seconds)s Sekunden abgebrochen, SUPPORT_MAIL_TIMEOUT).")
            % {"where": where, "seconds": f"{timeout:g}"},
            code="timeout",
        )
    if isinstance(exc, socket.gaierror):
        return MailboxError(
            _("Den Mailserver %(host)s gibt es nicht (Name nicht auflösbar).") % {"host": host}, code="unreachable"
        )
    if isinstance(exc, imaplib.IMAP4.error):
        return MailboxError(
            _("Der Mailserver %(where)s antwortet nicht wie ein IMAP-Server (%(reason)s).")
            % {"where": where, "reason": _reason(exc)},
            code="protocol",
        )
    return MailboxError(
        _("Der Mailserver %(where)s ist nicht erreichbar (%(reason)s).") % {"where": where, "reason": _reason(exc)},
        code="unreachable",
    )


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 § 5.1.3): "Anfragen Prüfung" is
    sent as "Anfragen Pr&APw-fung"; imaplib sends ASCII only."""
    out, pending = [], []

    def flush():
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quoted(folder: str) -> str:
    """A folder name as an IMAP quoted string (names with spaces need it), in modified UTF-7."""
    return '"' + imap_utf7(folder).replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSource:
    """Unseen messages of one folder over IMAPS; marked seen once handled.

    ``imap_class`` is :class:`imaplib.IMAP4_SSL`; a test may pass a stand-in with the
    same constructor.
    """

    def __init__(
        self,
        url: str,
        *,
        ca_file: str = "",
        timeout: float = 30,
        max_bytes: int | None = None,
        imap_class=imaplib.IMAP4_SSL,
    ):
        self.max_bytes = max_bytes
        parsed = urlparse(url)
        if parsed.scheme != "imaps":
            raise MailboxError(
                _("SUPPORT_IMAP_URL muss mit imaps:// beginnen (IMAP über TLS), z. B. imaps://user:pw@host:993/INBOX."),
                code="url",
            )
        try:
            port = parsed.port or 993
        except ValueError:
            raise MailboxError(_("SUPPORT_IMAP_URL enthält keinen gültigen Port."), code="url") from None
        self.host, self.port, self.timeout = parsed.hostname or "", port, timeout
        self.folder = unquote(parsed.path.lstrip("/")) or "INBOX"
        context = tls_context(ca_file)
        try:
            self.conn = imap_class(self.host, self.port, ssl_context=context, timeout=timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise self._error(exc) from None
        try:
            self._login(unquote(parsed.username or ""), unquote(parsed.password or ""))
            self._select()
        except BaseException:
            self._shutdown()
            raise

    def _error(self, exc: BaseException) -> MailboxError:
        return network_error(exc, host=self.host, port=self.port, timeout=self.timeout)

    def _login(self, user: str, password: str) -> None:
        try:
            if user.isascii() and password.isascii():
                self.conn.login(user, password)
            else:  # LOGIN takes ASCII only in imaplib; AUTHENTICATE PLAIN carries UTF-8 (RFC 4616)
                credentials = b"\0" + user.encode() + b"\0" + password.encode()
                self.conn.authenticate("PLAIN", lambda _challenge: credentials)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(
                _(
                    "Anmeldung am Support-Postfach %(where)s abgelehnt: Benutzername oder Passwort falsch "
                    "(SUPPORT_IMAP_URL). Server: %(reason)s"
                )
                % {"where": f"{self.host}:{self.port}", "reason": _reason(exc)},
                code="login",
            ) from None
        except OSError as exc:
            raise self._error(exc) from None

    def _select(self) -> None:
        try:
            status, data = self.conn.select(_quoted(self.folder))
        except imaplib.IMAP4.error as exc:
            status, data = "NO", [str(exc).encode()]
        except OSError as exc:
            raise self._error(exc) from None
        if status != "OK":
            reason = b" ".join(d for d in data or [] if isinstance(d, bytes)).decode("utf-8", "replace")
            raise MailboxError(
                _("Den Ordner „%(folder)s“ gibt es im Support-Postfach nicht (SUPPORT_IMAP_URL). Server: %(reason)s")
                % {"folder": self.folder, "reason": " ".join(reason.split())},
                code="folder",
            )

    def messages(self) -> Iterator[tuple[str, bytes]]:
        try:
            status, data = self.conn.uid("SEARCH", None, "UNSEEN")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise self._error(exc) from None
        if status != "OK":
            return
        for uid in (data[0] or b"").split():
            size = self._size(uid) if self.max_bytes else None
            too_large = size is not None and size > self.max_bytes
            raw = self._fetch(uid, "BODY.PEEK[HEADER]" if too_large else "BODY.PEEK[]")
            if raw is None:
                continue  # deleted meanwhile; the next run sees it if it is still there
            yield uid.decode(), Oversized(raw, size) if too_large else raw

    def _fetch(self, uid: bytes, item: str) -> bytes | None:
        try:
            status, parts = self.conn.uid("FETCH", uid, f"({item})")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise self._error(exc) from None
        if status != "OK" or not parts or not isinstance(parts[0], tuple):
            return None
        return parts[0][1]

    def _size(self, uid: bytes) -> int | None:
        """The message's size as the server states it, before anything of it is read."""
        try:
            status, parts = self.conn.uid("FETCH", uid, "(RFC822.SIZE)")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise self._error(exc) from None
        line = parts[0] if status == "OK" and parts else b""
        line = line[0] if isinstance(line, tuple) else line
        match = re.search(rb"RFC822\.SIZE (\d+)", line or b"")
        return int(match.group(1)) if match else None

    def done(self, key: str) -> None:
        try:
            self.conn.uid("STORE", key, "+FLAGS", "(\\Seen)")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise self._error(exc) from None

    def _shutdown(self) -> None:
        try:
            self.conn.shutdown()
        except Exception:  # noqa: BLE001 - closing a connection that is already gone
            pass

    def close(self) -> None:
        try:
            self.conn.close()
            self.conn.logout()
        except (OSError, imaplib.IMAP4.error):
            self._shutdown()  # the messages are handled; a server gone at the end changes nothing
