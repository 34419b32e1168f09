"""The webhook operations' entries for the API's tenant-isolation walker (issue 19).

``api/testing.py`` (the walker over every /api/v1 operation) imports
``<app>.tests.api_isolation`` of every installed app; this module is that file for the
webhooks. (It imports the API's test registry, which sits above this core app: test code only.)
"""

from django.db import transaction

from api.testing import api_case
from vendorportal.webhooks.events import webhook_event_emit
from vendorportal.webhooks.services import webhook_endpoint_create


def _endpoint(partner):
    return webhook_endpoint_create(partner=partner, url="https://walker.example/in", events=["invoice.paid"]).endpoint


@api_case("GET /webhooks", scope="read", names_objects=False)
def _webhooks(partner):
    return {}


@api_case("POST /webhooks", scope="read", names_objects=False)
def _webhooks_create(partner):
    return {"body": {"url": "https://erp.walker.example/hooks", "events": ["invoice.issued"]}}


@api_case("GET /webhooks/{webhook_id}", scope="read")
def _webhook(partner):
    return {"webhook_id": _endpoint(partner).pk}


@api_case("PATCH /webhooks/{webhook_id}", scope="read")
def _webhook_update(partner):
    return {"webhook_id": _endpoint(partner).pk, "body": {"description": "geändert"}}


@api_case("DELETE /webhooks/{webhook_id}", scope="read")
def _webhook_delete(partner):
    return {"webhook_id": _endpoint(partner).pk}


@api_case("POST /webhooks/{webhook_id}/secret", scope="read")
def _webhook_secret(partner):
    return {"webhook_id": _endpoint(partner).pk}


@api_case("GET /webhooks/{webhook_id}/deliveries", scope="read")
def _webhook_deliveries(partner):
    return {"webhook_id": _endpoint(partner).pk}


@api_case("POST /webhooks/{webhook_id}/deliveries/{delivery_id}/resend", scope="read")
def _webhook_resend(partner):
    endpoint = _endpoint(partner)
    with transaction.atomic():
        event = webhook_event_emit(
            partner=partner, event="invoice.paid", payload={"id": 1}, dedup_key=f"api-walker-{endpoint.pk}"
        )
    return {"webhook_id": endpoint.pk, "delivery_id": event.deliveries.get(endpoint=endpoint).pk}
