"""Staff see every partner's API tokens and revoke them (never their secret: only its hash is
stored). Revoking needs ``api.change_apitoken``."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api.models import ApiToken
from api.services import api_token_revoke

admin.site.area_add("parties", title=_("Partner und Kunden"), order=10, models=["api.apitoken"])


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "partner", "prefix", "scopes", "expires_on", "last_used_at", "revoked_at"]
    list_filter = ["scopes"]
    search_fields = ["name", "prefix", "partner__company"]
    list_select_related = ["partner"]
    readonly_fields = [
        "partner",
        "name",
        "prefix",
        "scopes",
        "expires_on",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    exclude = ["token_hash"]
    actions = ["revoke_action"]

    def has_add_permission(self, request):
        return False  # partners create tokens in the portal: the secret is shown to them only

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Widerrufen"), permissions=["change"])
    def revoke_action(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token, by=request.user)
        self.message_user(
            request,
            ngettext("%(n)s API-Zugang widerrufen.", "%(n)s API-Zugänge widerrufen.", queryset.count())
            % {"n": queryset.count()},
            messages.SUCCESS,
        )
