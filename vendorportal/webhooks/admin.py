"""Staff see partners' webhook endpoints and their deliveries (never a secret: it is shown to
the partner once and stored encrypted). Sales may pause an endpoint (``change``); support
may send a delivery again (``webhooks.resend_webhookdelivery``) when helping a partner."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vendorportal.errors import PortalError

from .delivery import webhook_delivery_resend
from .models import WebhookDelivery, WebhookEndpoint
from .services import webhook_endpoint_pause

admin.site.area_add(
    "parties",
    title=_("Partner und Kunden"),
    order=10,
    models=["webhooks.webhookendpoint", "webhooks.webhookdelivery"],
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False  # partners register endpoints; events come from the services

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnly):
    list_display = ["url", "partner", "state", "paused_reason", "failing_since", "created_at"]
    list_filter = ["state", "paused_reason"]
    search_fields = ["url", "partner__company"]
    list_select_related = ["partner"]
    exclude = ["secret_encrypted"]
    actions = ["pause_action"]

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f != "secret_encrypted"]

    @admin.action(description=_("Pausieren"), permissions=["change"])
    def pause_action(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_pause(endpoint=endpoint)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%(n)s Endpunkt pausiert.", "%(n)s Endpunkte pausiert.", count) % {"n": count},
            messages.SUCCESS,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly):
    list_display = ["event", "endpoint", "state", "attempts", "last_status_code", "last_attempt_at", "due_at"]
    list_filter = ["state", "event__type"]
    search_fields = ["endpoint__url", "endpoint__partner__company", "event__dedup_key"]
    list_select_related = ["event", "endpoint"]
    show_full_result_count = False
    actions = ["resend_action"]

    def has_resend_permission(self, request):
        return request.user.has_perm("webhooks.resend_webhookdelivery")

    @admin.action(description=_("Erneut senden"), permissions=["resend"])
    def resend_action(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                webhook_delivery_resend(delivery=delivery)
                done += 1
            except PortalError as refusal:
                self.message_user(request, f"{delivery}: {refusal.message}", messages.WARNING)
        self.message_user(
            request,
            ngettext("%(n)s Zustellung erneut eingeplant.", "%(n)s Zustellungen erneut eingeplant.", done)
            % {"n": done},
            messages.SUCCESS,
        )
