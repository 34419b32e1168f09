"""Forms of the portal's subscription and service-plan pages (issue 12): they parse input;
the services in :mod:`billing.services.subscriptions` decide (STYLE 5)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from billing import selectors
from billing.models import ServicePlan
from licensing.rules import TIER_LABELS
from vendorportal.money import format_eur

DATE_FORMATS = ["%d.%m.%Y", "%Y-%m-%d"]
NOTICE_ORDINARY = "ordinary"
NOTICE_SPECIAL = "special"


class SubscriptionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Abos"),
        required=False,
        choices=[
            (selectors.SUBSCRIPTIONS_RUNNING, _("laufende")),
            (selectors.SUBSCRIPTIONS_ENDED, _("beendete")),
            ("alle", _("alle")),
        ],
        error_messages={"invalid_choice": _("Bitte „laufende“, „beendete“ oder „alle“ wählen.")},
    )


def _shown_end_field():
    return forms.DateField(
        input_formats=DATE_FORMATS,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Das Formular ist unvollständig; bitte die Seite neu laden."),
            "invalid": _("Das Formular ist unvollständig; bitte die Seite neu laden."),
        },
    )


class NoticeConfirmForm(forms.Form):
    """The confirm step of a notice: which notice, and the end the partner was shown — if the
    end computed at confirmation differs (the day changed), the page shows the new end first."""

    kind = forms.ChoiceField(
        choices=[(NOTICE_ORDINARY, NOTICE_ORDINARY), (NOTICE_SPECIAL, NOTICE_SPECIAL)],
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Bitte ordentliche Kündigung oder Sonderkündigung wählen.")},
    )
    ends_on = _shown_end_field()


class PlanNoticeConfirmForm(forms.Form):
    ends_on = _shown_end_field()


class TierChangeForm(forms.Form):
    """The new tier of a tiered module, or the new number of users of Teams Presence Sync (SUB-7)."""

    tier = forms.ChoiceField(
        label=_("neue Benutzerstaffel"),
        required=False,
        error_messages={"invalid_choice": _("Diese Benutzerstaffel gibt es nicht.")},
    )
    users = forms.IntegerField(
        label=_("neue Anzahl Benutzer"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=_("berechnet je angefangene 5 Benutzer"),
        error_messages={
            "invalid": _("Bitte eine ganze Zahl ab 1 angeben."),
            "min_value": _("Bitte eine ganze Zahl ab 1 angeben."),
            "max_value": _("Bitte höchstens 100000 Benutzer angeben."),
        },
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # What the partner was shown before confirming: recorded only if it still holds.
    shown_from = forms.DateField(required=False, input_formats=DATE_FORMATS, widget=forms.HiddenInput)
    shown_price = forms.DecimalField(required=False, max_digits=12, decimal_places=2, widget=forms.HiddenInput)

    def __init__(self, *args, by_users: bool, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.by_users = by_users
        if by_users:
            del self.fields["tier"]
            self.fields["users"].required = True
            self.fields["users"].error_messages["required"] = _("Bitte die neue Anzahl der Benutzer angeben.")
        else:
            del self.fields["users"]
            self.fields["tier"].required = True
            self.fields["tier"].choices = [("", _("— bitte wählen —"))] + [(t, t) for t in TIER_LABELS]
            self.fields["tier"].error_messages["required"] = _("Bitte die neue Benutzerstaffel wählen.")

    def hide_inputs(self):
        """The confirm step carries the choice in hidden inputs."""
        for field in self.fields.values():
            field.widget = forms.HiddenInput()


class PlanBookForm(forms.Form):
    """Premium or Enterprise on one server key (SUB-8), optionally retroactive."""

    plan = forms.ChoiceField(
        label=_("Service-Plan"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Bitte Premium oder Enterprise wählen."),
            "invalid_choice": _("Gebucht werden können die Service-Pläne Premium und Enterprise."),
        },
    )
    starts_on = forms.DateField(
        label=_("Beginn (nur bei rückwirkender Buchung)"),
        required=False,
        input_formats=DATE_FORMATS,
        help_text=_(
            "TT.MM.JJJJ; leer = heute. Früher beginnen können nur Kunden, die für diese Installation vor dem "
            "01.01.2022 Module gekauft haben; bereits vergangene Planjahre werden nicht berechnet."
        ),
        error_messages={"invalid": _("Bitte das Datum als TT.MM.JJJJ angeben.")},
    )

    def __init__(self, *args, prices: dict, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        choices = []
        for value, label in ServicePlan.PLAN_CHOICES:
            price = prices.get(value)
            if price is not None:
                label = _("%(plan)s – %(price)s jährlich") % {"plan": label, "price": format_eur(price)}
            choices.append((value, label))
        self.fields["plan"].choices = choices
