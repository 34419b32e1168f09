from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Abrechnung")

    def ready(self):
        from vendorportal.outbox import register_kind

        # Invoices and their corrections go out with their stored PDF, byte for byte on a resend
        # too; the reminder attaches the invoice again (STYLE 13).
        register_kind("invoice", label=_("Rechnung"), attachments="billing.services.invoices.invoice_attachments")
        register_kind(
            # INV-1: a correction is a Rechnungskorrektur or Stornorechnung, never a "Gutschrift".
            "credit-note",
            label=_("Rechnungskorrektur / Stornorechnung"),
            attachments="billing.services.invoices.invoice_attachments",
        )
        # Written confirmations (notice, special termination, tier change, service plan, SEPA
        # mandate) with their one-page PDF, rendered from the stored confirmation when sent.
        register_kind(
            "confirmation",
            label=_("Schriftliche Bestätigung"),
            attachments="billing.services.confirmations.confirmation_attachments",
        )
        register_kind(
            "invoice-reminder",
            label=_("Zahlungserinnerung (bis Issue 18)"),
            attachments="billing.services.invoices.invoice_attachments",
        )
        # Dunning levels (issue 18): the letter as stored PDF and the invoice again.
        register_kind(
            "dunning-notice",
            label=_("Mahnung / Zahlungserinnerung"),
            attachments="billing.services.dunning.dunning_attachments",
        )

        from vendorportal.documents import register_document_kind

        # Issued documents whose stored PDF proves itself by its SHA-256 (GoBD, check_documents).
        register_document_kind("billing.Invoice", label=_("Rechnung"))
        register_document_kind("billing.FinanceReport", label=_("Finanzbericht"))
        register_document_kind("billing.DunningNotice", label=_("Mahnung"))
        # How an open invoice is collected now: a new pre-notification, or transfer (ORD-8).
        register_kind("direct-debit-notice", label=_("Lastschrift-Ankündigung"))
        # A returned direct debit: what came back, why, how to pay now (issue 18).
        register_kind("direct-debit-return", label=_("Rücklastschrift"))

        from billing import views
        from vendorportal.portal import registry

        registry.nav_add(url_name="portal:orders", label=_("Bestellungen"), order=40)
        registry.nav_add(url_name="portal:invoices", label=_("Rechnungen"), order=50)
        registry.nav_add(
            url_name="portal:sepa_mandate", label=_("SEPA-Mandat"), order=60, admin_only=True, section="account"
        )
        registry.panel_add(
            key="billing.invoices", template="portal/panels/invoices.html", context=views.invoices_panel, order=30
        )
        # Finance's scheduled reports (billing.finance): the stored PDF, the journal with
        # the month's SEPA files.
        register_kind(
            "finance-journal",
            label=_("Rechnungsausgangsbuch"),
            attachments="billing.finance.finance_report_attachments",
        )
        register_kind(
            "finance-open-items", label=_("Offene Posten"), attachments="billing.finance.finance_report_attachments"
        )
        # Subscriptions and service plans (issue 12).
        from billing import views_subscriptions

        registry.nav_add(url_name="portal:subscriptions", label=_("Abos"), order=45)
        registry.nav_add(url_name="portal:service_plans", label=_("Service-Pläne"), order=47)
        registry.panel_add(
            key="billing.ending",
            template="portal/panels/subscriptions_ending.html",
            context=views_subscriptions.ending_panel,
            order=35,
        )
