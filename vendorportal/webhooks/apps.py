from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Webhooks (issue 19): events a partner's systems hear about, written in the transaction
    that causes them and delivered by the worker (signed, retried, SSRF-guarded).

    A core app like the outbox it mirrors: licensing, billing and support call
    :func:`vendorportal.webhooks.events.webhook_event_emit` from their services, so it must sit
    below them (it imports none of them). The API app manages endpoints through its services.
    """

    name = "vendorportal.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from vendorportal.outbox import register_kind
        from vendorportal.portal.registry import nav_add

        register_kind("webhook-paused", label=_("Webhook pausiert"))
        nav_add(url_name="portal:webhooks", label=_("Webhooks"), order=96, admin_only=True, section="account")
