"""Installations: one PBX (STARFACE or Auerswald) of one end customer."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from licensing import rules
from licensing.constants import (
    AUERSWALD,
    COMTREXX_ADVANCED,
    COMTREXX_BUSINESS,
    EDITION_CLOUD,
    EDITION_FREE,
    STARFACE,
    VENDOR_CHOICES,
)
from licensing.validators import (
    PLAUSIBLE_MAX_USERS,
    plausible_date_check,
    validate_plausible_date,
    validate_plausible_users,
)
from vendorportal import clock

# Edition / model codes by vendor (seed 000 for STARFACE, seed 003 for Auerswald).
EDITIONS: dict[str, list[tuple[str, str]]] = {
    STARFACE: [
        ("appliance", _("STARFACE Appliance")),
        ("vm", _("STARFACE VM-Edition")),
        (EDITION_CLOUD, _("STARFACE Cloud")),
        (EDITION_FREE, _("STARFACE Free Edition")),
    ],
    AUERSWALD: [
        ("comtrexx_vm", "COMtrexx VM"),
        ("comtrexx_next", "COMtrexx Next"),
        ("comtrexx_flex", "COMtrexx Flex"),
        (COMTREXX_BUSINESS, "COMtrexx Business"),
        (COMTREXX_ADVANCED, "COMtrexx Advanced"),
        ("compact_4000", "COMpact 4000"),
        ("compact_5000", "COMpact 5000(R)"),
        ("compact_5200", "COMpact 5200(R)"),
        ("compact_5500r", "COMpact 5500R"),
        ("commander_6000", "COMmander 6000(R/RX)"),
        ("commander_business", 'COMmander Business (19")'),
    ],
}
EDITION_CHOICES = [(code, label) for editions in EDITIONS.values() for code, label in editions]
IDENTIFIER_KIND_CHOICES = [
    (rules.SERVER_KEY, _("Serverlizenzschlüssel")),
    (rules.HARDWARE_ID, _("Hardware-ID (Free Edition)")),
    (rules.SERIAL_NUMBER, _("Seriennummer (Auerswald)")),
]


def decommission_proof_path(instance: Installation, filename: str) -> str:
    return f"decommission-proofs/{instance.identifier_kind}/{instance.identifier}/{filename}"


def active_on_q(on: date, prefix: str = "") -> Q:
    """The one definition of an *active* installation on day ``on``, as a filter.

    Active = not decommissioned, or decommissioned only after ``on``: "außer Betrieb
    seit" names the first day out of service, so an installation decommissioned on
    2026-01-15 is active on 2026-01-14 and not on 2026-01-15. ``prefix`` reaches the
    installation from another model (``"installation__"``).
    :meth:`InstallationQuerySet.active` and :meth:`Installation.is_active_on` say the same.
    """
    return Q(**{f"{prefix}decommissioned_on__isnull": True}) | Q(**{f"{prefix}decommissioned_on__gt": on})


class InstallationQuerySet(models.QuerySet):
    def for_partner(self, partner):
        return self.filter(customer__partner=partner)

    def active(self, on: date):
        """Installations active on ``on`` (:func:`active_on_q`)."""
        return self.filter(active_on_q(on))


class Installation(models.Model):
    """One PBX, known by its server licence key, hardware ID or serial number."""

    customer = models.ForeignKey(
        "parties.Customer", on_delete=models.PROTECT, related_name="installations", verbose_name=_("Kunde")
    )
    name = models.CharField(_("Bezeichnung"), max_length=120, blank=True, help_text=_("Frei wählbar, z. B. Standort."))
    vendor = models.CharField(_("Hersteller"), max_length=12, choices=VENDOR_CHOICES, default=STARFACE)
    edition = models.CharField(_("Edition / Modell"), max_length=24, choices=EDITION_CHOICES)
    identifier_kind = models.CharField(
        _("Kennung"),
        max_length=12,
        choices=IDENTIFIER_KIND_CHOICES,
        blank=True,
        help_text=_("Ergibt sich aus Hersteller und Edition (LIC-1, SYS-1)."),
    )
    identifier = models.CharField(
        _("Serverlizenzschlüssel / Hardware-ID / Seriennummer"),
        max_length=64,
        help_text=_(
            "Serverlizenzschlüssel im Format XXXXX-XXXXX-XXXXX-XXXXX; bei der Free Edition die Hardware-ID; bei Auerswald die Seriennummer."
        ),
    )
    pbx_users = models.PositiveIntegerField(
        _("installierte PBX-Benutzerlizenzen"), default=0, validators=[validate_plausible_users]
    )
    user_light_licenses = models.PositiveIntegerField(
        _("installierte User-Light-Lizenzen"), default=0, validators=[validate_plausible_users]
    )
    has_nfr_server_license = models.BooleanField(_("NFR-Serverlizenz vorhanden"), default=False)
    has_nfr_user_license = models.BooleanField(_("NFR-Benutzerlizenz vorhanden"), default=False)
    pbx_version = models.CharField(
        _("Version der Telefonanlage"), max_length=20, blank=True, help_text=_("z. B. 9.0.1")
    )
    secondary_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="secondaries",
        verbose_name=_("Redundanz-Sekundäranlage von"),
        help_text=_("Nur für Redundanzanlagen: die Primäranlage. Sie braucht eigene Lizenzen (LIC-9)."),
    )
    delivery_email = models.EmailField(
        _("Liefer-E-Mail für Schlüssel"),
        blank=True,
        help_text=_(
            "Optional: Lieferscheine mit den Modulschlüsseln dieser Anlage gehen direkt hierhin (ORD-2); "
            "leer = an die Liefer-E-Mail des Kunden bzw. der Bestellung."
        ),
    )
    decommissioned_on = models.DateField(
        _("außer Betrieb seit"), null=True, blank=True, validators=[validate_plausible_date]
    )
    decommission_proof = models.FileField(
        _("Nachweis der Außerbetriebnahme"),
        upload_to=decommission_proof_path,
        blank=True,
        help_text=_("Bestätigung von STARFACE, dass der Serverlizenzschlüssel dauerhaft außer Betrieb ist (LIC-10)."),
    )
    created_at = models.DateTimeField(_("angelegt"), default=clock.now, editable=False)
    history = HistoricalRecords()

    objects = InstallationQuerySet.as_manager()

    class Meta:
        ordering = ["identifier"]
        verbose_name = _("Installation")
        verbose_name_plural = _("Installationen")
        constraints = [
            models.UniqueConstraint(fields=["identifier_kind", "identifier"], name="installation_identifier_unique"),
            models.CheckConstraint(
                condition=(
                    Q(vendor=AUERSWALD, identifier_kind=rules.SERIAL_NUMBER)
                    | Q(vendor=STARFACE, edition=EDITION_FREE, identifier_kind=rules.HARDWARE_ID)
                    | (Q(vendor=STARFACE, identifier_kind=rules.SERVER_KEY) & ~Q(edition=EDITION_FREE))
                ),
                name="installation_identifier_kind_matches_edition",
            ),
            models.CheckConstraint(
                condition=~Q(edition=EDITION_CLOUD) | (Q(has_nfr_server_license=False) & Q(has_nfr_user_license=False)),
                name="installation_cloud_has_no_nfr",
            ),
            models.CheckConstraint(condition=~Q(secondary_of=F("id")), name="installation_not_own_secondary"),
            models.CheckConstraint(
                condition=Q(pbx_users__lte=PLAUSIBLE_MAX_USERS, user_light_licenses__lte=PLAUSIBLE_MAX_USERS),
                name="installation_users_plausible",
            ),
            plausible_date_check("decommissioned_on", "installation_decommissioned_on_plausible"),
        ]

    def __str__(self) -> str:
        return f"{self.identifier} ({self.get_edition_display()})"

    # --- derived facts, all from licensing.rules ---
    @property
    def installed_users(self) -> int:
        return rules.installed_user_count(self.pbx_users, self.user_light_licenses)

    @property
    def tier(self) -> str | None:
        """Price tier by installed user licences (CAT-2); None while none are entered."""
        return rules.tier_for(self.installed_users) if self.installed_users else None

    @property
    def facts(self) -> rules.InstallationFacts:
        return rules.InstallationFacts(
            vendor=self.vendor,
            edition=self.edition,
            has_nfr_server_license=self.has_nfr_server_license,
            has_nfr_user_license=self.has_nfr_user_license,
        )

    @property
    def has_nfr(self) -> bool:
        return rules.installation_has_nfr(self.facts)

    def is_active_on(self, on: date) -> bool:
        """Active on ``on``: not decommissioned, or only after that day (:func:`active_on_q`)."""
        return self.decommissioned_on is None or self.decommissioned_on > on

    def clean(self):
        super().clean()
        errors: dict[str, list] = {}
        valid_editions = {code for code, _label in EDITIONS.get(self.vendor, [])}
        if self.edition and self.edition not in valid_editions:
            errors.setdefault("edition", []).append(
                _("Diese Edition gehört nicht zum Hersteller %(vendor)s.") % {"vendor": self.get_vendor_display()}
            )
        if self.edition:
            self.identifier_kind = rules.identifier_kind_for(self.vendor, self.edition)
        if self.identifier_kind:
            try:
                self.identifier = rules.normalize_identifier(self.identifier_kind, self.identifier)
            except rules.IdentifierFormatError as exc:
                errors.setdefault("identifier", []).append(exc.message)
        nfr_problem = rules.nfr_license_conflict(self.edition, self.has_nfr_server_license, self.has_nfr_user_license)
        if nfr_problem:
            errors.setdefault("has_nfr_server_license", []).append(nfr_problem)
        if self.secondary_of_id and self.pk and self.secondary_of_id == self.pk:
            errors.setdefault("secondary_of", []).append(_("Eine Anlage kann nicht ihre eigene Sekundäranlage sein."))
        elif self.secondary_of_id:
            errors.update(self._secondary_problems())
        if self.identifier_kind and self.identifier and "identifier" not in errors:
            # The identifier is normalised above, so "abcde12345…" finds "ABCDE-12345-…". Checked
            # here because the admin form leaves the read-only identifier_kind out of its unique check.
            taken = Installation.objects.filter(
                identifier_kind=self.identifier_kind, identifier=self.identifier
            ).exclude(pk=self.pk)
            other = taken.select_related("customer").first()
            if other is not None:
                errors.setdefault("identifier", []).append(
                    _("%(id)s ist bereits als Installation von %(customer)s erfasst.")
                    % {"id": self.identifier, "customer": other.customer}
                )
        if self.decommission_proof and not self.decommissioned_on:
            errors.setdefault("decommissioned_on", []).append(
                _("Bitte das Datum der Außerbetriebnahme zum Nachweis angeben.")
            )
        if errors:
            raise ValidationError(errors)

    def _secondary_problems(self) -> dict[str, list]:
        """A redundancy pair (LIC-9) is two PBXs of one vendor at one customer."""
        primary = Installation.objects.filter(pk=self.secondary_of_id).first()
        if primary is None:
            return {}
        if primary.vendor != self.vendor:
            return {
                "secondary_of": [
                    _("Die Primäranlage %(id)s ist von einem anderen Hersteller.") % {"id": primary.identifier}
                ]
            }
        if primary.customer_id != self.customer_id:
            return {
                "secondary_of": [
                    _(
                        "Die Primäranlage %(id)s gehört zu einem anderen Kunden; Primär- und Sekundäranlage gehören zum selben Kunden."
                    )
                    % {"id": primary.identifier}
                ]
            }
        if primary.secondary_of_id:
            return {
                "secondary_of": [
                    _("%(id)s ist selbst eine Sekundäranlage; bitte die Primäranlage wählen.")
                    % {"id": primary.identifier}
                ]
            }
        return {}
