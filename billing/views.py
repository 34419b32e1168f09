"""Billing's pages in the partner portal: new order (form → price → review → confirm),
orders, invoices and credit notes with their stored PDFs, the SEPA mandate, and the
dashboard panel of open invoices.

Thin (STYLE 5): check access with ``partner_required``, take objects through
partner-scoped selectors (another partner's id → 404), parse input with a form, call one
service, render. Refusals are shown as the services word them; nothing ends in a 500.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from billing import rules, selectors, services
from billing.forms import (
    InstallationChoiceForm,
    InvoiceFilterForm,
    MandateAboveLimitForm,
    MandateForm,
    MandateSignForm,
    MultiOrderForm,
    OrderCsvForm,
    OrderForm,
)
from billing.models import DunningNotice, Invoice, Order, SepaMandate
from licensing.models import DeliveryNote, Installation, License
from licensing.selectors.systems import system_facts
from vendorportal import clock
from vendorportal.documents import document_response
from vendorportal.errors import PortalError
from vendorportal.portal.access import admins_reason, partner_required

INVOICES_PER_PAGE = 50
ORDERS_PER_PAGE = 50


def _order_or_404(partner, pk) -> Order:
    try:
        return selectors.partner_order(partner, pk)
    except Order.DoesNotExist:
        raise Http404(_("Diese Bestellung gibt es nicht oder sie gehört nicht zu Ihrem Partnerkonto.")) from None


def _invoice_or_404(partner, pk) -> Invoice:
    try:
        return selectors.partner_invoice(partner, pk)
    except Invoice.DoesNotExist:
        raise Http404(_("Dieses Dokument gibt es nicht oder es gehört nicht zu Ihrem Partnerkonto.")) from None


def _is_admin(request) -> bool:
    return request.partner_user.role == request.partner_user.ADMIN


# --- orders --------------------------------------------------------------------------


@partner_required
def orders_list(request):
    orders = Paginator(selectors.portal_orders(request.partner), ORDERS_PER_PAGE).get_page(request.GET.get("seite"))
    return render(
        request,
        "portal/billing/orders.html",
        {
            "page": orders,
            "is_admin": _is_admin(request),
            "members_reason": "" if _is_admin(request) else admins_reason(request.partner),
            "title": _("Bestellungen"),
        },
    )


def _add_errors(form, exc: Exception) -> None:
    if isinstance(exc, PortalError):
        form.add_error(None, exc.message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _form_errors(form) -> list[str]:
    return [str(message) for messages_ in form.errors.values() for message in messages_]


@partner_required(admin_only=True)
def order_new(request):
    """A new order: a module or bundle for ticked installations (decision ORD-1/ORD-4; the
    live price as you tick) → "Preis berechnen" places the form's draft (pricing again
    changes that draft, it does not pile up drafts) and shows it for review. The other
    ways in: one installation (tier upgrades, Softwarepflege: ``?installation=``) and a CSV."""
    today = clock.today()
    if "installation" in request.GET:
        choice = InstallationChoiceForm(request.GET, partner=request.partner, today=today)
        if choice.is_valid():
            return redirect("portal:order_new_for", installation=choice.cleaned_data["installation"].pk)
    else:
        choice = InstallationChoiceForm(partner=request.partner, today=today)
    form = MultiOrderForm(
        request.POST or None, partner=request.partner, today=today, customer_filter=request.GET.get("kunde", "")
    )
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_draft_place(
                partner=request.partner,
                token=form.cleaned_data["token"],
                lines=form.wishes(),
                delivery_email=form.cleaned_data["delivery_email"],
                invoice_email=form.cleaned_data["invoice_email"],
                by=request.user,
            )
        except (PortalError, ValidationError) as exc:
            _add_errors(form, exc)
        else:
            return redirect("portal:order_detail", pk=order.pk)
    return render(
        request,
        "portal/billing/order_new.html",
        {"form": form, "choice": choice, "title": _("Neue Bestellung")},
    )


@require_POST
@partner_required(admin_only=True)
def order_new_preview(request):
    """The live price of the new-order form: the same ``order_draft_place``, rolled back."""
    form = MultiOrderForm(request.POST, partner=request.partner, today=clock.today())
    if not form.is_valid():
        return _preview_errors(request, _form_errors(form))
    return _rolled_back_preview(
        request,
        lambda: services.order_draft_place(
            partner=request.partner,
            token=f"preview-{uuid.uuid4().hex}",
            lines=form.wishes(),
            delivery_email=form.cleaned_data["delivery_email"],
            invoice_email=form.cleaned_data["invoice_email"],
            by=request.user,
        ),
    )


@partner_required(admin_only=True)
def order_csv(request):
    """A large order as CSV (``server key;article`` per row): the upload is checked row by
    row and shown with a German reason at each bad row; the draft is placed only when
    every row is good (and the partner says so with "Bestellung anlegen")."""
    form = OrderCsvForm(request.POST or None, request.FILES or None)
    verdicts = None
    if request.method == "POST" and form.is_valid():
        kind, term = form.kind_and_term()
        as_package = form.cleaned_data["as_package"]
        verdicts = services.order_rows_check(
            partner=request.partner, rows=form.rows(), kind=kind, term_months=term, as_package=as_package
        )
        if not verdicts:
            form.add_error(None, _("Die Datei enthält keine Bestellzeilen."))
        elif all(v.ok for v in verdicts) and "place" in request.POST:
            try:
                order = services.order_draft_place(
                    partner=request.partner,
                    token=form.cleaned_data["token"],
                    lines=[
                        services.LineWish(
                            product=v.product,
                            kind=kind,
                            installation=v.installation,
                            term_months=term,
                            as_package=as_package and kind == "subscription",
                        )
                        for v in verdicts
                    ],
                    by=request.user,
                )
            except (PortalError, ValidationError) as exc:
                _add_errors(form, exc)
            else:
                return redirect("portal:order_detail", pk=order.pk)
    return render(
        request,
        "portal/billing/order_csv.html",
        {
            "form": form,
            "verdicts": verdicts,
            "all_good": bool(verdicts) and all(v.ok for v in verdicts),
            "bad_count": sum(1 for v in verdicts or [] if not v.ok),
            "title": _("Bestellung per CSV"),
        },
    )


def _draft_or_404(partner, pk) -> Order:
    order = _order_or_404(partner, pk)
    if not order.is_draft:
        raise Http404(_("Nur Entwürfe können geändert werden."))
    return order


@partner_required(admin_only=True)
def order_lines_edit(request, pk: int):
    """Add lines to a draft: a module or bundle for more installations; the whole draft is
    priced again (bundle and volume depend on all its lines)."""
    order = _draft_or_404(request.partner, pk)
    form = MultiOrderForm(
        request.POST or None,
        partner=request.partner,
        today=clock.today(),
        customer_filter=request.GET.get("kunde", ""),
        with_emails=False,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.order_lines_add(order=order, lines=form.wishes())
        except (PortalError, ValidationError) as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Positionen hinzugefügt; die Bestellung ist neu berechnet."))
            return redirect("portal:order_detail", pk=order.pk)
    return render(
        request,
        "portal/billing/order_lines_edit.html",
        {"form": form, "order": order, "title": _("Positionen hinzufügen zu %(ref)s") % {"ref": order.reference}},
    )


@require_POST
@partner_required(admin_only=True)
def order_lines_preview(request, pk: int):
    """The live price of the draft with the wished lines added, rolled back."""
    order = _draft_or_404(request.partner, pk)
    form = MultiOrderForm(request.POST, partner=request.partner, today=clock.today(), with_emails=False)
    if not form.is_valid():
        return _preview_errors(request, _form_errors(form))

    def build():
        services.order_lines_add(order=order, lines=form.wishes())
        return order

    return _rolled_back_preview(request, build)


@require_POST
@partner_required(admin_only=True)
def order_line_remove(request, pk: int, line: int):
    """Take a line out of a draft (the rest is priced again)."""
    order = _draft_or_404(request.partner, pk)
    target = order.lines.filter(pk=line).first()
    if target is None:
        raise Http404(_("Diese Position gibt es in der Bestellung nicht."))
    try:
        services.order_line_remove(order=order, line=target)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Position entfernt; die Bestellung ist neu berechnet."))
    return redirect("portal:order_detail", pk=order.pk)


@partner_required(admin_only=True)
def order_new_for(request, installation: int):
    """Step 2: products, term, upgrades or Softwarepflege → "Preis berechnen" writes a
    priced draft (all or nothing) and shows it for review."""
    try:
        inst = selectors.orderable_installations(request.partner, clock.today()).get(pk=installation)
    except Installation.DoesNotExist:
        raise Http404(_("Diese Installation gibt es nicht, oder für sie kann nicht bestellt werden.")) from None
    form = OrderForm(request.POST or None, installation=inst)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_draft_place(
                partner=request.partner,
                token=form.cleaned_data["token"],
                lines=form.wishes(),
                delivery_email=form.cleaned_data["delivery_email"],
                invoice_email=form.cleaned_data["invoice_email"],
                by=request.user,
                **form.swp_values(),
            )
        except (PortalError, ValidationError) as exc:
            _add_errors(form, exc)
        else:
            return redirect("portal:order_detail", pk=order.pk)
    facts = system_facts(inst) if form.is_system else None
    return render(
        request,
        "portal/billing/order_form.html",
        {"form": form, "installation": inst, "facts": facts, "title": _("Neue Bestellung")},
    )


class _PreviewDone(Exception):
    """Carries the rendered preview out of the transaction that is rolled back."""

    def __init__(self, html: str):
        super().__init__("preview")
        self.html = html


def _preview_errors(request, errors: list[str]) -> HttpResponse:
    return HttpResponse(render_to_string("portal/billing/price_preview.html", {"errors": errors}, request=request))


def _rolled_back_preview(request, build) -> HttpResponse:
    """Run ``build`` (a service call that returns the priced order) inside a transaction
    that is rolled back and render the order's breakdown: the preview is the price the
    partner will get and nothing is written (on PostgreSQL a rolled-back row id is not
    reused, so order references may skip one)."""
    try:
        with transaction.atomic():
            order = build()
            html = render_to_string(
                "portal/billing/price_preview.html",
                {"breakdown": selectors.order_breakdown(order)},
                request=request,
            )
            raise _PreviewDone(html)
    except _PreviewDone as done:
        return HttpResponse(done.html)
    except PortalError as exc:
        return _preview_errors(request, [exc.message])
    except ValidationError as exc:
        return _preview_errors(request, list(exc.messages))


@require_POST
@partner_required(admin_only=True)
def order_price_preview(request, installation: int):
    """The one-installation form's live price (a small script posts the form on every
    change): the same ``order_draft_place`` as "Preis berechnen", rolled back. Without
    JavaScript the partner sees the same breakdown on the review step."""
    try:
        inst = selectors.orderable_installations(request.partner, clock.today()).get(pk=installation)
    except Installation.DoesNotExist:
        raise Http404(_("Diese Installation gibt es nicht, oder für sie kann nicht bestellt werden.")) from None
    form = OrderForm(request.POST, installation=inst)
    if not form.is_valid():
        return _preview_errors(request, _form_errors(form))
    return _rolled_back_preview(
        request,
        lambda: services.order_draft_place(
            partner=request.partner,
            token=f"preview-{uuid.uuid4().hex}",
            lines=form.wishes(),
            delivery_email=form.cleaned_data["delivery_email"],
            invoice_email=form.cleaned_data["invoice_email"],
            by=request.user,
            **form.swp_values(),
        ),
    )


@partner_required
def order_detail(request, pk: int):
    """The order with its price breakdown; for a draft the review step with
    "Verbindlich bestellen"; afterwards its invoice and delivery notes."""
    order = _order_or_404(request.partner, pk)
    breakdown = selectors.order_breakdown(order)
    is_admin = _is_admin(request)
    keys_generated = License.objects.filter(order_lines__order=order).exists()
    cancel_refusal = rules.cancel_refusal(state=order.state, keys_generated=keys_generated)
    return render(
        request,
        "portal/billing/order_detail.html",
        {
            "order": order,
            "breakdown": breakdown,
            "invoice": selectors.order_invoice(order),
            "delivery_notes": selectors.order_delivery_notes(order),
            "installations_count": len({line.installation for line in breakdown.lines}),
            "maintenance": order.lines.filter(swp_kind__gt="", period_start__isnull=False).first(),
            "is_admin": is_admin,
            "removable": is_admin and order.is_draft,
            "can_cancel": cancel_refusal is None,
            "repriced_today": order.order_date == clock.today(),
            "title": _("Bestellung %(ref)s") % {"ref": order.reference},
        },
    )


@require_POST
@partner_required(admin_only=True)
def order_confirm(request, pk: int):
    """ "Verbindlich bestellen": the existing order_confirm service, idempotent — the
    same form posted twice orders once. A draft priced on an earlier day is priced
    again for today and shown once more before it can be confirmed."""
    order = _order_or_404(request.partner, pk)
    try:
        if order.is_draft and order.order_date != clock.today():
            services.order_price(order=order)
            messages.warning(
                request, _("Die Preise wurden für heute neu berechnet. Bitte prüfen und dann verbindlich bestellen.")
            )
            return redirect("portal:order_detail", pk=order.pk)
        was_draft = order.is_draft
        invoice = services.order_confirm(order=order, by=request.user)
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect("portal:order_detail", pk=order.pk)
    if was_draft:
        messages.success(
            request,
            _(
                "Bestellung %(ref)s ist verbindlich bestellt. Rechnung %(number)s und die Lieferscheine (einer je "
                "Installation) gehen per E-Mail raus."
            )
            % {"ref": order.reference, "number": invoice.number},
        )
    else:
        messages.info(request, _("Diese Bestellung war bereits bestellt; es wurde nichts doppelt bestellt."))
    return redirect("portal:order_detail", pk=order.pk)


@require_POST
@partner_required(admin_only=True)
def order_cancel(request, pk: int):
    """Cancel where ORD-9 allows (until a key is generated)."""
    order = _order_or_404(request.partner, pk)
    try:
        services.order_cancel(order=order, by=request.user)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Bestellung %(ref)s ist storniert.") % {"ref": order.reference})
    return redirect("portal:order_detail", pk=order.pk)


@partner_required
def delivery_note_pdf(request, pk: int, note: int):
    """The stored delivery note PDF of one of the partner's orders (byte-identical)."""
    order = _order_or_404(request.partner, pk)
    try:
        stored = selectors.order_delivery_note(order, note)
    except DeliveryNote.DoesNotExist:
        raise Http404(_("Diesen Lieferschein gibt es zu dieser Bestellung nicht.")) from None
    if not stored.pdf:
        raise Http404(_("Zu diesem Lieferschein ist kein PDF gespeichert."))
    return document_response(request, stored, filename=f"{stored.number}.pdf")


# --- invoices and credit notes ------------------------------------------------------------


@partner_required
def invoices_list(request):
    partner = request.partner
    form = InvoiceFilterForm(request.GET or None, years=selectors.invoice_years(partner))
    filters = {}
    if form.is_bound and form.is_valid():
        filters = {
            "state": form.cleaned_data["state"],
            "kind": form.cleaned_data["kind"],
            "year": form.cleaned_data["year"],
        }
    page = Paginator(selectors.invoices_for_partner(partner, **filters), INVOICES_PER_PAGE).get_page(
        request.GET.get("seite")
    )
    dunning = selectors.invoice_dunning_states(page)  # the same reading as the API's (issue 18)
    for row in page:
        row.due = (
            rules.invoice_open_amount(gross=row.gross_total, credited=row.credited, paid=row.paid_amount)
            if not row.is_credit_note
            else None
        )
        # Dunning (issue 18): every level the invoice got; fee and interest are claimed apart
        # from its open amount (on the next invoice), so "noch offen" stays the invoice's own.
        row.dunning_state = None if row.is_credit_note else dunning[row.pk]  # a correction is not dunned
        row.dunning = list(row.dunning_state.notices) if row.dunning_state else []
    query = request.GET.copy()
    query.pop("seite", None)
    return render(
        request,
        "portal/billing/invoices.html",
        {"form": form, "page": page, "query": query.urlencode(), "title": _("Rechnungen und Korrekturen")},
    )


@partner_required
def invoice_pdf(request, pk: int):
    """The stored PDF as issued (the ZUGFeRD file, never re-rendered; rendered and stored
    first if the issuing process has not got to it yet)."""
    invoice = services.invoice_pdf_ensure(_invoice_or_404(request.partner, pk))
    return document_response(request, invoice, filename=f"{invoice.number}.pdf")


@partner_required
def dunning_notice_pdf(request, pk: int):
    """A dunning letter (Zahlungserinnerung, 1. Mahnung, letzte Mahnung) as stored (issue 18)."""
    from billing.services.dunning import dunning_pdf_ensure

    try:
        notice = selectors.partner_dunning_notice(request.partner, pk)
    except DunningNotice.DoesNotExist:
        raise Http404(_("Dieses Schreiben gibt es nicht oder es gehört nicht zu Ihrem Partnerkonto.")) from None
    notice = dunning_pdf_ensure(notice)
    return document_response(request, notice, filename=notice.filename)


# --- SEPA mandate ---------------------------------------------------------------------------


_CONFIRMATION_SENT = _lazy("Die schriftliche Bestätigung geht per E-Mail an %(email)s.")
_MANDATE_FIELDS = {"iban": "iban", "bic": "bic", "signed_on": "signed_on", "account_holder": "account_holder"}


@partner_required(admin_only=True)
def sepa_mandate(request):
    """View the active mandate (and change its "auch über 50 €") and one waiting for its
    signature (with its form to print); enter a new one (IBAN/BIC validated; signed: the old one
    revoked and the open debits moved — ORD-8; not signed yet: it waits), or record the
    signature of the waiting one."""
    partner = request.partner
    active = selectors.partner_mandate(partner)
    pending = selectors.partner_pending_mandate(partner)
    action = request.POST.get("action") if request.method == "POST" else None
    signing, posted_limit = action == "sign", action == "above_limit"
    form = MandateForm(request.POST if request.method == "POST" and not (signing or posted_limit) else None)
    sign_form = MandateSignForm(request.POST if signing else None)
    limit_form = MandateAboveLimitForm(
        request.POST if posted_limit else None, initial={"above_limit": active.above_limit if active else False}
    )
    if signing and pending is None:
        messages.error(request, _("Es wartet kein SEPA-Mandat auf eine Unterschrift."))
        return redirect(reverse("portal:sepa_mandate"))
    if signing and sign_form.is_valid():
        try:
            mandate = services.sepa_mandate_sign(
                mandate=pending, signed_on=sign_form.cleaned_data["signed_on"], by=request.user
            )
        except ValidationError as exc:
            sign_form.add_error("signed_on", exc.messages)
        except PortalError as exc:
            sign_form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("SEPA-Mandat %(reference)s ist unterschrieben und aktiv.") % {"reference": mandate.reference}
            )
            messages.info(request, _CONFIRMATION_SENT % {"email": partner.invoice_email})
            return redirect(reverse("portal:sepa_mandate"))
    if posted_limit and active is not None and limit_form.is_valid():
        try:
            services.sepa_mandate_set_above_limit(
                mandate=active, above_limit=limit_form.cleaned_data["above_limit"], by=request.user
            )
        except PortalError as exc:
            limit_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Ihre Wahl zu Lastschriften über 50 € ist gespeichert."))
            return redirect(reverse("portal:sepa_mandate"))
    if request.method == "POST" and not (signing or posted_limit) and form.is_valid():
        data = form.cleaned_data
        try:
            mandate = services.sepa_mandate_enter(
                partner=partner,
                account_holder=data["account_holder"],
                iban=data["iban"],
                bic=data["bic"],
                signed_on=data["signed_on"],
                above_limit=data["above_limit"],
                token=data["token"],
                by=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(_MANDATE_FIELDS.get(field), errors)
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            if mandate.signed_on:
                text = _("SEPA-Mandat %(reference)s ist erfasst.")
            else:
                text = _(
                    "SEPA-Mandat %(reference)s ist angelegt und wartet auf die Unterschrift: bitte das Formular "
                    "herunterladen, unterschreiben lassen und danach das Datum der Unterschrift erfassen."
                )
            messages.success(request, text % {"reference": mandate.reference})
            messages.info(request, _CONFIRMATION_SENT % {"email": partner.invoice_email})
            return redirect(reverse("portal:sepa_mandate"))
    return render(
        request,
        "portal/billing/sepa_mandate.html",
        {
            "mandate": active,
            "pending": pending,
            "form": form,
            "sign_form": sign_form,
            "limit_form": limit_form,
            "title": _("SEPA-Lastschriftmandat"),
        },
    )


@partner_required(admin_only=True)
def sepa_mandate_pdf(request, pk: int):
    """The mandate as a PDF form to print and sign, with creditor ID and mandate reference —
    also before it is signed. Another partner's mandate: 404."""
    from billing.mandate_pdf import mandate_filename, mandate_pdf

    try:
        mandate = selectors.partner_sepa_mandate(request.partner, pk)
    except SepaMandate.DoesNotExist:
        raise Http404(_("Dieses Mandat gibt es nicht oder es gehört nicht zu Ihrem Partnerkonto.")) from None
    response = HttpResponse(mandate_pdf(mandate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{mandate_filename(mandate)}"'
    return response


# --- dashboard -----------------------------------------------------------------------------


def invoices_panel(request, partner) -> dict:
    """Dashboard panel: open and overdue invoices with the amounts still due."""
    return selectors.open_invoices_summary(partner)
