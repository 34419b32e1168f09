"""Login policies are edited by superusers only (STYLE 15: staff rights are for superusers)."""

from django.contrib import admin

from vendorportal.security.models import StaffGroupPolicy


@admin.register(StaffGroupPolicy)
class StaffGroupPolicyAdmin(admin.ModelAdmin):
    list_display = ["group", "otp_required"]
    list_filter = ["otp_required"]
    list_select_related = ["group"]

    # Explicit, not only model permissions: granting this model's permissions to a group
    # must not let that group switch its own second factor off.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
