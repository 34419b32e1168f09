"""English display formats of the templates' ``|date:"SHORT_DATE_FORMAT"`` (docs/i18n.md):
``6 Dec 2026`` — unambiguous on both sides of the Atlantic, unlike Django's ``12/06/2026``.
The same as :func:`vendorportal.formats.format_date`."""

SHORT_DATE_FORMAT = "j M Y"  # 6 Dec 2026
SHORT_DATETIME_FORMAT = "j M Y, H:i"  # 6 Dec 2026, 08:05
