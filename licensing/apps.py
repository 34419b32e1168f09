from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = _("Lizenzen")

    def ready(self):
        from licensing import views
        from vendorportal.portal import registry

        registry.nav_add(url_name="portal:customers", label=_("Kunden"), order=10)
        registry.nav_add(url_name="portal:installations", label=_("Installationen"), order=15)
        registry.nav_add(url_name="portal:licenses", label=_("Lizenzen"), order=20)
        registry.nav_add(url_name="portal:systems", label=_("Auerswald-Systeme"), order=30)
        registry.panel_add(
            key="licensing.expiring_keys",
            template="portal/panels/expiring_keys.html",
            context=views.expiring_keys_panel,
            order=10,
        )
        registry.panel_add(key="licensing.swp", template="portal/panels/swp.html", context=views.swp_panel, order=12)
        registry.panel_add(
            key="licensing.installations",
            template="portal/panels/installations.html",
            context=views.installations_panel,
            order=20,
        )

        from vendorportal.documents import register_document_kind

        # Issued documents whose stored PDF proves itself by its SHA-256 (GoBD, check_documents).
        register_document_kind("licensing.DeliveryNote", label=_("Lieferschein"))
        register_document_kind("licensing.MaintenanceWeeklyReport", label=_("Softwarepflege-Bericht"))

        from vendorportal.outbox import register_kind

        # The e-mails of this area that go through the outbox (STYLE 13).
        register_kind(
            "delivery-note",
            label=_("Lieferschein"),
            compose="licensing.services.delivery.delivery_note_compose",
            attachments="licensing.services.delivery.delivery_note_attachments",
            on_sent="licensing.services.delivery.delivery_note_sent",
            resend_check="licensing.services.delivery.delivery_note_resend_check",
        )
        # Daily Softwarepflege notices, one e-mail per partner and run; the text is
        # written with the notices, the outbox stamps them sent (SWP-8).
        register_kind(
            "swp-notices",
            label=_("Softwarepflege-Hinweise"),
            on_sent="licensing.services.maintenance_job.notices_sent",
        )
        # The weekly report to finance: the stored PDF is attached, on a resend too.
        register_kind(
            "swp-report",
            label=_("Softwarepflege-Bericht"),
            attachments="licensing.services.maintenance_job.report_attachments",
        )
