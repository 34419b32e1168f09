from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")

    def ready(self):
        from billing import invoicing_sources
        from support import views
        from vendorportal.outbox import register_kind
        from vendorportal.portal import registry

        registry.nav_add(url_name="portal:support_tickets", label=_("Support"), order=60)
        registry.nav_add(url_name="portal:support_kb", label=_("Wissensdatenbank"), order=61)
        registry.panel_add(
            key="support.waiting",
            template="portal/support/panel_waiting.html",
            context=views.waiting_panel,
            order=40,
        )
        # The e-mails of the support desk (STYLE 13); texts are written with the change.
        # Partners' answers to what they receive go to the support mailbox (SUPPORT_REPLY_TO),
        # which fetch_support_mail reads; staff notices keep the plain sender.
        to_mailbox = "SUPPORT_REPLY_TO"
        register_kind("support-partner", label=_("Support: Nachricht an Partner"), reply_to_setting=to_mailbox)
        register_kind("support-staff", label=_("Support: neues Ticket / Antwort an Support"))
        register_kind(
            "support-ack", label=_("Support: Eingangsbestätigung Fehler/Funktionswunsch"), reply_to_setting=to_mailbox
        )
        register_kind("support-sla", label=_("Support: SLA-Warnung"))
        register_kind(
            "support-unknown-sender", label=_("Support: Antwort an unbekannten Absender"), reply_to_setting=to_mailbox
        )
        # Billable support time of the previous month on the monthly invoice (SUP-5, INV-3).
        invoicing_sources.register(
            "support-time",
            partners="support.services.partners_with_billable_time",
            proposals="support.services.billable_time_proposals",
            billed="support.services.time_billed",
        )
