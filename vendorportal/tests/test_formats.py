"""Dates in the reader's language (``vendorportal.formats``): German 31.12.2025, English 31 Dec 2025."""

from datetime import UTC, date, datetime

import pytest

from vendorportal.formats import format_date_de, format_datetime_de


@pytest.mark.parametrize(
    "day, shown",
    [
        (date(2025, 12, 31), "31.12.2025"),
        (date(2026, 1, 5), "05.01.2026"),  # leading zeros for day and month
        (date(2028, 2, 29), "29.02.2028"),
        (date(999, 3, 1), "01.03.0999"),  # four-digit year, as partners read it
    ],
)
def test_german_date(day, shown):
    assert format_date_de(day) == shown


def test_missing_date_is_a_dash_or_what_the_caller_asks_for():
    assert format_date_de(None) == "—"
    assert format_date_de(None, missing="?") == "?"
    assert format_date_de(None, missing="") == ""


def test_datetime_is_shown_in_berlin_time():
    # 07:05 UTC on 21 November is 08:05 in Berlin (CET, UTC+1); in July (CEST) it is +2.
    assert format_datetime_de(datetime(2026, 11, 21, 7, 5, tzinfo=UTC)) == "21.11.2026 08:05"
    assert format_datetime_de(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == "02.07.2026 00:30"
    assert format_datetime_de(datetime(2026, 7, 1, 22, 30)) == "01.07.2026 22:30"  # naive: as it is
    assert format_datetime_de(None) == "—"


def test_rules_messages_use_the_german_date():
    from licensing import rules

    # LIC-6: a version of 28.02.2019 is older than 03/2019.
    message = rules.demo_refusal(
        product_name="Call Recording", demo_allowed=True, version_released_on=date(2019, 2, 28)
    )
    assert "Version vom 28.02.2019" in message
    assert "abgelaufen" in rules.diagnosis_message(rules.VERDICT_EXPIRED, expiry=date(2026, 1, 9))
    assert "am 09.01.2026 abgelaufen" in rules.diagnosis_message(rules.VERDICT_EXPIRED, expiry=date(2026, 1, 9))
    assert "am ? abgelaufen" in rules.diagnosis_message(rules.VERDICT_EXPIRED, expiry=None)


# --- the reader's language (docs/i18n.md): German unchanged, English "6 Dec 2026" -----------------


def test_dates_follow_the_active_language():
    from django.utils import translation

    from vendorportal.formats import format_date, format_datetime

    day, moment = date(2026, 12, 6), datetime(2026, 11, 21, 7, 5, tzinfo=UTC)
    with translation.override("de"):
        assert (format_date(day), format_datetime(moment)) == ("06.12.2026", "21.11.2026 08:05")
    with translation.override("en"):
        assert (format_date(day), format_datetime(moment)) == ("6 Dec 2026", "21 Nov 2026, 08:05")
        assert format_date(date(2027, 1, 31)) == "31 Jan 2027"
        assert format_date(None) == "—"
        assert format_date_de(day) == "06.12.2026"  # the fixed German form stays German
        assert format_datetime_de(moment) == "21.11.2026 08:05"
    with translation.override(None):  # no language active (a command, a worker): German
        assert format_date(day) == "06.12.2026"


@pytest.mark.parametrize("language", ["de", "en"])
def test_templates_show_the_same_date_as_the_function(language):
    from django.template import Context, Template
    from django.utils import timezone, translation

    from vendorportal.formats import format_date, format_datetime

    day, moment = date(2026, 12, 6), datetime(2026, 11, 21, 7, 5, tzinfo=UTC)
    template = Template('{{ day|date:"SHORT_DATE_FORMAT" }}|{{ moment|date:"SHORT_DATETIME_FORMAT" }}')
    with translation.override(language), timezone.override("Europe/Berlin"):
        assert template.render(Context({"day": day, "moment": moment})) == (
            f"{format_date(day)}|{format_datetime(moment)}"
        )


def test_plain_numbers_follow_the_active_language():
    from decimal import Decimal

    from django.utils import translation

    from vendorportal.formats import format_decimal

    with translation.override("de"):
        assert [format_decimal(Decimal(v)) for v in ("1.50", "10.00", "795")] == ["1,5", "10", "795"]
        assert format_decimal("3.620", strip_zeros=False) == "3,620"
    with translation.override("en"):
        assert [format_decimal(Decimal(v)) for v in ("1.50", "10.00", "795")] == ["1.5", "10", "795"]
