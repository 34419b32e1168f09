"""Partner logins, managed by the partner's own administrators: list, invite, deactivate.

Thin (STYLE 5): ``partner_required(admin_only=True)``, the login fetched within the
partner (another partner's id is 404), one service from :mod:`vendorportal.parties.services`.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from vendorportal.errors import PortalError
from vendorportal.parties.models import Partner, PartnerUser
from vendorportal.parties.services import partner_language_set, partner_user_deactivate, partner_user_invite
from vendorportal.portal.access import partner_required


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-Mail-Adresse"),
        help_text=gettext_lazy(
            "Dorthin geht die Einladung mit einem Link zum Setzen des Passworts; sie ist zugleich der Benutzername."
        ),
    )
    first_name = forms.CharField(label=gettext_lazy("Vorname"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Nachname"), max_length=150, required=False)
    role = forms.ChoiceField(
        label=gettext_lazy("Rolle"),
        choices=PartnerUser.ROLE_CHOICES,
        initial=PartnerUser.MEMBER,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Mitarbeiter sehen alles und eröffnen Tickets; Administratoren ändern Daten, bestellen und verwalten Zugänge."
        ),
    )


class DocumentLanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Sprache der Dokumente"),
        choices=Partner._meta.get_field("language").choices,
        help_text=gettext_lazy(
            "Rechnungen, Lieferscheine, Bestätigungen und E-Mails an den Partner in dieser Sprache."
        ),
    )


def _logins(partner):
    return (
        PartnerUser.objects.filter(partner=partner)
        .select_related("user")
        .order_by("-user__is_active", "user__username")
    )


@require_GET
@partner_required(admin_only=True)
def logins_list(request):
    return render(
        request,
        "portal/logins/list.html",
        {
            "logins": _logins(request.partner),
            "me": request.partner_user,
            "title": _("Zugänge"),
            "language_form": DocumentLanguageForm(initial={"language": request.partner.language}),
        },
    )


@partner_required(admin_only=True)
def login_invite(request):
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = partner_user_invite(partner=request.partner, by=request.user, **form.cleaned_data)
        except PortalError as exc:
            form.add_error("email", exc.message)
        else:
            messages.success(request, _("Einladung an %(email)s verschickt.") % {"email": membership.user.email})
            return redirect("portal:logins")
    return render(request, "portal/logins/invite.html", {"form": form, "title": _("Zugang einladen")})


@partner_required(admin_only=True)
def login_deactivate(request, pk: int):
    """GET asks for confirmation (a deactivated login is switched on again only by staff), POST does it."""
    membership = PartnerUser.objects.filter(partner=request.partner, pk=pk).select_related("user").first()
    if membership is None:
        raise Http404(_("Diesen Zugang gibt es in Ihrem Partnerkonto nicht."))
    if request.method != "POST":
        return render(
            request, "portal/logins/deactivate.html", {"login": membership, "title": _("Zugang deaktivieren")}
        )
    try:
        partner_user_deactivate(partner_user=membership, by=request.user)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Zugang %(name)s deaktiviert.") % {"name": membership.user.get_username()})
    return redirect("portal:logins")


@require_POST
@partner_required(admin_only=True)
def partner_language(request):
    """The partner's document language (issue 21), set by a partner administrator."""
    form = DocumentLanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Bitte eine der angebotenen Sprachen wählen."))
        return redirect("portal:logins")
    partner_language_set(partner=request.partner, language=form.cleaned_data["language"], by=request.user)
    messages.success(request, _("Dokumente und E-Mails gehen künftig in der gewählten Sprache an Sie."))
    return redirect("portal:logins")
