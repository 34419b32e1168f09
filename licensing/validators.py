"""Field validators for party data, built on python-stdnum (VAT IDs, IBAN, BIC).

They turn stdnum's exceptions into messages that say what a valid value looks like.
"""
from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import bic, iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.util import get_cc_module


def compact_vat_id(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def compact_iban(value: str) -> str:
    return re.sub(r"\s", "", value or "").upper()


def validate_country_code(value: str) -> None:
    if not re.fullmatch(r"[A-Za-z]{2}", (value or "").strip()):
        raise ValidationError(_("Bitte einen zweistelligen ISO-Ländercode angeben, z. B. DE oder AT."))


def validate_vat_id(value: str) -> None:
    """EU VAT IDs by their country's check-digit rules; other countries by stdnum where known."""
    number = compact_vat_id(value)
    if not number:
        return
    prefix = number[:2]
    try:
        if prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL":
            eu_vat.validate(number)
            return
        module = get_cc_module(prefix.lower(), "vat")
        if module is None:
            raise StdnumError()
        module.validate(number)
    except StdnumError:
        raise ValidationError(
            _("„%(value)s“ ist keine gültige USt-IdNr. Sie beginnt mit der Länderkennung, z. B. DE123456788 (DE + 9 Ziffern mit Prüfziffer)."),
            params={"value": value},
            code="invalid_vat_id",
        ) from None


def validate_iban(value: str) -> None:
    if not value:
        return
    try:
        iban.validate(compact_iban(value))
    except StdnumError:
        raise ValidationError(
            _("„%(value)s“ ist keine gültige IBAN (Länderkennung, 2 Prüfziffern, Kontokennung – z. B. DE89 3704 0044 0532 0130 00)."),
            params={"value": value},
            code="invalid_iban",
        ) from None


def validate_bic(value: str) -> None:
    if not value:
        return
    try:
        bic.validate(value.replace(" ", "").upper())
    except StdnumError:
        raise ValidationError(
            _("„%(value)s“ ist kein gültiger BIC (8 oder 11 Zeichen, z. B. COBADEFFXXX)."),
            params={"value": value},
            code="invalid_bic",
        ) from None


# --- plausibility bounds (issue 8) -------------------------------------------------------
# Contract, release and decommissioning dates of this business lie between 2000-01-01 and
# 2100-12-31: STARFACE modules, Auerswald systems and the licence key format (whose expiry
# counts days from 2000-01-01) all start after 2000, and no term runs past 2100. Anything
# outside is a typo (year 1, 0026 or 9999) that would otherwise sit in ledgers and reports.
PLAUSIBLE_FIRST_DAY = date(2000, 1, 1)
PLAUSIBLE_LAST_DAY = date(2100, 12, 31)
# The largest STARFACE/Auerswald system is licensed for a few thousand users; 100,000 leaves
# room for any real system and refuses a mistyped 10^12.
PLAUSIBLE_MAX_USERS = 100_000


def validate_plausible_date(value) -> None:
    if value is not None and not PLAUSIBLE_FIRST_DAY <= value <= PLAUSIBLE_LAST_DAY:
        raise ValidationError(
            _("Bitte ein Datum zwischen dem %(first)s und dem %(last)s angeben.")
            % {"first": PLAUSIBLE_FIRST_DAY.strftime("%d.%m.%Y"), "last": PLAUSIBLE_LAST_DAY.strftime("%d.%m.%Y")},
            code="implausible_date",
        )


def validate_plausible_users(value) -> None:
    if value is not None and value > PLAUSIBLE_MAX_USERS:
        raise ValidationError(
            _("Mehr als %(max)s Benutzer sind für eine Anlage nicht plausibel.") % {"max": "100.000"},
            code="implausible_users",
        )


def plausible_date_check(field: str, name: str):
    """DB check constraint for :func:`validate_plausible_date` (NULL passes, as in SQL)."""
    from django.db.models import CheckConstraint, Q

    return CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": PLAUSIBLE_FIRST_DAY, f"{field}__lte": PLAUSIBLE_LAST_DAY}),
        name=name,
    )
