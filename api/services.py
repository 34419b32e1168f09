"""Writes of the API area: tokens created (shown once, stored as a hash), revoked, used."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from api.models import SCOPES, ApiToken
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
