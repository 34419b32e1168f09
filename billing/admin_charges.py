"""Finance's list of charges (Nebenforderungen, issue 18): return fees, dunning fees and default
interest waiting for the partner's next invoicing run, and the invoice that billed each.

The list and each charge with its history are read-only (a billed charge is part of an issued
invoice; nobody edits or deletes one). Adding by hand (``billing.add_charge``, finance) is an
own page that calls :func:`billing.services.charges.charge_add` with a reason, which the
history keeps; the form carries a one-time key, so a double post adds one charge.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from billing.models import Charge, Invoice
from billing.services.charges import charge_add
from vendorportal.errors import PortalError
from vendorportal.form_fields import GermanDecimalField
from vendorportal.money import format_eur
from vendorportal.parties.models import Partner

admin.site.area_add("billing", title=_("Bestellungen und Rechnungen"), order=50, models=["billing.charge"])


class ChargeAddForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=Partner.objects.order_by("company"), label=_("Partner"))
    kind = forms.ChoiceField(choices=Charge.KIND_CHOICES, label=_("Art"))
    # "12,50" as finance types it (issue 21: every admin money field reads German amounts).
    amount = GermanDecimalField(label=_("Betrag (EUR)"), max_digits=12, decimal_places=2)
    description = forms.CharField(
        label=_("Beschreibung"), max_length=300, help_text=_("steht so als Position auf der Rechnung")
    )
    source_invoice = forms.CharField(
        label=_("zu Rechnung"), max_length=20, required=False, help_text=_("optional, z. B. RE-2026-000042")
    )
    reason = forms.CharField(
        label=_("Grund"), max_length=300, help_text=_("warum die Nebenforderung von Hand erfasst wird")
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def clean_source_invoice(self):
        number = self.cleaned_data["source_invoice"].strip().upper()
        if not number:
            return None
        invoice = Invoice.objects.filter(number=number, kind=Invoice.INVOICE).first()
        if invoice is None:
            raise forms.ValidationError(_("Eine Rechnung %(number)s gibt es nicht.") % {"number": number})
        return invoice


@admin.register(Charge)
class ChargeAdmin(SimpleHistoryAdmin):
    list_display = ["created_at", "partner", "kind", "amount_display", "description", "source_invoice", "billed_on"]
    list_filter = ["kind", ("billed_on", admin.EmptyFieldListFilter)]
    search_fields = ["partner__company", "description", "source_invoice__number", "billed_on__number"]
    list_select_related = ["partner", "source_invoice", "billed_on"]
    show_full_result_count = False
    date_hierarchy = "created_at"
    fields = readonly_fields = [
        "partner",
        "kind",
        "amount",
        "description",
        "source_invoice",
        "reason",
        "created_at",
        "created_by",
        "billed_on",
        "dedup_key",
    ]

    @admin.display(description=_("Betrag"), ordering="amount")
    def amount_display(self, charge):
        return format_eur(charge.amount)

    def has_change_permission(self, request, obj=None):
        return False  # read-only: billed ones belong to an issued invoice (INV-1)

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """Finance adds a charge by hand, with a reason (``billing.add_charge``)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ChargeAddForm(request.POST or None, initial={"token": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                charge = charge_add(
                    partner=data["partner"],
                    kind=data["kind"],
                    amount=data["amount"],
                    description=data["description"],
                    source_invoice=data["source_invoice"],
                    reason=data["reason"],
                    dedup_key=f"manual:{data['token']}",
                    by=request.user,
                )
            except PortalError as refused:
                form.add_error(None, refused.message)
            else:
                self.message_user(
                    request,
                    _(
                        "Nebenforderung über %(amount)s für %(partner)s erfasst; sie wird mit dem nächsten Rechnungslauf berechnet."
                    )
                    % {"amount": format_eur(charge.amount), "partner": charge.partner},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:billing_charge_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Nebenforderung von Hand erfassen"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/charge/add.html", context)
