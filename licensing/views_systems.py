"""Partner portal: Auerswald systems with their Softwarepflege (SWP-8, SYS-2) and the
re-initialisation after a reset (SYS-1). Thin: check access, call one selector or
service, render."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from licensing import rules
from licensing.models import Installation
from licensing.selectors.systems import partner_system, systems_overview_for_partner
from licensing.services.systems import system_reinitialise
from vendorportal import clock
from vendorportal.portal.access import partner_required


class ReinitialisationForm(forms.Form):
    initialisation_code = forms.CharField(
        label=_("Initialisierungscode"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 70, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "Steht auf der TK-Anlage unter Administration > Lizenzen. Zeilenumbrüche und Leerzeichen werden ignoriert."
        ),
        error_messages={"required": _("Bitte den Initialisierungscode der Anlage einfügen.")},
    )


@partner_required
def systems_list(request):
    partner = request.partner
    today = clock.today()
    return render(
        request,
        "portal/systems/list.html",
        {
            "partner": partner,
            "today": today,
            "rows": systems_overview_for_partner(partner=partner, today=today),
            "title": _("Auerswald-Systeme"),
        },
    )


@partner_required
def system_reinitialise_view(request, pk: int):
    partner = request.partner
    try:
        system = partner_system(partner=partner, pk=pk, today=clock.today())
    except Installation.DoesNotExist:
        raise Http404(_("Dieses System gibt es nicht oder es gehört nicht zu Ihren Kunden.")) from None
    reinitialisation = None
    form = ReinitialisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reinitialisation = system_reinitialise(
                installation=system, initialisation_code=form.cleaned_data["initialisation_code"], by=request.user
            )
        except rules.LicensingError as exc:
            form.add_error("initialisation_code", exc.message)
    return render(
        request,
        "portal/systems/reinitialise.html",
        {"system": system, "form": form, "reinitialisation": reinitialisation, "title": _("Zertifikat neu erstellen")},
    )
