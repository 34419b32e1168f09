"""Module licences and their keys (LIC-1…LIC-13), delivery notes (ORD-2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from licensing.exceptions import IllegalTransition
from licensing.validators import validate_plausible_date
from vendorportal import clock

from .installations import IDENTIFIER_KIND_CHOICES


class License(models.Model):
    """One module licence key for one or more installations (LIC-1, LIC-9).

    The key is written once when the licence is issued and never edited: a
    correction is a revocation plus a new licence (``replaces``).
    """

    PURCHASE = "purchase"
    SUBSCRIPTION = "subscription"
    DEMO = "demo"
    GOODWILL = "goodwill"
    KIND_CHOICES = [
        (PURCHASE, _("Kauf")),
        (SUBSCRIPTION, _("Abo")),
        (DEMO, _("Demo")),
        (GOODWILL, _("Kulanz")),
    ]
    PAID_KINDS = (PURCHASE, SUBSCRIPTION)

    ACTIVE = "active"
    REVOKED = "revoked"
    BLOCKED = "blocked"
    STATE_CHOICES = [(ACTIVE, _("aktiv")), (REVOKED, _("widerrufen")), (BLOCKED, _("gesperrt"))]
    # state → states it may move to; revoked is final.
    TRANSITIONS = {ACTIVE: {REVOKED, BLOCKED}, BLOCKED: {ACTIVE, REVOKED}, REVOKED: set()}

    serial = models.PositiveBigIntegerField(_("Lizenznummer"), unique=True, editable=False)
    product = models.ForeignKey(
        "licensing.Product",
        on_delete=models.PROTECT,
        related_name="licenses",
        verbose_name=_("Modul"),
        limit_choices_to={"kind": "module"},
    )
    module_version = models.ForeignKey(
        "licensing.ModuleVersion",
        on_delete=models.PROTECT,
        related_name="licenses",
        verbose_name=_("lizenzierte Version"),
    )
    installation = models.ForeignKey(
        "licensing.Installation",
        on_delete=models.PROTECT,
        related_name="licenses",
        verbose_name=_("Installation"),
        help_text=_("Die Anlage, für die bestellt wurde (bei Redundanz die Primäranlage)."),
    )
    kind = models.CharField(_("Art"), max_length=12, choices=KIND_CHOICES)
    tier = models.CharField(_("Benutzerstaffel"), max_length=8, blank=True)
    user_limit = models.PositiveIntegerField(
        _("max. Benutzer"), null=True, blank=True, help_text=_("leer = unbegrenzt")
    )
    valid_until = models.DateField(
        _("gültig bis"),
        null=True,
        blank=True,
        help_text=_("nur Demo-Schlüssel (LIC-6) und ihre Kulanz-Ersatzschlüssel (LIC-10)"),
    )
    key = models.TextField(_("Lizenzschlüssel"), unique=True, editable=False)
    key_compact = models.CharField(_("Schlüssel ohne Trennzeichen"), max_length=400, db_index=True, editable=False)
    signing_key_id = models.PositiveIntegerField(_("Signaturschlüssel-ID"), editable=False)
    state = models.CharField(_("Status"), max_length=10, choices=STATE_CHOICES, default=ACTIVE)
    state_reason = models.CharField(_("Grund der letzten Statusänderung"), max_length=300, blank=True)
    state_changed_at = models.DateTimeField(_("Status geändert am"), null=True, blank=True)
    issued_at = models.DateTimeField(_("ausgestellt am"), default=clock.now, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ausgestellt von"),
    )
    order_reference = models.CharField(
        _("Bestellung"),
        max_length=64,
        blank=True,
        help_text=_("Bestell- bzw. Positionsnummer, aus der der Schlüssel stammt."),
    )
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("ersetzt Lizenz"),
        help_text=_("Bei Kulanz nach Umzug oder Korrektur: die widerrufene Vorgängerlizenz."),
    )
    subscription_reference = models.CharField(_("Abo"), max_length=64, blank=True)
    history = HistoricalRecords(excluded_fields=["key_compact"])

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("Lizenz")
        verbose_name_plural = _("Lizenzen")
        constraints = [
            # A demo key expires; so does the goodwill replacement of one (LIC-10 keeps its limits).
            models.CheckConstraint(
                condition=(Q(kind="demo") & Q(valid_until__isnull=False))
                | (Q(kind="goodwill") & Q(replaces__isnull=False))
                | (~Q(kind="demo") & Q(valid_until__isnull=True)),
                name="license_only_demo_expires",
            ),
            # ORD-6: one active paid key per module and installation — a second one is bought
            # as a tier upgrade or moved as a replacement. The database, not a Python check,
            # decides between two concurrent issues (STYLE 14).
            models.UniqueConstraint(
                fields=["installation", "product"],
                condition=Q(kind__in=["purchase", "subscription"], state="active"),
                name="license_one_active_paid_key",
            ),
            models.CheckConstraint(condition=Q(state__in=["active", "revoked", "blocked"]), name="license_state_valid"),
            models.CheckConstraint(condition=~Q(key=""), name="license_key_not_empty"),
        ]
        indexes = [
            models.Index(fields=["product", "state"]),
            # The cockpit's demo conversion (issue 20) looks, per demo key, for a paid key of the
            # same module on the same installation issued within 60 days: without it SQLite
            # scans every key of the module once per demo.
            models.Index(fields=["installation", "product", "issued_at"], name="license_inst_product_issued"),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} · {self.installation.identifier} · {self.get_kind_display()}"

    @property
    def is_paid(self) -> bool:
        return self.kind in self.PAID_KINDS

    @property
    def is_subscription_bound(self) -> bool:
        """A subscription key, or a goodwill replacement (of a replacement …) of one (LIC-10, LIC-12)."""
        lic = self
        while lic is not None and lic.kind == self.GOODWILL:
            lic = lic.replaces
        return lic is not None and lic.kind == self.SUBSCRIPTION

    def can_move_to(self, state: str) -> bool:
        return state in self.TRANSITIONS[self.state]

    def move_to(self, state: str) -> None:
        """Change state in memory; raises :class:`IllegalTransition` when not allowed."""
        if not self.can_move_to(state):
            raise IllegalTransition(
                _("Eine Lizenz im Status „%(old)s“ kann nicht „%(new)s“ werden.")
                % {"old": self.get_state_display(), "new": dict(self.STATE_CHOICES).get(state, state)},
                code="illegal_transition",
            )
        self.state = state


class IssueClaim(models.Model):
    """A one-time claim on an issue (STYLE 14), written before any key: ``form:<token>`` for
    the one-time token of an issue form, ``order:<reference>`` for an order reference. The
    unique claim makes a double submit, a re-run or two workers at once issue once; the
    loser finds the keys the winner issued."""

    claim = models.CharField(_("Anspruch"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
    licenses = models.ManyToManyField(License, related_name="issue_claims", verbose_name=_("Lizenzen"))

    class Meta:
        verbose_name = _("Ausstellungsanspruch")
        verbose_name_plural = _("Ausstellungsansprüche")

    def __str__(self) -> str:
        return self.claim


class LicenseBinding(models.Model):
    """An installation a key is bound to, with the identifier as it was when issued."""

    license = models.ForeignKey(License, on_delete=models.PROTECT, related_name="bindings", verbose_name=_("Lizenz"))
    installation = models.ForeignKey(
        "licensing.Installation",
        on_delete=models.PROTECT,
        related_name="license_bindings",
        verbose_name=_("Installation"),
    )
    identifier_kind = models.CharField(_("Kennung"), max_length=12, choices=IDENTIFIER_KIND_CHOICES)
    identifier = models.CharField(_("Serverlizenzschlüssel / Hardware-ID"), max_length=64, db_index=True)

    class Meta:
        verbose_name = _("Bindung")
        verbose_name_plural = _("Bindungen")
        constraints = [models.UniqueConstraint(fields=["license", "installation"], name="licensebinding_unique")]

    def __str__(self) -> str:
        return self.identifier


class NfrLockQuerySet(models.QuerySet):
    def locking(self, *, product, identifier_kind: str, identifier: str):
        return self.filter(license__product=product, identifier_kind=identifier_kind, identifier=identifier)


class NfrLockManager(models.Manager.from_queryset(NfrLockQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(license__kind__in=License.PAID_KINDS)


class NfrLock(LicenseBinding):
    """LIC-8: once a paid key exists for server key + module, the NFR unlock of that
    combination is blocked for good.

    The lock is the paid key's binding itself (it records the identifier as it was when
    the key was issued, is never deleted and its licence is never deleted): a paid key's
    binding to a server key locks its module there, whatever became of the key since.
    Deriving the lock from the binding rather than writing a row of its own saves a write
    per issued key (issue 17's budget) and cannot drift from the keys.
    """

    objects = NfrLockManager()

    class Meta:
        proxy = True
        verbose_name = _("NFR-Sperre")
        verbose_name_plural = _("NFR-Sperren")

    @property
    def product(self):
        return self.license.product

    @property
    def created_at(self):
        return self.license.issued_at


def delivery_note_path(instance: DeliveryNote, filename: str) -> str:
    # The folder year is the number's year (Europe/Berlin), not created_at's UTC year.
    year = instance.number.split("-")[1] if instance.number.count("-") == 2 else f"{instance.created_at:%Y}"
    return f"delivery-notes/{year}/{instance.number}.pdf"


class DeliveryNote(models.Model):
    """Lieferschein (ORD-2): the keys of one issue, without prices, to the delivery e-mail.

    The PDF is rendered once and stored; it is never re-rendered or replaced.
    """

    number = models.CharField(_("Nummer"), max_length=20, unique=True)
    created_at = models.DateTimeField(_("erstellt am"), default=clock.now, editable=False)
    installation = models.ForeignKey(
        "licensing.Installation",
        on_delete=models.PROTECT,
        related_name="delivery_notes",
        verbose_name=_("Installation"),
    )
    licenses = models.ManyToManyField(License, related_name="delivery_notes", verbose_name=_("Lizenzen"))
    recipient_email = models.EmailField(_("Liefer-E-Mail"))
    pdf = models.FileField(_("PDF"), upload_to=delivery_note_path, blank=True, editable=False)
    # GoBD: the SHA-256 of the stored PDF, written with it (vendorportal.documents).
    pdf_sha256 = models.CharField(_("SHA-256 des PDF"), max_length=64, blank=True, editable=False)
    sent_at = models.DateTimeField(_("zuletzt versendet"), null=True, blank=True)
    send_count = models.PositiveIntegerField(_("Anzahl Versand"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Lieferschein")
        verbose_name_plural = _("Lieferscheine")

    def __str__(self) -> str:
        return self.number


class InsightOwnUse(models.Model):
    """LIC-13: a partner's own-use Insight Analytics licence, refunded once it has sold
    customer licences whose tiers add up to at least its own tier."""

    partner = models.ForeignKey(
        "parties.Partner", on_delete=models.PROTECT, related_name="insight_own_uses", verbose_name=_("Partner")
    )
    license = models.OneToOneField(
        License, on_delete=models.PROTECT, related_name="own_use", verbose_name=_("Eigennutzungs-Lizenz")
    )
    purchased_on = models.DateField(_("gekauft am"), validators=[validate_plausible_date])
    price_paid = models.DecimalField(_("bezahlter Preis netto"), max_digits=12, decimal_places=2)
    refunded_on = models.DateField(_("erstattet am"), null=True, blank=True, validators=[validate_plausible_date])

    class Meta:
        verbose_name = _("Insight Analytics Eigennutzung")
        verbose_name_plural = _("Insight Analytics Eigennutzungen")

    def __str__(self) -> str:
        return f"{self.partner} · {self.license.tier}"
