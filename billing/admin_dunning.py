"""Finance's dunning pages (issue 18): the base rates, the dunning notices as issued, pausing and
resuming dunning per partner or invoice, and blocking a partner's subscription keys after a
letzte Mahnung's deadline (with a preview of the keys and installations it hits).

Pausing and resuming need ``billing.pause_dunningnotice``, blocking ``billing.block_dunningnotice``
(finance only, vendorportal.roles); each view calls one service of :mod:`billing.services.dunning`.
Notices, pauses and blocks are never edited or deleted here: the rows are the history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from billing import selectors
from billing.models import BaseRate, DunningBlock, DunningNotice, DunningPause, Invoice
from billing.services.dunning import dunning_block, dunning_block_preview, dunning_pause, dunning_resume
from vendorportal import clock
from vendorportal.errors import PortalError
from vendorportal.money import format_eur
from vendorportal.parties.models import Partner

admin.site.area_add(
    "billing",
    title=_("Bestellungen und Rechnungen"),
    order=50,
    models=["billing.dunningnotice", "billing.dunningpause", "billing.dunningblock", "billing.baserate"],
)

PAUSE_PERM = "billing.pause_dunningnotice"
BLOCK_PERM = "billing.block_dunningnotice"


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BaseRate)
class BaseRateAdmin(SimpleHistoryAdmin):
    """Finance enters the base rate of each half-year (Deutsche Bundesbank, § 247 BGB)."""

    list_display = ["valid_from", "rate_percent", "source"]
    fields = ["valid_from", "rate_percent", "source"]

    def has_delete_permission(self, request, obj=None):
        return False  # a rate used for interest stays on record; a typo is corrected by a change


@admin.register(DunningNotice)
class DunningNoticeAdmin(_ReadOnly):
    list_display = [
        "invoice",
        "partner",
        "level",
        "issued_on",
        "deadline",
        "open_amount_display",
        "fee_display",
        "interest_display",
        "charged_at",
        "pdf_link",
    ]
    list_filter = ["level"]
    search_fields = ["invoice__number", "partner__company"]
    list_select_related = ["invoice", "partner"]
    date_hierarchy = "issued_on"
    show_full_result_count = False
    readonly_fields = [
        "invoice",
        "partner",
        "level",
        "issued_on",
        "deadline",
        "open_amount",
        "fee",
        "interest",
        "interest_spans",
        "email",
        "created_at",
        "charged_at",
        "pdf_link",
        "pdf_sha256",
    ]
    exclude = ["pdf"]

    @admin.display(description=_("offen"), ordering="open_amount")
    def open_amount_display(self, notice):
        return format_eur(notice.open_amount)

    @admin.display(description=_("Mahnpauschale"), ordering="fee")
    def fee_display(self, notice):
        return format_eur(notice.fee)

    @admin.display(description=_("Verzugszinsen"), ordering="interest")
    def interest_display(self, notice):
        return format_eur(notice.interest)

    @admin.display(description=_("PDF"))
    def pdf_link(self, notice):
        return format_html('<a href="{}">{}</a>', notice.pdf.url, notice.filename) if notice.pdf else "—"


class PauseForm(forms.Form):
    partner = forms.ModelChoiceField(
        label=_("Partner"), queryset=Partner.objects.order_by("company"), required=False, help_text=_("alle Rechnungen")
    )
    invoice_number = forms.CharField(
        label=_("oder Rechnung"), max_length=20, required=False, help_text=_("z. B. RE-2026-000042")
    )
    reason = forms.CharField(label=_("Grund"), max_length=300)

    def clean(self):
        data = super().clean()
        number = (data.get("invoice_number") or "").strip().upper()
        self.invoice = None
        if number:
            self.invoice = Invoice.objects.filter(number=number).first()
            if self.invoice is None:
                self.add_error("invoice_number", _("Eine Rechnung %(number)s gibt es nicht.") % {"number": number})
        if bool(data.get("partner")) == bool(number):
            raise forms.ValidationError(_("Bitte entweder einen Partner oder eine Rechnung angeben."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Grund"), max_length=300)


@admin.register(DunningPause)
class DunningPauseAdmin(_ReadOnly):
    list_display = ["target", "reason", "paused_at", "paused_by", "resumed_at", "resumed_by", "resume_reason", "action"]
    list_filter = [("resumed_at", admin.EmptyFieldListFilter)]
    search_fields = ["partner__company", "invoice__number", "reason"]
    list_select_related = ["partner", "invoice", "paused_by", "resumed_by"]
    readonly_fields = list_display[:-1]
    exclude = ["partner", "invoice"]
    change_list_template = "admin/billing/dunning/pause_change_list.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("pausieren/", wrap(self.pause_view), name="billing_dunningpause_pause"),
            path("<int:object_id>/fortsetzen/", wrap(self.resume_view), name="billing_dunningpause_resume"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_pause": request.user.has_perm(PAUSE_PERM), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    @admin.display(description=_("pausiert für"))
    def target(self, pause):
        return pause.invoice.number if pause.invoice_id else pause.partner.company

    @admin.display(description="")
    def action(self, pause):
        if pause.resumed_at is not None:
            return "—"
        url = reverse("admin:billing_dunningpause_resume", args=[pause.pk])
        return format_html('<a href="{}">{}</a>', url, _("fortsetzen"))

    def _page(self, request, title, form, **extra):
        context = {**self.admin_site.each_context(request), "title": title, "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "admin/billing/dunning/form.html", {**context, **extra})

    def pause_view(self, request):
        if not request.user.has_perm(PAUSE_PERM):
            raise PermissionDenied
        form = PauseForm(request.POST or None, initial={"partner": request.GET.get("partner")})
        if request.method == "POST" and form.is_valid():
            try:
                pause = dunning_pause(
                    partner=form.cleaned_data["partner"],
                    invoice=form.invoice,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("Mahnwesen pausiert: %(what)s") % {"what": pause}, messages.SUCCESS)
                return redirect(reverse("admin:billing_dunningpause_changelist"))
        return self._page(request, _("Mahnwesen pausieren"), form, submit=_("Pausieren"))

    def resume_view(self, request, object_id):
        if not request.user.has_perm(PAUSE_PERM):
            raise PermissionDenied
        pause = get_object_or_404(DunningPause.objects.select_related("partner", "invoice"), pk=object_id)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                dunning_resume(pause=pause, reason=form.cleaned_data["reason"], by=request.user)
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("Mahnwesen fortgesetzt: %(what)s") % {"what": pause}, messages.SUCCESS)
                return redirect(reverse("admin:billing_dunningpause_changelist"))
        return self._page(request, _("Mahnwesen fortsetzen: %(what)s") % {"what": pause}, form, submit=_("Fortsetzen"))


@admin.register(DunningBlock)
class DunningBlockAdmin(_ReadOnly):
    list_display = ["partner", "blocked_at", "blocked_by", "reason", "invoice_list", "key_count", "released_at"]
    list_filter = [("released_at", admin.EmptyFieldListFilter)]
    search_fields = ["partner__company", "invoices__number"]
    list_select_related = ["partner", "blocked_by"]
    readonly_fields = [*list_display, "release_reason"]
    exclude = ["invoices", "licenses"]
    change_list_template = "admin/billing/dunning/block_change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("invoices", "licenses")

    @admin.display(description=_("Rechnungen"))
    def invoice_list(self, block):
        return format_html_join(", ", "{}", ((i.number,) for i in block.invoices.all())) or "—"

    @admin.display(description=_("gesperrte Schlüssel"))
    def key_count(self, block):
        return len(block.licenses.all())

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("sperren/", wrap(self.candidates_view), name="billing_dunningblock_candidates"),
            path("sperren/<int:partner_id>/", wrap(self.block_view), name="billing_dunningblock_block"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_block": request.user.has_perm(BLOCK_PERM), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def candidates_view(self, request):
        """Partners with an overdue invoice whose letzte Mahnung's deadline has passed."""
        if not request.user.has_perm(BLOCK_PERM):
            raise PermissionDenied
        today = clock.today()
        partners = Partner.objects.filter(
            pk__in=DunningNotice.objects.filter(level=3, deadline__lt=today, invoice__state=Invoice.OVERDUE).values(
                "partner"
            )
        ).order_by("company")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Abo-Schlüssel wegen Zahlungsverzugs sperren"),
            "partners": partners,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/dunning/block_candidates.html", context)

    def block_view(self, request, partner_id):
        """Preview (keys, installations, invoices) and, on POST with a reason, the block."""
        if not request.user.has_perm(BLOCK_PERM):
            raise PermissionDenied
        partner = get_object_or_404(Partner, pk=partner_id)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                block = dunning_block(partner=partner, reason=form.cleaned_data["reason"], by=request.user)
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("%(count)s Abo-Schlüssel von %(partner)s gesperrt; sie werden nach Zahlung wieder freigegeben.")
                    % {"count": block.licenses.count(), "partner": partner.company},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:billing_dunningblock_changelist"))
        preview = dunning_block_preview(partner=partner)
        due = {i.pk: selectors.invoice_amount_due(i) for i in preview.invoices}
        context = {
            **self.admin_site.each_context(request),
            "title": _("Abo-Schlüssel sperren: %(partner)s") % {"partner": partner.company},
            "form": form,
            "preview": preview,
            "invoices": [(i, format_eur(due[i.pk])) for i in preview.invoices],
            "licenses": [
                (lic, sorted({b.installation.identifier for b in lic.bindings.all()} | {lic.installation.identifier}))
                for lic in preview.licenses
            ],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/dunning/block.html", context)
