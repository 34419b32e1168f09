"""Staff admin of Auerswald systems and PBX Call Assist 5 Softwarepflege (SYS-1,
SYS-2, SWP-1…SWP-9). The ledgers are append-only: rows are shown read-only, never
changed or deleted; staff book manual Softwarepflege through a service-backed form.
Actions call services and report with ``message_user``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from licensing import rules
from licensing.models import (
    AUERSWALD,
    EDITIONS,
    Installation,
    MaintenanceCoverage,
    MaintenanceNotice,
    Reinitialisation,
    SystemLicense,
    Tryout,
)
from licensing.models.systems import AuerswaldSystem
from licensing.selectors.systems import NO_COVERAGE, auerswald_systems, filter_swp_state, tryout_days_left_for
from licensing.services.maintenance_job import NOTICE_TITLES, maintenance_expiry_run
from licensing.services.systems import (
    maintenance_coverage_book_manual,
    manual_coverage_refusal,
    renewal_quote_send,
)
from vendorportal import clock
from vendorportal.formats import format_date


class ReadOnlyLedgerMixin:
    """Ledger rows are history: no change, no delete (also not via bulk actions)."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyLedgerMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class CoverageInline(ReadOnlyInline):
    model = MaintenanceCoverage
    fk_name = "installation"
    fields = [
        "kind",
        "start",
        "end",
        "months",
        "users",
        "surcharge_days",
        "order_reference",
        "note",
        "created_at",
        "created_by",
    ]
    ordering = ["start", "created_at"]
    verbose_name_plural = _("Softwarepflege-Zeiträume")


class SystemLicenseInline(ReadOnlyInline):
    model = SystemLicense
    fk_name = "installation"
    fields = ["kind", "article", "quantity", "order_reference", "created_at", "created_by"]
    verbose_name_plural = _("Systemlizenzen")


class AuerswaldModelFilter(admin.SimpleListFilter):
    """The system's model, offering Auerswald models only (the field's choices hold every vendor's editions)."""

    title = _("Modell")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return EDITIONS[AUERSWALD]

    def queryset(self, request, queryset):
        if self.value() in {code for code, _label in EDITIONS[AUERSWALD]}:
            return queryset.filter(edition=self.value())
        return queryset


class SwpStateFilter(admin.SimpleListFilter):
    """SWP-8 state on today, as date windows over the SQL coverage end."""

    title = _("Softwarepflege")
    parameter_name = "swp"

    def lookups(self, request, model_admin):
        return [(state, label) for state, label in rules.SWP_STATE_LABELS.items()] + [
            (NO_COVERAGE, _("keine Softwarepflege"))
        ]

    def queryset(self, request, queryset):
        if self.value() in rules.SWP_STATE_LABELS or self.value() == NO_COVERAGE:
            return filter_swp_state(queryset, self.value(), clock.today())
        return queryset


@admin.register(AuerswaldSystem)
class AuerswaldSystemAdmin(admin.ModelAdmin):
    # ``model`` would clash with ``ModelAdmin.model`` (the class): the column is ``model_display``.
    # Five columns fit a 1280 px screen next to navigation and filters; the partner is found by the search, a
    # running tryout is shown in the Softwarepflege column (a system in tryout has no coverage yet).
    list_display = [
        "serial_number",
        "model_display",
        "customer_display",
        "call_assist_users_display",
        "swp_display",
    ]
    list_filter = [SwpStateFilter, AuerswaldModelFilter]
    search_fields = ["identifier", "name", "customer__company", "customer__partner__company"]
    list_select_related = ["customer", "customer__partner"]
    show_full_result_count = False
    inlines = [CoverageInline, SystemLicenseInline]
    actions = ["send_renewal_quote", "check_maintenance_notices"]
    fields = ["serial_number", "name", "model_display", "customer", "pbx_users", "decommissioned_on"]
    readonly_fields = fields

    def get_queryset(self, request):
        # AuerswaldSystem rows with the selector's SQL annotations (coverage end, users, tryout).
        return auerswald_systems(today=clock.today(), queryset=AuerswaldSystem.objects.all())

    # Staff who may see installations may see systems (the proxy has no groups of its own).
    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or request.user.has_perm("licensing.view_installation")

    def has_module_permission(self, request):
        return super().has_module_permission(request) or request.user.has_perm("licensing.view_installation")

    def has_add_permission(self, request):
        return False  # systems are installations: created in the installation admin

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Seriennummer"), ordering="identifier")
    def serial_number(self, obj):
        return obj.identifier

    @admin.display(description=_("Modell"), ordering="edition")
    def model_display(self, obj):
        return obj.get_edition_display()

    @admin.display(description=_("Partner"), ordering="customer__partner__company")
    def partner(self, obj):
        return obj.customer.partner

    # A method, not the foreign key: Django never wraps a foreign key's cell, and a long name pushes the table wide.
    @admin.display(description=_("Kunde"), ordering="customer__company")
    def customer_display(self, obj):
        return obj.customer.company

    @admin.display(description=_("Benutzer"), ordering="call_assist_users")
    def call_assist_users_display(self, obj):
        return obj.call_assist_users

    @admin.display(description=_("Softwarepflege bis"), ordering="coverage_end", empty_value="—")
    def coverage_end_display(self, obj):
        return obj.coverage_end

    @admin.display(description=_("Softwarepflege"), ordering="coverage_end")
    def swp_state_display(self, obj):
        if obj.coverage_end is None:
            return gettext("keine Softwarepflege")
        return rules.SWP_STATE_LABELS[rules.maintenance_state(obj.coverage_end, clock.today())]

    @admin.display(description=_("Softwarepflege"), ordering="coverage_end")
    def swp_display(self, obj):
        """State and end in one cell: "läuft bald ab (bis 15.01.2027)"."""
        if obj.coverage_end is None:
            days_left = tryout_days_left_for(obj, clock.today())
            if days_left:
                return ngettext(
                    "keine Softwarepflege; Tryout noch %(days)s Tag",
                    "keine Softwarepflege; Tryout noch %(days)s Tage",
                    days_left,
                ) % {"days": days_left}
            return gettext("keine Softwarepflege")
        return gettext("%(state)s (bis %(end)s)") % {
            "state": self.swp_state_display(obj),
            "end": format_date(obj.coverage_end),
        }

    @admin.display(description=_("Tryout (Tage übrig)"), empty_value="—")
    def tryout_days_left_display(self, obj):
        return tryout_days_left_for(obj, clock.today())

    # Actions check the permission of their effect (STYLE 15), not just a staff login: a
    # quote is sales work on the system; the notice check writes notices and sends them.
    def has_quote_permission(self, request):
        return request.user.has_perm("licensing.change_auerswaldsystem")

    def has_notices_permission(self, request):
        return request.user.has_perm("licensing.add_maintenancenotice")

    @admin.action(description=_("Verlängerungsangebot an Partner senden"), permissions=["quote"])
    def send_renewal_quote(self, request, queryset):
        today = clock.today()
        sent, refused = [], []
        for system in queryset.select_related("customer__partner"):
            try:
                renewal_quote_send(installation=system, today=today)
            except rules.LicensingError as exc:
                refused.append(f"{system.identifier}: {exc.message}")
            else:
                sent.append(system.identifier)
        if sent:
            self.message_user(
                request,
                ngettext(
                    "Verlängerungsangebot gesendet für %(count)s System: %(serials)s",
                    "Verlängerungsangebot gesendet für %(count)s Systeme: %(serials)s",
                    len(sent),
                )
                % {"count": len(sent), "serials": ", ".join(sent)},
                messages.SUCCESS,
            )
        for line in refused:
            self.message_user(request, gettext("Kein Angebot – %(reason)s") % {"reason": line}, messages.WARNING)

    @admin.action(description=_("Softwarepflege-Hinweise jetzt prüfen"), permissions=["notices"])
    def check_maintenance_notices(self, request, queryset):
        # The job looks at all systems (set-based), not only the selected ones.
        result = maintenance_expiry_run(today=clock.today())
        summary = ", ".join(f"{NOTICE_TITLES[kind]}: {result.counts[kind]}" for kind in rules.NOTICE_KINDS)
        self.message_user(
            request,
            gettext(
                "Softwarepflege-Hinweise geprüft (alle Systeme): %(summary)s; E-Mails zum Versand eingeplant: %(emails)s"
            )
            % {"summary": summary, "emails": result.emails},
            messages.SUCCESS,
        )
        for line in result.refused:
            self.message_user(
                request,
                gettext("Ohne gültige Liefer-E-Mail, kein Hinweis: %(partner)s") % {"partner": line},
                messages.WARNING,
            )


# --- Ledgers --------------------------------------------------------------------------


@admin.register(SystemLicense)
class SystemLicenseAdmin(ReadOnlyLedgerMixin, admin.ModelAdmin):
    list_display = ["installation", "kind", "article", "quantity", "order_reference", "created_at", "created_by"]
    list_filter = ["kind"]
    search_fields = ["installation__identifier", "order_reference", "article"]
    list_select_related = ["installation", "created_by"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(Tryout)
class TryoutAdmin(ReadOnlyLedgerMixin, admin.ModelAdmin):
    list_display = ["installation", "started_on", "ends_on", "days_left", "test_users", "ended_by_purchase_on"]
    search_fields = ["installation__identifier"]
    list_select_related = ["installation"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("endet am"))
    def ends_on(self, obj):
        return rules.tryout_end(obj.started_on)

    @admin.display(description=_("Tage übrig"))
    def days_left(self, obj):
        return rules.tryout_days_left(obj.started_on, clock.today(), obj.ended_by_purchase_on)


@admin.register(Reinitialisation)
class ReinitialisationAdmin(ReadOnlyLedgerMixin, admin.ModelAdmin):
    list_display = ["installation", "created_at", "created_by"]
    search_fields = ["installation__identifier"]
    list_select_related = ["installation", "created_by"]
    readonly_fields = ["installation", "initialisation_code", "response", "created_at", "created_by"]

    def has_add_permission(self, request):
        return False


class ManualCoverageForm(forms.ModelForm):
    """Staff book Softwarepflege by hand (SWP-7); saved through the service."""

    class Meta:
        model = MaintenanceCoverage
        fields = ["installation", "start", "end", "months", "users", "order_reference", "note"]
        help_texts = {
            "end": _("Letzter Tag der Softwarepflege (einschließlich); muss nach dem bisherigen Ende liegen."),
            "note": _("Grund der manuellen Buchung, z. B. „Verlängerung nach mehr als 36 Monaten (SWP-7)“."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "installation" in self.fields:  # the view of a booked row has every field read-only
            self.fields["installation"].queryset = Installation.objects.filter(vendor=AUERSWALD)
            self.fields["note"].required = True

    def clean(self):
        data = super().clean()
        if data.get("installation") and data.get("end"):
            refusal = manual_coverage_refusal(installation=data["installation"], end=data["end"])
            if refusal:
                self.add_error("end", refusal)
        return data

    def _post_clean(self):
        self.instance.kind = MaintenanceCoverage.MANUAL
        super()._post_clean()


@admin.register(MaintenanceCoverage)
class MaintenanceCoverageAdmin(ReadOnlyLedgerMixin, admin.ModelAdmin):
    form = ManualCoverageForm
    list_display = [
        "installation",
        "kind",
        "start",
        "end",
        "months",
        "users",
        "surcharge_days",
        "order_reference",
        "created_at",
        "created_by",
    ]
    list_filter = ["kind", ("end", admin.DateFieldListFilter)]
    search_fields = ["installation__identifier", "order_reference", "note"]
    list_select_related = ["installation", "created_by"]
    autocomplete_fields = ["installation"]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        # Only adding reaches here (no change permission); the form ran the same check.
        data = form.cleaned_data
        row = maintenance_coverage_book_manual(
            installation=data["installation"],
            start=data["start"],
            end=data["end"],
            users=data["users"],
            months=data.get("months"),
            order_reference=data.get("order_reference", ""),
            note=data.get("note", ""),
            by=request.user,
        )
        obj.pk, obj.created_at, obj.kind, obj.created_by = row.pk, row.created_at, row.kind, row.created_by

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in MaintenanceCoverage._meta.fields] if obj else []


@admin.register(MaintenanceNotice)
class MaintenanceNoticeAdmin(ReadOnlyLedgerMixin, admin.ModelAdmin):
    # "E-Mail": the partner's outbox e-mail listing the notice; "versendet" once it went out.
    list_display = ["installation", "kind", "coverage_end", "created_at", "message", "sent_at"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["installation__identifier", "claim"]
    list_select_related = ["installation", "message"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
