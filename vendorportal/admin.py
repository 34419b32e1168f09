"""Core admin: the job log, document sequences, and staff accounts for superusers only."""
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from .models import JobRun

admin.site.area_add(
    "parties", title=_("Partner und Kunden"), order=10,
    models=["parties.partnerlevel", "parties.partner", "parties.partneruser", "parties.customer"],
)
admin.site.area_add(
    "users", title=_("Benutzer und Rechte"), order=80,
    models=["auth.user", "auth.group", "security.staffgrouppolicy", "otp_totp.totpdevice", "axes.accessattempt"],
)
admin.site.area_add("operations", title=_("Betrieb"), order=90, models=["vendorportal.jobrun", "vendorportal.documentsequence"])


class SuperuserOnly:
    """Staff accounts, groups and permissions are for superusers only (issue 8, STYLE 15).

    Whatever rights a group may hold in the database, nobody else sees, adds, changes,
    deletes or sets passwords of users or groups here: a right on ``auth.user`` would
    let its holder make itself superuser. Partner logins have their own form.
    """

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


User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(SuperuserOnly, UserAdmin):
    pass


@admin.register(Group)
class StaffGroupAdmin(SuperuserOnly, GroupAdmin):
    pass


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["name", "started_at", "finished_at", "ok"]
    list_filter = ["name", "ok"]
    search_fields = ["name", "summary"]
    readonly_fields = ["name", "started_at", "finished_at", "ok", "summary"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
