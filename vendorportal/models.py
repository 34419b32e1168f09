"""Operational records shared by all apps."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One run of a scheduled or manual job, so staff can see that jobs really ran."""

    name = models.CharField(_("Job"), max_length=80, db_index=True)
    started_at = models.DateTimeField(_("gestartet"))
    finished_at = models.DateTimeField(_("beendet"), null=True, blank=True)
    ok = models.BooleanField(_("erfolgreich"), default=False)
    summary = models.TextField(_("Ergebnis"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("Job-Lauf")
        verbose_name_plural = _("Job-Läufe")

    def __str__(self) -> str:
        # In the time zone the admin shows its fields in (Europe/Berlin), German format.
        return f"{self.name} {timezone.localtime(self.started_at):%d.%m.%Y %H:%M}"


class DocumentSequence(models.Model):
    """Gap-free numbering of documents per prefix and year (INV-1, delivery notes).

    A number is taken inside the transaction that creates the document, with the
    row locked (``select_for_update``), so a rolled-back document leaves no gap and
    two workers never get the same number.
    """

    prefix = models.CharField(_("Präfix"), max_length=8)
    year = models.PositiveSmallIntegerField(_("Jahr"))
    last_number = models.PositiveIntegerField(_("letzte Nummer"), default=0)

    class Meta:
        verbose_name = _("Nummernkreis")
        verbose_name_plural = _("Nummernkreise")
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="documentsequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_number}"


class OutboxMessage(models.Model):
    """One outgoing e-mail (STYLE 13), written in the transaction that makes its document.

    A worker claims the row, sends and marks it sent; a periodic job sends what is due
    and unsent, including rows whose claim ran out because a worker died. The row is
    the truth, the broker message only a wake-up call: a lost or doubled message loses
    or doubles nothing. See :mod:`vendorportal.outbox`.

    ``kind`` names the handler (registered in code) that composes the text, adds the
    attachments when sending and records the delivery on the document; ``document`` is the document the
    e-mail belongs to (a delivery note, later invoices, reminders, reports).
    """

    kind = models.CharField(_("Art"), max_length=40, db_index=True)
    dedup_key = models.CharField(
        _("Schlüssel"),
        max_length=200,
        unique=True,
        help_text=_("Macht das Schreiben derselben E-Mail idempotent, z. B. „delivery-note:17:initial“."),
    )
    recipients = models.JSONField(_("Empfänger"), default=list)
    from_email = models.CharField(_("Absender"), max_length=254, blank=True)
    # RFC 5322: a header line may be 998 characters long. Subject and body may be left
    # empty when written if the kind composes them from the document when first sent
    # (keeps the transaction that creates the document short); they are stored then.
    subject = models.CharField(_("Betreff"), max_length=998, blank=True)
    body = models.TextField(_("Text"), blank=True)
    document_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("Dokumentart")
    )
    document_id = models.PositiveBigIntegerField(_("Dokument-ID"), null=True, blank=True)
    document = GenericForeignKey("document_type", "document_id")
    created_at = models.DateTimeField(_("erstellt am"))
    due_at = models.DateTimeField(_("fällig ab"))
    attempts = models.PositiveIntegerField(_("Versuche"), default=0)
    last_error = models.TextField(_("letzter Fehler"), blank=True)
    sent_at = models.DateTimeField(_("gesendet am"), null=True, blank=True)
    # Claim (lease): who is sending the row right now, and until when the claim holds.
    # A claim that ran out belongs to a dead worker (or a lost broker message) and
    # may be taken over.
    claimed_by = models.CharField(_("beansprucht von"), max_length=80, blank=True)
    claimed_until = models.DateTimeField(_("beansprucht bis"), null=True, blank=True)
    # Sent only after these (ORD-2: an order's invoice after its delivery notes). A row waits,
    # unclaimable, while one of them is unsent — for the worker and the periodic dispatch alike.
    after = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="followers", verbose_name=_("erst nach")
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("Ausgehende E-Mail")
        verbose_name_plural = _("Ausgehende E-Mails")
        permissions = [("resend_outboxmessage", _("Darf ausgehende E-Mails erneut senden"))]
        indexes = [
            models.Index(fields=["document_type", "document_id"], name="outbox_document_idx"),
            # The periodic job's question: what is unsent and due?
            models.Index(fields=["due_at"], condition=models.Q(sent_at__isnull=True), name="outbox_unsent_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(dedup_key=""), name="outbox_dedup_key_not_empty"),
            models.CheckConstraint(
                condition=models.Q(document_type__isnull=True, document_id__isnull=True)
                | models.Q(document_type__isnull=False, document_id__isnull=False),
                name="outbox_document_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject or self.dedup_key} → {', '.join(self.recipients)}"


class UserLanguage(models.Model):
    """The language a login (partner login or staff member) sees the portal and the admin in.

    Absent: a partner login sees its partner's language (``Partner.language``), a staff member
    the default, German (``settings.LANGUAGE_CODE``). Set by the language switch.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="language_preference",
        verbose_name=_("Benutzer"),
    )
    language = models.CharField(_("Sprache"), max_length=8, choices=[("de", "Deutsch"), ("en", "English")])

    class Meta:
        verbose_name = _("Sprache des Zugangs")
        verbose_name_plural = _("Sprachen der Zugänge")
        constraints = [models.CheckConstraint(condition=models.Q(language__in=["de", "en"]), name="userlanguage_valid")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
