"""Staff admin of delivery notes (Lieferscheine, ORD-2).

Issued documents are read-only: no adding, changing or deleting — a note is created
only together with its keys (``licensing.services.licenses``), and its PDF is what
was sent. Staff can find a note by number, key fragment, server key, partner or
recipient, download the stored PDF and send it again.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotFound
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from licensing.models import DeliveryNote
from licensing.services.delivery import delivery_note_resend
from vendorportal.documents import document_response
from vendorportal.errors import PortalError


@admin.register(DeliveryNote)
class DeliveryNoteAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "created_at",
        "partner",
        "installation_identifier",
        "recipient_email",
        "sent_at",
        "send_count",
        "pdf_link",
    ]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = [
        "number",
        "licenses__key_compact",
        "licenses__key",
        "installation__identifier",
        "installation__customer__partner__company",
        "recipient_email",
    ]
    list_select_related = ["installation__customer__partner"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["resend"]
    fields = [
        "number",
        "created_at",
        "installation",
        "partner",
        "licenses_display",
        "recipient_email",
        "pdf_link",
        "sent_at",
        "send_count",
    ]
    readonly_fields = fields

    # --- read-only: documents are issued by services, never edited here ---
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- columns ---
    @admin.display(description=_("Partner"), ordering="installation__customer__partner__company")
    def partner(self, obj):
        return obj.installation.customer.partner

    @admin.display(description=_("Serverlizenzschlüssel / Hardware-ID"), ordering="installation__identifier")
    def installation_identifier(self, obj):
        return obj.installation.identifier

    @admin.display(description=_("Lizenzen"))
    def licenses_display(self, obj):
        rows = obj.licenses.select_related("product", "module_version").order_by("product__name", "serial")
        return (
            format_html_join(
                "",
                '<div style="margin-bottom:.5em">{} {} · Nr. {}<br><code style="word-break:break-all">{}</code></div>',
                ((lic.product.name, lic.module_version.version, lic.serial, lic.key) for lic in rows),
            )
            or "—"
        )

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if not obj.pdf:
            return gettext("noch nicht erzeugt")
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:licensing_deliverynote_pdf", args=[obj.pk]), f"{obj.number}.pdf"
        )

    # --- action ---
    @admin.action(description=_("Lieferschein erneut senden"), permissions=["view"])
    def resend(self, request, queryset):
        # Anyone who may see a note may send it again: it goes only to the address
        # stored on the note, with the PDF that was sent before.
        count = 0
        for note in queryset:
            try:
                delivery_note_resend(note=note, by=request.user)
            except PortalError as refused:
                self.message_user(request, refused.message, messages.WARNING)
                continue
            self.log_change(
                request,
                note,
                gettext("Lieferschein erneut zum Versand an %(email)s eingeplant.") % {"email": note.recipient_email},
            )
            count += 1
        if not count:
            return
        self.message_user(
            request,
            ngettext(
                "%(count)d Lieferschein wird erneut gesendet.",
                "%(count)d Lieferscheine werden erneut gesendet.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    # --- PDF download (staff only: admin_view requires an active staff login) ---
    def get_urls(self):
        own = [
            path(
                "<int:object_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="licensing_deliverynote_pdf",
            )
        ]
        return own + super().get_urls()

    def pdf_view(self, request, object_id: int):
        note = DeliveryNote.objects.filter(pk=object_id).first()
        if note is None:
            raise Http404(gettext("Diesen Lieferschein gibt es nicht."))
        if not self.has_view_permission(request, note):
            raise PermissionDenied
        # Plain-text 404s, so staff read the reason (Http404's text shows only with DEBUG).
        if not note.pdf:
            return HttpResponseNotFound(
                gettext("Das PDF zu Lieferschein %(number)s wurde noch nicht erzeugt; es entsteht beim ersten Versand.")
                % {"number": note.number},
                content_type="text/plain; charset=utf-8",
            )
        # A missing or changed file: a German page and an error in the log (GoBD).
        return document_response(request, note, filename=f"{note.number}.pdf", as_attachment=False)
