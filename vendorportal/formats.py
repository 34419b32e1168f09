"""German display formats for dates (the sibling of :mod:`vendorportal.money`).

Messages, e-mails, documents, commands and admin labels show dates as partners read
them: ``31.12.2025``. Values are formatted only when shown; everything else passes
``date`` objects around. Templates use Django's ``|date:"d.m.Y"``, which gives the same.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone


def format_date_de(day: date | None, missing: str = "—") -> str:
    """``date(2025, 12, 31)`` → ``"31.12.2025"`` (day and month with leading zero);
    ``missing`` when there is no date (``None``).

    A ``datetime`` is shown by its own calendar day; convert it to the right time zone
    first, or use :func:`format_datetime_de`.
    """
    if day is None:
        return missing
    # Not strftime("%d.%m.%Y"): its %Y leaves years before 1000 unpadded on glibc.
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def format_datetime_de(moment: datetime | None, missing: str = "—") -> str:
    """An aware moment as Berlin wall-clock time: 2026-11-21 07:05 UTC → ``"21.11.2026 08:05"``.

    Aware values are shown in the portal's time zone (``TIME_ZONE``, Europe/Berlin), as
    the templates' ``|date`` filter does; naive values as they are.
    """
    if moment is None:
        return missing
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{format_date_de(moment)} {moment.hour:02d}:{moment.minute:02d}"


# Country names for addresses abroad (German spelling, as on an envelope from Germany).
COUNTRY_NAMES = {
    "AT": "Österreich",
    "BE": "Belgien",
    "BG": "Bulgarien",
    "CH": "Schweiz",
    "CY": "Zypern",
    "CZ": "Tschechien",
    "DK": "Dänemark",
    "EE": "Estland",
    "ES": "Spanien",
    "FI": "Finnland",
    "FR": "Frankreich",
    "GB": "Vereinigtes Königreich",
    "GR": "Griechenland",
    "HR": "Kroatien",
    "HU": "Ungarn",
    "IE": "Irland",
    "IT": "Italien",
    "LI": "Liechtenstein",
    "LT": "Litauen",
    "LU": "Luxemburg",
    "LV": "Lettland",
    "MT": "Malta",
    "NL": "Niederlande",
    "NO": "Norwegen",
    "PL": "Polen",
    "PT": "Portugal",
    "RO": "Rumänien",
    "SE": "Schweden",
    "SI": "Slowenien",
    "SK": "Slowakei",
    "US": "Vereinigte Staaten",
}


def postal_country(code: str) -> str:
    """The last line of an address abroad: ``"AT"`` → ``"ÖSTERREICH"`` (the name in capitals, as
    the post reads it; an unknown code as it is). Invoices, delivery notes, confirmations and
    dunning letters print the same line."""
    return COUNTRY_NAMES.get(code, code).upper()
