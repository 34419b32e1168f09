"""Auerswald systems: serial-bound licences, tryout, re-initialisation (SYS-1, SYS-2),
PBX Call Assist 5 users and their Softwarepflege coverage (SWP-1…SWP-9).

Ledgers here are append-only: a purchase, renewal or extension adds a row; current
values (licence counts, coverage end) are derived from the rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from licensing import rules
from licensing.constants import AUERSWALD
from licensing.validators import plausible_date_check, validate_plausible_date, validate_plausible_users
from vendorportal import clock
from vendorportal.formats import format_date_de, format_datetime_de

from .installations import Installation, InstallationQuerySet


class SystemLicense(models.Model):
    """A licence an Auerswald system holds, bound to its serial number (SYS-1)."""

    ACTIVATION = "activation"
    USER_LICENSES = "user_licenses"
    CALL_ASSIST_USERS = "call_assist_users"
    KIND_CHOICES = [
        (ACTIVATION, _("Systemaktivierung")),
        (USER_LICENSES, _("Benutzerlizenzen (Floating)")),
        (CALL_ASSIST_USERS, _("PBX Call Assist 5 Benutzer")),
    ]

    installation = models.ForeignKey(
        "licensing.Installation",
        on_delete=models.PROTECT,
        related_name="system_licenses",
        verbose_name=_("System"),
        limit_choices_to={"vendor": AUERSWALD},
    )
    kind = models.CharField(_("Art"), max_length=20, choices=KIND_CHOICES)
    article = models.CharField(_("Artikel"), max_length=32, blank=True)
    quantity = models.PositiveIntegerField(_("Anzahl"))
    order_reference = models.CharField(_("Bestellung"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("erfasst am"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("erfasst von"),
    )

    class Meta:
        ordering = ["installation", "created_at"]
        verbose_name = _("Systemlizenz")
        verbose_name_plural = _("Systemlizenzen")
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="systemlicense_quantity_positive")]
        indexes = [models.Index(fields=["installation", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} × {self.quantity}"


class Tryout(models.Model):
    """The one 14-day tryout with 3 test user licences a system may run (SYS-2)."""

    installation = models.OneToOneField(
        "licensing.Installation", on_delete=models.PROTECT, related_name="tryout", verbose_name=_("System")
    )
    started_on = models.DateField(_("begonnen am"), validators=[validate_plausible_date])
    test_users = models.PositiveSmallIntegerField(_("Test-Benutzerlizenzen"), default=3)
    ended_by_purchase_on = models.DateField(
        _("durch Kauf beendet am"), null=True, blank=True, validators=[validate_plausible_date]
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        verbose_name = _("Tryout")
        verbose_name_plural = _("Tryouts")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_by_purchase_on__isnull=True) | Q(ended_by_purchase_on__gte=F("started_on")),
                name="tryout_end_after_start",
            ),
            plausible_date_check("started_on", "tryout_started_on_plausible"),
        ]

    def __str__(self) -> str:
        return f"Tryout {self.installation.identifier} ab {format_date_de(self.started_on)}"


class Reinitialisation(models.Model):
    """A logged re-initialisation: the system's code in, the signed licence list out (SYS-1)."""

    installation = models.ForeignKey(
        "licensing.Installation", on_delete=models.PROTECT, related_name="reinitialisations", verbose_name=_("System")
    )
    initialisation_code = models.TextField(_("Initialisierungscode"))
    response = models.TextField(_("Antwort des Lizenzservers"))
    created_at = models.DateTimeField(_("erstellt am"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("durch"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Neuinitialisierung")
        verbose_name_plural = _("Neuinitialisierungen")

    def __str__(self) -> str:
        return f"{self.installation.identifier} {format_datetime_de(self.created_at)}"


class MaintenanceCoverage(models.Model):
    """One row of a system's Softwarepflege ledger (SWP-2…SWP-7). Never changed;
    the current coverage end is the latest ``end`` of the system's rows."""

    INITIAL = "initial"
    RENEWAL = "renewal"
    ADD_USERS = "add_users"
    MANUAL = "manual"
    KIND_CHOICES = [
        (INITIAL, _("Erstbestellung")),
        (RENEWAL, _("Verlängerung")),
        (ADD_USERS, _("Benutzer hinzugefügt")),
        (MANUAL, _("manuell durch Hersteller")),
    ]

    installation = models.ForeignKey(
        "licensing.Installation",
        on_delete=models.PROTECT,
        related_name="maintenance_coverages",
        verbose_name=_("System"),
    )
    kind = models.CharField(_("Art"), max_length=12, choices=KIND_CHOICES)
    start = models.DateField(_("Beginn"), validators=[validate_plausible_date])
    end = models.DateField(_("Ende (einschließlich)"), validators=[validate_plausible_date])
    months = models.PositiveSmallIntegerField(_("Laufzeit (Monate)"), null=True, blank=True)
    users = models.PositiveIntegerField(_("Benutzer"), validators=[validate_plausible_users])
    surcharge_days = models.PositiveIntegerField(_("Säumniszuschlag (Tage)"), default=0)
    order_reference = models.CharField(_("Bestellung"), max_length=64, blank=True)
    note = models.CharField(_("Notiz"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("erfasst am"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("erfasst von"),
    )

    class Meta:
        ordering = ["installation", "start", "created_at"]
        verbose_name = _("Softwarepflege-Zeitraum")
        verbose_name_plural = _("Softwarepflege-Zeiträume")
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="coverage_end_after_start"),
            models.CheckConstraint(condition=Q(users__gte=1), name="coverage_users_positive"),
            plausible_date_check("start", "coverage_start_plausible"),
            plausible_date_check("end", "coverage_end_plausible"),
        ]
        indexes = [models.Index(fields=["installation", "end"]), models.Index(fields=["end"])]

    def __str__(self) -> str:
        return f"{format_date_de(self.start)}–{format_date_de(self.end)} ({self.users} Benutzer)"


class MaintenanceNotice(models.Model):
    """A Softwarepflege reminder or notice (SWP-8), at most one per system, coverage
    end and kind — the unique constraint, not luck, makes the daily job send it once."""

    installation = models.ForeignKey(
        "licensing.Installation", on_delete=models.PROTECT, related_name="maintenance_notices", verbose_name=_("System")
    )
    coverage_end = models.DateField(_("Pflegeende"))
    kind = models.CharField(_("Hinweis"), max_length=16, choices=list(rules.NOTICE_LABELS.items()))
    claim = models.CharField(_("Job-Lauf"), max_length=36, db_index=True)
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
    # The partner's e-mail listing this notice, written in the same transaction as the
    # notice (STYLE 13); the outbox sets ``sent_at`` when it has gone out. Empty only on
    # notices from before the outbox.
    message = models.ForeignKey(
        "vendorportal.OutboxMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("E-Mail"),
    )
    sent_at = models.DateTimeField(_("versendet"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Softwarepflege-Hinweis")
        verbose_name_plural = _("Softwarepflege-Hinweise")
        constraints = [
            models.UniqueConstraint(fields=["installation", "coverage_end", "kind"], name="maintenancenotice_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.installation.identifier} ({format_date_de(self.coverage_end)})"


def maintenance_report_path(instance: MaintenanceWeeklyReport, filename: str) -> str:
    return f"swp-reports/{instance.report_date:%Y}/{filename}"


class MaintenanceWeeklyReport(models.Model):
    """The weekly Softwarepflege report to finance (SWP-8), one per ISO week.

    The PDF is rendered once, stored and e-mailed through the outbox; a resend attaches
    the same bytes. The unique week makes a re-run (or a second worker) write no second
    report and no second e-mail.
    """

    week = models.CharField(_("Kalenderwoche"), max_length=8, unique=True, help_text=_("ISO-Woche, z. B. 2026-W23"))
    report_date = models.DateField(_("Stichtag"))
    pdf = models.FileField(_("PDF"), upload_to=maintenance_report_path, editable=False)
    # GoBD: the SHA-256 of the stored PDF, written with it (vendorportal.documents).
    pdf_sha256 = models.CharField(_("SHA-256 des PDF"), max_length=64, blank=True, editable=False)
    expiring_count = models.PositiveIntegerField(_("laufen in 60 Tagen ab"))
    lapsed_count = models.PositiveIntegerField(_("abgelaufen (bis 36 Monate)"))
    renewal_total = models.DecimalField(_("Wert der Verlängerungen (netto)"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(_("erstellt am"))

    class Meta:
        ordering = ["-report_date"]
        verbose_name = _("Softwarepflege-Bericht")
        verbose_name_plural = _("Softwarepflege-Berichte")

    def __str__(self) -> str:
        return f"{_('Softwarepflege-Bericht')} {format_date_de(self.report_date)}"

    @property
    def filename(self) -> str:
        return f"softwarepflege-bericht-{self.report_date.isoformat()}.pdf"


class AuerswaldSystemManager(models.Manager):
    """Only Auerswald installations (SYS-1: known by their serial number)."""

    def get_queryset(self):
        return InstallationQuerySet(self.model, using=self._db).filter(vendor=AUERSWALD)


class AuerswaldSystem(Installation):
    """Staff's view of Auerswald installations with their coverage ledger (admin only).

    A proxy: same table and rows as :class:`Installation`; changes to the installation
    itself are made in the installation admin, so its history stays complete.
    """

    objects = AuerswaldSystemManager()

    class Meta:
        proxy = True
        ordering = ["identifier"]
        verbose_name = _("Auerswald-System")
        verbose_name_plural = _("Auerswald-Systeme")
