"""Login policies are edited by superusers only (STYLE 15: staff rights are for superusers)."""

from django.contrib import admin

from vendorportal.admin_site import SuperuserOnly
from vendorportal.security.models import StaffGroupPolicy


@admin.register(StaffGroupPolicy)
class StaffGroupPolicyAdmin(SuperuserOnly, admin.ModelAdmin):
    # Superusers only, whatever model permissions say: granting this model's permissions to a
    # group must not let that group switch its own second factor off.
    list_display = ["group", "otp_required"]
    list_filter = ["otp_required"]
    list_select_related = ["group"]
