"""Staff admin of invoices and their corrections (STYLE 5): read-only lists and details with
lines and payments, the stored PDF for download, and the actions "Rechnungskorrektur / Stornorechnung erstellen",
"Zahlung erfassen" and "erneut senden". Each custom view and action checks the
permission its effect needs (``billing.credit_invoice``, ``billing.pay_invoice``,
``billing.resend_invoice``; the PDF: ``billing.view_invoice``) and calls one service.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing import selectors, services
from billing.exceptions import InvoiceRefused
from billing.models import Invoice, InvoiceLine, Payment
from vendorportal import clock
from vendorportal.documents import document_response
from vendorportal.errors import PortalError
from vendorportal.form_fields import GermanDecimalField
from vendorportal.formats import format_date
from vendorportal.money import format_eur

admin.site.area_add(
    "billing",
    title=_("Bestellungen und Rechnungen"),
    order=50,
    models=["billing.invoice", "billing.payment"],
)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceLineInline(_ReadOnlyInline):
    model = InvoiceLine
    fk_name = "invoice"
    fields = readonly_fields = [
        "position",
        "article",
        "description",
        "quantity",
        "unit",
        "unit_price",
        "net_total",
        "vat_category",
        "vat_percent",
        "period_start",
        "period_end",
    ]


class PaymentInline(_ReadOnlyInline):
    model = Payment
    fields = readonly_fields = ["amount", "paid_on", "recorded_at", "recorded_by", "reversed_on", "reversal_entry"]


class MonthFilter(admin.SimpleListFilter):
    title = _("Monat")
    parameter_name = "month"

    def lookups(self, request, model_admin):
        months = Invoice.objects.dates("issue_date", "month", order="DESC")[:24]
        return [(f"{m:%Y-%m}", f"{m:%m/%Y}") for m in months]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        try:
            year, month = (int(part) for part in value.split("-"))
        except ValueError:
            return queryset.none()
        return queryset.filter(issue_date__year=year, issue_date__month=month)


class CreditNoteForm(forms.Form):
    reason = forms.CharField(label=_("Grund"), max_length=300)
    scope = forms.ChoiceField(
        label=_("Umfang"),
        choices=[
            ("all", _("ganze Rechnung stornieren (alles noch nicht Korrigierte)")),
            ("lines", _("gewählte Positionen korrigieren")),
        ],
        widget=forms.RadioSelect,
        initial="all",
    )

    def __init__(self, *args, invoice: Invoice, **kwargs):
        super().__init__(*args, **kwargs)
        self.invoice_lines = list(selectors.invoice_lines(invoice))
        for line in self.invoice_lines:
            self.fields[f"qty_{line.pk}"] = GermanDecimalField(
                label=f"{line.position}. {line.description} ({line.quantity:n} × {format_eur(line.unit_price)})",
                required=False,
                min_value=0,
                decimal_places=2,
                max_digits=12,
            )

    def chosen_lines(self):
        chosen = []
        for line in self.invoice_lines:
            quantity = self.cleaned_data.get(f"qty_{line.pk}")
            if quantity:
                chosen.append((line, quantity))
        return chosen


class PaymentForm(forms.Form):
    amount = GermanDecimalField(label=_("Betrag (EUR)"), max_digits=12, decimal_places=2, min_value=0)
    paid_on = forms.DateField(label=_("bezahlt am"))
    # One-time token: the same form posted twice records one payment (STYLE 14).
    token = forms.CharField(widget=forms.HiddenInput, max_length=40)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "title_display",
        "partner",
        "issue_date",
        "gross_display",
        "state_display",
        "due_date",
        "dunning_display",
        "pdf_link",
    ]
    list_filter = ["state", "kind", MonthFilter, "payment_means"]
    search_fields = ["number", "partner__company", "buyer_name"]
    list_select_related = ["partner", "credited_invoice"]
    show_full_result_count = False
    date_hierarchy = "issue_date"
    inlines = [InvoiceLineInline, PaymentInline]
    actions = ["credit_note_action", "payment_action", "resend_action"]
    fieldsets = [
        (
            None,
            {"fields": ["number", "kind", "issue_date", "state", "pdf_link", "order", "credited_invoice", "reason"]},
        ),
        (
            _("Käufer"),
            {
                "fields": [
                    "partner",
                    "buyer_name",
                    "buyer_street",
                    "buyer_postal_code",
                    "buyer_city",
                    "buyer_country",
                    "buyer_vat_id",
                    "email",
                ]
            },
        ),
        (_("Beträge"), {"fields": ["net_total", "vat_total", "gross_total", "vat_category", "vat_note"]}),
        (
            _("Zahlung"),
            {
                "fields": [
                    "payment_means",
                    "due_date",
                    "payment_terms",
                    "mandate_reference",
                    "paid_amount",
                    "amount_due",
                    "reminder_sent_at",
                    "dunning_display",
                ]
            },
        ),
        (_("Ausstellung"), {"fields": ["issued_at", "issued_by"]}),
    ]

    # Issued documents are read-only (INV-1): no add, no change, no delete for anyone.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_credit_permission(self, request):
        return request.user.has_perm("billing.credit_invoice")

    def has_pay_permission(self, request):
        return request.user.has_perm("billing.pay_invoice")

    def has_resend_permission(self, request):
        return request.user.has_perm("billing.resend_invoice")

    def get_readonly_fields(self, request, obj=None):
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    @admin.display(description=_("Art"), ordering="kind")
    def title_display(self, obj):
        """Rechnung / Rechnungskorrektur / Stornorechnung (INV-1), the correction with its invoice."""
        if obj.is_credit_note:
            return _("%(title)s zur Rechnung %(number)s vom %(date)s") % {
                "title": obj.document_title,
                "number": obj.credited_invoice.number,
                "date": format_date(obj.credited_invoice.issue_date),
            }
        return obj.document_title

    def get_queryset(self, request):
        # Dunning (issue 18): every level of each invoice on the page in one query.
        return super().get_queryset(request).prefetch_related("dunning_notices")

    @admin.display(description=_("Mahnstufe"))
    def dunning_display(self, obj):
        """The highest dunning level with date and deadline; fee and interest of a letzte Mahnung
        are claimed apart (a charge on the next invoice), never part of "noch offen"."""
        notices = sorted(obj.dunning_notices.all(), key=lambda n: n.level)
        if not notices:
            return "—"
        last = notices[-1]
        text = _("%(title)s vom %(date)s, Frist bis %(deadline)s") % {
            "title": last.title,
            "date": format_date(last.issued_on),
            "deadline": format_date(last.deadline),
        }
        if last.claim:
            text += " · " + _("Pauschale %(fee)s + Zinsen %(interest)s gesondert") % {
                "fee": format_eur(last.fee),
                "interest": format_eur(last.interest),
            }
        return text

    @admin.display(description=_("Status"), ordering="state")
    def state_display(self, obj):
        # A correction is not paid or owed itself: its effect shows on the invoice it corrects
        # ("storniert" once corrections take back all of it).
        return "—" if obj.is_credit_note else obj.get_state_display()

    @admin.display(description=_("brutto"), ordering="gross_total")
    def gross_display(self, obj):
        return format_eur(obj.gross_total)

    @admin.display(description=_("noch offen"))
    def amount_due(self, obj):
        if obj.is_credit_note:
            return "—"
        return format_eur(selectors.invoice_amount_due(obj))

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if not obj.pk:  # the view renders a PDF not rendered yet
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:billing_invoice_pdf", args=[obj.pk]), obj.number)

    # --- custom views ------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/pdf/", wrap(self.pdf_view), name="billing_invoice_pdf"),
            path("<int:object_id>/credit-note/", wrap(self.credit_note_view), name="billing_invoice_credit_note"),
            path("<int:object_id>/payment/", wrap(self.payment_view), name="billing_invoice_payment"),
        ] + super().get_urls()

    def pdf_view(self, request, object_id):
        """The stored PDF, byte for byte (never a re-render; rendered and stored first if the
        issuing process has not got to it yet)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = services.invoice_pdf_ensure(get_object_or_404(Invoice, pk=object_id))
        # A missing or changed file: a German page and an error in the log, never a 500 (GoBD).
        return document_response(request, invoice, filename=f"{invoice.number}.pdf", as_attachment=False)

    def _context(self, request, invoice, title, form):
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "invoice": invoice,
            "amount_due": format_eur(selectors.invoice_amount_due(invoice)),
            "opts": self.model._meta,
            "original": invoice,
        }

    def credit_note_view(self, request, object_id):
        if not self.has_credit_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice, pk=object_id, kind=Invoice.INVOICE)
        form = CreditNoteForm(request.POST or None, invoice=invoice)
        if request.method == "POST" and form.is_valid():
            lines = None if form.cleaned_data["scope"] == "all" else form.chosen_lines()
            try:
                if lines == []:
                    raise InvoiceRefused(_("Bitte mindestens eine Position mit Menge angeben."))
                note = services.credit_note_issue(
                    invoice=invoice, lines=lines, reason=form.cleaned_data["reason"], by=request.user
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                form.add_error(None, exc.messages[0])
            else:
                self.message_user(
                    request,
                    _("%(title)s %(number)s über %(gross)s erstellt und an %(email)s geschrieben.")
                    % {
                        "title": note.document_title,
                        "number": note.number,
                        "gross": format_eur(note.gross_total),
                        "email": note.email,
                    },
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:billing_invoice_change", args=[note.pk]))
        title = _("Rechnungskorrektur / Stornorechnung zu %(number)s erstellen") % {"number": invoice.number}
        return TemplateResponse(
            request, "admin/billing/invoice/credit_note.html", self._context(request, invoice, title, form)
        )

    def payment_view(self, request, object_id):
        if not self.has_pay_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice, pk=object_id, kind=Invoice.INVOICE)
        form = PaymentForm(request.POST or None, initial={"paid_on": clock.today(), "token": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            try:
                payment = services.payment_record(
                    invoice=invoice,
                    amount=form.cleaned_data["amount"],
                    paid_on=form.cleaned_data["paid_on"],
                    by=request.user,
                    token=form.cleaned_data["token"],
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                form.add_error(None, exc.messages[0])
            else:
                invoice.refresh_from_db()
                message = (
                    _("Diese Zahlung über %(amount)s auf %(number)s war schon erfasst; Status: %(state)s.")
                    if payment.recorded_before
                    else _("Zahlung über %(amount)s auf %(number)s erfasst; Status: %(state)s.")
                )
                self.message_user(
                    request,
                    message
                    % {
                        "amount": format_eur(payment.amount),
                        "number": invoice.number,
                        "state": invoice.get_state_display(),
                    },
                    messages.WARNING if payment.recorded_before else messages.SUCCESS,
                )
                return redirect(reverse("admin:billing_invoice_change", args=[invoice.pk]))
        title = _("Zahlung auf %(number)s erfassen") % {"number": invoice.number}
        return TemplateResponse(
            request, "admin/billing/invoice/payment.html", self._context(request, invoice, title, form)
        )

    # --- actions -------------------------------------------------------------------------

    def _one(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Bitte genau eine Rechnung auswählen."), messages.WARNING)
            return None
        invoice = queryset.get()
        if invoice.is_credit_note:
            self.message_user(
                request, _("Das geht nur bei Rechnungen, nicht bei Rechnungskorrekturen."), messages.WARNING
            )
            return None
        return invoice

    @admin.action(description=_("Rechnungskorrektur / Stornorechnung erstellen"), permissions=["credit"])
    def credit_note_action(self, request, queryset):
        invoice = self._one(request, queryset)
        if invoice is not None:
            return redirect(reverse("admin:billing_invoice_credit_note", args=[invoice.pk]))
        return None

    @admin.action(description=_("Zahlung erfassen"), permissions=["pay"])
    def payment_action(self, request, queryset):
        invoice = self._one(request, queryset)
        if invoice is not None:
            return redirect(reverse("admin:billing_invoice_payment", args=[invoice.pk]))
        return None

    @admin.action(description=_("erneut senden"), permissions=["resend"])
    def resend_action(self, request, queryset):
        for invoice in queryset:
            try:
                services.invoice_resend(invoice=invoice, by=request.user)
            except PortalError as exc:
                self.message_user(request, f"{invoice.number}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(number)s wird erneut an %(email)s gesendet (dasselbe PDF).")
                    % {"number": invoice.number, "email": invoice.email},
                    messages.SUCCESS,
                )


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["invoice", "amount", "paid_on", "recorded_at", "recorded_by", "reversed_on"]
    list_select_related = ["invoice", "recorded_by"]
    search_fields = ["invoice__number"]
    date_hierarchy = "paid_on"

    def has_add_permission(self, request):
        return False  # through "Zahlung erfassen" on the invoice

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
