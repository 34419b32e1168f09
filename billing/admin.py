"""Staff admin of the billing area (STYLE 5): orders with their lines and price breakdown,
VAT rates. Every change to an order goes through :mod:`billing.services`; the custom
view and the actions check the permission their effect needs (change_order)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from billing import pricing, rules, selectors, services
from billing.models import Order, OrderLine, SepaBatch, SepaBatchItem, SepaMandate, VatRate, group_iban
from licensing.models import License, Product
from vendorportal import clock
from vendorportal.errors import PortalError
from vendorportal.formats import format_date
from vendorportal.money import ZERO, format_eur
from vendorportal.parties.admin import PartnerAdmin

admin.site.area_add(
    "billing", title=_("Bestellungen und Rechnungen"), order=50, models=["billing.order", "billing.vatrate"]
)


class OrderLineInline(admin.TabularInline):
    """Lines are shown, never edited here: adding goes through the "add line" page, prices
    through the pricing service."""

    model = OrderLine
    extra = 0
    can_delete = False
    fields = [
        "position",
        "installation",
        "delivery_email",
        "product",
        "kind",
        "term_months",
        "tier",
        "quantity",
        "users",
        "upgrade_kind",
        "list_price",
        "discounts",
        "unit_net",
        "line_net",
        "price_unit",
        "billing_months",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("installation", "product", "upgrade_from")

    @admin.display(description=_("Rabatte"))
    def discounts(self, line):
        shown = [step.display for step in pricing.stored_breakdown(line).steps[1:]]
        return "; ".join(shown) or "—"


class OrderAddForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["partner", "delivery_email", "invoice_email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("delivery_email", "invoice_email"):
            self.fields[name].required = False
            self.fields[name].help_text = _("leer = Standard des Partners")

    def _post_clean(self):
        # order_create fills the e-mail defaults and validates the order with full_clean.
        pass


class _InstallationsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, inst):
        return f"{inst.customer.company} – {inst.identifier}"


class OrderLineAddForm(forms.Form):
    """One product for one or more installations of the order's partner: one line each
    (decision ORD-1/ORD-4; a licence is bound to one server key)."""

    installations = _InstallationsField(
        queryset=None,
        label=_("Installationen"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("je Installation eine Position (eine Lizenz je Serverlizenzschlüssel)"),
        error_messages={
            "invalid_choice": _(
                "Die Installation %(value)s gehört zu keinem Kunden dieses Partners oder ist außer Betrieb."
            ),
            "required": _("Bitte mindestens eine Installation wählen."),
        },
    )
    product = forms.ModelChoiceField(
        Product.objects.filter(kind__in=services.ORDERABLE_KINDS, active=True), label=_("Produkt")
    )
    kind = forms.ChoiceField(choices=OrderLine.KIND_CHOICES, label=_("Kauf / Abo"), initial=OrderLine.PURCHASE)
    term_months = forms.TypedChoiceField(
        choices=[(0, _("— (Kauf)")), (1, "1"), (12, "12"), (24, "24"), (36, "36")],
        coerce=int,
        initial=0,
        label=_("Mindestlaufzeit (Monate)"),
    )
    users = forms.IntegerField(
        label=_("Benutzer"),
        min_value=1,
        required=False,
        help_text=_("nur Teams Presence Sync; leer = installierte Benutzer"),
    )
    as_package = forms.BooleanField(label=_("als Abo-Paket (ORD-4)"), required=False)
    upgrade = forms.ChoiceField(choices=OrderLine.UPGRADE_CHOICES, label=_("Upgrade"), required=False)
    upgrade_from = forms.ModelChoiceField(License.objects.none(), label=_("Upgrade von Lizenz"), required=False)
    service_plan = forms.ChoiceField(choices=OrderLine.PLAN_CHOICES, label=_("Service-Plan"), required=False)
    billing_months = forms.TypedChoiceField(
        choices=OrderLine._meta.get_field("billing_months").choices,
        coerce=int,
        initial=1,
        required=False,
        empty_value=1,
        label=_("Abrechnungsintervall (nur Abo, SUB-3)"),
    )

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["installations"].queryset = selectors.orderable_installations(order.partner, clock.today())
        self.fields["upgrade_from"].queryset = (
            License.objects.filter(bindings__installation__customer__partner=order.partner, state=License.ACTIVE)
            .select_related("product")
            .distinct()
        )

    def clean(self):
        data = super().clean()
        upgrade_from = data.get("upgrade_from")
        installations = data.get("installations") or []
        if upgrade_from is not None and len(installations) != 1:
            raise ValidationError(_("Ein Upgrade gilt für die eine Installation der Lizenz; bitte genau eine wählen."))
        return data


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
    list_display = [
        "reference_display",
        "partner",
        "installations_count",
        "order_date_display",
        "state",
        "net_display",
    ]
    list_filter = ["state", "order_date"]
    search_fields = [
        "=id",
        "partner__company",
        "lines__installation__identifier",
        "lines__installation__customer__company",
    ]
    list_select_related = ["partner"]
    autocomplete_fields = ["partner"]
    show_full_result_count = False
    date_hierarchy = "order_date"
    inlines = [OrderLineInline]
    actions = ["reprice_selected", "cancel_selected", "confirm_selected"]
    readonly_fields = [
        "reference_display",
        "partner",
        "installations_count",
        "order_date",
        "state",
        "created_at",
        "created_by",
        "price_breakdown",
        "add_line_link",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference_display",
                    "partner",
                    "installations_count",
                    "order_date",
                    "state",
                    "created_at",
                    "created_by",
                ]
            },
        ),
        (_("Versand (ORD-2)"), {"fields": ["delivery_email", "invoice_email"]}),
        (_("Preisaufschlüsselung"), {"fields": ["add_line_link", "price_breakdown"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = OrderAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["partner", "delivery_email", "invoice_email"]})]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if not obj.is_draft:
            return [*self.readonly_fields, "delivery_email", "invoice_email"]
        return self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change and obj.is_draft:
            # The lines' delivery e-mails follow the order's (unless an installation or customer has its own).
            services.order_emails_change(
                order=obj, delivery_email=obj.delivery_email, invoice_email=obj.invoice_email, by=request.user
            )
            return
        if change:
            obj.full_clean()
            obj.save()
            return
        try:
            created = services.order_create(
                partner=form.cleaned_data["partner"],
                created_by=request.user,
                delivery_email=form.cleaned_data.get("delivery_email") or "",
                invoice_email=form.cleaned_data.get("invoice_email") or "",
            )
        except PortalError as exc:
            raise _FormRefusal(exc.message) from exc
        obj.pk = created.pk
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})
        obj._state.adding = False

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _FormRefusal as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return redirect(reverse("admin:billing_order_add"))

    def has_delete_permission(self, request, obj=None):
        return False  # orders are cancelled, never deleted (ORD-9)

    # --- displays --------------------------------------------------------------------

    @admin.display(description=_("Bestellung"), ordering="id")
    def reference_display(self, obj):
        return obj.reference

    # The list fits 1280 px with the navigation and the filters beside it (issue 21): the date
    # as 06.12.2026, not "6. Dezember 2026"; headers may wrap (admin/vendorportal.css).
    @admin.display(description=_("Datum"), ordering="order_date")
    def order_date_display(self, obj):
        return format_date(obj.order_date)

    @admin.display(description=_("Installationen"))
    def installations_count(self, obj):
        return len({line.installation_id for line in obj.lines.all()})

    def _net(self, obj, unit):
        nets = [line.line_net for line in obj.lines.all() if line.price_unit == unit]
        return format_eur(sum(nets, ZERO)) if nets else "—"

    @admin.display(description=_("netto"))
    def net_display(self, obj):
        """One column for both (the list fits 1280 px): the one-off net, the monthly net "/ Monat"."""
        rows = [(self.net_once(obj), ""), (self.net_monthly(obj), gettext("/ Monat"))]
        return format_html_join(mark_safe("<br>"), "{} {}", [row for row in rows if row[0] != "—"]) or "—"

    @admin.display(description=_("netto einmalig"))
    def net_once(self, obj):
        return self._net(obj, pricing.UNIT_ONCE)

    @admin.display(description=_("netto monatlich"))
    def net_monthly(self, obj):
        return self._net(obj, pricing.UNIT_MONTH)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines")

    @admin.display(description=_("Position hinzufügen"))
    def add_line_link(self, obj):
        if not obj.pk or not obj.is_draft:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:billing_order_add_line", args=[obj.pk]), _("Position hinzufügen …")
        )

    @admin.display(description=_("Aufschlüsselung"))
    def price_breakdown(self, obj):
        if not obj.pk:
            return "—"
        try:
            breakdown = selectors.order_breakdown(obj)
        except PortalError as exc:
            return exc.message
        if not breakdown.lines:
            return _("Noch keine Positionen.")
        installations = {line.pk: line.installation.identifier for line in selectors.order_lines(obj)}
        rows = []
        for line in breakdown.lines:
            rows.append(
                format_html(
                    "<tr><th colspan='2'>{} × {} ({}) · {}</th></tr>",
                    line.quantity,
                    line.name,
                    line.article,
                    installations.get(line.key, ""),
                )
            )
            rows.extend(format_html("<tr><td>{}</td><td></td></tr>", step.display) for step in line.steps)
            rows.append(
                format_html(
                    "<tr><td>{}</td><td style='text-align:right'>{}</td></tr>",
                    _("Einzelpreis %(unit)s × %(qty)s") % {"unit": format_eur(line.unit_net), "qty": line.quantity},
                    format_eur(line.line_net),
                )
            )
        for total in breakdown.totals:
            rows.append(format_html("<tr><th colspan='2'>{}</th></tr>", _("Summe %(unit)s") % {"unit": total.label}))
            rows.append(
                format_html(
                    "<tr><td>{}</td><td style='text-align:right'>{}</td></tr>", _("netto"), format_eur(total.net)
                )
            )
            rows.extend(
                format_html(
                    "<tr><td>{}</td><td style='text-align:right'>{}</td></tr>",
                    _("USt. %(rate)s") % {"rate": pricing.format_percent(rate)},
                    format_eur(vat),
                )
                for rate, vat in total.vat_by_rate.items()
            )
            rows.append(
                format_html(
                    "<tr><td>{}</td><td style='text-align:right'>{}</td></tr>", _("brutto"), format_eur(total.gross)
                )
            )
        note = format_html("<p>{}</p>", breakdown.treatment.note) if breakdown.treatment.note else ""
        return format_html("<table>{}</table>{}", format_html_join("", "{}", ((r,) for r in rows)), note)

    # --- custom view and actions --------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view(self.add_line_view)
        return [path("<int:object_id>/add-line/", view, name="billing_order_add_line")] + super().get_urls()

    def add_line_view(self, request, object_id):
        order = get_object_or_404(Order.objects.select_related("partner"), pk=object_id)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        form = OrderLineAddForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.order_lines_add(
                    order=order,
                    lines=[
                        services.LineWish(
                            installation=installation,
                            product=data["product"],
                            kind=data["kind"],
                            term_months=data["term_months"],
                            users=data["users"],
                            as_package=data["as_package"],
                            upgrade=data["upgrade"] or "",
                            upgrade_from=data["upgrade_from"],
                            service_plan=data["service_plan"] or "",
                            billing_months=data["billing_months"],
                        )
                        for installation in data["installations"]
                    ],
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)s Position hinzugefügt und Bestellung neu berechnet.",
                        "%(count)s Positionen hinzugefügt und Bestellung neu berechnet.",
                        len(data["installations"]),
                    )
                    % {"count": len(data["installations"])},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:billing_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Position hinzufügen zu %(ref)s") % {"ref": order.reference},
            "form": form,
            "order": order,
            "opts": self.model._meta,
            "original": order,
        }
        return TemplateResponse(request, "admin/billing/order/add_line.html", context)

    @admin.action(description=_("Ausgewählte Entwürfe neu berechnen (heutige Preise)"), permissions=["change"])
    def reprice_selected(self, request, queryset):
        for order in queryset:
            try:
                services.order_price(order=order)
            except PortalError as exc:
                self.message_user(request, f"{order.reference}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("%(ref)s neu berechnet.") % {"ref": order.reference}, messages.SUCCESS)

    @admin.action(description=_("Ausgewählte Bestellungen stornieren"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        for order in queryset:
            try:
                services.order_cancel(order=order, by=request.user)
            except PortalError as exc:
                self.message_user(request, f"{order.reference}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("%(ref)s storniert.") % {"ref": order.reference}, messages.SUCCESS)

    @admin.action(description=_("Bestellung bestätigen"), permissions=["change"])
    def confirm_selected(self, request, queryset):
        """ORD-2: keys and delivery notes to the delivery e-mail, then the invoice (order_confirm)."""
        for order in queryset:
            try:
                invoice = services.order_confirm(order=order, by=request.user)
            except PortalError as exc:
                self.message_user(request, f"{order.reference}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(ref)s bestätigt: Rechnung %(number)s an %(email)s.")
                    % {"ref": order.reference, "number": invoice.number, "email": invoice.email},
                    messages.SUCCESS,
                )


class _FormRefusal(Exception):
    """A service refusal while saving the add form: shown as a message, nothing written."""


@admin.register(VatRate)
class VatRateAdmin(SimpleHistoryAdmin):
    list_display = ["category", "percent", "valid_from", "valid_to"]
    list_filter = ["category"]


# Invoices, corrections and payments; written confirmations (issue 16).
from billing import admin_confirmations, admin_dunning, admin_invoices  # noqa: E402, F401

# --- SEPA mandates and direct-debit files (ORD-8) --------------------------------------

admin.site.area_add(
    "billing", title=_("Bestellungen und Rechnungen"), order=50, models=["billing.sepamandate", "billing.sepabatch"]
)


class SepaMandateForm(forms.ModelForm):
    class Meta:
        model = SepaMandate
        fields = ["partner", "iban", "bic", "reference", "signed_on", "above_limit"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "iban" in self.fields:
            self.initial["iban"] = group_iban(self.instance.iban)
        if "reference" in self.fields and not self.instance.pk:
            # Assigned when the mandate is created (issue 16): the form to sign carries it.
            self.fields["reference"].required = False
            self.fields["reference"].help_text = _("leer = die nächste Mandatsreferenz VP-… wird vergeben")

    def clean_reference(self):
        reference = (self.cleaned_data.get("reference") or "").strip()
        partner = self.cleaned_data.get("partner")
        if not reference and partner is not None:
            reference = services.mandate_reference_next(partner)
        return reference

    def clean(self):
        data = super().clean()
        # The model form leaves out constraints whose condition names a field it does not
        # show (revoked_on), so the one-active-mandate rule is checked here for a readable
        # form error; the partial unique constraint stays the guard under races.
        partner = data.get("partner") or (self.instance.partner if self.instance.pk else None)
        # Signing a mandate that waits for its signature revokes the active one (sepa_mandate_sign).
        signs = bool(self.instance.pk and self.instance.signed_on is None and data.get("signed_on"))
        if partner is not None and self.instance.revoked_on is None and not signs:
            others = SepaMandate.objects.filter(
                partner=partner, revoked_on__isnull=True, signed_on__isnull=bool(not data.get("signed_on"))
            ).exclude(pk=self.instance.pk)
            if others.exists():
                raise forms.ValidationError(
                    _("Dieser Partner hat schon ein aktives SEPA-Mandat; bitte das alte zuerst widerrufen.")
                )
        return data


@admin.register(SepaMandate)
class SepaMandateAdmin(SimpleHistoryAdmin):
    """Finance records and revokes mandates; sales looks them up. Revoking is an action
    (change permission); a revoked mandate is read-only."""

    form = SepaMandateForm
    list_display = [
        "reference",
        "partner",
        "iban_display",
        "bic",
        "signed_on",
        "above_limit",
        "state_display",
        "sequence_type",
        "revoked_on",
        "pdf_link",
    ]
    list_filter = ["sequence_type", ("revoked_on", admin.EmptyFieldListFilter)]
    search_fields = ["reference", "iban", "partner__company"]
    list_select_related = ["partner"]
    autocomplete_fields = ["partner"]
    readonly_fields = ["sequence_type", "revoked_on", "suspended_on", "suspended_reason", "created_at", "pdf_link"]
    actions = ["revoke_selected"]

    @admin.display(description=_("Status"))
    def state_display(self, obj):
        return obj.state_label

    @admin.display(description=_("Formular"))
    def pdf_link(self, obj):
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:billing_sepamandate_pdf", args=[obj.pk]), _("Mandat als PDF")
        )

    def get_urls(self):
        return [
            path("<int:object_id>/pdf/", self.admin_site.admin_view(self.pdf_view), name="billing_sepamandate_pdf"),
        ] + super().get_urls()

    def pdf_view(self, request, object_id):
        """The mandate as a form to print and sign, with creditor ID and reference (issue 16)."""
        from billing.mandate_pdf import mandate_filename, mandate_pdf

        if not self.has_view_permission(request):
            raise PermissionDenied
        mandate = get_object_or_404(SepaMandate.objects.select_related("partner"), pk=object_id)
        response = HttpResponse(mandate_pdf(mandate), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{mandate_filename(mandate)}"'
        return response

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.revoked_on is not None:  # revoked: read-only
            return ["partner", "iban_display", "bic", "reference", "signed_on", "above_limit", *self.readonly_fields]
        if obj is not None:
            return ["partner", *self.readonly_fields]
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is not None and obj.revoked_on is not None:  # revoked: read-only
            return ["partner", "iban_display", "bic", "reference", "signed_on", "above_limit", *self.readonly_fields]
        return super().get_fields(request, obj)

    @admin.display(description=_("IBAN"), ordering="iban")
    def iban_display(self, obj):
        return group_iban(obj.iban)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                services.sepa_mandate_update(
                    mandate=obj,
                    iban=data["iban"],
                    bic=data["bic"],
                    reference=data["reference"],
                    signed_on=data["signed_on"],
                    above_limit=data["above_limit"],
                    by=request.user,
                )
            else:
                created = services.sepa_mandate_create(
                    partner=data["partner"],
                    iban=data["iban"],
                    bic=data["bic"],
                    reference=data["reference"],
                    signed_on=data["signed_on"],
                    above_limit=data["above_limit"],
                    by=request.user,
                )
                obj.pk = created.pk
                obj._state.adding = False
        except (PortalError, ValidationError) as exc:
            raise _FormRefusal(getattr(exc, "message", None) or "; ".join(exc.messages)) from exc

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # A refusal inside save_model (two finance users saving at once) rolls back and shows why.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _FormRefusal as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return redirect(request.get_full_path())

    @admin.action(description=_("Ausgewählte Mandate heute widerrufen"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        for mandate in queryset:
            try:
                services.sepa_mandate_revoke(mandate=mandate, by=request.user)
            except PortalError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(
                    request, _("Mandat %(reference)s widerrufen.") % {"reference": mandate.reference}, messages.SUCCESS
                )


class SepaMandateInline(admin.TabularInline):
    """The partner's mandates on the partner page, read-only; recorded on their own page."""

    model = SepaMandate
    extra = 0
    fields = ["reference", "iban_display", "bic", "signed_on", "sequence_type", "revoked_on"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    verbose_name_plural = _("SEPA-Lastschriftmandate (unter „Abrechnung“ anlegen und widerrufen)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("IBAN"))
    def iban_display(self, obj):
        return group_iban(obj.iban)


PartnerAdmin.inlines.append(SepaMandateInline)


class SepaBatchItemInline(admin.TabularInline):
    model = SepaBatchItem
    extra = 0
    fields = ["end_to_end_id", "mandate", "sequence_type", "collection_date", "amount_display", "returned"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mandate", "return_entry")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Betrag"))
    def amount_display(self, item):
        return format_eur(item.amount)

    @admin.display(description=_("zurückgegeben"))
    def returned(self, item):
        """Issue 18: which debits came back, when and why (the reason in words)."""
        entry = item.return_entry
        if entry is None:
            return "—"
        reason = rules.return_reason(entry.return_reason)
        return _("am %(date)s, %(code)s: %(why)s") % {
            "date": format_date(entry.booked_on),
            "code": reason.code,
            "why": reason.text,
        }


class SepaExportForm(forms.Form):
    through = forms.DateField(
        label=_("Einzüge bis einschließlich"),
        help_text=_(
            "Alle offenen Lastschrift-Rechnungen, deren Einzug bis zu diesem Tag angekündigt ist (TT.MM.JJJJ); "
            "jede wird genau an ihrem angekündigten Tag eingezogen. Lastschriften, deren Tag vorbei oder zu nah "
            "ist, werden vorher mit neuem Tag neu angekündigt (E-Mail an den Partner)."
        ),
    )


@admin.register(SepaBatch)
class SepaBatchAdmin(admin.ModelAdmin):
    """Submitted direct-debit files, read-only, with the stored XML to download."""

    list_display = ["message_id", "collection_date", "count", "total_display", "created_at", "created_by"]
    list_select_related = ["created_by"]
    search_fields = ["message_id", "items__end_to_end_id"]
    date_hierarchy = "collection_date"
    fields = ["message_id", "collection_date", "count", "total_display", "created_at", "created_by", "download"]
    readonly_fields = fields
    inlines = [SepaBatchItemInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Summe"), ordering="total")
    def total_display(self, batch):
        return format_eur(batch.total)

    @admin.display(description=_("Datei"))
    def download(self, batch):
        url = reverse("admin:billing_sepabatch_xml", args=[batch.pk])
        return format_html('<a href="{}">{}</a>', url, batch.filename)

    def get_urls(self):
        view = self.admin_site.admin_view(self.xml_view)
        export = self.admin_site.admin_view(self.export_view)
        return [
            path("<int:object_id>/xml/", view, name="billing_sepabatch_xml"),
            path("erstellen/", export, name="billing_sepabatch_export"),
        ] + super().get_urls()

    def may_export(self, request) -> bool:
        # Writing a direct-debit file takes money from partners' accounts: finance's right
        # to add batches, not a staff login.
        return request.user.has_perm("billing.add_sepabatch")

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "may_export": self.may_export(request)})

    def export_view(self, request):
        """The admin's ``sepa_export``: every due direct-debit invoice up to the chosen day."""
        if not self.may_export(request):
            raise PermissionDenied
        form = SepaExportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                batch = services.sepa_export(through=form.cleaned_data["through"], by=request.user)
            except PortalError as refused:
                form.add_error("through", refused.message)
            else:
                if batch is None:
                    self.message_user(
                        request,
                        _("Keine angekündigten Lastschriften bis %(date)s: keine Datei erstellt.")
                        % {"date": format_date(form.cleaned_data["through"])},
                        messages.WARNING,
                    )
                    return redirect("admin:billing_sepabatch_changelist")
                self.message_user(
                    request,
                    ngettext(
                        "Lastschriftdatei %(id)s mit %(count)s Lastschrift über %(total)s erstellt.",
                        "Lastschriftdatei %(id)s mit %(count)s Lastschriften über %(total)s erstellt.",
                        batch.count,
                    )
                    % {"id": batch.message_id, "count": batch.count, "total": format_eur(batch.total)},
                    messages.SUCCESS,
                )
                return redirect("admin:billing_sepabatch_change", batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("SEPA-Lastschriftdatei erstellen"),
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/sepabatch/export.html", context)

    def xml_view(self, request, object_id):
        batch = get_object_or_404(SepaBatch, pk=object_id)
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        response = HttpResponse(batch.xml.encode("utf-8"), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{batch.filename}"'
        return response


# Subscriptions and service plans (SUB-1…SUB-8), bank statements (issue 18).
from billing import admin_bank, admin_charges, admin_runs, admin_subscriptions  # noqa: E402, F401

# --- Finance's scheduled reports (billing.finance) ----------------------------------------
from billing.models import FinanceReport  # noqa: E402


class DatevExportForm(forms.Form):
    month = forms.CharField(label=_("Monat"), max_length=7, help_text=_("JJJJ-MM, z. B. 2026-11"))

    def clean_month(self):
        from vendorportal.periods import parse_month

        first = parse_month(self.cleaned_data["month"])
        if first is None:
            raise ValidationError(_("Bitte den Monat als JJJJ-MM angeben, z. B. 2026-11."))
        return first


admin.site.area_add("billing", title=_("Bestellungen und Rechnungen"), order=50, models=["billing.financereport"])


@admin.register(FinanceReport)
class FinanceReportAdmin(admin.ModelAdmin):
    """The stored journal and open-items reports, read-only, with their PDF. The schedule
    and the recipients are on the page "Zeitplan der Jobs" (settings, not data)."""

    list_display = ["__str__", "kind", "period", "report_date", "document_count", "gross_display", "pdf_link"]
    list_filter = ["kind"]
    search_fields = ["period"]
    fields = ["kind", "period", "report_date", "document_count", "gross_display", "created_at", "pdf_link"]
    readonly_fields = fields
    change_list_template = "admin/billing/financereport/change_list.html"

    # --- DATEV export (issue 18): finance downloads a closed month's files ---------------

    def get_urls(self):
        return [
            path(
                "datev/",
                self.admin_site.admin_view(self.datev_view),
                name="billing_financereport_datev",
            ),
            *super().get_urls(),
        ]

    def has_datev_permission(self, request) -> bool:
        return request.user.has_perm("billing.datev_financereport")

    def changelist_view(self, request, extra_context=None):
        extra = {"can_datev": self.has_datev_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def datev_view(self, request):
        """Both DATEV files of a closed month as one ZIP (Buchungsstapel + Debitoren)."""
        import io
        import zipfile

        from billing.datev import datev_export
        from billing.finance import datev_filename

        if not self.has_datev_permission(request):
            raise PermissionDenied
        last_month = clock.today().replace(day=1) - timedelta(days=1)
        form = DatevExportForm(request.POST or None, initial={"month": last_month.strftime("%Y-%m")})
        if request.method == "POST" and form.is_valid():
            month = form.cleaned_data["month"]
            try:
                export = datev_export(month=month, today=clock.today(), created=clock.now(), by=request.user.username)
            except PortalError as exc:
                form.add_error("month", exc.message)
            else:
                period = month.strftime("%Y-%m")
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                    archive.writestr(datev_filename("Buchungsstapel", period), export.bookings)
                    archive.writestr(datev_filename("Debitoren", period), export.debtors)
                response = HttpResponse(buffer.getvalue(), content_type="application/zip")
                response["Content-Disposition"] = f'attachment; filename="DATEV_{period}.zip"'
                return response
        context = {
            **self.admin_site.each_context(request),
            "title": _("DATEV-Export für die Steuerberatung"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/financereport/datev.html", context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Summe"), ordering="gross_total")
    def gross_display(self, report):
        return format_eur(report.gross_total)

    @admin.display(description=_("PDF"))
    def pdf_link(self, report):
        return format_html('<a href="{}">{}</a>', report.pdf.url, report.filename) if report.pdf else "—"
