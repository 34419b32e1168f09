"""The webhook events a partner can subscribe to (issue 19), with the German label the portal
shows. The names are part of the API: never rename one."""

from django.utils.translation import gettext_lazy as _

ORDER_CONFIRMED = "order.confirmed"
LICENSE_ISSUED = "license.issued"
DELIVERY_NOTE_SENT = "delivery_note.sent"
INVOICE_ISSUED = "invoice.issued"
INVOICE_PAID = "invoice.paid"
INVOICE_OVERDUE = "invoice.overdue"
SUBSCRIPTION_ENDING = "subscription.ending"
SUBSCRIPTION_ENDED = "subscription.ended"
MAINTENANCE_EXPIRING = "maintenance.expiring"
MAINTENANCE_LAPSED = "maintenance.lapsed"
TICKET_REPLIED = "ticket.replied"

EVENT_CHOICES = [
    (ORDER_CONFIRMED, _("Bestellung bestätigt")),
    (LICENSE_ISSUED, _("Lizenz ausgestellt")),
    (DELIVERY_NOTE_SENT, _("Lieferschein versandt")),
    (INVOICE_ISSUED, _("Rechnung/Rechnungskorrektur ausgestellt")),
    (INVOICE_PAID, _("Rechnung bezahlt")),
    (INVOICE_OVERDUE, _("Rechnung überfällig")),
    (SUBSCRIPTION_ENDING, _("Abo gekündigt (endet)")),
    (SUBSCRIPTION_ENDED, _("Abo beendet")),
    (MAINTENANCE_EXPIRING, _("Softwarepflege läuft aus")),
    (MAINTENANCE_LAPSED, _("Softwarepflege abgelaufen")),
    (TICKET_REPLIED, _("Antwort des Supports")),
]
EVENTS = [code for code, _label in EVENT_CHOICES]

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "Webhook-Signature"
