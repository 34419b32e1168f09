"""The webhooks' entries for the portal's tenant-isolation walker (vendorportal/portal/testing.py)."""

from django.db import transaction

from vendorportal.portal.testing import isolation_case
from vendorportal.webhooks.events import webhook_event_emit
from vendorportal.webhooks.services import webhook_endpoint_create


def _endpoint(partner):
    return webhook_endpoint_create(partner=partner, url="https://walker.example/in", events=["invoice.paid"]).endpoint


@isolation_case("portal:webhook")
def _webhook(partner):
    return {"pk": _endpoint(partner).pk}


@isolation_case("portal:webhook_state")
def _webhook_state(partner):
    return {"pk": _endpoint(partner).pk}


@isolation_case("portal:webhook_secret")
def _webhook_secret(partner):
    return {"pk": _endpoint(partner).pk}


@isolation_case("portal:webhook_delete")
def _webhook_delete(partner):
    return {"pk": _endpoint(partner).pk}


@isolation_case("portal:webhook_delivery_resend")
def _webhook_delivery_resend(partner):
    endpoint = _endpoint(partner)
    with transaction.atomic():
        event = webhook_event_emit(partner=partner, event="invoice.paid", payload={}, dedup_key=f"walker-{endpoint.pk}")
    return {"pk": endpoint.pk, "delivery_pk": event.deliveries.get(endpoint=endpoint).pk}
