"""API tokens (issue 19): a partner admin creates them in the portal; the token is shown once
and stored only as its SHA-256 hash."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from vendorportal import clock

SCOPE_READ = "read"
SCOPE_ORDER = "order"
SCOPE_KEYS = "keys"
SCOPE_SUPPORT = "support"
SCOPE_CHOICES = [
    (SCOPE_READ, _("lesen")),
    (SCOPE_ORDER, _("bestellen")),
    (SCOPE_KEYS, _("Lizenzschlüssel")),
    (SCOPE_SUPPORT, _("Support")),
]
SCOPES = [code for code, _label in SCOPE_CHOICES]


class ApiToken(models.Model):
    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("Partner")
    )
    name = models.CharField(_("Name"), max_length=80)
    prefix = models.CharField(_("Anfang des Tokens"), max_length=12, help_text=_("zum Wiedererkennen"))
    token_hash = models.CharField(_("SHA-256 des Tokens"), max_length=64, unique=True, editable=False)
    scopes = models.CharField(
        _("Rechte"), max_length=60, help_text=_("durch Komma getrennt: read, order, keys, support")
    )
    expires_on = models.DateField(
        _("gültig bis"), null=True, blank=True, help_text=_("einschließlich; leer = unbefristet")
    )
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("angelegt von"),
    )
    last_used_at = models.DateTimeField(_("zuletzt benutzt"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("widerrufen am"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API-Zugang")
        verbose_name_plural = _("API-Zugänge")
        constraints = [models.CheckConstraint(condition=~Q(scopes=""), name="apitoken_has_scopes")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]

    def is_usable(self, today) -> bool:
        return self.revoked_at is None and (self.expires_on is None or today <= self.expires_on)


class IdempotencyKey(models.Model):
    """An ``Idempotency-Key`` a token sent with ``POST /orders`` and the order it placed: the
    same key from the same token returns that order, never a second one; the same key with
    another body is refused. The unique constraint decides two requests at the same moment
    (STYLE 14), not a check in Python."""

    token = models.ForeignKey(
        ApiToken, on_delete=models.CASCADE, related_name="idempotency_keys", verbose_name=_("API-Zugang")
    )
    key = models.CharField(_("Idempotency-Key"), max_length=200)
    request_hash = models.CharField(_("SHA-256 der Anfrage"), max_length=64)
    order = models.ForeignKey(
        "billing.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Bestellung"),
    )
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("Idempotency-Key")
        verbose_name_plural = _("Idempotency-Keys")
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="idempotencykey_unique_per_token")]

    def __str__(self) -> str:
        return self.key
