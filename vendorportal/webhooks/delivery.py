"""Delivering webhook events (issue 19): the outbox's design (vendorportal/outbox.py) for
HTTP instead of SMTP.

1. *Claim* — one conditional UPDATE takes a due, pending delivery of an active endpoint
   for this worker (lease ``WEBHOOK_CLAIM_SECONDS``, longer than connect + read timeout) and
   counts the attempt; of two workers or two copies of the task one wins.
2. *Send* — :func:`netguard.post_checked`: the signed POST to the checked address.
3. *Record* — every attempt is a :class:`WebhookAttempt` (the partner's delivery log). A 2xx
   marks the delivery succeeded and clears the endpoint's ``failing_since``; anything else
   (an error, a refusal of the guard, a non-2xx answer, a redirect) makes it due again after
   :func:`rules.retry_delay`, until its ``retry_until`` (3 days after the event), then it is
   given up. An endpoint that has failed without a success for 3 days is paused and its
   partner e-mailed through the outbox (once: a conditional UPDATE moves it to paused).
4. *Recover* — :func:`webhook_dispatch_due` (Celery beat, every minute) queues what is due —
   never queued (broker down), lost with a killed worker (its claim runs out), or due again
   after a failure — with a ticket as the outbox does, gives up deliveries past their 3 days
   and pauses endpoints failing for 3 days even when no attempt is due.

Delivery is at least once: a worker killed after the receiver answered but before the row
was marked leaves it to be sent again once its claim runs out. Receivers de-duplicate by
the event's ``id`` (docs/api.md).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vendorportal import clock
from vendorportal.errors import PortalError
from vendorportal.formats import format_date
from vendorportal.outbox import outbox_enqueue

from . import netguard, rules
from .constants import SIGNATURE_HEADER
from .crypto import secret_decrypt
from .events import event_body, queue_on_commit
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .signing import signature_header

logger = logging.getLogger(__name__)

DISPATCH_BATCH = 500
PAUSED_KIND = "webhook-paused"


class WebhookRefused(PortalError):
    pass


def claim_lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_CLAIM_SECONDS)


def _claimable(now, ticket: str | None = None) -> Q:
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    if ticket:
        free |= Q(claimed_by=ticket)
    return Q(state=WebhookDelivery.PENDING, due_at__lte=now, endpoint__state=WebhookEndpoint.ACTIVE) & free


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:80]


def webhook_claim(*, delivery_id: int, ticket: str | None = None) -> str | None:
    now = clock.now()
    token = _worker_name()
    # The endpoint's state is read in a subquery: an UPDATE cannot join.
    active = WebhookEndpoint.objects.filter(state=WebhookEndpoint.ACTIVE).values("pk")
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    if ticket:
        free |= Q(claimed_by=ticket)
    claimed = WebhookDelivery.objects.filter(
        free, pk=delivery_id, state=WebhookDelivery.PENDING, due_at__lte=now, endpoint_id__in=active
    ).update(claimed_by=token, claimed_until=now + claim_lease(), attempts=F("attempts") + 1)
    return token if claimed else None


def request_headers(delivery: WebhookDelivery, body: bytes, secret: str) -> dict[str, str]:
    timestamp = int(clock.now().timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": "VendorPortal-Webhooks/1",
        "Webhook-Id": delivery.event.event_id,
        "Webhook-Event": delivery.event.type,
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
    }


def webhook_deliver(*, delivery_id: int, ticket: str | None = None) -> bool:
    """Claim, POST and record one delivery; ``True`` if the receiver took it. Nothing raises:
    a failure is recorded on the row, which owns its retry."""
    token = webhook_claim(delivery_id=delivery_id, ticket=ticket)
    if token is None:
        return False
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    status_code, error, duration = None, "", 0
    try:
        body = event_body(delivery.event)
        headers = request_headers(delivery, body, secret_decrypt(delivery.endpoint.secret_encrypted))
        answer = netguard.post_checked(delivery.endpoint.url, body=body, headers=headers)
        status_code, duration = answer.status_code, answer.duration_ms
        if not rules.is_success(status_code):
            error = _("Antwort %(code)s") % {"code": status_code}
            if 300 <= status_code < 400:
                error += " " + _("(Weiterleitungen werden nicht verfolgt)")
            elif answer.excerpt:
                error += f": {answer.excerpt}"
    except PortalError as exc:
        error = exc.message
    except Exception as exc:  # network: refused, timeout, TLS; or a bug — recorded, retried
        logger.info("Webhook delivery %s to %s failed: %s", delivery.pk, delivery.endpoint.url, exc)
        error = f"{type(exc).__name__}: {exc}"
    _record(delivery, token, status_code, error[:500], duration)
    return rules.is_success(status_code)


@transaction.atomic
def _record(delivery: WebhookDelivery, token: str, status_code: int | None, error: str, duration: int) -> None:
    now = clock.now()
    WebhookAttempt.objects.create(delivery=delivery, at=now, status_code=status_code, error=error, duration_ms=duration)
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, claimed_by=token, state=WebhookDelivery.PENDING)
    common = {"claimed_by": "", "claimed_until": None, "last_attempt_at": now, "last_status_code": status_code}
    if rules.is_success(status_code):
        mine.update(state=WebhookDelivery.SUCCEEDED, delivered_at=now, last_error="", **common)
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=False).update(failing_since=None)
        return
    attempts = WebhookDelivery.objects.filter(pk=delivery.pk).values_list("attempts", flat=True).get()
    if rules.delivery_gives_up(now=now, retry_until=delivery.retry_until):
        mine.update(state=WebhookDelivery.FAILED, last_error=error, **common)
    else:
        mine.update(due_at=now + rules.retry_delay(attempts), last_error=error, **common)
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=True).update(failing_since=now)
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    if rules.endpoint_to_pause(now=now, failing_since=endpoint.failing_since):
        endpoint_pause_failing(endpoint=endpoint)


def _partner_recipients(partner) -> list[str]:
    from vendorportal.parties.models import PartnerUser

    admins = PartnerUser.objects.filter(partner=partner, role=PartnerUser.ADMIN, user__is_active=True)
    emails = sorted({e for e in admins.values_list("user__email", flat=True) if e})
    return emails or [partner.delivery_email]


def endpoint_pause_failing(*, endpoint: WebhookEndpoint) -> bool:
    """Pause an endpoint that failed for 3 days and tell its partner (outbox, in the same
    transaction); ``False`` when it was paused already."""
    now = clock.now()
    with transaction.atomic():
        paused = WebhookEndpoint.objects.filter(pk=endpoint.pk, state=WebhookEndpoint.ACTIVE).update(
            state=WebhookEndpoint.PAUSED, paused_reason=WebhookEndpoint.PAUSED_FAILING, paused_at=now
        )
        if not paused:
            return False
        endpoint = WebhookEndpoint.objects.select_related("partner").get(pk=endpoint.pk)
        subject = _("Webhook pausiert: %(url)s") % {"url": endpoint.url}
        body = "\n".join(
            [
                _("Guten Tag,"),
                "",
                _(
                    "Ihr Webhook-Endpunkt %(url)s hat seit dem %(since)s keine Zustellung angenommen "
                    "(letzter Fehler siehe Zustellprotokoll). Wir haben ihn deshalb pausiert; neue Ereignisse "
                    "werden bis zur Fortsetzung nicht gesendet."
                )
                % {"url": endpoint.url, "since": format_date(timezone.localdate(endpoint.failing_since))},
                _(
                    "Bitte prüfen Sie den Empfänger und setzen Sie den Endpunkt im Portal unter „Webhooks“ fort; "
                    "einzelne Zustellungen können Sie dort erneut senden."
                ),
                "",
                _("Mit freundlichen Grüßen"),
                settings.VENDOR["name"],
            ]
        )
        outbox_enqueue(
            kind=PAUSED_KIND,
            dedup_key=f"{PAUSED_KIND}:{endpoint.pk}:{now.isoformat()}",
            recipients=_partner_recipients(endpoint.partner),
            subject=subject,
            body=body,
            document=endpoint,
        )
    logger.warning(
        "Webhook endpoint %s of partner %s paused after 3 days of failures", endpoint.pk, endpoint.partner_id
    )
    return True


@dataclass
class DispatchResult:
    queued: int
    given_up: int
    paused: int

    def summary(self) -> str:
        return _("erneut eingeplant: %(queued)s; aufgegeben: %(given_up)s; Endpunkte pausiert: %(paused)s") % {
            "queued": self.queued,
            "given_up": self.given_up,
            "paused": self.paused,
        }


def webhook_dispatch_due(*, limit: int = DISPATCH_BATCH) -> DispatchResult:
    """The periodic catch-up: give up deliveries past their 3 days, pause endpoints failing
    for 3 days, queue what is due (with a ticket, so overlapping runs queue each row once)."""
    now = clock.now()
    given_up = WebhookDelivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        state=WebhookDelivery.PENDING,
        retry_until__lte=now,
        attempts__gt=0,
    ).update(state=WebhookDelivery.FAILED, claimed_by="", claimed_until=None)
    paused = 0
    failing = WebhookEndpoint.objects.filter(
        state=WebhookEndpoint.ACTIVE, failing_since__lte=now - rules.RETRY_FOR
    ).order_by("pk")
    for endpoint in failing:
        paused += endpoint_pause_failing(endpoint=endpoint)
    ticket = f"queued:{uuid.uuid4().hex}"
    candidates = list(
        WebhookDelivery.objects.filter(_claimable(now)).order_by("due_at", "pk").values_list("pk", flat=True)[:limit]
    )
    queued: list[int] = []
    if candidates:
        with transaction.atomic():
            WebhookDelivery.objects.filter(pk__in=candidates).filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), state=WebhookDelivery.PENDING
            ).update(claimed_by=ticket, claimed_until=now + claim_lease())
            queued = list(WebhookDelivery.objects.filter(claimed_by=ticket).values_list("pk", flat=True))
            queue_on_commit(queued, ticket)
    return DispatchResult(queued=len(queued), given_up=given_up, paused=paused)


@transaction.atomic
def webhook_delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """ "Erneut senden": the delivery is due now, with 3 more days of retries — a delivered one
    is sent once more (the receiver sees the same event ``id``)."""
    locked = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    if not locked.endpoint.is_active:
        raise WebhookRefused(_("Der Endpunkt ist pausiert. Bitte setzen Sie ihn zuerst fort."), code="endpoint_paused")
    now = clock.now()
    # A worker sending it right now keeps its claim and finishes; a lost claim runs out.
    WebhookDelivery.objects.filter(pk=locked.pk).update(
        state=WebhookDelivery.PENDING, due_at=now, retry_until=now + rules.RETRY_FOR
    )
    queue_on_commit([locked.pk])
    locked.refresh_from_db()
    return locked
