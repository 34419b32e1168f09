"""Webhook endpoints through the API (issue 19): the same services as the portal page
"Webhooks" (vendorportal/webhooks). Scope ``read``: an event carries nothing a ``read`` token
could not fetch itself (no key texts). Another partner's ids are 404."""

from datetime import datetime

from ninja import Field, Path, Schema, Status
from ninja.pagination import CursorPagination, paginate

from api.api import api, require_scope
from api.endpoints import MAX_ID, PAGE
from api.models import SCOPE_READ
from vendorportal.webhooks import selectors
from vendorportal.webhooks.constants import EVENTS
from vendorportal.webhooks.delivery import webhook_delivery_resend
from vendorportal.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_pause,
    webhook_endpoint_resume,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

TAG = "Webhooks"
EVENTS_HELP = "Ereignisse: " + ", ".join(EVENTS)


class EndpointIn(Schema):
    url: str = Field(..., min_length=1, max_length=500, description="HTTPS-URL")
    events: list[str] = Field(..., min_length=1, max_length=len(EVENTS), description=EVENTS_HELP)
    description: str = Field("", max_length=200)


class EndpointPatch(Schema):
    url: str | None = Field(None, min_length=1, max_length=500)
    events: list[str] | None = Field(None, min_length=1, max_length=len(EVENTS), description=EVENTS_HELP)
    description: str | None = Field(None, max_length=200)
    active: bool | None = Field(None, description="false pausiert, true setzt fort")


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    events: list[str] = Field(..., alias="event_list")
    state: str
    paused_reason: str
    paused_at: datetime | None
    failing_since: datetime | None
    secret_hint: str
    created_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(..., description="nur in dieser Antwort; zum Prüfen der Signatur")


class DeliveryOut(Schema):
    id: int
    event_id: str = Field(..., alias="event.event_id")
    event_type: str = Field(..., alias="event.type")
    event_created: datetime = Field(..., alias="event.created_at")
    state: str
    attempts: int
    last_status_code: int | None
    last_error: str
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    due_at: datetime


def _with_secret(created):
    created.endpoint.secret = created.secret  # this one answer only; never stored in the clear
    return created.endpoint


@api.get("/webhooks", response=list[EndpointOut], tags=[TAG], summary="Webhook-Endpunkte")
@paginate(CursorPagination, ordering=("-id",), **PAGE)
def webhooks_list(request):
    require_scope(request, SCOPE_READ)
    return selectors.partner_endpoints(request.partner)


@api.post("/webhooks", response={201: EndpointWithSecret}, tags=[TAG], summary="Endpunkt anlegen (Secret einmalig)")
def webhooks_create(request, data: EndpointIn):
    require_scope(request, SCOPE_READ)
    created = webhook_endpoint_create(
        partner=request.partner,
        url=data.url,
        events=data.events,
        description=data.description,
        by=request.api_token.created_by,
    )
    return Status(201, _with_secret(created))


@api.get("/webhooks/{webhook_id}", response=EndpointOut, tags=[TAG], summary="Endpunkt")
def webhooks_get(request, webhook_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    return selectors.partner_endpoint(request.partner, webhook_id)


@api.patch("/webhooks/{webhook_id}", response=EndpointOut, tags=[TAG], summary="Endpunkt ändern, pausieren, fortsetzen")
def webhooks_update(request, data: EndpointPatch, webhook_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    endpoint = selectors.partner_endpoint(request.partner, webhook_id)
    if data.url is not None or data.events is not None or data.description is not None:
        endpoint = webhook_endpoint_update(
            endpoint=endpoint, url=data.url, events=data.events, description=data.description
        )
    if data.active is True:
        endpoint = webhook_endpoint_resume(endpoint=endpoint)
    elif data.active is False:
        endpoint = webhook_endpoint_pause(endpoint=endpoint)
    return endpoint


@api.delete("/webhooks/{webhook_id}", response={204: None}, tags=[TAG], summary="Endpunkt löschen")
def webhooks_delete(request, webhook_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    webhook_endpoint_delete(endpoint=selectors.partner_endpoint(request.partner, webhook_id))
    return Status(204, None)


@api.post(
    "/webhooks/{webhook_id}/secret",
    response=EndpointWithSecret,
    tags=[TAG],
    summary="Neues Secret (das alte gilt nicht mehr)",
)
def webhooks_rotate_secret(request, webhook_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    return _with_secret(
        webhook_endpoint_rotate_secret(endpoint=selectors.partner_endpoint(request.partner, webhook_id))
    )


@api.get("/webhooks/{webhook_id}/deliveries", response=list[DeliveryOut], tags=[TAG], summary="Zustellprotokoll")
@paginate(CursorPagination, ordering=("-id",), **PAGE)
def webhooks_deliveries(request, webhook_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    return selectors.endpoint_deliveries(selectors.partner_endpoint(request.partner, webhook_id))


@api.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/resend",
    response={202: DeliveryOut},
    tags=[TAG],
    summary="Erneut senden",
)
def webhooks_delivery_resend(
    request, webhook_id: int = Path(..., ge=1, le=MAX_ID), delivery_id: int = Path(..., ge=1, le=MAX_ID)
):
    require_scope(request, SCOPE_READ)
    delivery = selectors.partner_delivery(request.partner, endpoint_id=webhook_id, pk=delivery_id)
    resent = webhook_delivery_resend(delivery=delivery)
    return Status(202, selectors.partner_delivery(request.partner, endpoint_id=webhook_id, pk=resent.pk))
