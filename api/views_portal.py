"""Portal pages of the API area: a partner admin's API tokens ("API-Zugänge") — create one
(name, scopes, optional expiry; the token is shown once), see when each was used, revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from api.models import SCOPE_CHOICES, ApiToken
from api.services import api_token_create, api_token_revoke
from vendorportal.errors import PortalError
from vendorportal.portal.access import partner_required


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("z. B. „Shop“ oder „ERP“"))
    scopes = forms.MultipleChoiceField(
        label=_("Rechte"), choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple, initial=["read"]
    )
    expires_on = forms.DateField(
        label=_("gültig bis"),
        required=False,
        help_text=_("leer = unbefristet"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


@partner_required(admin_only=True)
def tokens_view(request):
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created = api_token_create(
                partner=request.partner,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_on=form.cleaned_data["expires_on"],
                by=request.user,
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            secret = created.secret
            form = TokenForm()
    tokens = ApiToken.objects.filter(partner=request.partner).select_related("created_by")
    return render(
        request,
        "portal/api/tokens.html",
        {"form": form, "tokens": tokens, "secret": secret, "title": _("API-Zugänge")},
    )


@partner_required(admin_only=True)
def token_revoke_view(request, pk: int):
    token = ApiToken.objects.filter(partner=request.partner, pk=pk).first()
    if token is None:
        raise Http404
    if request.method == "POST":
        api_token_revoke(token=token, by=request.user)
        messages.success(request, _("Der API-Zugang „%(name)s“ ist widerrufen.") % {"name": token.name})
        return redirect("portal:api_tokens")
    return render(request, "portal/api/revoke.html", {"token": token, "title": _("API-Zugang widerrufen")})
