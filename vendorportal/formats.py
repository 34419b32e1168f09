"""Display formats for dates, in the reader's language (the sibling of :mod:`vendorportal.money`).

Messages, e-mails, documents, portal pages and admin labels show a date as its reader
expects it: German ``31.12.2025`` (the default, and every internal German document), English
``31 Dec 2025`` — day, the month's three-letter English name, year: unambiguous to a British
and an American reader alike, where ``12/31/2025`` and ``31/12/2025`` are not (docs/i18n.md).

:func:`format_date` and :func:`format_datetime` look at the active language
(``translation.get_language()``): a request's, or the partner's inside
:func:`vendorportal.i18n.for_partner`, German inside ``for_vendor`` and wherever no language is
active. Templates use ``|date:"SHORT_DATE_FORMAT"`` / ``|date:"SHORT_DATETIME_FORMAT"``, whose
formats (``vendorportal/locale_formats/<lang>/formats.py``) give the same text.

Values are formatted only when shown; everything else passes ``date`` objects around. Machine
formats (CSV, DATEV, SEPA XML, Factur-X, the API's JSON) never use these: they write ISO dates
or fixed German with :func:`format_date_de` where their reader (German finance) expects it.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone, translation

# Not Django's translated month names: an English date must not depend on a catalog.
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def english_active() -> bool:
    """True when the active language is English (``en``, ``en-gb`` …); German otherwise."""
    return (translation.get_language() or "").lower().startswith("en")


def format_date_de(day: date | None, missing: str = "—") -> str:
    """Always German: ``date(2025, 12, 31)`` → ``"31.12.2025"`` (day and month with leading
    zero); ``missing`` when there is no date (``None``). For fixed German texts and files.

    A ``datetime`` is shown by its own calendar day; convert it to the right time zone
    first, or use :func:`format_datetime`.
    """
    if day is None:
        return missing
    # Not strftime("%d.%m.%Y"): its %Y leaves years before 1000 unpadded on glibc.
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def format_date_en(day: date | None, missing: str = "—") -> str:
    """Always English: ``date(2026, 12, 6)`` → ``"6 Dec 2026"``."""
    if day is None:
        return missing
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year:04d}"


def format_date(day: date | None, missing: str = "—") -> str:
    """A date for its reader, in the active language: ``"06.12.2026"`` / ``"6 Dec 2026"``."""
    return format_date_en(day, missing) if english_active() else format_date_de(day, missing)


def format_datetime(moment: datetime | None, missing: str = "—") -> str:
    """An aware moment as Berlin wall-clock time, in the active language:
    2026-11-21 07:05 UTC → ``"21.11.2026 08:05"`` / ``"21 Nov 2026, 08:05"``.

    Aware values are shown in the portal's time zone (``TIME_ZONE``, Europe/Berlin), as
    the templates' ``|date`` filter does; naive values as they are.
    """
    if moment is None:
        return missing
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    if english_active():
        return f"{format_date_en(moment)}, {moment.hour:02d}:{moment.minute:02d}"
    return f"{format_date_de(moment)} {moment.hour:02d}:{moment.minute:02d}"


def format_datetime_de(moment: datetime | None, missing: str = "—") -> str:
    """Always German: ``"21.11.2026 08:05"`` (Berlin time for aware values)."""
    with translation.override("de"):
        return format_datetime(moment, missing)


def format_decimal(value, *, strip_zeros: bool = True) -> str:
    """A plain number for its reader (a quantity, a rate): ``Decimal("1.50")`` → German ``"1,5"``,
    English ``"1.5"``; trailing zeros dropped unless ``strip_zeros=False``; no thousands
    separator (quantities and rates are small)."""
    text = f"{value:f}" if not isinstance(value, str) else value
    if strip_zeros and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if english_active() else text.replace(".", ",")


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
