"""Field validators for party data (partners, customers), built on python-stdnum (VAT IDs, IBAN, BIC).

They turn stdnum's exceptions into messages that say what a valid value looks like.
"""

from __future__ import annotations

import re

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
        # stdnum imports a module named after the prefix: only ever two letters (a VAT ID
        # "../x" made it import a relative path, a 500 — issue 17).
        if not re.fullmatch(r"[A-Za-z]{2}", prefix):
            raise StdnumError()
        module = get_cc_module(prefix.lower(), "vat")
        if module is None:
            raise StdnumError()
        module.validate(number)
    except StdnumError:
        raise ValidationError(
            _(
                "„%(value)s“ ist keine gültige USt-IdNr. Sie beginnt mit der Länderkennung, z. B. DE123456788 (DE + 9 Ziffern mit Prüfziffer)."
            ),
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
            _(
                "„%(value)s“ ist keine gültige IBAN (Länderkennung, 2 Prüfziffern, Kontokennung – z. B. DE89 3704 0044 0532 0130 00)."
            ),
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
