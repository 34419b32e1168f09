"""Forms of licensing's portal pages: they parse input; the rules are the services' and the model's."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from licensing import rules
from licensing.constants import VENDOR_CHOICES
from licensing.models import Installation, Product
from licensing.models.installations import EDITIONS
from licensing.validators import PLAUSIBLE_MAX_USERS, validate_country_code

# The longest thing a partner pastes: a key of several redundancy bindings, with spaces
# and line breaks. Anything longer is not a key and is refused before any decoding.
KEY_MAX_LENGTH = 2000


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ``ValidationError`` at the form's fields, the rest above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields and field != NON_FIELD_ERRORS else None
        form.add_error(target, errors)


class CustomerForm(forms.Form):
    company = forms.CharField(label=_("Firma"), max_length=200)
    street = forms.CharField(label=_("Straße und Hausnummer"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("PLZ"), max_length=12, required=False)
    city = forms.CharField(label=_("Ort"), max_length=100, required=False)
    # No max_length: "Deutschland" gets the validator's message that asks for the code, not a length complaint.
    country = forms.CharField(
        label=_("Land"),
        initial="DE",
        validators=[validate_country_code],
        help_text=_("ISO-Ländercode, z. B. DE, AT, CH."),
    )
    delivery_email = forms.EmailField(
        label=_("Liefer-E-Mail für Schlüssel"),
        required=False,
        help_text=_("Optional: Lieferscheine mit den Schlüsseln für diesen Kunden gehen direkt hierhin."),
        error_messages={"invalid": _("Bitte eine gültige E-Mail-Adresse angeben.")},
    )


def _edition_choices():
    vendor_labels = dict(VENDOR_CHOICES)
    return [("", "—")] + [(vendor_labels[vendor], list(editions)) for vendor, editions in EDITIONS.items()]


def vendor_of(edition: str) -> str:
    return next(vendor for vendor, editions in EDITIONS.items() if edition in {code for code, _l in editions})


class InstallationForm(forms.Form):
    """One select for vendor and edition (grouped by vendor): the vendor follows from the edition."""

    customer = forms.ModelChoiceField(label=_("Kunde"), queryset=None, empty_label="—")
    name = forms.CharField(label=_("Bezeichnung"), max_length=120, required=False, help_text=_("z. B. Standort"))
    edition = forms.ChoiceField(label=_("Hersteller und Edition / Modell"), choices=_edition_choices)
    identifier = forms.CharField(
        label=_("Serverlizenzschlüssel / Hardware-ID / Seriennummer"),
        max_length=64,
        help_text=_(
            "STARFACE: Serverlizenzschlüssel XXXXX-XXXXX-XXXXX-XXXXX (Support-Informationen der Anlage); "
            "Free Edition: Hardware-ID; Auerswald: Seriennummer."
        ),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    pbx_users = forms.IntegerField(
        label=_("installierte PBX-Benutzerlizenzen"), min_value=0, max_value=PLAUSIBLE_MAX_USERS, initial=0
    )
    user_light_licenses = forms.IntegerField(
        label=_("installierte User-Light-Lizenzen"), min_value=0, max_value=PLAUSIBLE_MAX_USERS, initial=0
    )
    pbx_version = forms.CharField(
        label=_("Version der Telefonanlage"), max_length=20, required=False, help_text=_("z. B. 9.0.1")
    )
    delivery_email = forms.EmailField(
        label=_("Liefer-E-Mail für Schlüssel"),
        required=False,
        help_text=_(
            "Optional: Lieferscheine mit den Schlüsseln dieser Anlage gehen direkt hierhin; "
            "leer = an die Adresse des Kunden bzw. der Bestellung."
        ),
        error_messages={"invalid": _("Bitte eine gültige E-Mail-Adresse angeben.")},
    )
    secondary_of = forms.ModelChoiceField(
        label=_("Redundanz: Sekundäranlage von"),
        queryset=None,
        required=False,
        empty_label=_("— keine Redundanz —"),
        help_text=_("Nur für die Sekundäranlage eines Redundanzpaars: die Primäranlage desselben Kunden."),
    )

    def __init__(self, *args, partner, installation: Installation | None = None, keys_bound: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        from licensing.selectors.portal import partner_installations
        from vendorportal.parties.models import Customer

        self.fields["customer"].queryset = Customer.objects.filter(partner=partner).order_by("company")
        primaries = partner_installations(partner).filter(secondary_of__isnull=True)
        if installation is not None:
            primaries = primaries.exclude(pk=installation.pk)
            # The customer of an existing installation is fixed here (a move is the support's business).
            del self.fields["customer"]
            if keys_bound:
                for name in ("edition", "identifier"):
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("Fest, weil schon Lizenzschlüssel an diese Kennung gebunden sind.")
        self.fields["secondary_of"].queryset = primaries
        self.fields["secondary_of"].label_from_instance = lambda inst: f"{inst.identifier} · {inst.customer.company}"

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "vendor": vendor_of(data["edition"]),
            "edition": data["edition"],
            "identifier": data["identifier"],
            "name": data["name"],
            "pbx_users": data["pbx_users"],
            "user_light_licenses": data["user_light_licenses"],
            "pbx_version": data["pbx_version"],
            "delivery_email": data["delivery_email"],
        }


class LicenseCheckForm(forms.Form):
    """LIC-3 self-check: a key and the installation's identifier, optionally module and version."""

    key = forms.CharField(
        label=_("Modullizenzschlüssel"),
        max_length=KEY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("Vom Lieferschein kopieren; Leerzeichen, Bindestriche und Zeilenumbrüche sind egal."),
        error_messages={
            "required": _("Bitte den Modullizenzschlüssel einfügen."),
            "max_length": _("Das ist zu lang für einen Lizenzschlüssel (höchstens %(limit_value)d Zeichen)."),
        },
    )
    identifier_kind = forms.ChoiceField(
        label=_("Die Anlage ist erkennbar an"),
        choices=[
            (rules.SERVER_KEY, _("Serverlizenzschlüssel")),
            (rules.HARDWARE_ID, _("Hardware-ID (STARFACE Free Edition)")),
        ],
        initial=rules.SERVER_KEY,
        widget=forms.RadioSelect,
    )
    identifier = forms.CharField(
        label=_("Serverlizenzschlüssel bzw. Hardware-ID der Anlage"),
        max_length=200,
        help_text=_("Steht in der STARFACE unter „Support-Informationen“, z. B. ABCDE-12345-FGHIJ-67890."),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        error_messages={"required": _("Bitte den Serverlizenzschlüssel der Anlage angeben.")},
    )
    module = forms.ModelChoiceField(
        label=_("Modul, in dem der Schlüssel eingetragen wird (optional)"),
        queryset=Product.objects.filter(kind=Product.MODULE, active=True).order_by("name"),
        required=False,
        empty_label=_("— egal —"),
        to_field_name="article",
    )
    installed_version = forms.CharField(
        label=_("installierte Modulversion (optional)"),
        max_length=20,
        required=False,
        help_text=_("z. B. 2.1 – dann wird auch geprüft, ob die Version einen neuen Schlüssel braucht."),
    )

    def clean_installed_version(self):
        from licensing.verifier import parse_version

        value = self.cleaned_data["installed_version"].strip()
        if value:
            try:
                parse_version(value)
            except ValueError:
                raise forms.ValidationError(
                    _("„%(value)s“ ist keine Versionsnummer; bitte ein bis drei Zahlen mit Punkt, z. B. 2.1."),
                    params={"value": value},
                ) from None
        return value
