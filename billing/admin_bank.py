"""Finance's bank statements (issue 18): upload a camt.053 file, see what each entry became,
assign a waiting credit to an invoice by hand, or a waiting returned direct debit to its debit.
Upload needs ``billing.add_bankstatement``, assigning a credit ``billing.pay_invoice`` (the same
right as "Zahlung erfassen"); both call one service of :mod:`billing.services.bank`. Assigning
a return reverses a payment, adds a charge and may suspend a mandate, so it needs
``billing.pay_invoice``, ``billing.add_charge`` and ``billing.change_sepamandate`` (finance)
and calls :func:`billing.services.returns.debit_return_assign`."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from billing import rules
from billing.models import BankEntry, BankStatement, Invoice
from billing.services.bank import bank_entry_assign, bank_statement_import
from billing.services.returns import debit_return_assign
from vendorportal.errors import PortalError
from vendorportal.form_fields import GermanDecimalField
from vendorportal.money import format_eur

admin.site.area_add(
    "billing",
    title=_("Bestellungen und Rechnungen"),
    order=50,
    models=["billing.bankstatement", "billing.bankentry"],
)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=_("Kontoauszug (camt.053, XML)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("Die Datei ist größer als 50 MB."))
        return upload


class AssignForm(forms.Form):
    invoice_number = forms.CharField(label=_("Rechnungsnummer"), max_length=20, help_text=_("z. B. RE-2026-000042"))
    amount = GermanDecimalField(
        label=_("Betrag (EUR)"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("leer = alles noch nicht Zugeordnete"),
    )

    def clean_invoice_number(self):
        number = self.cleaned_data["invoice_number"].strip().upper()
        # Copied from the remittance text as the bank wrote it ("RE 2026 000003", "re2026000003"):
        # read the way the import reads it.
        number = next(iter(rules.invoice_numbers_in(number)), number)
        invoice = Invoice.objects.filter(number=number, kind=Invoice.INVOICE).first()
        if invoice is None:
            raise forms.ValidationError(_("Eine Rechnung %(number)s gibt es nicht.") % {"number": number})
        self.invoice = invoice
        return number


class ReturnAssignForm(forms.Form):
    invoice_number = forms.CharField(
        label=_("Rechnungsnummer der Lastschrift"),
        max_length=20,
        help_text=_("die End-to-End-Referenz der eingezogenen Lastschrift, z. B. RE-2026-000042"),
    )


RETURN_ASSIGN_PERMISSIONS = ("billing.pay_invoice", "billing.add_charge", "billing.change_sepamandate")


def can_assign_return(user) -> bool:
    return user.has_perms(RETURN_ASSIGN_PERMISSIONS)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BankStatement)
class BankStatementAdmin(_ReadOnly):
    list_display = ["statement_id", "iban", "file_name", "imported_at", "imported_by"]
    search_fields = ["statement_id", "iban", "file_name"]
    readonly_fields = list_display
    change_list_template = "admin/billing/bankstatement/change_list.html"

    def get_urls(self):
        return [
            path("einlesen/", self.admin_site.admin_view(self.upload_view), name="billing_bankstatement_upload"),
            *super().get_urls(),
        ]

    def has_upload_permission(self, request) -> bool:
        return request.user.has_perm("billing.add_bankstatement")

    def changelist_view(self, request, extra_context=None):
        extra = {"can_upload": self.has_upload_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def upload_view(self, request):
        if not self.has_upload_permission(request):
            raise PermissionDenied
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = bank_statement_import(content=upload.read(), file_name=upload.name, by=request.user)
            except PortalError as exc:
                form.add_error("file", exc.message)
            else:
                self.message_user(request, result.summary(), messages.SUCCESS)
                return redirect(reverse("admin:billing_bankentry_changelist") + "?state__exact=unmatched")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Kontoauszug einlesen"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/bankstatement/upload.html", context)


@admin.register(BankEntry)
class BankEntryAdmin(_ReadOnly):
    list_display = [
        "booked_on",
        "amount_display",
        "credit",
        "party_name",
        "remittance",
        "state",
        "rest",
        "invoice_list",
    ]
    list_filter = ["state", "credit"]
    search_fields = ["reference", "party_name", "remittance", "end_to_end_id", "invoices__number"]
    list_select_related = ["statement"]
    show_full_result_count = False
    date_hierarchy = "booked_on"
    readonly_fields = [
        "statement",
        "reference",
        "booked_on",
        "value_on",
        "amount",
        "credit",
        "party_name",
        "party_iban",
        "remittance",
        "end_to_end_id",
        "return_reason",
        "charges",
        "state",
        "rest",
        "note",
        "invoice_list",
    ]
    exclude = ["invoices", "iban"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("invoices")

    def get_urls(self):
        return [
            path(
                "<int:object_id>/zuordnen/",
                self.admin_site.admin_view(self.assign_view),
                name="billing_bankentry_assign",
            ),
            path(
                "<path:object_id>/ruecklastschrift-zuordnen/",
                self.admin_site.admin_view(self.assign_return_view),
                name="billing_bankentry_assign_return",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_assign_return": can_assign_return(request.user), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    @admin.display(description=_("Betrag"), ordering="amount")
    def amount_display(self, entry):
        return format_eur(entry.amount if entry.credit else -entry.amount)

    @admin.display(description=_("Rechnungen"))
    def invoice_list(self, entry):
        return format_html_join(", ", "{}", ((i.number,) for i in entry.invoices.all())) or "—"

    def assign_view(self, request, object_id):
        if not request.user.has_perm("billing.pay_invoice"):
            raise PermissionDenied
        entry = get_object_or_404(BankEntry, pk=object_id, credit=True)
        form = AssignForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                bank_entry_assign(
                    entry=entry, invoice=form.invoice, amount=form.cleaned_data["amount"], by=request.user
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("Umsatz %(ref)s auf %(number)s gebucht.")
                    % {"ref": entry.reference, "number": form.invoice.number},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:billing_bankentry_change", args=[entry.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Umsatz %(ref)s zuordnen (%(amount)s offen)")
            % {"ref": entry.reference, "amount": format_eur(entry.rest)},
            "form": form,
            "entry": entry,
            "opts": self.model._meta,
            "original": entry,
        }
        return TemplateResponse(request, "admin/billing/bankentry/assign.html", context)

    def assign_return_view(self, request, object_id):
        if not can_assign_return(request.user):
            raise PermissionDenied
        entry = get_object_or_404(BankEntry, pk=object_id, credit=False)
        form = ReturnAssignForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                done = debit_return_assign(
                    entry=entry, invoice_number=form.cleaned_data["invoice_number"], by=request.user
                )
            except PortalError as exc:
                form.add_error("invoice_number", exc.message)
            else:
                message = _("Rücklastschrift %(ref)s der Lastschrift zu %(number)s zugeordnet.") % {
                    "ref": entry.reference,
                    "number": done.number,
                }
                self.log_change(request, entry, str(message))
                self.message_user(request, message, messages.SUCCESS)
                return redirect(reverse("admin:billing_bankentry_change", args=[entry.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Rücklastschrift %(ref)s zuordnen (%(amount)s, Grund %(code)s)")
            % {"ref": entry.reference, "amount": format_eur(entry.amount), "code": entry.return_reason or "—"},
            "form": form,
            "entry": entry,
            "opts": self.model._meta,
            "original": entry,
        }
        return TemplateResponse(request, "admin/billing/bankentry/assign.html", context)
