"""Where a webhook may go, and the one HTTP request that goes there (STYLE 20, issue 19).

A partner types the URL, so the request is a classic SSRF risk: the portal must not become a
way to reach its own database, Redis, cloud metadata (169.254.169.254) or anything else in
its network. The guard:

1. *The URL* (when it is registered and before each delivery): ``https`` only, no user info,
   a host name or a public IP literal; ports any.
2. *The address*: the host is resolved, and **every** address it resolves to must be public
   (``ipaddress.is_global`` and not multicast/reserved; IPv4-mapped IPv6 is judged as the
   IPv4 it maps) — loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
   (169.254/16, fe80::/10), carrier-grade NAT, multicast, reserved and unspecified are
   refused.
3. *DNS rebinding*: the connection goes to the address that was checked (TLS still
   verifies the certificate against the host name, sent as SNI and ``Host``), so a second
   DNS answer cannot swap in a private address between check and connect.
4. *The request*: short connect and read timeouts, no redirect followed (a 3xx is a failed
   delivery), no retries inside (the delivery row owns them), at most 1 KB of the answer read.

``WEBHOOK_ALLOW_LOOPBACK`` (tests only) also allows loopback addresses and plain ``http``
to them, so a test server on 127.0.0.1 can receive.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

from vendorportal.errors import PortalError

MAX_ANSWER_BYTES = 1024


class WebhookTargetRefused(PortalError):
    """A URL or address a webhook may not be sent to; nothing was sent."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL (a name or an IP literal, without brackets)
    port: int
    path: str  # path and query

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _allow_loopback() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_LOOPBACK", False))


def address_allowed(address: str) -> bool:
    """True for a public unicast address; loopback too with ``WEBHOOK_ALLOW_LOOPBACK``."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one is judged as that IPv4 address: mapped
        # (::ffff:a.b.c.d), 6to4 (2002:AABB:CCDD::, whose relay forwards to a.b.c.d) and Teredo.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
    if ip.is_loopback:
        return _allow_loopback()
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_link_local)


def _refuse(message: str, code: str):
    raise WebhookTargetRefused(message, code=code)


def target_check(url: str) -> Target:
    """The URL's parts if a webhook may be registered for it (no DNS lookup here: the name
    may not resolve yet, and it is checked again at every delivery)."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        _refuse(_("Die URL ist ungültig."), "url_invalid")
    host = (parts.hostname or "").lower()
    if not host:
        _refuse(_("Die URL braucht einen Rechnernamen."), "url_invalid")
    if parts.username or parts.password:
        _refuse(_("Die URL darf keinen Benutzernamen und kein Passwort enthalten."), "url_credentials")
    bare = host.rstrip(".")  # "localhost." is the same name as "localhost" (the root's dot)
    is_loopback_name = bare == "localhost" or bare.endswith(".localhost")
    literal = None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    loopback = is_loopback_name or (literal is not None and literal.is_loopback)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback and _allow_loopback()):
        _refuse(_("Webhooks gehen nur an HTTPS-Adressen (https://…)."), "url_not_https")
    if is_loopback_name and not _allow_loopback():
        _refuse(_("Diese Adresse ist nicht öffentlich erreichbar; Webhooks gehen nur ins Internet."), "url_private")
    if literal is not None and not address_allowed(host):
        _refuse(_("Diese Adresse ist nicht öffentlich erreichbar; Webhooks gehen nur ins Internet."), "url_private")
    default = 443 if parts.scheme == "https" else 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=parts.scheme, host=host, port=port or default, path=path)


def resolve_checked(target: Target) -> str:
    """The address to connect to: the host resolved, every answer public, the first taken."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        _refuse(_("Der Rechnername „%(host)s“ ist nicht auflösbar.") % {"host": target.host}, "dns")
    addresses = [info[4][0] for info in infos]
    if not addresses:
        _refuse(_("Der Rechnername „%(host)s“ ist nicht auflösbar.") % {"host": target.host}, "dns")
    refused = [a for a in addresses if not address_allowed(a)]
    if refused:
        _refuse(
            _("„%(host)s“ zeigt auf eine nicht öffentliche Adresse (%(address)s); dorthin wird nichts gesendet.")
            % {"host": target.host, "address": refused[0]},
            "address_private",
        )
    return addresses[0]


@dataclass(frozen=True)
class Answer:
    status_code: int
    excerpt: str
    duration_ms: int


def post_checked(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` through the guard; raises :class:`WebhookTargetRefused` for a
    refused target and urllib3's errors for network failures (the caller records both)."""
    target = target_check(url)
    address = resolve_checked(target)
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOK_CONNECT_TIMEOUT,
        read=settings.WEBHOOK_READ_TIMEOUT,
        total=settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT,
    )
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            excerpt = response.read(MAX_ANSWER_BYTES, decode_content=False) or b""
        finally:
            response.release_conn()
    finally:
        pool.close()
    return Answer(
        status_code=response.status,
        excerpt=excerpt.decode("utf-8", "replace")[:200],
        duration_ms=int((time.monotonic() - started) * 1000),
    )
