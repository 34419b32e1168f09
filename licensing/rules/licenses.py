"""Rules of STARFACE module licences (LIC-3…LIC-13).

Pure functions over ``date`` and plain values (STYLE 2): no ORM, no ``now()``, no I/O.
In rule-ID order; each docstring names its RULES.md ID. Identifiers (LIC-1) and
tiers (CAT-2) are in :mod:`licensing.rules.identifiers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from licensing.constants import EDITION_CLOUD
from licensing.exceptions import LicensingError
from licensing.rules.identifiers import HARDWARE_ID, tier_user_limit
from vendorportal.formats import format_date

# --- LIC-3: why is my key not accepted? ---------------------------------------------

# Verdict codes and what the partner should do.
VERDICT_VALID = "valid"
VERDICT_EXPIRED = "expired"
VERDICT_OTHER_SERVER_KEY = "other-server-key"
VERDICT_SERVER_KEY_ENTERED = "server-key-entered"
VERDICT_MISTYPED = "mistyped"
VERDICT_OTHER_MODULE = "other-module"
VERDICT_PAID_UPDATE = "paid-update-needed"
VERDICTS = (
    VERDICT_VALID,
    VERDICT_EXPIRED,
    VERDICT_OTHER_SERVER_KEY,
    VERDICT_SERVER_KEY_ENTERED,
    VERDICT_MISTYPED,
    VERDICT_OTHER_MODULE,
    VERDICT_PAID_UPDATE,
)


def diagnosis_message(
    verdict: str,
    *,
    module: str = "",
    key_module: str = "",
    expiry: date | None = None,
    licensed_version: str = "",
    required_version: str = "",
    identifier: str = "",
) -> str:
    """The German sentence for a LIC-3 verdict, telling the partner what to do."""
    if verdict == VERDICT_VALID:
        return _(
            "Der Schlüssel ist gültig für %(identifier)s. Bitte in der Modulkonfiguration unter „Lizenzierung“ eintragen und speichern."
        ) % {"identifier": identifier}
    if verdict == VERDICT_EXPIRED:
        return _(
            "Der Demo-Schlüssel ist am %(date)s abgelaufen. Für den weiteren Betrieb bitte das Modul kaufen oder mieten."
        ) % {"date": format_date(expiry, missing="?")}
    if verdict == VERDICT_OTHER_SERVER_KEY:
        return _(
            "Der Schlüssel gehört zu einem anderen Serverlizenzschlüssel als %(identifier)s. Bitte den Serverlizenzschlüssel im Bereich Support-Informationen der Anlage mit dem auf dem Lieferschein vergleichen – beide bilden ein Lizenzpaar."
        ) % {"identifier": identifier}
    if verdict == VERDICT_SERVER_KEY_ENTERED:
        return _(
            "Eingegeben wurde ein Serverlizenzschlüssel, kein Modullizenzschlüssel. Bitte den Modullizenzschlüssel vom Lieferschein eintragen."
        )
    if verdict == VERDICT_MISTYPED:
        return _(
            "Der Schlüssel ist unvollständig oder enthält falsche Zeichen. Bitte ihn vollständig aus dem Lieferschein kopieren und prüfen, dass der Browser das Feld nicht automatisch befüllt hat."
        )
    if verdict == VERDICT_OTHER_MODULE:
        return _(
            "Der Schlüssel gehört zum Modul %(key_module)s, nicht zu %(module)s. Bitte den Schlüssel in der Konfiguration des richtigen Moduls eintragen."
        ) % {"key_module": key_module or "?", "module": module or "?"}
    if verdict == VERDICT_PAID_UPDATE:
        return _(
            "Der Schlüssel gilt für Version %(licensed)s. Die installierte Version braucht nach einem kostenpflichtigen Update einen Schlüssel ab Version %(required)s – bitte das Upgrade bestellen oder die ältere Version weiter verwenden."
        ) % {"licensed": licensed_version, "required": required_version}
    raise ValueError(f"Unknown verdict {verdict!r}")


# --- LIC-4: versions and paid updates ----------------------------------------------


def _version_tuple(version: str) -> tuple[int, int, int]:
    from licensing.verifier import parse_version

    return parse_version(version)


def required_key_version(installed_version: str, versions: list[tuple[str, bool]]) -> str | None:
    """The lowest licensed version a key needs to run ``installed_version`` (LIC-4).

    ``versions``: the module's (version, is_paid_update) pairs. A key for version L
    runs version T unless a paid update P with L < P ≤ T lies between them; so T
    needs a key for at least the newest paid version ≤ T. None: any key runs it.
    Older versions are always covered.
    """
    target = _version_tuple(installed_version)
    paid = [v for v, is_paid in versions if is_paid and _version_tuple(v) <= target]
    return max(paid, key=_version_tuple) if paid else None


def key_covers_version(licensed_version: str, target_version: str, versions: list[tuple[str, bool]]) -> bool:
    """Does a key for ``licensed_version`` run ``target_version``? (LIC-4)

    Free updates keep the key; a jump onto or over a paid version needs a new key;
    older versions are always covered.
    """
    required = required_key_version(target_version, versions)
    return required is None or _version_tuple(licensed_version) >= _version_tuple(required)


# --- LIC-6: demo keys ----------------------------------------------------------------

DEMO_KEYS_FROM = date(2019, 3, 1)  # LIC-6: time-limited keys exist for versions released from 03/2019
DEMO_DAYS_DEFAULT = 30  # LIC-6: 30-day keys for end customers
MAX_DEMO_DAYS = 90  # Decision: staff may extend a test, but not beyond 90 days per key


def demo_refusal(*, product_name: str, demo_allowed: bool, version_released_on: date) -> str | None:
    """Why no demo key can be issued, or None (LIC-6).

    Never for Active Directory Synchronisation and User Template PRO (catalog flag
    ``demo_allowed``); never for versions released before 03/2019, because those
    versions cannot check an expiry date, so a demo key would run for ever.
    """
    if not demo_allowed:
        return _("Für %(module)s gibt es keine Demo-Schlüssel.") % {"module": product_name}
    if version_released_on < DEMO_KEYS_FROM:
        return _(
            "Version vom %(date)s: Modulversionen vor 03/2019 können keine zeitlich beschränkten "
            "Schlüssel prüfen, deshalb gibt es für sie keine Demo-Schlüssel."
        ) % {"date": format_date(version_released_on)}
    return None


def demo_expiry(issued_on: date, days: int = DEMO_DAYS_DEFAULT) -> date:
    """Last valid day of a demo key (LIC-6): issued on 2026-11-21 for 30 days → 2026-12-20.

    The issue day counts as the first of the ``days`` days (inclusive end).
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DEMO_DAYS:
        raise LicensingError(
            _("Ein Demo-Schlüssel gilt 1 bis %(max)s Tage, nicht %(days)s.") % {"max": MAX_DEMO_DAYS, "days": days},
            code="invalid_demo_days",
        )
    return issued_on + timedelta(days=days - 1)


# --- LIC-7, LIC-8: NFR ---------------------------------------------------------------


@dataclass(frozen=True)
class InstallationFacts:
    """What the NFR and licensing rules need to know about one installation."""

    vendor: str
    edition: str
    has_nfr_server_license: bool = False
    has_nfr_user_license: bool = False


def installation_has_nfr(facts: InstallationFacts) -> bool:
    """An installation counts as NFR when it has an NFR server or NFR user licence (LIC-7).

    Cloud instances never have NFR licences (LIC-7), whatever was entered.
    """
    if facts.edition == EDITION_CLOUD:
        return False
    return facts.has_nfr_server_license or facts.has_nfr_user_license


def nfr_license_conflict(edition: str, has_nfr_server: bool, has_nfr_user: bool) -> str | None:
    """Message when NFR flags are set where they cannot exist (LIC-7: cloud has no NFR)."""
    if edition == EDITION_CLOUD and (has_nfr_server or has_nfr_user):
        return _("STARFACE-Cloud-Instanzen haben keine NFR-Lizenzen (NFR-Server- oder -Benutzerlizenz).")
    return None


def nfr_unlocks_module(*, installation_has_nfr: bool, product_nfr_allowed: bool, nfr_locked: bool) -> bool:
    """Does the module run without a key on this installation? (LIC-7, LIC-8)

    Yes on installations with an NFR server or user licence, except for modules
    without NFR (Insight Analytics, Teams Integration, AURORA), and never again for
    a server key + module once a paid key was generated for it (LIC-8).
    """
    return installation_has_nfr and product_nfr_allowed and not nfr_locked


# --- LIC-9: redundancy --------------------------------------------------------------

MULTI_BINDING_FROM = date(2018, 8, 1)  # LIC-9: one key for several server keys from 08/2018


def multi_binding_refusal(*, version_released_on: date, installations: int) -> str | None:
    """LIC-9: several server keys in one key only for versions released from 08/2018."""
    if installations > 1 and version_released_on < MULTI_BINDING_FROM:
        return _(
            "Modulversionen vor 08/2018 brauchen einen eigenen Schlüssel je Serverlizenzschlüssel "
            "(Primär- und Sekundäranlage getrennt)."
        )
    return None


# --- LIC-10, LIC-11: moving and transferring ----------------------------------------

MOVE_GOODWILL = "goodwill"
MOVE_NEW_PURCHASE = "new_purchase"
MOVE_NO_TRANSFER = "no_transfer"


def move_outcome(*, old_identifier_kind: str, same_identifier: bool, decommission_proven: bool) -> str:
    """LIC-10: what moving an installation means for its module keys.

    Same server key (appliance → VM → cloud): free, the key stays (``"same"``).
    New server key with STARFACE's proof that the old one is permanently
    decommissioned: goodwill keys. Without proof: new purchase (the old key stays
    valid with the old server key). Free Edition hardware IDs: a changed ID is a
    new system — no transfer.
    """
    if same_identifier:
        return "same"
    if old_identifier_kind == HARDWARE_ID:
        return MOVE_NO_TRANSFER
    return MOVE_GOODWILL if decommission_proven else MOVE_NEW_PURCHASE


def transfer_refusal(*, same_identifier: bool) -> str | None:
    """LIC-11: usage rights pass to another customer only with the operating environment."""
    if not same_identifier:
        return _(
            "Lizenzen können nur zusammen mit der Anlage (gleicher Serverlizenzschlüssel bzw. gleiche "
            "Hardware-ID) an einen anderen Kunden übertragen werden. Für eine andere Anlage ist ein Neukauf nötig."
        )
    return None


# --- LIC-13: Insight Analytics for partners -----------------------------------------


def tier_capacity(tier: str) -> int:
    """Users a tier stands for when tiers are added up (LIC-13): its upper bound,
    251 for ">250" (**Decision**: the open tier counts with its lowest user count)."""
    limit = tier_user_limit(tier)
    return limit if limit is not None else 251


def insight_refund_due(own_tier: str, sold_tiers: list[str]) -> bool:
    """LIC-13: the own-use Insight Analytics price is refunded once the partner sold
    customer licences whose tiers add up to at least its own tier.
    Own 21-40: one 21-40 sale (40 ≥ 40) or two 1-20 sales (20 + 20 ≥ 40) suffice; one 1-20 does not.
    """
    return sum(tier_capacity(t) for t in sold_tiers) >= tier_capacity(own_tier)
