"""Forms of billing's portal pages: they parse input; the services decide (STYLE 5)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from billing import selectors
from billing.models import Invoice, OrderLine
from licensing.constants import AUERSWALD, STARFACE
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
    (ORD-6) or — for an Auerswald system — a Softwarepflege quote (SWP-3…SWP-7). One
    licence per module: a licence is bound to one server key (LIC-1); more licences are
    more installations (:class:`MultiOrderForm`)."""

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
        label=_("Staffel-Upgrade vorhandener Lizenzen"),
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
            for name in ("products", "term", "as_package", "teams_users", "upgrades"):
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
                installation=self.installation,
                term_months=months,
                users=data.get("teams_users") if product.pricing_model == Product.PER_STARTED_5_USERS else None,
                as_package=bool(data.get("as_package")) and kind == OrderLine.SUBSCRIPTION,
            )
            for product in data.get("products") or []
        ]
        wishes += [
            LineWish(
                product=lic.product,
                kind=OrderLine.PURCHASE,
                installation=self.installation,
                upgrade=OrderLine.UPGRADE_TIER,
                upgrade_from=lic,
            )
            for lic in data.get("upgrades") or []
        ]
        return wishes

    def swp_values(self) -> dict:
        data = self.cleaned_data
        if not self.is_system or not data.get("swp"):
            return {}
        months = data.get("swp_months")
        return {
            "swp_installation": self.installation,
            "swp_kind": data["swp"],
            "swp_users": data.get("swp_users") if data["swp"] == OrderLine.SWP_ADD_USERS else None,
            "swp_months": int(months) if months and data["swp"] == OrderLine.SWP_RENEWAL else None,
        }


class _InstallationCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes that carry their customer (``data-customer``) for the static filter script."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-customer"] = str(instance.customer_id)
        return option


def _installation_label(inst) -> str:
    users = _("%(users)s Benutzer") % {"users": inst.installed_users} if inst.installed_users else ""
    return " · ".join(part for part in [inst.customer.company, inst.identifier, inst.name, users] if part)


def _term_kind(term: str) -> tuple[str, int]:
    if term == TERM_PURCHASE:
        return OrderLine.PURCHASE, 0
    return OrderLine.SUBSCRIPTION, int(term)


class MultiOrderForm(forms.Form):
    """The portal's order form for many installations (decision ORD-1/ORD-4): a module or
    a bundle (all its modules), ticked installations — one line, one licence per
    installation — with one term. The volume discount counts the ticked installations."""

    token = forms.CharField(
        widget=forms.HiddenInput,
        max_length=40,
        error_messages={
            "required": _("Das Formular ist abgelaufen; bitte die Seite neu laden."),
            "max_length": _("Das Formular ist abgelaufen; bitte die Seite neu laden."),
        },
    )
    article = forms.ChoiceField(
        label=_("Modul oder Bundle"),
        error_messages={
            "required": _("Bitte ein Modul oder ein Bundle wählen."),
            "invalid_choice": _("Dieses Modul oder Bundle wird nicht angeboten."),
        },
    )
    term = forms.ChoiceField(
        label=_("Kauf oder Abo"),
        choices=TERM_CHOICES,
        initial=TERM_PURCHASE,
        error_messages={"invalid_choice": _("Bitte Kauf oder eine Abo-Laufzeit (1, 12, 24, 36 Monate) wählen.")},
    )
    as_package = forms.BooleanField(
        label=_("Abos als Paket (gemeinsame Laufzeit, Mengenrabatt ab 10 Lizenzen)"), required=False
    )
    teams_users = forms.IntegerField(
        label=_("Benutzer für Teams Presence Sync"),
        min_value=1,
        max_value=100000,
        required=False,
        help_text=_("leer = installierte Benutzer der jeweiligen Installation; berechnet je angefangene 5 Benutzer"),
        error_messages={"invalid": _("Bitte eine ganze Zahl ab 1 angeben.")},
    )
    customer = forms.ChoiceField(label=_("Installationen filtern nach Kunde"), required=False)
    installations = forms.ModelMultipleChoiceField(
        label=_("Installationen (je Installation eine Lizenz)"),
        queryset=None,
        widget=_InstallationCheckboxes,
        error_messages={
            "required": _("Bitte mindestens eine Installation ankreuzen."),
            "invalid_choice": _("Diese Installation gibt es nicht, oder für sie kann nicht bestellt werden."),
            "invalid_pk_value": _("Ungültige Auswahl."),
        },
    )
    delivery_email = forms.EmailField(
        label=_("Liefer-E-Mail (Schlüssel)"),
        required=False,
        help_text=_("für Installationen, die weder selbst noch über ihren Kunden eine Liefer-E-Mail haben"),
        error_messages={"invalid": _("Bitte eine gültige E-Mail-Adresse angeben.")},
    )
    invoice_email = forms.EmailField(
        label=_("Rechnungs-E-Mail"),
        required=False,
        error_messages={"invalid": _("Bitte eine gültige E-Mail-Adresse angeben.")},
    )

    def __init__(self, *args, partner, today, customer_filter: str = "", with_emails: bool = True, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        products = list(selectors.orderable_products())
        bundles = list(selectors.active_bundles())
        self.bundles = {f"bundle:{b.pk}": b for b in bundles}
        self.products = {f"product:{p.pk}": p for p in products}
        choices = [("", _("— bitte wählen —"))]
        if bundles:
            choices.append(
                (
                    _("Bundles (alle Module, 10 % Bundle-Rabatt beim Kauf)"),
                    [
                        (key, f"{b.name} ({', '.join(p.name for p in b.products.all())})")
                        for key, b in self.bundles.items()
                    ],
                )
            )
        choices.append((_("Module und Produkte"), [(key, _product_label(p)) for key, p in self.products.items()]))
        self.fields["article"].choices = choices
        # Modules, SaaS and service plans are for STARFACE; Auerswald systems order Softwarepflege
        # on the one-installation form.
        installations = selectors.orderable_installations(partner, today).filter(vendor=STARFACE)
        self.fields["installations"].queryset = installations
        self.fields["installations"].label_from_instance = _installation_label
        customers = selectors.orderable_customers(partner, today)
        self.fields["customer"].choices = [("", _("alle Kunden"))] + [(str(c.pk), c.company) for c in customers]
        if customer_filter.isdigit() and not self.is_bound:
            self.initial["customer"] = customer_filter
            self.fields["installations"].queryset = installations.filter(customer_id=int(customer_filter))
        self.fields["delivery_email"].widget.attrs["placeholder"] = partner.delivery_email
        self.fields["invoice_email"].widget.attrs["placeholder"] = partner.invoice_email
        if not with_emails:  # adding to a draft: its e-mails stay
            del self.fields["delivery_email"], self.fields["invoice_email"]
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4().hex

    def chosen_products(self):
        key = self.cleaned_data["article"]
        if key in self.bundles:
            return list(self.bundles[key].products.all())
        return [self.products[key]]

    def wishes(self):
        """One line per ticked installation and product, as the service takes them."""
        from billing.services import LineWish
        from licensing.models import Product

        data = self.cleaned_data
        kind, months = _term_kind(data["term"])
        return [
            LineWish(
                product=product,
                kind=kind,
                installation=installation,
                term_months=months,
                users=data.get("teams_users") if product.pricing_model == Product.PER_STARTED_5_USERS else None,
                as_package=bool(data.get("as_package")) and kind == OrderLine.SUBSCRIPTION,
            )
            for installation in data["installations"]
            for product in self.chosen_products()
        ]


CSV_MAX_BYTES = 512 * 1024
CSV_MAX_ROWS = 2000


class OrderCsvForm(forms.Form):
    """A large order as CSV rows ``server key;article`` (a hardware ID or serial number
    names an installation too). The upload is previewed row by row; the rows come back
    as ``content`` with "Bestellung anlegen", so the file is read once."""

    token = forms.CharField(
        widget=forms.HiddenInput,
        max_length=40,
        error_messages={"required": _("Das Formular ist abgelaufen; bitte die Seite neu laden.")},
    )
    file = forms.FileField(
        label=_("CSV-Datei"),
        required=False,
        help_text=_(
            "Je Zeile: Serverlizenzschlüssel (oder Hardware-ID / Seriennummer);Artikelnummer — z. B. "
            "ABCDE-12345-FGHIJ-67890;INTERCOM. Höchstens 2.000 Zeilen."
        ),
    )
    content = forms.CharField(widget=forms.HiddenInput, required=False, max_length=CSV_MAX_BYTES)
    term = forms.ChoiceField(
        label=_("Kauf oder Abo"),
        choices=TERM_CHOICES,
        initial=TERM_PURCHASE,
        error_messages={"invalid_choice": _("Bitte Kauf oder eine Abo-Laufzeit (1, 12, 24, 36 Monate) wählen.")},
    )
    as_package = forms.BooleanField(label=_("Abos als Paket"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4().hex

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > CSV_MAX_BYTES:
                raise forms.ValidationError(_("Die Datei ist zu groß (höchstens 512 KB)."))
            raw = upload.read()
            for encoding in ("utf-8-sig", "cp1252"):  # Excel writes either
                try:
                    data["content"] = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
        if not (data.get("content") or "").strip():
            if not self.errors:
                raise forms.ValidationError(_("Bitte eine CSV-Datei mit mindestens einer Zeile wählen."))
            return data
        if len(data["content"].splitlines()) > CSV_MAX_ROWS + 1:
            raise forms.ValidationError(_("Höchstens 2.000 Zeilen je Datei; bitte die Bestellung aufteilen."))
        return data

    def rows(self) -> list[tuple[int, str, str, str]]:
        """(line number, identifier, article, parse error) of every non-empty row; a first
        row that names the columns is skipped."""
        rows = []
        for number, text in enumerate(self.cleaned_data["content"].splitlines(), start=1):
            if not text.strip():
                continue
            cells = [cell.strip().strip('"') for cell in text.replace(",", ";").split(";")]
            while len(cells) > 2 and not cells[-1]:
                cells.pop()
            if number == 1 and cells and cells[0].lower() in {"serverlizenzschlüssel", "server key", "kennung"}:
                continue
            if len(cells) != 2 or not all(cells):
                rows.append(
                    (number, text.strip(), "", str(_("Die Zeile hat nicht die Form „Serverlizenzschlüssel;Artikel“.")))
                )
                continue
            rows.append((number, cells[0], cells[1], ""))
        return rows

    def kind_and_term(self) -> tuple[str, int]:
        return _term_kind(self.cleaned_data["term"])


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


class MandateSignForm(forms.Form):
    """The signature of a mandate that waits for it (issue 16: the form was printed first)."""

    label_suffix = ""
    signed_on = forms.DateField(
        label=_("unterschrieben am"),
        input_formats=DATE_FORMATS,
        help_text=_("TT.MM.JJJJ"),
        error_messages={
            "required": _("Bitte das Datum der Unterschrift angeben."),
            "invalid": _("Bitte ein Datum im Format TT.MM.JJJJ angeben."),
        },
    )
    confirm = forms.BooleanField(
        label=_(
            "Das vom Kontoinhaber unterschriebene Formular liegt vor; ein bestehendes Mandat wird damit heute "
            "widerrufen."
        ),
        error_messages={"required": _("Bitte bestätigen, dass das unterschriebene Mandat vorliegt.")},
    )


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
        required=False,
        help_text=_(
            "TT.MM.JJJJ — leer lassen, um zuerst das Formular mit Mandatsreferenz zum Unterschreiben auszudrucken."
        ),
        error_messages={"invalid": _("Bitte ein Datum im Format TT.MM.JJJJ angeben.")},
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
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("signed_on") and not data.get("confirm"):
            self.add_error("confirm", _("Bitte bestätigen, dass das unterschriebene Mandat vorliegt."))
        return data

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
