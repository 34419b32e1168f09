"""SUP rules with hand-worked cases (no database)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support import rules

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


# --- SUP-2 / SUP-9 ---------------------------------------------------------------------


def test_rules_example_thursday_afternoon_is_due_wednesday_half_past_nine():
    # 1 h Thu + 6.5 h Fri + 8 h Mon + 8 h Tue = 23.5 h → 0.5 h on Wed.
    assert rules.sla_due(berlin(2026, 11, 19, 16, 0), 24) == berlin(2026, 11, 25, 9, 30)


def test_utc_input_gives_the_same_moment_in_berlin_time():
    due = rules.sla_due(datetime(2026, 11, 19, 15, 0, tzinfo=UTC), 24)  # 16:00 in Berlin (CET)
    assert due == berlin(2026, 11, 25, 9, 30)
    assert due.tzinfo == BERLIN and due.hour == 9 and due.minute == 30


def test_received_on_saturday_starts_monday_morning():
    # Mon 8 + Tue 8 + Wed 8 = 24 → Wed at closing time.
    assert rules.sla_due(berlin(2026, 11, 21, 10, 0), 24) == berlin(2026, 11, 25, 17, 0)


def test_received_friday_evening_after_the_short_day_starts_monday():
    assert rules.sla_due(berlin(2026, 11, 20, 15, 45), 1) == berlin(2026, 11, 23, 10, 0)


def test_friday_closes_at_half_past_three():
    # 15:00 Fri: 0.5 h left that day, 0.5 h on Monday.
    assert rules.sla_due(berlin(2026, 11, 20, 15, 0), 1) == berlin(2026, 11, 23, 9, 30)
    # A whole Friday is 6.5 h: 09:00 + 6.5 h = 15:30 the same day.
    assert rules.sla_due(berlin(2026, 11, 20, 9, 0), 6.5) == berlin(2026, 11, 20, 15, 30)


def test_before_opening_starts_at_nine():
    assert rules.sla_due(berlin(2026, 11, 23, 6, 12), 8) == berlin(2026, 11, 23, 17, 0)


def test_christmas_day_is_skipped_but_christmas_eve_is_a_working_day():
    # Thu 24.12. 16:00: 1 h Thu; Fri 25.12. holiday; Mon 28. 8 h; Tue 29. 8 h; Wed 30.: 7 h → 16:00.
    assert rules.sla_due(berlin(2026, 12, 24, 16, 0), 24) == berlin(2026, 12, 30, 16, 0)


def test_epiphany_closes_baden_wuerttemberg_but_not_berlin():
    received = berlin(2027, 1, 5, 17, 0)  # Tue after closing; Wed 6.1. is Heilige Drei Könige
    assert rules.sla_due(received, 8, state="BW") == berlin(2027, 1, 7, 17, 0)
    assert rules.sla_due(received, 8, state="BE") == berlin(2027, 1, 6, 17, 0)


def test_configured_state_is_the_default(settings):
    settings.SUPPORT_HOLIDAY_STATE = "BE"
    assert rules.sla_due(berlin(2027, 1, 5, 17, 0), 8) == berlin(2027, 1, 6, 17, 0)


def test_corpus_christi_thursday_in_baden_wuerttemberg():
    # Wed 26.5.2027 16:00: 1 h Wed; Thu 27.5. Fronleichnam; Fri 6.5 h; Mon 0.5 h → 09:30.
    assert rules.sla_due(berlin(2027, 5, 26, 16, 0), 8) == berlin(2027, 5, 31, 9, 30)


def test_summer_time_ends_over_the_weekend():
    due = rules.sla_due(berlin(2026, 10, 23, 15, 0), 2)  # 0.5 h Fri (CEST), 1.5 h Mon (CET)
    assert due == berlin(2026, 10, 26, 10, 30)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 9, 30, tzinfo=UTC)


def test_easter_good_friday_and_easter_monday_are_skipped():
    # Thu 25.3.2027 16:00: 1 h Thu; Fri 26.3. Karfreitag; Mon 29.3. Ostermontag; Tue 1 h → 10:00.
    assert rules.sla_due(berlin(2027, 3, 25, 16, 0), 2) == berlin(2027, 3, 30, 10, 0)


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        rules.sla_due(datetime(2026, 11, 19, 16, 0), 24)


def test_warning_is_one_support_hour_before_the_breach():
    # 23 h from Thu 16:00: 1 + 6.5 + 8 + 7.5 → Tue 16:30.
    assert rules.sla_warning_at(berlin(2026, 11, 19, 16, 0), 24) == berlin(2026, 11, 24, 16, 30)
    # One hour before Wed 09:30 in support hours is Tue 16:30, not Wed 08:30.


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),
    st.integers(min_value=1, max_value=60),
)
def test_due_time_always_lies_in_support_hours_after_receipt(naive, hours):
    received = naive.replace(tzinfo=BERLIN)
    due = rules.sla_due(received, hours, state="BW")
    window = rules.support_hours_on(due.date(), "BW")
    assert window is not None and window[0] < due <= window[1]
    assert due - received >= timedelta(hours=hours)


# --- SUP-1 ------------------------------------------------------------------------------


def test_swp_is_no_service_contract_only_contract_or_plan_counts():
    today = date(2026, 11, 21)
    assert rules.has_service_group(plan="free", service_contract_until=None, on=today) is False
    assert rules.has_service_group(plan="free", service_contract_until=date(2026, 11, 21), on=today) is True
    assert rules.has_service_group(plan="free", service_contract_until=date(2026, 11, 20), on=today) is False
    assert rules.has_service_group(plan="premium", service_contract_until=None, on=today) is True
    assert rules.has_service_group(plan="basic", service_contract_until=None, on=today) is False


def test_queue_order_with_mixed_contracts():
    t = [berlin(2026, 11, 23, 9, m) for m in range(6)]
    tickets = {
        "free-critical-first": dict(sla_attention=False, service_group=False, urgency="critical", received_at=t[0]),
        "contract-low": dict(sla_attention=False, service_group=True, urgency="low", received_at=t[1]),
        "contract-high-late": dict(sla_attention=False, service_group=True, urgency="high", received_at=t[4]),
        "contract-high-early": dict(sla_attention=False, service_group=True, urgency="high", received_at=t[2]),
        "free-normal": dict(sla_attention=False, service_group=False, urgency="normal", received_at=t[3]),
        "enterprise-due-soon": dict(sla_attention=True, service_group=True, urgency="low", received_at=t[5]),
    }
    order = sorted(tickets, key=lambda name: rules.queue_key(**tickets[name]))
    assert order == [
        "enterprise-due-soon",
        "contract-high-early",
        "contract-high-late",
        "contract-low",
        "free-critical-first",
        "free-normal",
    ]


# --- workflow ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "current,target,allowed",
    [
        ("new", "open", True),
        ("open", "waiting", True),
        ("waiting", "open", True),
        ("waiting", "solved", True),
        ("solved", "closed", True),
        ("solved", "open", True),  # reopened
        ("closed", "open", True),  # reopened
        ("closed", "solved", False),
        ("closed", "waiting", False),
        ("solved", "waiting", False),
        ("open", "new", False),
    ],
)
def test_status_workflow(current, target, allowed):
    assert rules.can_transition(current, target) is allowed


# --- SUP-3 / SUP-4 / SUP-8 ---------------------------------------------------------------


def test_free_customer_without_contract_gets_documentation_only():
    e = rules.entitlements(plan="free", service_contract=False, dpa=False)
    assert e.documentation and not e.email_support and not e.phone_support and not e.status_replies
    assert (e.installation_support, e.remote_support, e.log_analysis, e.discounted_rate) == ("", False, False, False)
    assert e.sla_hours is None and not e.priority and not e.internal_articles


def test_basic_gives_installation_support_by_mail_and_phone_only():
    e = rules.entitlements(plan="free", service_contract=False, dpa=True, basic_booked=True)
    assert e.installation_support == "email_phone" and not e.email_support and not e.discounted_rate


def test_premium_without_dpa_has_no_remote_and_no_log_analysis():
    e = rules.entitlements(plan="premium", service_contract=False, dpa=False)
    assert e.email_support and e.phone_support and e.status_replies and e.discounted_rate
    assert (e.remote_support, e.log_analysis, e.installation_support) == (False, False, "email_phone")
    assert e.sla_hours is None and not e.priority and e.internal_articles


def test_enterprise_with_dpa_gets_everything_and_the_24_hour_sla():
    e = rules.entitlements(plan="enterprise", service_contract=False, dpa=True)
    assert e.remote_support and e.log_analysis and e.priority and e.sla_hours == 24
    assert e.installation_support == "email_phone_remote"


def test_service_contract_gives_internal_articles_and_with_dpa_remote_support():
    e = rules.entitlements(plan="free", service_contract=True, dpa=True)
    assert e.internal_articles and e.email_support and e.remote_support and e.log_analysis
    assert not e.discounted_rate and e.sla_hours is None


# --- SUP-5 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "minutes,first,billed",
    [
        (1, True, 30),  # at least 0,5 h per case
        (30, True, 30),
        (31, True, 45),  # then per started 15 minutes
        (45, True, 45),
        (46, True, 60),
        (100, True, 105),
        (5, False, 15),  # a later month of a case already billed: no second minimum
        (0, True, 0),
    ],
)
def test_billable_minutes(minutes, first, billed):
    assert rules.billable_minutes(minutes, first_billing_of_case=first) == billed


# --- SUP-7 / SUP-4 ----------------------------------------------------------------------


def test_no_such_method_error_is_flagged():
    assert rules.mentions_incompatibility("ERROR [x] Cause:\njava.lang.NoSuchMethodError: de.starface.…")
    assert not rules.mentions_incompatibility("java.lang.NullPointerException")


@pytest.mark.parametrize(
    "name,is_log",
    [
        ("server.log", True),
        ("modul-log.txt", True),
        ("trace.zip", True),
        ("debug_2026.gz", True),
        ("screenshot.png", False),
        ("notes.txt", False),
        ("catalog.pdf", False),
    ],
)
def test_log_files_are_recognised(name, is_log):
    assert rules.looks_like_log_file(name) is is_log


# --- SUP-4: log data by content (hand-made heads of files) ------------------------------

ZIP_HEAD = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20
GZIP_HEAD = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
SEVEN_Z_HEAD = b"7z\xbc\xaf\x27\x1c\x00\x04"
TAR_HEAD = b"syslog".ljust(257, b"\x00") + b"ustar\x0000" + b"\x00" * 200
SYSLOG = (
    b"Mar  2 10:15:01 pbx kernel: eth0 link up\n"
    b"Mar  2 10:15:02 pbx asterisk[812]: Registration from '<sip:201@pbx>' failed\n"
    b"Mar  2 10:15:09 pbx systemd[1]: Started Session 4 of user root.\n"
)
STARFACE_LOG = (
    b"2026-03-02 10:15:00,123 INFO  [main] de.vertico.starface.Module - start\n"
    b"2026-03-02 10:15:00,456 WARN  [main] de.vertico.starface.Module - slow\n"
    b"2026-03-02 10:15:01,789 ERROR [main] de.vertico.starface.Module - failed\n"
)
GERMAN_TIMES = b"02.03.2026 10:15:00 Anruf von 201\n02.03.2026 10:16:12 Anruf an 0711\n02.03.2026 10:17:40 Ende\n"
LEVELS_ONLY = b"[INFO] Dienst startet\n[WARN] Zertifikat laeuft ab\n[ERROR] Verbindung verloren\n"
JAVA_TRACE = (
    b'Exception in thread "main" java.lang.NullPointerException\n\tat de.vertico.starface.module.Foo.bar(Foo.java:42)\n'
)
JAVA_FRAMES = b"Fehler beim Start:\n    at de.x.Foo.bar(Foo.java:42)\n    at de.x.Foo.main(Foo.java:7)\n"
PYTHON_TRACE = b'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nValueError: x\n'
LETTER = (
    "Sehr geehrte Damen und Herren,\nam 02.03.2026 um 10:15 Uhr fiel die Anlage aus.\n"
    "Der ERROR-Knopf leuchtete rot.\nMit freundlichen Grüßen\nErika Muster\n"
).encode()
ARTICLE_CSV = b"Artikel;Bezeichnung;Preis\nADSYNC;Active Directory Sync;199,00\nGROUPBUSY;Gruppen-Besetzt;99,00\n"


@pytest.mark.parametrize(
    "name,head,reason",
    [
        # archives by magic bytes, whatever the name says
        ("logs.zip", ZIP_HEAD, rules.LOG_ARCHIVE),
        ("bericht.txt", ZIP_HEAD, rules.LOG_ARCHIVE),
        ("anlage.pdf", GZIP_HEAD, rules.LOG_ARCHIVE),
        ("sicherung.txt", SEVEN_Z_HEAD, rules.LOG_ARCHIVE),
        ("export.csv", TAR_HEAD, rules.LOG_ARCHIVE),
        # archives by name, even when the first bytes are cut off or damaged
        ("daten.7z", b"", rules.LOG_ARCHIVE),
        ("daten.tar", b"irgendwas", rules.LOG_ARCHIVE),
        # text that looks like a log, under any name
        ("notizen.txt", SYSLOG, rules.LOG_LINES),
        ("ausgabe.txt", STARFACE_LOG, rules.LOG_LINES),
        ("anrufe.csv", GERMAN_TIMES, rules.LOG_LINES),
        ("meldungen.txt", LEVELS_ONLY, rules.LOG_LINES),
        ("fehler.txt", JAVA_TRACE, rules.LOG_STACK_TRACE),
        ("fehler.txt", JAVA_FRAMES, rules.LOG_STACK_TRACE),
        ("fehler.txt", PYTHON_TRACE, rules.LOG_STACK_TRACE),
        ("windows.txt", b"\xff\xfe" + STARFACE_LOG.decode().encode("utf-16-le"), rules.LOG_LINES),  # UTF-16, BOM
        # names that say log, with harmless content
        ("protokoll.txt", b"Hallo", rules.LOG_NAME),
        ("syslog.txt", b"Hallo", rules.LOG_NAME),
        ("serverlog.txt", b"Hallo", rules.LOG_NAME),
        ("modul.log", b"ERR", rules.LOG_NAME),
        ("C:\\temp\\Debug-Ausgabe.txt", b"Hallo", rules.LOG_NAME),
        # ordinary files
        ("brief.txt", LETTER, ""),
        ("artikel.csv", ARTICLE_CSV, ""),
        ("katalog.txt", b"Hallo", ""),
        ("analog-anschluesse.txt", b"Hallo", ""),
        ("screenshot.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ""),
        ("rechnung.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", ""),
        ("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00", ""),
        ("leer.txt", b"", ""),
    ],
)
def test_log_data_is_recognised_by_content(name, head, reason):
    assert rules.log_data_reason(name, head) == reason


def test_a_file_the_partner_marks_is_log_data_whatever_it_holds():
    assert rules.log_data_reason("screenshot.png", b"\x89PNG\r\n\x1a\n", marked=True) == rules.LOG_MARKED


def test_a_few_timestamps_in_a_longer_text_do_not_make_a_log():
    log_line = b"2026-03-02 10:15 Anruf\n"
    assert rules.log_data_reason("notiz.txt", log_line * 2) == ""  # 2 lines: below the minimum of 3
    # 3 of 8 non-empty lines = 37.5 % < 40 %: a note; 3 of 7 = 42.9 %: a log
    assert rules.log_data_reason("notiz.txt", log_line * 3 + b"Text.\n\n" * 5) == ""
    assert rules.log_data_reason("notiz.txt", log_line * 3 + b"Text.\n\n" * 4) == rules.LOG_LINES


def test_only_the_first_8_kb_are_read():
    head = b"Ganz normaler Text.\n" * 410  # 8,200 bytes
    assert rules.log_data_reason("notiz.txt", head + b"[ERROR] a\n[ERROR] b\n[ERROR] c\n" * 50) == ""
