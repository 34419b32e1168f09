"""Writes of the webhook area (issue 19): endpoints registered, changed, paused, resumed,
deleted; the secret made (shown once) and rotated. Keyword-only, atomic, validated; the
API and the portal call these and nothing else."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vendorportal import clock
from vendorportal.errors import PortalError

from .constants import EVENTS, SECRET_PREFIX
from .crypto import secret_encrypt
from .models import WebhookEndpoint
from .netguard import target_check

MAX_ENDPOINTS_PER_PARTNER = 10


class WebhookEndpointRefused(PortalError):
    pass


@dataclass(frozen=True)
class NewSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _clean_events(events) -> str:
    chosen = [e for e in EVENTS if e in set(events or [])]
    if not chosen or len(chosen) != len(set(events)):
        raise WebhookEndpointRefused(_("Bitte mindestens ein gültiges Ereignis wählen."), code="events")
    return ",".join(chosen)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url or len(url) > 500:
        raise WebhookEndpointRefused(_("Bitte eine URL mit höchstens 500 Zeichen angeben."), code="url_invalid")
    target_check(url)  # raises WebhookTargetRefused (a PortalError) with the reason
    return url


def _save(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    try:
        endpoint.full_clean(exclude=["created_by", "partner"])
    except ValidationError as exc:
        message = next(iter(exc.messages), _("Die Eingabe ist ungültig."))
        raise WebhookEndpointRefused(message, code="invalid") from None
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_create(*, partner, url: str, events: list[str], description: str = "", by=None) -> NewSecret:
    if WebhookEndpoint.objects.filter(partner=partner).count() >= MAX_ENDPOINTS_PER_PARTNER:
        raise WebhookEndpointRefused(
            _("Höchstens %(n)s Webhook-Endpunkte je Partner.") % {"n": MAX_ENDPOINTS_PER_PARTNER}, code="too_many"
        )
    secret = _new_secret()
    endpoint = WebhookEndpoint(
        partner=partner,
        url=_clean_url(url),
        events=_clean_events(events),
        description=(description or "").strip()[:200],
        secret_encrypted=secret_encrypt(secret),
        secret_hint=secret[:12],
        created_by=by,
    )
    return NewSecret(_save(endpoint), secret)


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk, partner_id=endpoint.partner_id)


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    locked = _locked(endpoint)
    if url is not None:
        locked.url = _clean_url(url)
    if events is not None:
        locked.events = _clean_events(events)
    if description is not None:
        locked.description = description.strip()[:200]
    return _save(locked)


@transaction.atomic
def webhook_endpoint_pause(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    locked = _locked(endpoint)
    if locked.is_active:
        locked.state, locked.paused_reason, locked.paused_at = (
            WebhookEndpoint.PAUSED,
            WebhookEndpoint.PAUSED_BY_PARTNER,
            clock.now(),
        )
        locked.save(update_fields=["state", "paused_reason", "paused_at"])
    return locked


@transaction.atomic
def webhook_endpoint_resume(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Active again, with a clean slate: its 3 days of failures start anew. Deliveries that
    were still pending continue; given-up ones can be sent again one by one."""
    locked = _locked(endpoint)
    if not locked.is_active:
        locked.state, locked.paused_reason, locked.paused_at, locked.failing_since = (
            WebhookEndpoint.ACTIVE,
            "",
            None,
            None,
        )
        locked.save(update_fields=["state", "paused_reason", "paused_at", "failing_since"])
    return locked


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> NewSecret:
    locked = _locked(endpoint)
    secret = _new_secret()
    locked.secret_encrypted, locked.secret_hint = secret_encrypt(secret), secret[:12]
    locked.save(update_fields=["secret_encrypted", "secret_hint"])
    return NewSecret(locked, secret)


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Deletes the endpoint with its deliveries and their log (the events stay)."""
    _locked(endpoint).delete()
