"""Webhook endpoints, events and their deliveries (issue 19).

- :class:`WebhookEndpoint` — a partner's HTTPS URL, the events it wants, its signing secret
  (encrypted at rest, see :mod:`vendorportal.webhooks.secrets`) and whether it is active.
- :class:`WebhookEvent` — one thing that happened, written in the transaction that caused it
  (``dedup_key`` unique: a re-run or double submit writes one event); its payload is the
  snapshot sent, so every retry and resend sends the same data.
- :class:`WebhookDelivery` — one event for one endpoint: the row owns its retries as an
  outbox row does (claim, lease, due time, attempts); :class:`WebhookAttempt` is the log.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vendorportal import clock

from .constants import EVENT_CHOICES


class WebhookEndpoint(models.Model):
    ACTIVE = "active"
    PAUSED = "paused"
    STATE_CHOICES = [(ACTIVE, _("aktiv")), (PAUSED, _("pausiert"))]
    PAUSED_BY_PARTNER = "partner"
    PAUSED_FAILING = "failing"

    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("Partner")
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("Beschreibung"), max_length=200, blank=True)
    events = models.CharField(_("Ereignisse"), max_length=400, help_text=_("durch Komma getrennt"))
    secret_encrypted = models.TextField(_("Signaturschlüssel (verschlüsselt)"), editable=False)
    secret_hint = models.CharField(_("Anfang des Signaturschlüssels"), max_length=16, editable=False)
    state = models.CharField(_("Status"), max_length=8, choices=STATE_CHOICES, default=ACTIVE)
    paused_reason = models.CharField(_("pausiert wegen"), max_length=10, blank=True)
    paused_at = models.DateTimeField(_("pausiert am"), null=True, blank=True)
    failing_since = models.DateTimeField(
        _("fehlerhaft seit"),
        null=True,
        blank=True,
        help_text=_("erster Fehlschlag seit der letzten erfolgreichen Zustellung"),
    )
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Webhook-Endpunkt")
        verbose_name_plural = _("Webhook-Endpunkte")
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["active", "paused"]), name="webhookendpoint_state_valid"),
            models.CheckConstraint(condition=~Q(events=""), name="webhookendpoint_has_events"),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def event_list(self) -> list[str]:
        return [e for e in self.events.split(",") if e]

    @property
    def is_active(self) -> bool:
        return self.state == self.ACTIVE


class WebhookEvent(models.Model):
    public_id = models.UUIDField(_("Ereignis-ID"), default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.CASCADE, related_name="webhook_events", verbose_name=_("Partner")
    )
    type = models.CharField(_("Ereignis"), max_length=40, choices=EVENT_CHOICES)
    dedup_key = models.CharField(_("Schlüssel"), max_length=200, unique=True)
    payload = models.JSONField(_("Daten"))
    created_at = models.DateTimeField(_("eingetreten"), default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Webhook-Ereignis")
        verbose_name_plural = _("Webhook-Ereignisse")

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"

    @property
    def event_id(self) -> str:
        return f"evt_{self.public_id.hex}"


class WebhookDelivery(models.Model):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STATE_CHOICES = [(PENDING, _("wird zugestellt")), (SUCCEEDED, _("zugestellt")), (FAILED, _("aufgegeben"))]

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(_("Status"), max_length=10, choices=STATE_CHOICES, default=PENDING)
    attempts = models.PositiveIntegerField(_("Versuche"), default=0)
    due_at = models.DateTimeField(_("fällig ab"))
    retry_until = models.DateTimeField(_("Wiederholung bis"))
    claimed_by = models.CharField(max_length=80, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(_("letzter Versuch"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("Antwort-Code"), null=True, blank=True)
    last_error = models.CharField(_("letzter Fehler"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("zugestellt am"), null=True, blank=True)
    created_at = models.DateTimeField(_("angelegt"), default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Webhook-Zustellung")
        verbose_name_plural = _("Webhook-Zustellungen")
        permissions = [("resend_webhookdelivery", _("Webhook-Zustellung erneut senden"))]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhookdelivery_once_per_endpoint"),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "succeeded", "failed"]), name="webhookdelivery_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["state", "due_at"], name="webhookdelivery_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One POST (or a refusal before it): the delivery log the partner reads."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("Zeit"))
    status_code = models.PositiveSmallIntegerField(_("Antwort-Code"), null=True, blank=True)
    error = models.CharField(_("Fehler"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("Dauer (ms)"), default=0)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("Zustellversuch")
        verbose_name_plural = _("Zustellversuche")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
