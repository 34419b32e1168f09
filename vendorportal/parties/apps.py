from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartiesConfig(AppConfig):
    """The core's parties: partner levels, partners, their portal logins and end customers.

    The tables keep the names they had inside ``licensing`` (``licensing_partner`` …); the
    move was state-only (see ``migrations/0001_initial.py``).
    """

    name = "vendorportal.parties"
    label = "parties"
    verbose_name = _("Partner und Kunden")
