"""Written confirmations in the admin (issue 16): what was confirmed to whom, read-only, with
the PDF as the partner received it. Written only by the services that make the changes."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.models import Confirmation

admin.site.area_add("billing", title=_("Bestellungen und Rechnungen"), order=50, models=["billing.confirmation"])


@admin.register(Confirmation)
class ConfirmationAdmin(admin.ModelAdmin):
    list_display = ["confirmed_on", "title", "reference", "partner", "email", "pdf_link"]
    list_filter = ["kind"]
    search_fields = ["reference", "partner__company", "email"]
    list_select_related = ["partner"]
    show_full_result_count = False
    date_hierarchy = "confirmed_on"
    fields = ["kind", "title", "reference", "partner", "email", "confirmed_on", "created_at", "created_by", "pdf_link"]
    readonly_fields = fields

    # A confirmation is the record of what was confirmed: nobody adds, changes or deletes one.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:billing_confirmation_pdf", args=[obj.pk]), _("herunterladen")
        )

    def get_urls(self):
        return [
            path("<int:object_id>/pdf/", self.admin_site.admin_view(self.pdf_view), name="billing_confirmation_pdf"),
        ] + super().get_urls()

    def pdf_view(self, request, object_id):
        from billing.services.confirmations import confirmation_pdf

        if not self.has_view_permission(request):
            raise PermissionDenied
        confirmation = get_object_or_404(Confirmation.objects.select_related("partner"), pk=object_id)
        response = HttpResponse(confirmation_pdf(confirmation), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{confirmation.filename}"'
        return response
