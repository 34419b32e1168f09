"""Forms of billing's portal pages: they parse input; the services decide (STYLE 5)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from billing import selectors
from billing.models import Invoice, OrderLine
from licensing.constants import AUERSWALD
from vendorportal.parties import validators as party_validators

TERM_PURCHASE = "purchase"
TERM_CHOICES = [
    (TERM_PURCHASE, _("Kauf")),
    ("1", _("Abo, 1 Monat Mindestlaufzeit")),
    ("12", _("Abo, 12 Monate Mindestlaufzeit")),
    ("24", _("Abo, 24 Monate Mindestlaufzeit")),
    ("36", _("Abo, 36 Monate Mindestlaufzeit")),
]
SWP_CHOICES = [
    ("", _("keine Softwarepflege")),
    (OrderLine.SWP_ADD_USERS, _("Benutzer hinzufügen (Softwarepflege für die restliche Laufzeit)")),
    (OrderLine.SWP_RENEWAL, _("Softwarepflege für alle Benutzer verlängern")),
]
SWP_MONTHS_CHOICES = [("", "—"), ("12", _("12 Monate")), ("36", _("36 Monate"))]
DATE_FORMATS = ["%d.%m.%Y", "%Y-%m-%d"]


class InstallationChoiceForm(forms.Form):
    installation = forms.ModelChoiceField(
        label=_("Installation"),
        queryset=None,
        empty_label=_("— bitte wählen —"),
        error_messages={
            "required": _("Bitte eine Installation wählen."),
            "invalid_choice": _("Diese Installation gibt es nicht, oder für sie kann nicht bestellt werden."),
        },
    )

    def __init__(self, *args, partner, today, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        field = self.fields["installation"]
        field.queryset = selectors.orderable_installations(partner, today)
        field.label_from_instance = lambda inst: f"{inst.customer.company} – {inst.identifier}"


def _product_label(product) -> str:
    label = f"{product.name} ({product.article})"
    if product.subscription_only:
        label += " – " + str(_("nur im Abo"))
    elif not product.subscription_allowed:
        label += " – " + str(_("nur Kauf"))
    return label


class _LicenseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, lic):
        return _("%(name)s: Lizenz %(serial)s, Staffel %(tier)s → %(new)s Benutzer") % {
            "name": lic.product.name,
            "serial": lic.serial,
            "tier": lic.tier,
            "new": self.new_tier or "—",
        }


class OrderForm(forms.Form):
    """What a partner orders for one installation: modules with one term, tier upgrades
    (ORD-6) or — for an Auerswald system — a Softwarepflege quote (SWP-3…SWP-7)."""

    token = forms.CharField(
        widget=forms.HiddenInput,
        max_length=40,
        error_messages={
            "required": _("Das Formular ist abgelaufen; bitte die Seite neu laden."),
            "max_length": _("Das Formular ist abgelaufen; bitte die Seite neu laden."),
        },
    )
    products = forms.ModelMultipleChoiceField(
        label=_("Module"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Dieses Modul wird nicht angeboten."),
            "invalid_pk_value": _("Ungültige Auswahl."),
        },
    )
    term = forms.ChoiceField(
        label=_("Kauf oder Abo"),
        choices=TERM_CHOICES,
        initial=TERM_PURCHASE,
        error_messages={"invalid_choice": _("Bitte Kauf oder eine Abo-Laufzeit (1, 12, 24, 36 Monate) wählen.")},
    )
    quantity = forms.IntegerField(
        label=_("Anzahl Lizenzen je Modul"),
        min_value=1,
        max_value=999,
        initial=1,
        error_messages={"invalid": _("Bitte eine ganze Zahl von 1 bis 999 angeben.")},
    )
    as_package = forms.BooleanField(
        label=_("Abos als Paket (gemeinsame Laufzeit, Mengenrabatt ab 10 Lizenzen)"), required=False
    )
    teams_users = forms.IntegerField(
        label=_("Benutzer für Teams Presence Sync"),
        min_value=1,
        max_value=100000,
        required=False,
        help_text=_("leer = installierte Benutzer der Installation; berechnet je angefangene 5 Benutzer"),
        error_messages={"invalid": _("Bitte eine ganze Zahl ab 1 angeben.")},
    )
    upgrades = _LicenseChoiceField(
        label=_("Staffel-Upgrade vorhandener Lizenzen (ORD-6)"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Diese Lizenz gehört nicht zu dieser Installation.")},
    )
    swp = forms.ChoiceField(
        label=_("Softwarepflege PBX Call Assist 5"),
        choices=SWP_CHOICES,
        required=False,
        error_messages={"invalid_choice": _("Bitte „Benutzer hinzufügen“ oder „Verlängern“ wählen.")},
    )
    swp_users = forms.IntegerField(
        label=_("Anzahl neuer Benutzer"),
        min_value=1,
        max_value=10000,
        required=False,
        error_messages={"invalid": _("Bitte eine ganze Zahl ab 1 angeben.")},
    )
    swp_months = forms.ChoiceField(
        label=_("Verlängerung um"),
        choices=SWP_MONTHS_CHOICES,
        required=False,
        error_messages={"invalid_choice": _("Die Softwarepflege läuft 12 oder 36 Monate.")},
    )
    delivery_email = forms.EmailField(
        label=_("Liefer-E-Mail (Schlüssel)"),
        required=False,
        error_messages={"invalid": _("Bitte eine gültige E-Mail-Adresse angeben.")},
    )
    invoice_email = forms.EmailField(
        label=_("Rechnungs-E-Mail"),
        required=False,
        error_messages={"invalid": _("Bitte eine gültige E-Mail-Adresse angeben.")},
    )

    def __init__(self, *args, installation, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.installation = installation
        self.is_system = installation.vendor == AUERSWALD
        self.fields["products"].queryset = selectors.orderable_products()
        self.fields["upgrades"].queryset = selectors.tier_upgrade_candidates(installation)
        self.fields["products"].label_from_instance = _product_label
        self.fields["upgrades"].new_tier = installation.tier
        self.fields["delivery_email"].widget.attrs["placeholder"] = installation.customer.partner.delivery_email
        self.fields["invoice_email"].widget.attrs["placeholder"] = installation.customer.partner.invoice_email
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4().hex
        if self.is_system:
            for name in ("products", "term", "quantity", "as_package", "teams_users", "upgrades"):
                del self.fields[name]
        else:
            for name in ("swp", "swp_users", "swp_months"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if self.is_system:
            if (
                data.get("swp") == OrderLine.SWP_ADD_USERS
                and not data.get("swp_users")
                and "swp_users" not in self.errors
            ):
                self.add_error("swp_users", _("Bitte angeben, wie viele Benutzer hinzukommen."))
            if (
                data.get("swp") == OrderLine.SWP_RENEWAL
                and not data.get("swp_months")
                and "swp_months" not in self.errors
            ):
                self.add_error("swp_months", _("Bitte 12 oder 36 Monate wählen."))
            if not data.get("swp") and not self.errors:
                raise forms.ValidationError(_("Bitte wählen, ob Benutzer hinzukommen oder verlängert wird."))
        elif not data.get("products") and not data.get("upgrades") and not self.errors:
            raise forms.ValidationError(_("Bitte mindestens ein Modul oder ein Staffel-Upgrade wählen."))
        return data

    def wishes(self):
        """The module lines as the service takes them."""
        from billing.services import LineWish
        from licensing.models import Product

        data = self.cleaned_data
        if self.is_system:
            return []
        term = data["term"]
        kind = OrderLine.PURCHASE if term == TERM_PURCHASE else OrderLine.SUBSCRIPTION
        months = 0 if term == TERM_PURCHASE else int(term)
        wishes = [
            LineWish(
                product=product,
                kind=kind,
                term_months=months,
                quantity=data["quantity"],
                users=data.get("teams_users") if product.pricing_model == Product.PER_STARTED_5_USERS else None,
                as_package=bool(data.get("as_package")) and kind == OrderLine.SUBSCRIPTION,
            )
            for product in data.get("products") or []
        ]
        wishes += [
            LineWish(product=lic.product, kind=OrderLine.PURCHASE, upgrade=OrderLine.UPGRADE_TIER, upgrade_from=lic)
            for lic in data.get("upgrades") or []
        ]
        return wishes

    def swp_values(self) -> dict:
        data = self.cleaned_data
        if not self.is_system or not data.get("swp"):
            return {}
        months = data.get("swp_months")
        return {
            "swp_kind": data["swp"],
            "swp_users": data.get("swp_users") if data["swp"] == OrderLine.SWP_ADD_USERS else None,
            "swp_months": int(months) if months and data["swp"] == OrderLine.SWP_RENEWAL else None,
        }


class InvoiceFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("alle"))] + list(Invoice.STATE_CHOICES),
        error_messages={"invalid_choice": _("Unbekannter Status; es werden alle gezeigt.")},
    )
    kind = forms.ChoiceField(
        label=_("Art"),
        required=False,
        choices=[("", _("alle"))] + list(Invoice.KIND_CHOICES),
        error_messages={"invalid_choice": _("Unbekannte Art; es werden alle gezeigt.")},
    )
    year = forms.TypedChoiceField(
        label=_("Jahr"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("Für dieses Jahr gibt es keine Rechnungen; es werden alle gezeigt.")},
    )

    def __init__(self, *args, years, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("alle"))] + [(str(y), str(y)) for y in years]


class MandateForm(forms.Form):
    label_suffix = ""
    # One-time token (STYLE 14): the same form posted twice records one mandate.
    token = forms.CharField(
        widget=forms.HiddenInput,
        max_length=40,
        error_messages={
            "required": _("Das Formular ist abgelaufen; bitte die Seite neu laden."),
            "max_length": _("Das Formular ist abgelaufen; bitte die Seite neu laden."),
        },
    )
    account_holder = forms.CharField(
        label=_("Kontoinhaber"),
        max_length=70,
        error_messages={
            "required": _("Bitte den Kontoinhaber angeben."),
            "max_length": _("Höchstens 70 Zeichen."),
        },
    )
    iban = forms.CharField(
        label=_("IBAN"),
        max_length=42,
        validators=[party_validators.validate_iban],
        error_messages={
            "required": _("Bitte die IBAN angeben."),
            "max_length": _("Eine IBAN hat höchstens 34 Zeichen."),
        },
    )
    bic = forms.CharField(
        label=_("BIC"),
        max_length=14,
        required=False,
        validators=[party_validators.validate_bic],
        help_text=_("Bei deutschen IBANs optional."),
        error_messages={"max_length": _("Ein BIC hat 8 oder 11 Zeichen.")},
    )
    signed_on = forms.DateField(
        label=_("unterschrieben am"),
        input_formats=DATE_FORMATS,
        help_text=_("TT.MM.JJJJ"),
        error_messages={
            "required": _("Bitte das Datum der Unterschrift angeben."),
            "invalid": _("Bitte ein Datum im Format TT.MM.JJJJ angeben."),
        },
    )
    above_limit = forms.BooleanField(
        label=_("auch über 50 €"),
        required=False,
        help_text=_(
            "Abo-Rechnungen auch über 50,00 € netto im Monat per Lastschrift einziehen; ohne Haken werden sie "
            "überwiesen (zahlbar in 14 Tagen)."
        ),
    )
    confirm = forms.BooleanField(
        label=_(
            "Der Kontoinhaber hat das SEPA-Lastschriftmandat unterschrieben; ein bestehendes Mandat wird damit heute "
            "widerrufen."
        ),
        error_messages={"required": _("Bitte bestätigen, dass das unterschriebene Mandat vorliegt.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4().hex

    def clean_iban(self):
        return party_validators.compact_iban(self.cleaned_data["iban"])

    def clean_bic(self):
        return self.cleaned_data["bic"].replace(" ", "").upper()


class MandateAboveLimitForm(forms.Form):
    """The partner's choice "auch über 50 €" on its active mandate (ORD-8)."""

    label_suffix = ""
    above_limit = forms.BooleanField(
        label=_("auch über 50 €"),
        required=False,
        help_text=_("Abo-Rechnungen auch über 50,00 € netto im Monat per Lastschrift einziehen."),
    )
