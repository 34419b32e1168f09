"""The support desk's own facts (issue 11): tickets, their messages, attachments and time,
hourly rates, knowledge-base articles, processed inbound e-mails, and what support knows
about a customer (DPA on file, service & maintenance contract) — kept here, not on the
core's ``Customer`` (STYLE 1)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from licensing.constants import STARFACE, VENDOR_CHOICES
from support import rules
from support.storage import attachment_storage
from vendorportal import clock
from vendorportal.formats import format_datetime
from vendorportal.validators import plausible_date_check, validate_plausible_date

MONEY = {"max_digits": 12, "decimal_places": 2}


class CustomerSupportFacts(models.Model):
    """A customer's DPA (AV-Vertrag, SUP-4) and service & maintenance contract (SUP-1).
    Softwarepflege or update contracts are no service contract (SUP-10)."""

    customer = models.OneToOneField(
        "parties.Customer", on_delete=models.CASCADE, related_name="support_facts", verbose_name=_("Kunde")
    )
    dpa_on_file_since = models.DateField(
        _("AV-Vertrag vorhanden seit"),
        null=True,
        blank=True,
        help_text=_("Ohne AV-Vertrag keine Fernwartung und keine Log-Analyse (SUP-4)."),
        validators=[validate_plausible_date],
    )
    service_contract_until = models.DateField(
        _("Service- und Wartungsvertrag bis"),
        null=True,
        blank=True,
        help_text=_("Softwarepflege oder Updatevertrag zählen nicht als Service- und Wartungsvertrag (SUP-10)."),
        validators=[validate_plausible_date],
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("Support-Vereinbarungen des Kunden")
        verbose_name_plural = _("Support-Vereinbarungen der Kunden")
        constraints = [
            plausible_date_check("dpa_on_file_since", "supportfacts_dpa_on_file_since_plausible"),
            plausible_date_check("service_contract_until", "supportfacts_service_contract_until_plausible"),
        ]

    def __str__(self) -> str:
        return str(self.customer)


class Ticket(models.Model):
    KIND_CHOICES = [
        (rules.SUPPORT_REQUEST, _("Supportanfrage")),
        (rules.INSTALLATION_SUPPORT, _("Installationsunterstützung")),
        (rules.BUG_REPORT, _("Fehlermeldung")),
        (rules.FEATURE_REQUEST, _("Funktionswunsch")),
    ]
    URGENCY_CHOICES = [
        (rules.CRITICAL, _("kritisch")),
        (rules.HIGH, _("hoch")),
        (rules.NORMAL, _("normal")),
        (rules.LOW, _("niedrig")),
    ]
    STATUS_CHOICES = [
        (rules.NEW, _("neu")),
        (rules.OPEN, _("in Bearbeitung")),
        (rules.WAITING, _("wartet auf Kunde")),
        (rules.SOLVED, _("gelöst")),
        (rules.CLOSED, _("geschlossen")),
    ]
    PORTAL, EMAIL, STAFF = "portal", "email", "staff"
    CHANNEL_CHOICES = [(PORTAL, _("Portal")), (EMAIL, _("E-Mail")), (STAFF, _("Support (Telefon/intern)"))]

    number = models.CharField(_("Ticketnummer"), max_length=20, unique=True)
    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="support_tickets", verbose_name=_("Partner")
    )
    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="support_tickets",
        verbose_name=_("Endkunde"),
    )
    installation = models.ForeignKey(
        "licensing.Installation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="support_tickets",
        verbose_name=_("Installation"),
    )
    kind = models.CharField(_("Art"), max_length=12, choices=KIND_CHOICES, default=rules.SUPPORT_REQUEST)
    urgency = models.CharField(_("Dringlichkeit"), max_length=8, choices=URGENCY_CHOICES, default=rules.NORMAL)
    status = models.CharField(_("Status"), max_length=8, choices=STATUS_CHOICES, default=rules.NEW)
    subject = models.CharField(_("Betreff"), max_length=200)
    pbx_version = models.CharField(_("Version der Telefonanlage"), max_length=20, blank=True)
    product = models.ForeignKey(
        "licensing.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Modul"),
        limit_choices_to={"kind": "module"},
    )
    module_version = models.CharField(_("Modulversion"), max_length=20, blank=True)
    # The system the ticket is about: STARFACE states PBX and module version, an Auerswald
    # system (COMtrexx) its serial number, firmware and PBX Call Assist version (SUP-7, seed 003).
    vendor = models.CharField(_("System"), max_length=12, choices=VENDOR_CHOICES, default=STARFACE)
    serial_number = models.CharField(_("Seriennummer"), max_length=64, blank=True)
    firmware_version = models.CharField(_("Firmware-Version"), max_length=20, blank=True)
    call_assist_version = models.CharField(_("PBX-Call-Assist-Version"), max_length=20, blank=True)
    channel = models.CharField(_("Eingang über"), max_length=8, choices=CHANNEL_CHOICES, default=PORTAL)
    contact_email = models.EmailField(_("Kontakt-E-Mail"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("angelegt von"),
    )
    received_at = models.DateTimeField(_("eingegangen"))
    confirmed_bug = models.BooleanField(
        _("Fehler bestätigt"), default=False, help_text=_("Nur bestätigte Fehler erhalten eine Antwort (SUP-6).")
    )
    # Enterprise SLA (SUP-2): set when the ticket arrives under an Enterprise plan.
    sla_due_at = models.DateTimeField(_("Reaktion fällig bis"), null=True, blank=True)
    sla_warning_at = models.DateTimeField(_("Warnung ab"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("erste Antwort"), null=True, blank=True)
    sla_warned_at = models.DateTimeField(_("SLA-Warnung gesendet"), null=True, blank=True)
    sla_breached_at = models.DateTimeField(_("SLA verletzt seit"), null=True, blank=True)
    updated_at = models.DateTimeField(_("geändert"), auto_now=True)
    # The portal's new-ticket form carries a one-time token: posting the same form twice
    # finds this ticket instead of opening a second one (STYLE 14, a unique constraint).
    portal_token = models.CharField(_("Formular-Token"), max_length=40, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("Ticket")
        verbose_name_plural = _("Tickets")
        indexes = [models.Index(fields=["status", "received_at"], name="support_ticket_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["support", "installation", "bug", "feature"]), name="ticket_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(urgency__in=["critical", "high", "normal", "low"]), name="ticket_urgency_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["new", "open", "waiting", "solved", "closed"]), name="ticket_status_valid"
            ),
            models.UniqueConstraint(
                fields=["partner", "portal_token"], condition=~Q(portal_token=""), name="ticket_portal_token_unique"
            ),
            models.CheckConstraint(condition=Q(vendor__in=["starface", "auerswald"]), name="ticket_vendor_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.subject}"

    def transition_to(self, target: str) -> None:
        """Move along the workflow; raises ValidationError (German) on an illegal move."""
        if target == self.status:
            return
        if not rules.can_transition(self.status, target):
            raise ValidationError(
                _("Ein Ticket im Status „%(current)s“ kann nicht auf „%(target)s“ gesetzt werden.")
                % {"current": self.get_status_display(), "target": dict(self.STATUS_CHOICES)[target]},
                code="illegal_transition",
            )
        self.status = target

    @property
    def is_open(self) -> bool:
        return self.status in rules.OPEN_STATES

    @property
    def sla_running(self) -> bool:
        return self.sla_due_at is not None and self.first_response_at is None


class TicketMessage(models.Model):
    """A public reply (seen by the partner) or an internal note (staff only)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("Ticket"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Verfasser"),
    )
    author_email = models.EmailField(_("Absender"), blank=True)
    from_staff = models.BooleanField(_("vom Support"), default=False)
    internal = models.BooleanField(_("interne Notiz"), default=False)
    body = models.TextField(_("Text"))
    created_at = models.DateTimeField(_("geschrieben"))
    portal_token = models.CharField(_("Formular-Token"), max_length=40, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("Nachricht")
        verbose_name_plural = _("Nachrichten")
        constraints = [
            models.CheckConstraint(
                condition=Q(internal=False) | Q(from_staff=True), name="ticketmessage_note_by_staff"
            ),
            models.UniqueConstraint(
                fields=["ticket", "portal_token"],
                condition=~Q(portal_token=""),
                name="ticketmessage_portal_token_unique",
            ),
        ]

    def __str__(self) -> str:
        # Berlin wall-clock time, as everywhere a ticket's times are shown (not UTC).
        return f"{self.ticket.number} · {format_datetime(self.created_at)}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"tickets/{instance.ticket_id}/{filename}"


class Attachment(models.Model):
    """A file of a ticket, stored privately (support.storage) and served only to staff and
    the ticket's partner. A log file of a customer without DPA stays locked for staff (SUP-4)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("Ticket"))
    message = models.ForeignKey(
        TicketMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("Nachricht"),
    )
    file = models.FileField(_("Datei"), upload_to=attachment_path, storage=attachment_storage, max_length=255)
    filename = models.CharField(_("Dateiname"), max_length=200)
    content_type = models.CharField(_("Dateityp"), max_length=100)
    size = models.PositiveIntegerField(_("Größe (Bytes)"))
    is_log = models.BooleanField(_("Log-Datei"), default=False)
    # Why it counts as log data (SUP-4, rules.log_data_reason); "" for files of before.
    LOG_REASON_CHOICES = [
        (rules.LOG_MARKED, _("vom Partner als Logdaten markiert")),
        (rules.LOG_ARCHIVE, _("Archiv (ZIP, GZ, TAR, 7Z): der Inhalt kann Logdaten enthalten")),
        (rules.LOG_STACK_TRACE, _("enthält einen Stacktrace")),
        (rules.LOG_LINES, _("enthält Zeilen mit Zeitstempel oder Log-Level")),
        (rules.LOG_NAME, _("der Dateiname weist auf Logdaten hin")),
    ]
    log_reason = models.CharField(_("Logdaten, weil"), max_length=20, blank=True, choices=LOG_REASON_CHOICES)
    from_staff = models.BooleanField(_("vom Support"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hochgeladen von"),
    )
    created_at = models.DateTimeField(_("hochgeladen"))

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("Anhang")
        verbose_name_plural = _("Anhänge")
        constraints = [
            # A reason is only given for log data.
            models.CheckConstraint(condition=Q(log_reason="") | Q(is_log=True), name="attachment_log_reason_is_log"),
        ]

    def __str__(self) -> str:
        return self.filename


class HourlyRate(models.Model):
    """The service price list's hourly rates (Service- und Dienstleistungspreisliste),
    entered by staff with validity dates (SUP-5). Plan holders pay the discounted rate."""

    NORMAL, DISCOUNTED = "normal", "discounted"
    KIND_CHOICES = [(NORMAL, _("normaler Stundensatz")), (DISCOUNTED, _("vergünstigter Stundensatz (Service-Plan)"))]

    kind = models.CharField(_("Art"), max_length=12, choices=KIND_CHOICES)
    amount = models.DecimalField(_("Stundensatz netto (EUR)"), **MONEY)
    valid_from = models.DateField(_("gültig ab"), validators=[validate_plausible_date])
    valid_until = models.DateField(
        _("gültig bis"), null=True, blank=True, help_text=_("einschließlich; leer = unbefristet")
    )

    class Meta:
        ordering = ["kind", "-valid_from"]
        verbose_name = _("Stundensatz")
        verbose_name_plural = _("Stundensätze")
        constraints = [
            models.UniqueConstraint(fields=["kind", "valid_from"], name="hourlyrate_kind_from_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="hourlyrate_amount_positive"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="hourlyrate_until_after_from",
            ),
            models.CheckConstraint(condition=Q(kind__in=["normal", "discounted"]), name="hourlyrate_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount} € ab {self.valid_from:%d.%m.%Y}"

    def clean(self):
        super().clean()
        if not self.valid_from or not self.kind:
            return
        if self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("„Gültig bis“ liegt vor „gültig ab“.")})
        overlapping = HourlyRate.objects.filter(kind=self.kind).exclude(pk=self.pk)
        overlapping = overlapping.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=self.valid_from))
        if self.valid_until:
            overlapping = overlapping.filter(valid_from__lte=self.valid_until)
        if overlapping.exists():
            raise ValidationError(
                _("Für diesen Zeitraum gibt es bereits einen Stundensatz dieser Art; bitte den alten zuerst befristen.")
            )


class TimeEntry(models.Model):
    """Time staff spent on a ticket. Billable entries become invoice lines once (SUP-5)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="time_entries", verbose_name=_("Ticket"))
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("Mitarbeiter")
    )
    worked_on = models.DateField(_("Datum"), validators=[validate_plausible_date])
    minutes = models.PositiveIntegerField(_("Minuten"))
    note = models.CharField(_("Tätigkeit"), max_length=200, blank=True)
    billable = models.BooleanField(
        _("abrechenbar"), default=True, help_text=_("Leistungen im Rahmen eines Servicevertrags nicht abrechnen.")
    )
    invoice_line = models.ForeignKey(
        "billing.InvoiceLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("abgerechnet mit Rechnungsposition"),
    )
    billed_at = models.DateTimeField(_("abgerechnet am"), null=True, blank=True)
    created_at = models.DateTimeField(_("erfasst"), default=clock.now, editable=False)

    class Meta:
        ordering = ["worked_on", "pk"]
        verbose_name = _("Zeiteintrag")
        verbose_name_plural = _("Zeiteinträge")
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0) & Q(minutes__lte=24 * 60), name="timeentry_minutes"),
            models.CheckConstraint(
                condition=Q(invoice_line__isnull=True) | Q(billable=True), name="timeentry_billed_only_if_billable"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.minutes} min"


class Tag(models.Model):
    name = models.CharField(_("Schlagwort"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Schlagwort")
        verbose_name_plural = _("Schlagwörter")

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """A knowledge-base article (SUP-8): Markdown, rendered and sanitised when shown."""

    PUBLIC, INTERNAL = "public", "internal"
    VISIBILITY_CHOICES = [(PUBLIC, _("öffentlich")), (INTERNAL, _("intern (nur mit Vertrag)"))]

    title = models.CharField(_("Titel"), max_length=250)
    slug = models.SlugField(_("Kurzname"), max_length=120, unique=True)
    body = models.TextField(_("Text (Markdown)"))
    visibility = models.CharField(_("Sichtbarkeit"), max_length=8, choices=VISIBILITY_CHOICES, default=PUBLIC)
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles", verbose_name=_("Schlagwörter"))
    published = models.BooleanField(_("veröffentlicht"), default=True)
    source = models.CharField(_("Quelle"), max_length=60, blank=True)
    updated_at = models.DateTimeField(_("geändert"), auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("Wissensartikel")
        verbose_name_plural = _("Wissensartikel")
        constraints = [models.CheckConstraint(condition=Q(visibility__in=["public", "internal"]), name="article_vis")]

    def __str__(self) -> str:
        return self.title


def inbound_original_path(instance: InboundMail, filename: str) -> str:
    return f"inbound/{filename}"


class InboundMail(models.Model):
    """One processed inbound e-mail, by Message-ID: each message is handled once.

    Every message ends as a ticket, a reply, an automatic message (RFC 3834: no answer,
    no ticket reopened) or a visible "nicht lesbar"/"Fehler" row whose raw original is
    kept (``original``) and announced to the support staff.
    """

    TICKET, REPLY, UNKNOWN_SENDER, AUTOMATIC, MALFORMED, FAILED = (
        "ticket",
        "reply",
        "unknown",
        "automatic",
        "malformed",
        "failed",
    )
    OUTCOME_CHOICES = [
        (TICKET, _("neues Ticket")),
        (REPLY, _("Antwort auf Ticket")),
        (UNKNOWN_SENDER, _("unbekannter Absender")),
        (AUTOMATIC, _("automatische Nachricht (nicht beantwortet)")),
        (MALFORMED, _("nicht lesbar")),
        (FAILED, _("Fehler")),
    ]

    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    sender = models.CharField(_("Absender"), max_length=255, blank=True)
    subject = models.CharField(_("Betreff"), max_length=255, blank=True)
    outcome = models.CharField(_("Ergebnis"), max_length=10, choices=OUTCOME_CHOICES)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("Ticket")
    )
    error = models.TextField(_("Fehler / Hinweis"), blank=True)
    # The message as received, for those no ticket holds (not readable, failed): private
    # storage like ticket attachments, downloaded in the admin by who may view this row.
    original = models.FileField(
        _("Original (.eml)"),
        storage=attachment_storage,
        upload_to=inbound_original_path,
        max_length=300,
        blank=True,
    )
    processed_at = models.DateTimeField(_("verarbeitet"))

    class Meta:
        ordering = ["-processed_at"]
        verbose_name = _("eingegangene E-Mail")
        verbose_name_plural = _("eingegangene E-Mails")

    def __str__(self) -> str:
        return f"{self.message_id} ({self.get_outcome_display()})"
