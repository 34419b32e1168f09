"""The support desk for staff (issue 11): the queue in SUP-1 order with SLA flags, filters,
inline messages, attachments and time, the entitlement panel, and replies / status changes
through the services (the workflow is enforced there, not by editing the status field)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from licensing.constants import AUERSWALD
from support import rules, selectors, services
from support.exceptions import AttachmentLocked, SupportError
from support.knowledge import render_markdown
from support.models import (
    Article,
    Attachment,
    CustomerSupportFacts,
    HourlyRate,
    InboundMail,
    Tag,
    Ticket,
    TicketMessage,
    TimeEntry,
)
from vendorportal import clock
from vendorportal.parties.admin import CustomerAdmin


class ServiceGroupFilter(admin.SimpleListFilter):
    title = _("Vertrag / Service-Plan")
    parameter_name = "group"

    def lookups(self, request, model_admin):
        return [
            ("contract", _("mit Servicevertrag oder Premium/Enterprise")),
            ("enterprise", _("Enterprise (SLA)")),
            ("none", _("ohne")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "contract":
            return queryset.filter(service_group=True)
        if self.value() == "enterprise":
            return queryset.filter(sla_due_at__isnull=False)
        if self.value() == "none":
            return queryset.filter(service_group=False)
        return queryset


class SlaFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("attention", _("fällig oder verletzt")), ("breached", _("verletzt"))]

    def queryset(self, request, queryset):
        if self.value() == "attention":
            return queryset.filter(sla_attention=True)
        if self.value() == "breached":
            return queryset.filter(sla_breached_at__isnull=False)
        return queryset


class TicketMessageInline(admin.TabularInline):
    model = TicketMessage
    extra = 0
    can_delete = False
    fields = ["created_at", "author_email", "from_staff", "internal", "body"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    can_delete = False
    fields = ["download", "size", "is_log", "log_reason", "from_staff", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Datei"))
    def download(self, obj):
        if obj is None or obj.pk is None:  # a form posted with a garbage id re-renders an empty row
            return getattr(obj, "filename", "") or "—"
        if services.attachment_locked_for_staff(obj, clock.today()):
            return format_html("{} — <strong>{}</strong>", obj.filename, gettext("gesperrt: kein AV-Vertrag (SUP-4)"))
        url = reverse("admin:support_ticket_attachment", args=[obj.ticket_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.filename)


class TimeEntryInline(admin.TabularInline):
    model = TimeEntry
    extra = 1
    can_delete = False
    fields = ["worked_on", "minutes", "note", "billable", "staff", "invoice_line"]
    readonly_fields = ["billable", "staff", "invoice_line"]  # billable: decided by the service

    def has_change_permission(self, request, obj=None):
        return False  # logged time is not edited; billed time is an invoice's history


class TicketForm(forms.ModelForm):
    reply = forms.CharField(label=_("Antwort / Notiz"), widget=forms.Textarea(attrs={"rows": 6}), required=False)
    internal = forms.BooleanField(label=_("nur interne Notiz"), required=False)
    reply_file = forms.FileField(label=_("Anhang"), required=False)
    new_status = forms.ChoiceField(
        label=_("Status setzen"), choices=[("", "—"), *Ticket.STATUS_CHOICES], required=False
    )

    class Meta:
        model = Ticket
        fields = ["urgency", "confirmed_bug"]

    def clean(self):
        data = super().clean()
        ticket = self.instance
        target = data.get("new_status")
        if target and target != ticket.status and not rules.can_transition(ticket.status, target):
            self.add_error(
                "new_status",
                gettext("Vom Status „%(s)s“ geht es nicht dorthin.") % {"s": ticket.get_status_display()},
            )
        public_reply = data.get("reply", "").strip() and not data.get("internal")
        confirmed = data.get("confirmed_bug", ticket.confirmed_bug)
        if public_reply and ticket.kind == rules.BUG_REPORT and not confirmed:
            self.add_error(
                "reply", gettext("Fehlermeldungen werden erst nach Bestätigung des Fehlers beantwortet (SUP-6).")
            )
        if data.get("reply_file") and not data.get("reply", "").strip():
            self.add_error("reply", gettext("Bitte zum Anhang einen Text schreiben."))
        if data.get("reply_file"):
            try:
                services.attachment_check(data["reply_file"])
            except SupportError as exc:
                self.add_error("reply_file", exc.message)
        return data


@admin.register(Ticket)
class TicketAdmin(SimpleHistoryAdmin):
    form = TicketForm
    list_display = [
        "number",
        "subject",
        "partner",
        "kind",
        "urgency",
        "status",
        "group_flag",
        "sla_due_at",
        "sla_flag",
        "received_at",
    ]
    list_filter = [SlaFilter, ServiceGroupFilter, "kind", "urgency", "status", "channel", "vendor"]
    search_fields = ["number", "subject", "partner__company", "customer__company", "contact_email", "serial_number"]
    show_full_result_count = False
    readonly_fields = [
        "number",
        "partner",
        "customer",
        "installation",
        "kind",
        "status",
        "subject",
        "pbx_version",
        "product",
        "module_version",
        "vendor",
        "serial_number",
        "firmware_version",
        "call_assist_version",
        "channel",
        "contact_email",
        "received_at",
        "sla_due_at",
        "first_response_at",
        "sla_warned_at",
        "sla_breached_at",
        "entitlement_panel",
    ]
    fieldsets = [
        (None, {"fields": ["number", "subject", "partner", "customer", "installation", "kind", "status", "channel"]}),
        (_("Ansprüche und Hinweise"), {"fields": ["entitlement_panel"]}),
        (_("Versionen (SUP-7)"), {"fields": ["vendor", "pbx_version", "product", "module_version"]}),
        (_("Auerswald-System"), {"fields": ["serial_number", "firmware_version", "call_assist_version"]}),
        (
            _("Enterprise-SLA (SUP-2)"),
            {"fields": ["received_at", "sla_due_at", "first_response_at", "sla_warned_at", "sla_breached_at"]},
        ),
        (_("Bearbeitung"), {"fields": ["urgency", "confirmed_bug", "reply", "internal", "reply_file", "new_status"]}),
    ]
    inlines = [TicketMessageInline, AttachmentInline, TimeEntryInline]

    def get_fieldsets(self, request, obj=None):
        # What the ticket states about its system (SUP-7): a STARFACE's versions, or an
        # Auerswald system's serial number, firmware and PBX Call Assist version.
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        auerswald = obj.vendor == AUERSWALD
        shown = []
        for name, options in fieldsets:
            fields = list(options["fields"])
            if auerswald and "pbx_version" in fields:
                fields = ["vendor"]
            if not auerswald and "serial_number" in fields:
                continue
            shown.append((name, {**options, "fields": fields}))
        return shown

    def get_queryset(self, request):
        # Not super(): ModelAdmin orders before the queue's annotations exist.
        return selectors.ticket_queue(today=clock.today(), queryset=self.model._default_manager.all())

    def get_ordering(self, request):
        # The queue order of SUP-1/SUP-2 (support.selectors.ticket_queue) is the default.
        return ["-sla_attention", "-service_group", "urgency_rank", "received_at", "pk"]

    def has_add_permission(self, request):
        return False  # tickets arrive through the portal or by e-mail (fetch_support_mail)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Vertrag/Plan"), boolean=True, ordering="service_group")
    def group_flag(self, obj):
        return getattr(obj, "service_group", None)

    @admin.display(description=_("SLA"))
    def sla_flag(self, obj):
        if obj.sla_breached_at and obj.first_response_at is None:
            return format_html('<strong class="sla-breached">{}</strong>', gettext("verletzt"))
        if obj.sla_warned_at and obj.first_response_at is None:
            return format_html('<strong class="sla-due">{}</strong>', gettext("fällig in < 1 h"))
        if obj.sla_due_at and obj.first_response_at is None:
            return gettext("läuft")
        return "—"

    @admin.display(description=_("Ansprüche"))
    def entitlement_panel(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        today = clock.today()
        e = selectors.ticket_entitlements(obj, today)
        yes, no = gettext("ja"), gettext("nein")
        install = {
            "": no,
            "email_phone": gettext("E-Mail/Telefon"),
            "email_phone_remote": gettext("E-Mail/Telefon/Remote"),
        }[e.installation_support]
        rows = [
            (gettext("Service-Plan"), e.plan.capitalize()),
            (gettext("Service- und Wartungsvertrag"), yes if e.service_contract else no),
            (gettext("AV-Vertrag"), yes if e.dpa else no),
            (gettext("Support per E-Mail/Telefon"), yes if e.email_support else no),
            (gettext("Installationsunterstützung"), install),
            (gettext("Remote (TeamViewer)"), yes if e.remote_support else no),
            (gettext("Log-Analyse"), yes if e.log_analysis else no),
            (gettext("Statusmitteilungen (Fehler/Wünsche)"), yes if e.status_replies else no),
            (gettext("Vergünstigter Stundensatz"), yes if e.discounted_rate else no),
            (gettext("Priorisierung / SLA"), f"{e.sla_hours} h" if e.sla_hours else no),
        ]
        html = format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))
        notes = []
        if not e.dpa:
            notes.append(
                gettext(
                    "Kein AV-Vertrag: keine Fernwartung, keine Log-Analyse — nur Hinweise und Erklärungen (SUP-4). "
                    "Log-Dateien bleiben gesperrt, bis ein AV-Vertrag eingetragen ist."
                )
            )
        notice = selectors.version_notice(obj)
        if notice:
            notes.append(notice.message)
        notes.extend(selectors.system_notices(obj, today))
        if selectors.mentions_incompatibility(obj):
            notes.append(
                gettext(
                    "java.lang.NoSuchMethodError: Modul und Version der Telefonanlage sind nicht kompatibel (SUP-7)."
                )
            )
        if notes:
            html += format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((n,) for n in notes)))
        return html

    def save_model(self, request, obj, form, change):
        obj.save(update_fields=["urgency", "confirmed_bug", "updated_at"])
        data = form.cleaned_data
        try:
            if data.get("reply", "").strip():
                services.ticket_reply(
                    ticket=obj,
                    by=request.user,
                    body=data["reply"],
                    from_staff=True,
                    internal=bool(data.get("internal")),
                    files=[data["reply_file"]] if data.get("reply_file") else [],
                )
            if data.get("new_status") and data["new_status"] != obj.status:
                services.ticket_set_status(ticket=obj, status=data["new_status"], by=request.user)
        except (SupportError, ValidationError) as exc:
            self.message_user(request, getattr(exc, "message", None) or "; ".join(exc.messages), messages.ERROR)
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not TimeEntry:
            return super().save_formset(request, form, formset, change)
        # New time goes through the service (who logged it, contract-covered time not billable).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for entry_form in formset.forms:
            if not entry_form.has_changed() or entry_form.instance.pk or not entry_form.cleaned_data:
                continue
            d = entry_form.cleaned_data
            formset.new_objects.append(
                services.time_entry_add(
                    ticket=form.instance,
                    staff=request.user,
                    worked_on=d["worked_on"],
                    minutes=d["minutes"],
                    note=d["note"],
                )
            )

    # --- attachment download (custom view) ---------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:ticket_id>/attachment/<int:pk>/",
                wrap(self.attachment_view),
                name="support_ticket_attachment",
            ),
        ] + super().get_urls()

    def attachment_view(self, request, ticket_id, pk):
        """Staff download: needs the right to view attachments; a customer's log file stays
        locked without a DPA on file (SUP-4)."""
        if not request.user.has_perm("support.view_attachment"):
            raise PermissionDenied
        attachment = get_object_or_404(
            Attachment.objects.select_related("ticket__customer"), pk=pk, ticket_id=ticket_id
        )
        try:
            services.attachment_open_check(attachment, staff=True)
        except AttachmentLocked as exc:
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("Datei gesperrt"),
                "message": exc.message,
            }
            return render(request, "admin/error.html", context, status=403)
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )


@admin.register(HourlyRate)
class HourlyRateAdmin(admin.ModelAdmin):
    list_display = ["kind", "amount", "valid_from", "valid_until"]
    list_filter = ["kind"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "visibility", "published", "updated_at"]
    list_filter = ["visibility", "published", "tags"]
    search_fields = ["title", "body"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["tags"]
    readonly_fields = ["preview"]

    @admin.display(description=_("Vorschau"))
    def preview(self, obj):
        return render_markdown(obj.body) if obj and obj.pk else "—"


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    """Every inbound e-mail and what became of it; a message no ticket holds ("nicht lesbar",
    "Fehler") keeps its original, downloaded here by who may view these rows."""

    list_display = ["processed_at", "sender", "subject", "outcome", "ticket"]
    list_filter = ["outcome"]
    search_fields = ["message_id", "sender", "subject"]
    list_select_related = ["ticket"]
    fields = ["message_id", "sender", "subject", "outcome", "ticket", "error", "original_download", "processed_at"]
    readonly_fields = fields

    @admin.display(description=_("Original (.eml)"))
    def original_download(self, obj):
        if not obj.original:
            return "—"
        url = reverse("admin:support_inboundmail_original", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Original herunterladen"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/original/", wrap(self.original_view), name="support_inboundmail_original"),
        ] + super().get_urls()

    def original_view(self, request, pk):
        """The message as received: needs the right to view inbound mail (support)."""
        if not request.user.has_perm("support.view_inboundmail"):
            raise PermissionDenied
        row = get_object_or_404(InboundMail.objects.exclude(original=""), pk=pk)
        return FileResponse(
            row.original.open("rb"), as_attachment=True, filename=f"email-{row.pk}.eml", content_type="message/rfc822"
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CustomerSupportFacts)
class CustomerSupportFactsAdmin(SimpleHistoryAdmin):
    list_display = ["customer", "dpa_on_file_since", "service_contract_until"]
    search_fields = ["customer__company", "customer__partner__company"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]


class CustomerSupportFactsInline(admin.StackedInline):
    model = CustomerSupportFacts
    extra = 0
    max_num = 1
    can_delete = False
    verbose_name = _("AV-Vertrag und Servicevertrag (Support)")


CustomerAdmin.inlines = [*CustomerAdmin.inlines, CustomerSupportFactsInline]
