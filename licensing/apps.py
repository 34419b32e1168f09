from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = _("Lizenzen")

    def ready(self):
        from vendorportal.outbox import register_kind

        # The e-mails of this area that go through the outbox (STYLE 13).
        register_kind(
            "delivery-note",
            compose="licensing.services.delivery.delivery_note_compose",
            attachments="licensing.services.delivery.delivery_note_attachments",
            on_sent="licensing.services.delivery.delivery_note_sent",
            resend_check="licensing.services.delivery.delivery_note_resend_check",
        )
