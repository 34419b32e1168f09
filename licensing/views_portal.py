"""Partner portal: customers and installations, licence keys with their delivery notes,
the licence self-check (LIC-3), article data (CAT-7) and the price list.

Thin (STYLE 5): check access (``partner_required``; changes are for the partner's
administrators), fetch through the partner-scoped selectors of
:mod:`licensing.selectors.portal` (another partner's id is 404), call one service, render.
"""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from licensing.exports import ARTICLE_COLUMNS, article_csv_row
from licensing.models import DeliveryNote, Installation
from licensing.portal_forms import CustomerForm, InstallationForm, LicenseCheckForm, add_service_errors
from licensing.price_list import price_list_context
from licensing.selectors import portal as selectors
from licensing.selectors.catalog import article_rows
from licensing.services.installations import installation_create, installation_has_keys, installation_update
from licensing.services.licenses import license_diagnose
from vendorportal import clock
from vendorportal.documents import document_response
from vendorportal.errors import PortalError
from vendorportal.formats import format_date
from vendorportal.parties.models import Customer, PartnerUser
from vendorportal.parties.services import customer_create, customer_update
from vendorportal.pdf import render_pdf_cached
from vendorportal.portal.access import partner_required
from vendorportal.portal.pagination import paginate


def _is_admin(request) -> bool:
    return request.partner_user.role == PartnerUser.ADMIN


def _customer_or_404(request, pk: int) -> Customer:
    try:
        return selectors.partner_customer(partner=request.partner, pk=pk)
    except Customer.DoesNotExist:
        raise Http404(_("Diesen Kunden gibt es nicht oder er gehört nicht zu Ihrem Partnerkonto.")) from None


def _installation_or_404(request, pk: int) -> Installation:
    try:
        return selectors.partner_installation(partner=request.partner, pk=pk)
    except Installation.DoesNotExist:
        raise Http404(_("Diese Installation gibt es nicht oder sie gehört nicht zu Ihren Kunden.")) from None


# --- customers -----------------------------------------------------------------------------


@require_GET
@partner_required
def customers_list(request):
    page = paginate(request, selectors.partner_customers(request.partner))
    return render(
        request,
        "portal/licensing/customers.html",
        {"page": page, "can_change": _is_admin(request), "title": _("Kunden")},
    )


@partner_required(admin_only=True)
def customer_create_view(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_create(partner=request.partner, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Kunde „%(name)s“ angelegt.") % {"name": customer.company})
            return redirect("portal:installations_for_customer", customer.pk)
    return render(request, "portal/licensing/customer_form.html", {"form": form, "title": _("Neuer Kunde")})


@partner_required(admin_only=True)
def customer_edit_view(request, pk: int):
    customer = _customer_or_404(request, pk)
    initial = {name: getattr(customer, name) for name in CustomerForm.base_fields}
    form = CustomerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            customer_update(customer=customer, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Kunde „%(name)s“ gespeichert.") % {"name": form.cleaned_data["company"]})
            return redirect("portal:customers")
    return render(
        request,
        "portal/licensing/customer_form.html",
        {"form": form, "customer": customer, "title": _("Kunde bearbeiten")},
    )


# --- installations -------------------------------------------------------------------------


@require_GET
@partner_required
def installations_list(request, customer_pk: int | None = None):
    customer = _customer_or_404(request, customer_pk) if customer_pk is not None else None
    page = paginate(request, selectors.partner_installations(request.partner, customer=customer))
    return render(
        request,
        "portal/licensing/installations.html",
        {
            "page": page,
            "customer": customer,
            "can_change": _is_admin(request),
            "title": customer.company if customer else _("Installationen"),
        },
    )


@partner_required(admin_only=True)
def installation_create_view(request):
    initial = {}
    if request.GET.get("kunde", "").isdigit():
        initial["customer"] = request.GET["kunde"]
    form = InstallationForm(request.POST or None, initial=initial, partner=request.partner)
    if request.method == "POST" and form.is_valid():
        try:
            installation = installation_create(
                customer=form.cleaned_data["customer"],
                secondary_of=form.cleaned_data["secondary_of"],
                by=request.user,
                **form.service_fields(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Installation %(id)s angelegt.") % {"id": installation.identifier})
            return redirect("portal:installations_for_customer", installation.customer_id)
    return render(request, "portal/licensing/installation_form.html", {"form": form, "title": _("Neue Installation")})


@partner_required(admin_only=True)
def installation_edit_view(request, pk: int):
    installation = _installation_or_404(request, pk)
    keys_bound = installation_has_keys(installation)
    initial = {
        "name": installation.name,
        "edition": installation.edition,
        "identifier": installation.identifier,
        "pbx_users": installation.pbx_users,
        "user_light_licenses": installation.user_light_licenses,
        "pbx_version": installation.pbx_version,
        "delivery_email": installation.delivery_email,
        "secondary_of": installation.secondary_of_id,
    }
    form = InstallationForm(
        request.POST or None, initial=initial, partner=request.partner, installation=installation, keys_bound=keys_bound
    )
    if request.method == "POST" and form.is_valid():
        try:
            installation_update(
                installation=installation,
                secondary_of=form.cleaned_data["secondary_of"],
                by=request.user,
                **form.service_fields(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Installation %(id)s gespeichert.") % {"id": installation.identifier})
            return redirect("portal:installations_for_customer", installation.customer_id)
    return render(
        request,
        "portal/licensing/installation_form.html",
        {"form": form, "installation": installation, "title": _("Installation bearbeiten")},
    )


# --- licence keys, delivery notes, self-check ------------------------------------------------


@require_GET
@partner_required
def licenses_list(request):
    page = paginate(request, selectors.partner_licenses(request.partner))
    return render(request, "portal/licensing/licenses.html", {"page": page, "title": _("Lizenzen")})


@require_GET
@partner_required
def delivery_note_pdf(request, pk: int):
    """The stored PDF as it went out (ORD-2): never re-rendered."""
    try:
        note = selectors.partner_delivery_note(partner=request.partner, pk=pk)
    except DeliveryNote.DoesNotExist:
        raise Http404(_("Diesen Lieferschein gibt es nicht oder er gehört nicht zu Ihren Kunden.")) from None
    stem = pgettext("file name", "Lieferschein")
    return document_response(request, note, filename=f"{stem}-{note.number}.pdf")


@partner_required
def license_check_view(request):
    """LIC-3: why is a key (not) accepted? Any input gives a verdict or a form error."""
    form = LicenseCheckForm(request.POST or None)
    diagnosis = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            diagnosis = license_diagnose(
                key_text=data["key"],
                identifier=data["identifier"],
                identifier_kind=data["identifier_kind"],
                module_code=data["module"].article if data["module"] else None,
                installed_version=data["installed_version"] or None,
                today=clock.today(),
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
    return render(
        request,
        "portal/licensing/license_check.html",
        {"form": form, "diagnosis": diagnosis, "title": _("Lizenzschlüssel prüfen")},
    )


# --- article data and price list -----------------------------------------------------------


def _rows_or_404():
    today = clock.today()
    rows = article_rows(today)
    if not rows:
        raise Http404(_("Am %(date)s gilt keine Preisliste.") % {"date": format_date(today)})
    return today, rows


@require_GET
@partner_required
def articles_csv(request):
    """CAT-7: the article data with prices for the partner's ERP, as ``export_articles`` writes it."""
    today, rows = _rows_or_404()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stem = pgettext("file name", "Artikeldaten")
    response["Content-Disposition"] = f'attachment; filename="{stem}-{today:%Y-%m-%d}.csv"'
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow(ARTICLE_COLUMNS)
    writer.writerows(article_csv_row(row) for row in rows)
    return response


@require_GET
@partner_required
def price_list_pdf(request):
    """The price list as PDF (CAT-7): rendered once per version of what it shows, then served
    from the file (the same for every partner: no partner's data is in it)."""
    today, rows = _rows_or_404()
    pdf = render_pdf_cached(
        "documents/price_list.html", price_list_context(rows, on=today), folder=settings.PRICE_LIST_CACHE_DIR
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    stem = pgettext("file name", "Preisliste")
    response["Content-Disposition"] = f'attachment; filename="{stem}-{today:%Y-%m-%d}.pdf"'
    return response
