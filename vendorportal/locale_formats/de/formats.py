"""German display formats of the templates' ``|date:"SHORT_DATE_FORMAT"`` (docs/i18n.md);
the same as :func:`vendorportal.formats.format_date` and Django's own German formats."""

SHORT_DATE_FORMAT = "d.m.Y"  # 06.12.2026
SHORT_DATETIME_FORMAT = "d.m.Y H:i"  # 06.12.2026 08:05
