"""Writes of the API area: tokens created (shown once, stored as a hash), revoked, used."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from api.models import SCOPES, ApiToken, IdempotencyKey
from vendorportal import clock
from vendorportal.errors import PortalError

TOKEN_PREFIX = "vp_"


class ApiTokenRefused(PortalError):
    pass


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


@transaction.atomic
def api_token_create(*, partner, name: str, scopes: list[str], expires_on: date | None = None, by=None) -> NewToken:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ApiTokenRefused(_("Bitte einen Namen mit höchstens 80 Zeichen angeben."), code="name")
    chosen = [s for s in SCOPES if s in set(scopes or [])]
    if not chosen or len(chosen) != len(set(scopes)):
        raise ApiTokenRefused(_("Bitte mindestens ein gültiges Recht wählen."), code="scopes")
    if expires_on is not None and expires_on < clock.today():
        raise ApiTokenRefused(_("Das Ablaufdatum liegt in der Vergangenheit."), code="expires")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        partner=partner,
        name=name,
        prefix=secret[:10],
        token_hash=token_hash(secret),
        scopes=",".join(chosen),
        expires_on=expires_on,
        created_by=by,
    )
    token.full_clean()
    token._history_user = by
    token.save()
    return NewToken(token, secret)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by=None) -> ApiToken:
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = clock.now()
        locked._history_user = by
        locked.save(update_fields=["revoked_at"])
    return locked


def api_token_authenticate(secret: str) -> ApiToken | None:
    """The usable token for a presented secret, its last use noted; None otherwise."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = ApiToken.objects.select_related("partner").filter(token_hash=token_hash(secret)).first()
    if token is None or not token.is_usable(clock.today()):
        return None
    now = clock.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # at most once a minute
    return token


# --- Idempotency-Key (POST /orders) ---------------------------------------------------------

IDEMPOTENCY_KEY_MAX = 200


class IdempotencyKeyReused(PortalError):
    pass


def request_fingerprint(body: dict) -> str:
    """SHA-256 of the request body in a canonical form (keys sorted): the same body sent
    again — whatever the order of its fields — has the same fingerprint."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def idempotency_order_token(row: IdempotencyKey) -> str:
    """The order's form token (``order_draft_place``'s ``token``, unique per partner) for a key."""
    return f"api-{row.pk}"


@transaction.atomic
def order_place_idempotent(*, token: ApiToken, key: str, fingerprint: str, place: Callable) -> tuple:
    """Run ``place(row)`` (which places — and may confirm — an order) once per token and
    ``key``; returns ``(order, replayed)``.

    The same key with the same body returns the order of the first request (``replayed``
    True) without calling ``place`` again; with another body it is refused
    (:class:`IdempotencyKeyReused`). The key row is inserted first in this transaction: a
    second request with the same key at the same moment waits for the first on the unique
    constraint (PostgreSQL) and then finds its order. A refused ``place`` rolls everything
    back, the key included, so the client may send it again after fixing the request.
    """
    key = (key or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise IdempotencyKeyReused(
            _("Bitte einen Idempotency-Key mit 1 bis %(n)s druckbaren Zeichen mitsenden.") % {"n": IDEMPOTENCY_KEY_MAX},
            code="idempotency_key_invalid",
        )
    row = IdempotencyKey.objects.filter(token=token, key=key).select_related("order").first()
    if row is None:
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(token=token, key=key, request_hash=fingerprint)
        except IntegrityError:  # the same key at the same moment: the first request has placed its order
            row = IdempotencyKey.objects.select_related("order").get(token=token, key=key)
        else:
            order = place(row)
            row.order = order
            row.save(update_fields=["order"])
            return order, False
    if row.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            _(
                "Dieser Idempotency-Key wurde bereits für eine andere Bestellung verwendet; bitte für jede neue "
                "Bestellung einen neuen Schlüssel senden."
            ),
            code="idempotency_key_reused",
        )
    return row.order, True
