"""Portal pages "Webhooks" (issue 19), for a partner's administrators, beside "API-Zugänge":
register an endpoint (the secret is shown once), change, pause and resume it, make a new
secret, delete it; the delivery log with "erneut senden". Each view: check access, parse,
call one service, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from vendorportal.errors import PortalError
from vendorportal.portal.access import partner_required

from . import selectors
from .constants import EVENT_CHOICES
from .delivery import webhook_delivery_resend
from .services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_pause,
    webhook_endpoint_resume,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"), max_length=500, help_text=_("HTTPS-Adresse Ihres Systems, z. B. https://shop.example/hooks")
    )
    description = forms.CharField(label=_("Beschreibung"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Ereignisse"), choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple
    )


def _call(form, service, **kwargs):
    try:
        return service(**kwargs)
    except PortalError as exc:
        form.add_error(None, exc.message)
        return None


@partner_required(admin_only=True)
def endpoints_view(request):
    form = EndpointForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        created = _call(
            form,
            webhook_endpoint_create,
            partner=request.partner,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
            by=request.user,
        )
        if created is not None:
            secret = created.secret
            form = EndpointForm()
    return render(
        request,
        "portal/webhooks/endpoints.html",
        {
            "form": form,
            "endpoints": selectors.partner_endpoints(request.partner),
            "secret": secret,
            "title": _("Webhooks"),
        },
    )


@partner_required(admin_only=True)
def endpoint_view(request, pk: int):
    endpoint = selectors.partner_endpoint(request.partner, pk)
    initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.event_list}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = _call(
            form,
            webhook_endpoint_update,
            endpoint=endpoint,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
        )
        if changed is not None:
            messages.success(request, _("Der Endpunkt ist gespeichert."))
            return redirect("portal:webhook", pk=endpoint.pk)
    # One row more than shown tells whether there are older ones, without counting them all.
    deliveries = list(selectors.endpoint_deliveries(endpoint, with_attempts=True)[: selectors.LOG_LIMIT + 1])
    return render(
        request,
        "portal/webhooks/endpoint.html",
        {
            "endpoint": endpoint,
            "form": form,
            "deliveries": deliveries[: selectors.LOG_LIMIT],
            "more": len(deliveries) > selectors.LOG_LIMIT,
            "limit": selectors.LOG_LIMIT,
            "title": _("Webhook-Endpunkt"),
        },
    )


@partner_required(admin_only=True)
def endpoint_state_view(request, pk: int):
    endpoint = selectors.partner_endpoint(request.partner, pk)
    if request.method == "POST":
        if endpoint.is_active:
            webhook_endpoint_pause(endpoint=endpoint)
            messages.success(request, _("Der Endpunkt ist pausiert."))
        else:
            webhook_endpoint_resume(endpoint=endpoint)
            messages.success(request, _("Der Endpunkt ist wieder aktiv."))
    return redirect("portal:webhook", pk=endpoint.pk)


@partner_required(admin_only=True)
def endpoint_secret_view(request, pk: int):
    endpoint = selectors.partner_endpoint(request.partner, pk)
    if request.method != "POST":
        return redirect("portal:webhook", pk=endpoint.pk)
    rotated = webhook_endpoint_rotate_secret(endpoint=endpoint)
    return render(
        request,
        "portal/webhooks/secret.html",
        {"endpoint": rotated.endpoint, "secret": rotated.secret, "title": _("Neuer Signaturschlüssel")},
    )


@partner_required(admin_only=True)
def endpoint_delete_view(request, pk: int):
    endpoint = selectors.partner_endpoint(request.partner, pk)
    if request.method == "POST":
        webhook_endpoint_delete(endpoint=endpoint)
        messages.success(request, _("Der Endpunkt %(url)s ist gelöscht.") % {"url": endpoint.url})
        return redirect("portal:webhooks")
    return render(request, "portal/webhooks/delete.html", {"endpoint": endpoint, "title": _("Endpunkt löschen")})


@partner_required(admin_only=True)
def delivery_resend_view(request, pk: int, delivery_pk: int):
    delivery = selectors.partner_delivery(request.partner, endpoint_id=pk, pk=delivery_pk)
    if request.method == "POST":
        try:
            webhook_delivery_resend(delivery=delivery)
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Die Zustellung wird erneut gesendet."))
    return redirect("portal:webhook", pk=pk)
