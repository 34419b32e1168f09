from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CockpitConfig(AppConfig):
    """The staff cockpit (issue 20): the figures the vendor steers by, read-only, on the admin's
    start page. Every figure is a selector over the other apps' tables; its only models are the
    sums of closed months' revenue that the nightly job writes (cockpit.models)."""

    name = "cockpit"
    verbose_name = _("Cockpit")

    def ready(self):
        from billing import finance
        from cockpit import documents, portal
        from vendorportal.portal import registry

        # The finance journal PDF gains the revenue chart and the month's MRR movement.
        finance.journal_section_add(documents.journal_section)
        # The partner's dashboard gains its own spend per month and its upcoming renewals.
        registry.panel_add(
            key="cockpit.spend", template="portal/panels/cockpit_spend.html", context=portal.spend_panel, order=38
        )
