"""Staff admin for module licences: search, filters, and actions that call the services.

Keys are never edited here: the add page is an "issue a key" form backed by
``license_issue``; state changes go through revoke/block actions with a reason.
"""

from __future__ import annotations

import re
import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from licensing.constants import STARFACE
from licensing.models import InsightOwnUse, Installation, License, LicenseBinding, ModuleVersion, NfrLock, Product
from licensing.services import licenses as services
from vendorportal import clock
from vendorportal.errors import PortalError
from vendorportal.formats import format_date


class LicenseIssueForm(forms.Form):
    product = forms.ModelChoiceField(Product.objects.filter(kind=Product.MODULE, active=True), label=_("Modul"))
    installation = forms.ModelChoiceField(
        Installation.objects.filter(vendor=STARFACE).select_related("customer"), label=_("Installation")
    )
    version = forms.ModelChoiceField(
        ModuleVersion.objects.filter(product__kind=Product.MODULE, product__active=True).select_related("product"),
        label=_("lizenzierte Version"),
        help_text=_("Nur Versionen des gewählten Moduls sind zulässig."),
    )
    kind = forms.ChoiceField(choices=License.KIND_CHOICES, label=_("Art"), initial=License.PURCHASE)
    demo_days = forms.IntegerField(
        label=_("Demo-Laufzeit (Tage)"), required=False, min_value=1, help_text=_("nur für Demo, Standard 30")
    )
    also_installations = forms.ModelMultipleChoiceField(
        Installation.objects.filter(vendor=STARFACE),
        required=False,
        label=_("weitere Serverlizenzschlüssel (Redundanz)"),
    )
    order_reference = forms.CharField(label=_("Bestellung"), required=False, max_length=64)
    recipient_email = forms.EmailField(
        label=_("Liefer-E-Mail"), required=False, help_text=_("leer = Liefer-E-Mail des Partners")
    )
    # One-time token (STYLE 14): a double submit or a reload of the POST issues once.
    request_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    class Media:
        # Hides the other modules' version groups once a module is chosen; without
        # JavaScript the groups stay visible and clean() refuses a mismatch.
        js = ["licensing/issue_form.js"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_token", uuid.uuid4().hex)
        # One <optgroup> per module, labelled like the module's own option, instead of a flat list of
        # every module's versions ("2.1" means nothing without its module).
        groups: dict[str, list] = {}
        for version in self.fields["version"].queryset.order_by("product__name", "released_on", "version"):
            groups.setdefault(str(version.product), []).append((version.pk, version.version))
        self.fields["version"].choices = [("", "---------"), *groups.items()]

    def clean_request_token(self):
        token = self.cleaned_data["request_token"]
        if not re.fullmatch(r"[0-9a-f]{32}", token):
            raise forms.ValidationError(_("Das Formular ist unvollständig; bitte die Seite neu laden."))
        return token

    def clean(self):
        data = super().clean()
        primary = data.get("installation")
        if primary is not None and primary in (data.get("also_installations") or []):
            self.add_error(
                "also_installations",
                _(
                    "%(id)s ist die Primäranlage selbst; als weiterer Serverlizenzschlüssel (Redundanz) bitte eine andere Anlage wählen."
                )
                % {"id": primary.identifier},
            )
        product, version = data.get("product"), data.get("version")
        if product and version and version.product_id != product.pk:
            self.add_error(
                "version",
                _("Version %(version)s gehört zu %(other)s, nicht zum gewählten Modul %(module)s.")
                % {"version": version.version, "other": version.product.name, "module": product.name},
            )
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Grund"), max_length=300, widget=forms.TextInput(attrs={"size": 60}))


class BindingInline(admin.TabularInline):
    model = LicenseBinding
    extra = 0
    can_delete = False
    fields = ["identifier_kind", "identifier", "installation"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Bindings are part of the licence: whoever may see the licence sees what it is bound to.
        return request.user.has_perm("licensing.view_license") or super().has_view_permission(request, obj)


@admin.register(License)
class LicenseAdmin(SimpleHistoryAdmin):
    # Five columns fit a 1280 px screen next to the admin's navigation and filters (measured in Chromium; headers
    # never wrap, so they are short). Tier, user limit, key and dates are on the licence page; the list is
    # ordered newest first.
    list_display = ["serial", "module_display", "installation_identifier", "partner", "kind_state_display"]
    list_filter = ["kind", "state", "product", ("valid_until", admin.EmptyFieldListFilter)]
    search_fields = [
        "key",
        "bindings__identifier",
        "installation__customer__partner__company",
        "installation__customer__company",
        "product__name",
        "product__article",
        "=serial",
    ]
    list_select_related = ["product", "module_version__product", "installation__customer__partner"]
    show_full_result_count = False
    inlines = [BindingInline]
    actions = ["revoke_selected", "block_selected", "resend_delivery_notes"]
    readonly_fields = [f.name for f in License._meta.fields if f.name != "id"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "serial",
                    "product",
                    "module_version",
                    "installation",
                    "kind",
                    "tier",
                    "user_limit",
                    "valid_until",
                ]
            },
        ),
        (_("Schlüssel"), {"fields": ["key", "signing_key_id"]}),
        (_("Status"), {"fields": ["state", "state_reason", "state_changed_at", "replaces"]}),
        (_("Herkunft"), {"fields": ["issued_at", "issued_by", "order_reference", "subscription_reference"]}),
    ]

    @admin.display(description=_("Modul"), ordering="product__name")
    def module_display(self, obj):
        return str(obj.module_version)

    @admin.display(description=_("Art / Status"), ordering="kind")
    def kind_state_display(self, obj):
        """ "Kauf", "Demo bis 21.12.2026", "Abo – gesperrt": the state is named only when the key is not active."""
        text = obj.get_kind_display()
        if obj.valid_until:
            text = _("%(kind)s bis %(date)s") % {"kind": text, "date": format_date(obj.valid_until)}
        if obj.state != License.ACTIVE:
            text = f"{text} – {obj.get_state_display()}"
        return text

    @admin.display(description=_("Serverlizenzschlüssel"), ordering="installation__identifier")
    def installation_identifier(self, obj):
        return obj.installation.identifier

    @admin.display(description=_("Partner"), ordering="installation__customer__partner__company")
    def partner(self, obj):
        return obj.installation.customer.partner

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # A key fragment may be typed without dashes or in lower case.
        compact = search_term.replace("-", "").replace(" ", "").upper()
        if len(compact) >= 5:
            queryset |= self.model.objects.filter(key_compact__contains=compact)
            may_have_duplicates = True
        return queryset, may_have_duplicates

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A licence is shown read-only; changes go through the revoke/block actions.
        if request.method == "POST":
            self.message_user(
                request, _("Lizenzen werden nie bearbeitet: bitte Widerrufen/Sperren verwenden."), messages.WARNING
            )
            return redirect(request.path)
        # Never "Lizenz ändern": the page has nothing to change, also for staff with the change permission.
        extra_context = {
            **(extra_context or {}),
            "title": _("Lizenz ansehen"),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        return False

    # --- issue ---------------------------------------------------------------------------

    def get_urls(self):
        return [
            path("issue/", self.admin_site.admin_view(self.issue_view), name="licensing_license_issue"),
            path("state/<str:action>/", self.admin_site.admin_view(self.state_view), name="licensing_license_state"),
        ] + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:licensing_license_issue")

    def issue_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {k: v for k, v in request.GET.items() if k != "request_token"} or None
        form = LicenseIssueForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                lic = services.license_issue(
                    product=data["product"],
                    installation=data["installation"],
                    version=data["version"],
                    kind=data["kind"],
                    demo_days=data["demo_days"],
                    also_installations=list(data["also_installations"]),
                    order_reference=data["order_reference"],
                    recipient_email=data["recipient_email"] or None,
                    issued_by=request.user,
                    request_token=data["request_token"],
                )
            except services.AlreadyIssued as done:
                if done.code == "form_already_used" and done.licenses:
                    # The second click of a double submit: show what the first one issued.
                    self.message_user(request, done.message, messages.WARNING)
                    return redirect(reverse("admin:licensing_license_change", args=[done.licenses[0].pk]))
                form.add_error(None, done.message)
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("Schlüssel ausgestellt, Lieferschein wird versendet: %(key)s") % {"key": lic.key},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:licensing_license_change", args=[lic.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Modullizenz ausstellen"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/licensing/license/issue.html", context)

    # --- state changes -------------------------------------------------------------------

    def _state_redirect(self, request, queryset, action):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(f"{reverse('admin:licensing_license_state', args=[action])}?ids={ids}")

    @admin.action(description=_("Ausgewählte Lizenzen widerrufen …"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        return self._state_redirect(request, queryset, "revoke")

    @admin.action(description=_("Ausgewählte Abo-Lizenzen sperren …"), permissions=["change"])
    def block_selected(self, request, queryset):
        return self._state_redirect(request, queryset, "block")

    def state_view(self, request, action):
        if action not in ("revoke", "block"):
            raise Http404
        if not super().has_change_permission(request):
            raise PermissionDenied
        ids = [int(i) for i in (request.GET.get("ids") or "").split(",") if i.isdigit()]
        licenses = list(License.objects.filter(pk__in=ids).select_related("product", "installation"))
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            service = services.license_revoke if action == "revoke" else services.license_block
            done, failed = 0, []
            for lic in licenses:
                try:
                    service(license=lic, reason=form.cleaned_data["reason"], by=request.user)
                    done += 1
                except PortalError as exc:
                    failed.append(f"{lic.serial}: {exc.message}")
            if done:
                self.message_user(
                    request,
                    ngettext("%(n)s Lizenz geändert.", "%(n)s Lizenzen geändert.", done) % {"n": done},
                    messages.SUCCESS,
                )
            for text in failed:
                self.message_user(request, text, messages.ERROR)
            return redirect("admin:licensing_license_changelist")
        title = _("Lizenzen widerrufen") if action == "revoke" else _("Abo-Lizenzen sperren")
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "licenses": licenses,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/licensing/license/state.html", context)

    def has_resend_permission(self, request):
        # Same rule as the delivery note admin: whoever may see delivery notes may send one
        # again (to the address stored on it, with the PDF that was sent).
        return request.user.has_perm("licensing.view_deliverynote")

    @admin.action(description=_("Lieferschein erneut senden"), permissions=["resend"])
    def resend_delivery_notes(self, request, queryset):
        from licensing.services.delivery import delivery_note_resend

        notes = {note for lic in queryset.prefetch_related("delivery_notes") for note in lic.delivery_notes.all()}
        if not notes:
            self.message_user(request, _("Zu diesen Lizenzen gibt es keinen Lieferschein."), messages.WARNING)
            return
        sent = 0
        for note in sorted(notes, key=lambda n: n.pk):
            try:
                delivery_note_resend(note=note, by=request.user)
            except PortalError as refused:  # e.g. a key of the note was revoked (LIC-10): say why, go on
                self.message_user(request, refused.message, messages.WARNING)
                continue
            sent += 1
        if sent:
            self.message_user(
                request,
                ngettext(
                    "%(n)s Lieferschein wird erneut gesendet.", "%(n)s Lieferscheine werden erneut gesendet.", sent
                )
                % {"n": sent},
                messages.SUCCESS,
            )


@admin.register(NfrLock)
class NfrLockAdmin(admin.ModelAdmin):
    """LIC-8: the server keys + modules whose NFR unlock a paid key has ended (read only)."""

    list_display = ["module", "identifier", "locked_since", "license"]
    search_fields = ["identifier", "license__product__name", "license__product__article"]
    list_select_related = ["license__product"]
    readonly_fields = ["module", "identifier_kind", "identifier", "license", "locked_since"]
    fields = readonly_fields
    ordering = ["-license__issued_at"]

    @admin.display(description=_("Modul"), ordering="license__product__name")
    def module(self, obj):
        return obj.license.product

    @admin.display(description=_("gesperrt seit"), ordering="license__issued_at")
    def locked_since(self, obj):
        return obj.license.issued_at

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method == "GET" and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # LIC-8: for good


@admin.register(InsightOwnUse)
class InsightOwnUseAdmin(admin.ModelAdmin):
    list_display = ["partner", "license", "purchased_on", "price_paid", "refund_due", "refunded_on"]
    search_fields = ["partner__company"]
    list_select_related = ["partner", "license"]
    autocomplete_fields = ["partner"]
    raw_id_fields = ["license"]
    actions = ["mark_refunded"]

    @admin.display(boolean=True, description=_("Erstattung fällig"))
    def refund_due(self, obj):
        return services.insight_refund_due(obj)

    @admin.action(description=_("Als erstattet markieren (heute)"), permissions=["change"])
    def mark_refunded(self, request, queryset):
        for own in queryset:
            try:
                services.insight_refund_mark(own_use=own, on=clock.today())
                self.message_user(request, _("%(p)s: erstattet.") % {"p": own.partner}, messages.SUCCESS)
            except PortalError as exc:
                self.message_user(request, f"{own.partner}: {exc.message}", messages.ERROR)


# --- Installation: "moved to a new server key" (LIC-10) --------------------------------------


class MoveForm(forms.Form):
    new_installation = forms.ModelChoiceField(
        Installation.objects.filter(vendor=STARFACE), label=_("neue Installation (neuer Serverlizenzschlüssel)")
    )
    proof = forms.FileField(label=_("Bestätigung von STARFACE (Außerbetriebnahme)"), required=False)


# The move issues goodwill keys, revokes the old ones and decommissions the installation.
MOVE_PERMISSIONS = ("licensing.add_license", "licensing.change_installation")


def installation_move_view(model_admin, request, object_id):
    if not request.user.has_perms(MOVE_PERMISSIONS):
        raise PermissionDenied
    installation = get_object_or_404(Installation, pk=object_id, vendor="starface")
    form = MoveForm(request.POST or None, request.FILES or None)
    form.fields["new_installation"].queryset = (
        Installation.objects.active(clock.today())
        .filter(vendor=STARFACE, customer__partner=installation.customer.partner)
        .exclude(pk=installation.pk)
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = services.installation_move(
                old=installation,
                new=form.cleaned_data["new_installation"],
                proof=form.cleaned_data["proof"],
                by=request.user,
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(request, result.message, messages.SUCCESS)
            return redirect(reverse("admin:licensing_installation_change", args=[installation.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Umzug auf neuen Serverlizenzschlüssel"),
        "form": form,
        "installation": installation,
        "opts": Installation._meta,
    }
    return TemplateResponse(request, "admin/licensing/installation/move.html", context)
