"""Rules on installation identifiers and user tiers (CAT-2, LIC-1, SYS-1).

Pure functions over plain values (STYLE 2): no ORM, no ``now()``, no I/O. In rule-ID
order; each docstring names its RULES.md ID.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from licensing.constants import AUERSWALD, EDITION_FREE
from licensing.exceptions import IdentifierFormatError

# --- Catalog: user tiers (CAT-2) ---------------------------------------------------

# (upper bound inclusive or None for open end, tier label) in ascending order.
USER_TIERS: tuple[tuple[int | None, str], ...] = (
    (20, "1-20"),
    (40, "21-40"),
    (80, "41-80"),
    (150, "81-150"),
    (250, "151-250"),
    (None, ">250"),
)
TIER_LABELS: tuple[str, ...] = tuple(label for _upper, label in USER_TIERS)


def tier_for(installed_users: int) -> str:
    """The price tier for an installation's *installed* user licences (CAT-2).

    Installed licences = PBX user licences + User Light licences, not users created.
    20 → "1-20", 21 → "21-40", 251 → ">250". Raises ``ValueError`` below 1.
    """
    if isinstance(installed_users, bool) or not isinstance(installed_users, int):
        raise ValueError(f"installed_users must be a whole number, not {installed_users!r}")
    if installed_users < 1:
        raise ValueError("An installation has at least one installed user licence.")
    for upper, label in USER_TIERS:
        if upper is None or installed_users <= upper:
            return label
    raise AssertionError("unreachable: the last tier is open-ended")


def tier_rank(tier: str) -> int:
    """Position of a tier label in ascending order (0 for "1-20"); ``ValueError`` if unknown."""
    try:
        return TIER_LABELS.index(tier)
    except ValueError:
        raise ValueError(f"Unknown user tier {tier!r}; known: {', '.join(TIER_LABELS)}") from None


def tier_user_limit(tier: str) -> int | None:
    """Highest number of installed users a tier allows; ``None`` for ">250" (no limit)."""
    return USER_TIERS[tier_rank(tier)][0]


def installed_user_count(pbx_users: int, user_light: int) -> int:
    """Installed user licences that decide the tier (CAT-2): PBX users + User Light."""
    if pbx_users < 0 or user_light < 0:
        raise ValueError("Licence counts cannot be negative.")
    return pbx_users + user_light


# --- Installation identifiers (LIC-1, SYS-1) ----------------------------------------

SERVER_KEY = "server_key"
HARDWARE_ID = "hardware_id"
SERIAL_NUMBER = "serial"


def identifier_kind_for(vendor: str, edition: str) -> str:
    """Which identifier an installation is known by (LIC-1, SYS-1).

    STARFACE Free Edition: hardware ID; other STARFACE editions: server licence key;
    Auerswald systems: serial number.
    """
    if vendor == AUERSWALD:
        return SERIAL_NUMBER
    if edition == EDITION_FREE:
        return HARDWARE_ID
    return SERVER_KEY


_SERVER_KEY_RE = re.compile(r"^[A-Z0-9]{5}(?:-[A-Z0-9]{5}){3}$")
_HARDWARE_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9:-]{6,62}[A-Z0-9]$")
_SERIAL_RE = re.compile(r"^[A-Z0-9]{6,20}$")


def normalize_identifier(kind: str, value: str) -> str:
    """Normalise and check an installation identifier (LIC-1, SYS-1).

    Upper-cases and trims; a server licence key may be typed without dashes or
    with spaces and is returned as four groups of five (``ABCDE-12345-FGHIJ-67890``);
    the regrouping is the stand-alone verifier's, so keys bind exactly what is stored.
    **Decision** (the seeds give no format for hardware IDs and serial numbers):
    a hardware ID is 8–64 letters/digits, inner ``-`` or ``:`` allowed; an
    Auerswald serial number is 6–20 letters/digits.
    Raises :class:`IdentifierFormatError` with a message that shows a valid value.
    """
    if value is None:
        value = ""
    text = str(value).strip().upper()
    if kind == SERVER_KEY:
        from licensing.verifier import normalize_server_key  # stdlib-only module, no cycle

        text = normalize_server_key(text)
        if not _SERVER_KEY_RE.match(text):
            raise IdentifierFormatError(
                _(
                    "„%(value)s“ ist kein Serverlizenzschlüssel. Er besteht aus vier Gruppen "
                    "zu je 5 Buchstaben oder Ziffern, z. B. ABCDE-12345-FGHIJ-67890."
                )
                % {"value": value}
            )
        return text
    if kind == HARDWARE_ID:
        text = re.sub(r"\s", "", text)
        if not _HARDWARE_ID_RE.match(text):
            raise IdentifierFormatError(
                _(
                    "„%(value)s“ ist keine gültige Hardware-ID. Sie besteht aus 8 bis 64 "
                    "Buchstaben oder Ziffern (Bindestrich oder Doppelpunkt dazwischen erlaubt) "
                    "und steht im Console-Log der STARFACE unter Admin/Server/Log-Datei."
                )
                % {"value": value}
            )
        return text
    if kind == SERIAL_NUMBER:
        text = re.sub(r"[\s\-]", "", text)
        if not _SERIAL_RE.match(text):
            raise IdentifierFormatError(
                _(
                    "„%(value)s“ ist keine gültige Seriennummer. Eine Auerswald-Seriennummer "
                    "besteht aus 6 bis 20 Buchstaben oder Ziffern, z. B. 1AB2345678."
                )
                % {"value": value}
            )
        return text
    raise ValueError(f"Unknown identifier kind {kind!r}")


def looks_like_server_key(text: str) -> bool:
    """True when ``text`` has the shape of a server licence key (used by LIC-3 (b))."""
    try:
        normalize_identifier(SERVER_KEY, text)
    except IdentifierFormatError:
        return False
    return True
