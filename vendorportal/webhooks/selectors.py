"""Reads of the webhook area, scoped to one partner for the portal and the API."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

LOG_LIMIT = 100


def partner_endpoints(partner):
    return WebhookEndpoint.objects.filter(partner=partner).order_by("-created_at", "-id")


def partner_endpoint(partner, pk: int) -> WebhookEndpoint:
    """The partner's endpoint; another partner's id is a 404 (never a 403: nothing is told)."""
    return get_object_or_404(WebhookEndpoint, partner=partner, pk=pk)


def endpoint_deliveries(endpoint: WebhookEndpoint, *, with_attempts: bool = False):
    """The delivery log of one endpoint, newest first, event loaded (and its attempts)."""
    qs = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-created_at", "-id")
    if with_attempts:
        qs = qs.prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("at", "id")))
    return qs


def partner_delivery(partner, *, endpoint_id: int, pk: int) -> WebhookDelivery:
    return get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint", "event"),
        endpoint__partner=partner,
        endpoint_id=endpoint_id,
        pk=pk,
    )
