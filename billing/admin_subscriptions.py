"""Staff admin of subscriptions and service plans (SUB-1…SUB-8, STYLE 5).

Subscriptions and plans are made by confirmed orders (or a plan booking) and changed only
through :mod:`billing.services.subscriptions`: every field here is read-only, so money and
dates of billed periods never change by hand. Custom pages, each checking the permission its
effect needs and calling one service:

- "Kündigung erfassen" (``change_subscription``): notice date (and SUB-6) → the computed end
  as a preview → confirm;
- "Staffel wechseln" (``change_subscription``): the new price from the next billing period;
- "Service-Plan buchen" (``add_serviceplan``) and "Service-Plan kündigen" (``change_serviceplan``).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from billing import rules, selectors, services
from billing.models import BilledPeriod, ServicePlan, Subscription, SubscriptionPriceChange
from licensing.models import Installation
from licensing.rules import TIER_LABELS
from vendorportal import clock
from vendorportal.errors import PortalError
from vendorportal.formats import format_date
from vendorportal.money import format_eur

admin.site.area_add(
    "billing",
    title=_("Bestellungen und Rechnungen"),
    order=50,
    models=["billing.subscription", "billing.subscriptionpricechange", "billing.serviceplan"],
)

STEP_TEMPLATE = "admin/billing/subscription/step.html"


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PriceChangeInline(_ReadOnlyInline):
    model = SubscriptionPriceChange
    fields = readonly_fields = ["effective_from", "tier", "users", "monthly_price", "created_at", "created_by"]


class SubscriptionBilledInline(_ReadOnlyInline):
    model = BilledPeriod
    fk_name = "subscription"
    fields = readonly_fields = ["period_start", "period_end", "amount", "invoice_line", "created_at"]
    verbose_name_plural = _("abgerechnete Zeiträume (INV-3)")


class PlanBilledInline(SubscriptionBilledInline):
    fk_name = "service_plan"


class NoticeForm(forms.Form):
    notice_on = forms.DateField(label=_("Kündigung eingegangen am"), help_text=_("TT.MM.JJJJ"))
    special = forms.BooleanField(
        label=_("Sonderkündigung (SUB-6)"),
        required=False,
        help_text=_(
            "nur wenn zu einer neuen STARFACE-Version seit drei Monaten keine kompatible Modulversion vorliegt"
        ),
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class TierForm(forms.Form):
    tier = forms.ChoiceField(
        label=_("neue Benutzerstaffel"), required=False, choices=[("", "—")] + [(t, t) for t in TIER_LABELS]
    )
    users = forms.IntegerField(
        label=_("oder Benutzer"),
        required=False,
        min_value=1,
        help_text=_("Teams Presence Sync: Anzahl der Benutzer (je angefangene 5, CAT-4)"),
    )


class PlanBookForm(forms.Form):
    installation = forms.ModelChoiceField(
        label=_("Installation (Serverlizenzschlüssel)"),
        queryset=Installation.objects.select_related("customer").order_by("identifier"),
    )
    plan = forms.ChoiceField(label=_("Service-Plan"), choices=ServicePlan.PLAN_CHOICES)
    signed_on = forms.DateField(label=_("gebucht am"))
    starts_on = forms.DateField(
        label=_("Beginn"),
        required=False,
        help_text=_("leer = Buchungstag; früher nur rückwirkend für Kunden mit Käufen vor dem 01.01.2022 (SUB-8)"),
    )


class PlanNoticeForm(forms.Form):
    notice_on = forms.DateField(label=_("Kündigung eingegangen am"))
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


def _step(request, admin_obj, obj, title, form, *, intro="", preview="", submit=""):
    context = {
        **admin_obj.admin_site.each_context(request),
        "title": title,
        "form": form,
        "intro": intro,
        "preview": preview,
        "submit": submit,
        "opts": admin_obj.model._meta,
        "original": obj,
    }
    return TemplateResponse(request, STEP_TEMPLATE, context)


@admin.register(Subscription)
class SubscriptionAdmin(SimpleHistoryAdmin):
    list_display = [
        "reference",
        "partner",
        "installation",
        "product",
        "term_display",
        "billing_months",
        "price_display",
        "next_billing_display",
        "minimum_end_display",
        "end_display",
    ]
    list_filter = ["billing_months", "minimum_months", "notice_special"]
    search_fields = ["reference", "package", "partner__company", "installation__identifier", "product__name"]
    list_select_related = ["partner", "installation", "product"]
    show_full_result_count = False
    date_hierarchy = "signed_on"
    inlines = [PriceChangeInline, SubscriptionBilledInline]
    actions = ["notice_action", "tier_action"]
    fields = [
        "reference",
        "partner",
        "installation",
        "product",
        "tier",
        "users",
        "quantity",
        "package",
        "minimum_months",
        "billing_months",
        "monthly_price",
        "signed_on",
        "term_start",
        "minimum_end",
        "order_line",
        "licenses",
        "special_right_display",
        "notice_on",
        "notice_special",
        "notice_at",
        "notice_by",
        "ends_on",
        "keys_blocked_at",
        "links",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("price_changes", "billed_periods")

    def has_add_permission(self, request):
        return False  # made by confirming an order

    def has_delete_permission(self, request, obj=None):
        return False

    # --- displays ---------------------------------------------------------------------------

    @admin.display(description=_("Laufzeit"), ordering="term_start")
    def term_display(self, obj):
        return ngettext("%(months)s Monat ab %(start)s", "%(months)s Monate ab %(start)s", obj.minimum_months) % {
            "months": obj.minimum_months,
            "start": format_date(obj.term_start),
        }

    @admin.display(description=_("Monatspreis netto"))
    def price_display(self, obj):
        price = selectors.subscription_monthly_price_on(obj, clock.today())
        return format_eur(price * obj.quantity)

    @admin.display(description=_("nächster offener Zeitraum ab"))
    def next_billing_display(self, obj):
        # SUB-7: the first period after today's that is not billed yet (a tier change starts there).
        billed = [period.period_start for period in obj.billed_periods.all()]  # prefetched
        day = selectors.subscription_next_unbilled(obj, clock.today(), billed)
        return format_date(day) if day else "—"

    @admin.display(description=_("Ende der Mindestlaufzeit"), ordering="minimum_end")
    def minimum_end_display(self, obj):
        return format_date(obj.minimum_end)

    @admin.display(description=_("Kündigung / Ende"), ordering="ends_on")
    def end_display(self, obj):
        if obj.ends_on is None:
            return "—"
        return _("gekündigt am %(notice)s, endet am %(end)s") % {
            "notice": format_date(obj.notice_on),
            "end": format_date(obj.ends_on),
        }

    @admin.display(description=_("Sonderkündigungsrecht heute (SUB-6)"))
    def special_right_display(self, obj):
        ground = selectors.subscription_special_termination(obj, clock.today())
        if ground is None:
            return _("nein")
        return _("ja: keine kompatible Modulversion zu STARFACE %(version)s (seit %(since)s)") % {
            "version": ground.pbx_version,
            "since": format_date(ground.right_from),
        }

    @admin.display(description=_("Aktionen"))
    def links(self, obj):
        if not obj.pk or obj.notice_on is not None:
            return "—"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:billing_subscription_notice", args=[obj.pk]),
            _("Kündigung erfassen …"),
            reverse("admin:billing_subscription_tier", args=[obj.pk]),
            _("Staffel wechseln …"),
        )

    # --- custom pages ---------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/notice/", wrap(self.notice_view), name="billing_subscription_notice"),
            path("<int:object_id>/tier/", wrap(self.tier_view), name="billing_subscription_tier"),
        ] + super().get_urls()

    def notice_view(self, request, object_id):
        """Step 1: the notice date → the computed end (preview); step 2: confirm → recorded."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        sub = get_object_or_404(Subscription.objects.select_related("product", "installation"), pk=object_id)
        form = NoticeForm(request.POST or None, initial={"notice_on": clock.today()})
        preview_text = ""
        title = _("Kündigung erfassen: %(ref)s") % {"ref": sub.reference}
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["confirmed"]:
                    preview = services.subscription_give_notice(
                        subscription=sub, notice_on=data["notice_on"], special=data["special"], by=request.user
                    )
                    self.message_user(request, preview.text, messages.SUCCESS)
                    return redirect(reverse("admin:billing_subscription_change", args=[sub.pk]))
                preview = services.subscription_notice_preview(sub, data["notice_on"], special=data["special"])
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                preview_text = preview.text
                form = NoticeForm(initial={**data, "confirmed": True})
                for name in ("notice_on", "special"):
                    form.fields[name].widget = forms.HiddenInput()
        return _step(
            request,
            self,
            sub,
            title,
            form,
            intro=_(
                "Kündigungsfrist 14 Tage zum Ende eines Abrechnungszeitraums, frühestens zum Ende der "
                "Mindestlaufzeit (SUB-5). Zuerst wird das Ende berechnet und angezeigt; erfasst wird erst nach "
                "der Bestätigung."
            ),
            preview=preview_text,
            submit=_("Kündigung bestätigen") if preview_text else _("Ende berechnen"),
        )

    def tier_view(self, request, object_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        sub = get_object_or_404(Subscription.objects.select_related("product"), pk=object_id)
        form = TierForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                change = services.subscription_change_tier(
                    subscription=sub,
                    tier=form.cleaned_data["tier"] or "",
                    users=form.cleaned_data["users"],
                    by=request.user,
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("%(ref)s: ab %(date)s %(price)s monatlich je Lizenz (%(what)s).")
                    % {
                        "ref": sub.reference,
                        "date": format_date(change.effective_from),
                        "price": format_eur(change.monthly_price),
                        "what": change.tier or _("%(users)s Benutzer") % {"users": change.users},
                    },
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:billing_subscription_change", args=[sub.pk]))
        return _step(
            request,
            self,
            sub,
            _("Staffel wechseln: %(ref)s") % {"ref": sub.reference},
            form,
            intro=_(
                "Ein Staffelwechsel ändert nur den Monatspreis, ab dem nächsten Abrechnungszeitraum; Laufzeit und "
                "Beginn bleiben (SUB-7). Preis: heutige Preisliste der neuen Staffel mit den Rabatten des Abschlusses."
            ),
            submit=_("Staffel wechseln"),
        )

    def _one(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Bitte genau ein Abo auswählen."), messages.WARNING)
            return None
        return queryset.get()

    @admin.action(description=_("Kündigung erfassen (mit Vorschau des Endes)"), permissions=["change"])
    def notice_action(self, request, queryset):
        sub = self._one(request, queryset)
        if sub is not None:
            return redirect(reverse("admin:billing_subscription_notice", args=[sub.pk]))

    @admin.action(description=_("Staffel wechseln"), permissions=["change"])
    def tier_action(self, request, queryset):
        sub = self._one(request, queryset)
        if sub is not None:
            return redirect(reverse("admin:billing_subscription_tier", args=[sub.pk]))


@admin.register(ServicePlan)
class ServicePlanAdmin(SimpleHistoryAdmin):
    list_display = [
        "reference",
        "partner",
        "installation",
        "plan",
        "yearly_price",
        "starts_on",
        "billed_from",
        "current_year_display",
        "ends_on",
    ]
    list_filter = ["plan", "retroactive"]
    search_fields = ["reference", "partner__company", "installation__identifier"]
    list_select_related = ["partner", "installation"]
    show_full_result_count = False
    inlines = [PlanBilledInline]
    actions = ["notice_action"]
    fields = readonly_fields = [
        "reference",
        "partner",
        "installation",
        "plan",
        "yearly_price",
        "signed_on",
        "starts_on",
        "retroactive",
        "billed_from",
        "order_line",
        "notice_on",
        "notice_at",
        "notice_by",
        "ends_on",
    ]

    def has_add_permission(self, request):
        return False  # booked through the booking page (service_plan_book), not a bare form

    def has_delete_permission(self, request, obj=None):
        return False

    def may_book(self, request) -> bool:
        return request.user.has_perm("billing.add_serviceplan")

    @admin.display(description=_("laufendes Planjahr"))
    def current_year_display(self, obj):
        today = clock.today()
        if today < obj.starts_on:
            return "—"
        year = rules.service_plan_year(obj.starts_on, today)
        return f"{format_date(year.start)}–{format_date(year.end)}"

    def changelist_view(self, request, extra_context=None):
        extra = {"book_url": reverse("admin:billing_serviceplan_book")} if self.may_book(request) else {}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("book/", wrap(self.book_view), name="billing_serviceplan_book"),
            path("<int:object_id>/notice/", wrap(self.notice_view), name="billing_serviceplan_notice"),
        ] + super().get_urls()

    def book_view(self, request):
        if not self.may_book(request):
            raise PermissionDenied
        form = PlanBookForm(request.POST or None, initial={"signed_on": clock.today()})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                plan = services.service_plan_book(
                    installation=data["installation"],
                    plan=data["plan"],
                    signed_on=data["signed_on"],
                    starts_on=data["starts_on"],
                    by=request.user,
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("%(ref)s gebucht: %(plan)s für %(id)s, %(price)s jährlich, abgerechnet ab %(from)s.")
                    % {
                        "ref": plan.reference,
                        "plan": plan.get_plan_display(),
                        "id": plan.installation.identifier,
                        "price": format_eur(plan.yearly_price),
                        "from": format_date(plan.billed_from),
                    },
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:billing_serviceplan_change", args=[plan.pk]))
        return _step(
            request,
            self,
            None,
            _("Service-Plan buchen"),
            form,
            intro=_(
                "Premium und Enterprise werden an einen STARFACE-Serverlizenzschlüssel gebunden, einmal je "
                "Schlüssel, und jährlich im Voraus berechnet (SUB-8)."
            ),
            submit=_("Service-Plan buchen"),
        )

    def notice_view(self, request, object_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        plan = get_object_or_404(ServicePlan, pk=object_id)
        form = PlanNoticeForm(request.POST or None, initial={"notice_on": clock.today()})
        preview_text = ""
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["confirmed"]:
                    preview = services.service_plan_give_notice(
                        service_plan=plan, notice_on=data["notice_on"], by=request.user
                    )
                    self.message_user(request, preview.text, messages.SUCCESS)
                    return redirect(reverse("admin:billing_serviceplan_change", args=[plan.pk]))
                preview = services.service_plan_notice_preview(plan, data["notice_on"])
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                preview_text = preview.text
                form = PlanNoticeForm(initial={**data, "confirmed": True})
                form.fields["notice_on"].widget = forms.HiddenInput()
        return _step(
            request,
            self,
            plan,
            _("Service-Plan kündigen: %(ref)s") % {"ref": plan.reference},
            form,
            intro=_("Kündigungsfrist 3 Monate zum Ende eines Planjahres (SUB-8)."),
            preview=preview_text,
            submit=_("Kündigung bestätigen") if preview_text else _("Ende berechnen"),
        )

    @admin.action(description=_("Service-Plan kündigen (mit Vorschau des Endes)"), permissions=["change"])
    def notice_action(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Bitte genau einen Service-Plan auswählen."), messages.WARNING)
            return None
        return redirect(reverse("admin:billing_serviceplan_notice", args=[queryset.get().pk]))


@admin.register(SubscriptionPriceChange)
class SubscriptionPriceChangeAdmin(admin.ModelAdmin):
    """Tier changes (SUB-7), read-only: the list the cockpit's MRR expansion and contraction
    link to (issue 20). They are made through the subscription's tier-change page."""

    list_display = ["subscription", "effective_from", "tier", "users", "price_display", "created_at"]
    list_select_related = ["subscription", "subscription__product"]
    date_hierarchy = "effective_from"
    search_fields = ["subscription__reference", "subscription__partner__company"]
    readonly_fields = ["subscription", "effective_from", "tier", "users", "monthly_price", "created_at", "created_by"]
    show_full_result_count = False

    @admin.display(description=_("neuer Monatspreis netto"), ordering="monthly_price")
    def price_display(self, obj):
        return format_eur(obj.monthly_price)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
