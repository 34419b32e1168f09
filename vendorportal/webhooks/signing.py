"""The webhook signature (issue 19, docs/api.md "Signatur prüfen"): pure, no Django.

Header ``Webhook-Signature: t=<unix time>,v1=<hex>`` where ``<hex>`` is
HMAC-SHA256 with the endpoint's secret (the whole ``whsec_…`` string, UTF-8) as key over the
bytes ``"<t>." + body`` — the decimal timestamp, a full stop, then the raw request body
exactly as received. A receiver recomputes it, compares in constant time and rejects a ``t``
more than 5 minutes from its own clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def signature_verify(*, header: str, secret: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """True when ``header`` carries a ``v1`` signature of ``body`` by ``secret`` made within
    ``tolerance`` seconds of ``now``. Several ``v1`` values (a rotated secret) are accepted."""
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)
