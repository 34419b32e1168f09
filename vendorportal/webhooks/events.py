"""Writing webhook events (issue 19) — the outbox's pattern (STYLE 13) for partners' systems.

:func:`webhook_event_emit` runs inside the transaction that causes the event (an order
confirmed, an invoice issued …): it writes the :class:`WebhookEvent` and one
:class:`WebhookDelivery` per active endpoint of the partner subscribed to it, and queues
the deliveries after commit. A rolled-back transaction leaves neither row nor task. The
``dedup_key`` is unique: the same event written twice (a re-run, a double submit, a second
worker) is one event.

An event is written only when at least one active endpoint wants it: a partner without
webhooks costs one query per event and no rows (the monthly invoicing run, the daily jobs).
A paused endpoint receives nothing new; what it missed is not sent later.

:func:`webhook_events_emit_many` writes a batch (the daily jobs, an order's keys) in a fixed
number of queries, however many events.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from vendorportal import clock

from . import rules
from .constants import EVENTS
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)


def _plain(value):
    """JSON of the payload: amounts as strings (never floats), dates ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable in a webhook payload: {type(value).__name__}")


def payload_clean(payload: dict) -> dict:
    return json.loads(json.dumps(payload, default=_plain))


def event_body(event: WebhookEvent) -> bytes:
    """The bytes POSTed for an event, the same at every attempt (the signature covers them)."""
    envelope = {
        "id": event.event_id,
        "type": event.type,
        "created": event.created_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _queue_delivery(delivery_id: int, ticket: str | None = None) -> None:
    """After commit; must not raise: with the broker down the periodic dispatch sends it."""
    from vendorportal.webhooks.tasks import webhook_deliver

    try:
        webhook_deliver.delay(delivery_id, ticket)
    except Exception:
        logger.warning("Webhook delivery %s not queued (broker unreachable?); the dispatch sends it", delivery_id)


def queue_on_commit(delivery_ids, ticket: str | None = None) -> None:
    for pk in delivery_ids:
        transaction.on_commit(partial(_queue_delivery, pk, ticket), robust=True)


@dataclass(frozen=True)
class EventDraft:
    partner_id: int
    event: str
    payload: dict
    dedup_key: str


def _check(event: str, dedup_key: str) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    if not dedup_key or len(dedup_key) > 200:
        raise ValueError("a webhook event needs a dedup_key of at most 200 characters")


def _subscribers(partner_ids) -> dict[int, list[tuple[int, list[str]]]]:
    """Active endpoints per partner with their events: one query."""
    found: dict[int, list[tuple[int, list[str]]]] = {}
    rows = WebhookEndpoint.objects.filter(partner_id__in=partner_ids, state=WebhookEndpoint.ACTIVE)
    for pk, partner_id, events in rows.values_list("pk", "partner_id", "events"):
        found.setdefault(partner_id, []).append((pk, events.split(",")))
    return found


def _deliveries(event: WebhookEvent, endpoint_ids: list[int], now: datetime) -> list[WebhookDelivery]:
    return [
        WebhookDelivery(event=event, endpoint_id=pk, due_at=now, retry_until=now + rules.RETRY_FOR, created_at=now)
        for pk in endpoint_ids
    ]


def has_webhooks_exists(partner: str = "pk") -> Exists:
    """``Partner.objects.annotate(has_webhooks=has_webhooks_exists())``: a job that reads its
    partners anyway (the monthly invoicing run) learns in that query whether a partner has an
    active endpoint, and :func:`webhook_event_emit` then costs no query for one without.
    ``partner``: the path to the partner from the model read (``"customer__partner"`` for an
    installation)."""
    return Exists(WebhookEndpoint.objects.filter(partner=OuterRef(partner), state=WebhookEndpoint.ACTIVE))


def webhook_event_emit(*, partner, event: str, payload: dict, dedup_key: str) -> WebhookEvent | None:
    """Write ``event`` for ``partner`` in the caller's transaction (see the module docstring).

    Returns the event (the existing one for a known ``dedup_key``), or ``None`` when no active
    endpoint of the partner subscribes to it. ``partner`` is a partner or its id; a partner read
    with ``has_webhooks`` (:func:`has_webhooks_exists`) False costs no query.
    """
    _check(event, dedup_key)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("webhook_event_emit runs inside the transaction that causes the event.")
    known = getattr(partner, "has_webhooks", None)  # False/True, or 0/1 from a prepared read
    if known is not None and not known:
        return None
    partner_id = partner if isinstance(partner, int) else partner.pk
    endpoints = [pk for pk, events in _subscribers([partner_id]).get(partner_id, []) if event in events]
    if not endpoints:
        return None
    now = clock.now()
    row = WebhookEvent(
        partner_id=partner_id, type=event, dedup_key=dedup_key, payload=payload_clean(payload), created_at=now
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        existing = WebhookEvent.objects.filter(dedup_key=dedup_key).first()
        if existing is None:
            raise
        return existing
    deliveries = WebhookDelivery.objects.bulk_create(_deliveries(row, endpoints, now))
    queue_on_commit([d.pk for d in deliveries])
    return row


def webhook_events_emit_many(drafts: list[EventDraft]) -> list[WebhookEvent]:
    """Write a batch of events in the caller's transaction: one query when no partner of the
    batch has a subscribed endpoint, six otherwise, however many events. Keys written before
    are skipped. Returns the events written now."""
    if not drafts:
        return []
    for d in drafts:
        _check(d.event, d.dedup_key)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("webhook_events_emit_many runs inside the transaction that causes the events.")
    subscribers = _subscribers({d.partner_id for d in drafts})
    wanted = {
        d.dedup_key: (d, [pk for pk, events in subscribers.get(d.partner_id, []) if d.event in events]) for d in drafts
    }
    wanted = {key: pair for key, pair in wanted.items() if pair[1]}
    if not wanted:
        return []
    existing = set(WebhookEvent.objects.filter(dedup_key__in=list(wanted)).values_list("dedup_key", flat=True))
    now = clock.now()
    WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                partner_id=d.partner_id, type=d.event, dedup_key=key, payload=payload_clean(d.payload), created_at=now
            )
            for key, (d, _endpoints) in wanted.items()
            if key not in existing
        ],
        ignore_conflicts=True,  # a concurrent transaction that wrote a key first keeps its row
    )
    new_keys = [key for key in wanted if key not in existing]
    events = WebhookEvent.objects.in_bulk(new_keys, field_name="dedup_key")
    rows = [delivery for key in new_keys if key in events for delivery in _deliveries(events[key], wanted[key][1], now)]
    # ignore_conflicts: an event a concurrent run wrote first has its deliveries already.
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    queue_on_commit(
        WebhookDelivery.objects.filter(event__in=list(events.values()), state=WebhookDelivery.PENDING).values_list(
            "pk", flat=True
        )
    )
    return [events[key] for key in new_keys if key in events]
