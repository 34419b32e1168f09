from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _

from vendorportal.security.selectors import has_confirmed_device
from vendorportal.security.services import TokenInvalid, login_failure_record, totp_token_check


class StaffAuthenticationForm(AdminAuthenticationForm):
    """The admin login: user name, password, and the TOTP code if the user has set up a device."""

    otp_token = forms.CharField(
        label=_("Bestätigungscode"),
        required=False,
        max_length=8,
        help_text=_("Nur mit eingerichteter Zwei-Faktor-Anmeldung: der sechsstellige Code aus der Authenticator-App."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "token_required": _(
            "Für dieses Konto ist die Zwei-Faktor-Anmeldung eingerichtet: Bitte Bestätigungscode eingeben."
        ),
    }

    def clean(self):
        cleaned = super().clean()  # password (and lockout) first; a code alone reveals nothing
        user = self.get_user()
        if user is None or not has_confirmed_device(user):
            return cleaned
        token = cleaned.get("otp_token", "")
        if not token:
            raise forms.ValidationError(self.error_messages["token_required"], code="token_required")
        try:
            device = totp_token_check(user=user, token=token)
        except TokenInvalid as exc:
            login_failure_record(request=self.request, username=user.get_username())
            raise forms.ValidationError(exc.message, code="invalid_token") from exc
        # django_otp marks the session as verified on login when the user carries the device.
        user.otp_device = device
        return cleaned


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Bestätigungscode"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
