"""Dunning (issue 18): the base rate as data, the dunning notices of an invoice (each level once),
finance's pauses and the blocks of a partner's subscription keys after the letzte Mahnung."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from billing import rules
from billing.exceptions import DunningRefused
from billing.models._common import MONEY
from billing.models.invoices import Invoice


class BaseRate(models.Model):
    """The base rate (Basiszinssatz, § 247 BGB) from a day on, as the Deutsche Bundesbank
    publishes it for each half-year (1 January, 1 July). Finance enters the new one; the
    daily dunning job warns when the newest is older than the current half-year. Default
    interest uses the rate valid on each day (:func:`billing.rules.default_interest`)."""

    valid_from = models.DateField(_("gültig ab"), unique=True, help_text=_("1. Januar oder 1. Juli"))
    rate_percent = models.DecimalField(
        _("Basiszinssatz (%)"), max_digits=5, decimal_places=2, help_text=_("darf negativ sein, z. B. -0,88")
    )
    source = models.CharField(_("Quelle"), max_length=200, blank=True, default="Deutsche Bundesbank")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("Basiszinssatz")
        verbose_name_plural = _("Basiszinssätze")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__day=1) & Q(valid_from__month__in=[1, 7]), name="baserate_half_year_start"
            ),
            models.CheckConstraint(
                condition=Q(rate_percent__gt=-20) & Q(rate_percent__lt=20), name="baserate_plausible"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.valid_from:%d.%m.%Y}: {self.rate_percent} %"


def dunning_pdf_path(instance: DunningNotice, filename: str) -> str:
    # Private like the invoices (MEDIA_ROOT has no URL); served by checked views only.
    return f"dunning/{instance.issued_on:%Y}/{instance.invoice.number}-{instance.level}.pdf"


class DunningNotice(models.Model):
    """One dunning letter of an invoice: Zahlungserinnerung, 1. Mahnung or letzte Mahnung — each
    level once per invoice (the unique constraint decides between re-runs and two workers).
    Written with its e-mail in one transaction; the PDF is rendered after commit and stored
    once with its SHA-256 (GoBD), like the invoices. The amounts are fixed when issued."""

    LEVEL_CHOICES = [
        (rules.DUNNING_REMINDER, _("Zahlungserinnerung")),
        (rules.DUNNING_FIRST, _("1. Mahnung")),
        (rules.DUNNING_FINAL, _("letzte Mahnung")),
    ]

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="dunning_notices", verbose_name=_("Rechnung")
    )
    # The invoice's partner, kept on the row so portal lists scope by it without a join.
    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="dunning_notices", verbose_name=_("Partner")
    )
    level = models.PositiveSmallIntegerField(_("Mahnstufe"), choices=LEVEL_CHOICES)
    issued_on = models.DateField(_("Datum"))
    deadline = models.DateField(_("Frist bis"), help_text=_("einschließlich"))
    open_amount = models.DecimalField(_("offener Rechnungsbetrag"), **MONEY, default=0)
    fee = models.DecimalField(_("Mahnpauschale"), **MONEY, default=0, help_text=_("§ 288 Abs. 5 BGB"))
    interest = models.DecimalField(_("Verzugszinsen"), **MONEY, default=0, help_text=_("§ 288 Abs. 2 BGB"))
    # How the interest was computed (the letter shows it): [[from, to, days, base %, rate %], …]
    interest_spans = models.JSONField(_("Zinsberechnung"), default=list, blank=True)
    email = models.EmailField(_("E-Mail an"), blank=True)
    created_at = models.DateTimeField(_("geschrieben am"))
    # When fee and interest were handed to the next invoice (billing.Charge); empty until then.
    charged_at = models.DateTimeField(_("an nächste Rechnung übergeben"), null=True, blank=True)
    pdf = models.FileField(_("PDF"), upload_to=dunning_pdf_path, blank=True, editable=False)
    pdf_sha256 = models.CharField(_("SHA-256 des PDF"), max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-issued_on", "-level"]
        verbose_name = _("Mahnung")
        verbose_name_plural = _("Mahnungen")
        permissions = [
            ("pause_dunningnotice", _("Mahnwesen pausieren / fortsetzen")),
            ("block_dunningnotice", _("Abo-Schlüssel wegen Zahlungsverzug sperren")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="dunningnotice_level_once"),
            models.CheckConstraint(condition=Q(level__in=[1, 2, 3]), name="dunningnotice_level_valid"),
            models.CheckConstraint(
                condition=Q(fee__gte=0) & Q(interest__gte=0) & Q(open_amount__gte=0),
                name="dunningnotice_amounts_not_negative",
            ),
            models.CheckConstraint(condition=Q(deadline__gte=models.F("issued_on")), name="dunningnotice_deadline"),
        ]
        indexes = [models.Index(fields=["partner", "issued_on"])]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.invoice.number}"

    def save(self, *args, **kwargs):
        """Written once, when issued: what the letter said is never changed afterwards (the
        service stores the PDF and ``charged_at`` by a guarded ``update()``)."""
        if self.pk is not None and not self._state.adding:
            raise DunningRefused(_("Eine geschriebene Mahnung wird nicht mehr geändert."), code="immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DunningRefused(_("Geschriebene Mahnungen werden nie gelöscht."), code="no_delete")

    @property
    def title(self) -> str:
        return str(rules.dunning_level_title(self.level))

    @property
    def claim(self):
        """Fee and interest together (charged on the next invoice, never part of this invoice's open amount)."""
        return self.fee + self.interest

    @property
    def filename(self) -> str:
        name = {1: "Zahlungserinnerung", 2: "Mahnung-1", 3: "Letzte-Mahnung"}[self.level]
        return f"{name}-{self.invoice.number}.pdf"


class DunningPause(models.Model):
    """Finance paused dunning for a whole partner or one invoice (issue 18): while a pause is
    open (``resumed_at`` empty) no further level is issued. The rows are the history — never
    deleted; resuming fills the resume fields."""

    partner = models.ForeignKey(
        "parties.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dunning_pauses",
        verbose_name=_("Partner"),
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dunning_pauses",
        verbose_name=_("Rechnung"),
    )
    reason = models.CharField(_("Grund"), max_length=300)
    paused_at = models.DateTimeField(_("pausiert am"))
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("pausiert von"),
    )  # fmt: skip
    resumed_at = models.DateTimeField(_("fortgesetzt am"), null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("fortgesetzt von"),
    )  # fmt: skip
    resume_reason = models.CharField(_("Grund der Fortsetzung"), max_length=300, blank=True)

    class Meta:
        ordering = ["-paused_at", "-id"]
        verbose_name = _("Mahnpause")
        verbose_name_plural = _("Mahnpausen")
        constraints = [
            models.CheckConstraint(
                condition=Q(partner__isnull=False, invoice__isnull=True)
                | Q(partner__isnull=True, invoice__isnull=False),
                name="dunningpause_partner_or_invoice",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="dunningpause_reason_given"),
            # One open pause per partner and per invoice (a double submit pauses once).
            models.UniqueConstraint(
                fields=["partner"],
                condition=Q(resumed_at__isnull=True, partner__isnull=False),
                name="dunningpause_one_open_per_partner",
            ),  # fmt: skip
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(resumed_at__isnull=True, invoice__isnull=False),
                name="dunningpause_one_open_per_invoice",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        what = self.invoice.number if self.invoice_id else self.partner.company
        return f"{what}: {self.reason}"

    @property
    def is_open(self) -> bool:
        return self.resumed_at is None


class DunningBlock(models.Model):
    """The subscription keys of a partner blocked by finance after a letzte Mahnung's deadline
    (LIC-12's block, issue 18). Remembers which keys it blocked and which overdue invoices caused
    it: when all of those are paid (or cancelled), the payment service releases the block and
    unblocks exactly those keys. One active block per partner."""

    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="dunning_blocks", verbose_name=_("Partner")
    )
    reason = models.CharField(_("Grund"), max_length=300)
    blocked_at = models.DateTimeField(_("gesperrt am"))
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("gesperrt von"),
    )  # fmt: skip
    invoices = models.ManyToManyField(Invoice, related_name="dunning_blocks", verbose_name=_("offene Rechnungen"))
    licenses = models.ManyToManyField(
        "licensing.License", related_name="dunning_blocks", verbose_name=_("gesperrte Schlüssel")
    )
    released_at = models.DateTimeField(_("aufgehoben am"), null=True, blank=True)
    release_reason = models.CharField(_("Grund der Aufhebung"), max_length=300, blank=True)

    class Meta:
        ordering = ["-blocked_at", "-id"]
        verbose_name = _("Sperre wegen Zahlungsverzug")
        verbose_name_plural = _("Sperren wegen Zahlungsverzug")
        constraints = [
            models.UniqueConstraint(
                fields=["partner"], condition=Q(released_at__isnull=True), name="dunningblock_one_active_per_partner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner.company} ({self.blocked_at:%d.%m.%Y})"
