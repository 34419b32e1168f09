from django.contrib import admin

from .models import JobRun


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
