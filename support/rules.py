"""The support rules of RULES.md section 8 as pure functions (STYLE 2).

No ORM, no ``now()``: the caller passes the moment, the plan and the facts. The only
outside input is the public-holiday calendar (``holidays`` package) of the vendor's
state, a setting (``SUPPORT_HOLIDAY_STATE``, default Baden-Württemberg) that callers
may override with ``state=``.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

BERLIN = ZoneInfo("Europe/Berlin")

# SUP-9 support hours by weekday (Monday = 0): (opening, closing); weekends closed.
SUPPORT_HOURS: dict[int, tuple[time, time]] = {
    0: (time(9, 0), time(17, 0)),
    1: (time(9, 0), time(17, 0)),
    2: (time(9, 0), time(17, 0)),
    3: (time(9, 0), time(17, 0)),
    4: (time(9, 0), time(15, 30)),
}
ENTERPRISE_SLA_HOURS = 24  # SUP-2: first response within 24 support hours
SLA_WARNING_HOURS = 1  # the staff are warned one support hour before a breach

# Ticket kinds (SUP-6) and what each needs (SUP-7).
SUPPORT_REQUEST = "support"
INSTALLATION_SUPPORT = "installation"
BUG_REPORT = "bug"
FEATURE_REQUEST = "feature"
KINDS_NEEDING_VERSIONS = frozenset({SUPPORT_REQUEST, BUG_REPORT})

# Urgency (severity), most urgent first: the rank orders the queue (SUP-1).
CRITICAL, HIGH, NORMAL, LOW = "critical", "high", "normal", "low"
URGENCY_RANK = {CRITICAL: 0, HIGH: 1, NORMAL: 2, LOW: 3}

# Status workflow: new → open → waiting for customer → solved → closed, reopen allowed.
NEW, OPEN, WAITING, SOLVED, CLOSED = "new", "open", "waiting", "solved", "closed"
TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({OPEN, WAITING, SOLVED, CLOSED}),
    OPEN: frozenset({WAITING, SOLVED, CLOSED}),
    WAITING: frozenset({OPEN, SOLVED, CLOSED}),
    SOLVED: frozenset({OPEN, CLOSED}),  # OPEN = reopened
    CLOSED: frozenset({OPEN}),  # reopened
}
OPEN_STATES = frozenset({NEW, OPEN, WAITING})

# Plans as billing names them (billing.rules.PLAN_*; SUP-3).
FREE, BASIC, PREMIUM, ENTERPRISE = "free", "basic", "premium", "enterprise"
PLANS_WITH_SERVICE = frozenset({PREMIUM, ENTERPRISE})

NO_SUCH_METHOD = "java.lang.NoSuchMethodError"
LOG_FILE_SUFFIXES = (".log", ".txt", ".gz", ".zip")
LOG_NAME_PATTERN = re.compile(r"(^|[^a-z])(log|trace|debug)([^a-z]|$)", re.IGNORECASE)


# --- SUP-2 / SUP-9: support hours and the SLA --------------------------------------------


@lru_cache(maxsize=16)
def _holiday_calendar(state: str, year: int):
    return holidays.country_holidays("DE", subdiv=state, years=year)


def _state(state: str | None) -> str:
    if state:
        return state
    from django.conf import settings  # the configured state; rules stay testable without Django

    return getattr(settings, "SUPPORT_HOLIDAY_STATE", "BW") or "BW"


def is_support_day(day: date, state: str | None = None) -> bool:
    """Mon–Fri and not a public holiday of the state (SUP-9)."""
    return day.weekday() in SUPPORT_HOURS and day not in _holiday_calendar(_state(state), day.year)


def support_hours_on(day: date, state: str | None = None) -> tuple[datetime, datetime] | None:
    """Opening and closing of ``day`` as aware Berlin datetimes, or None when closed."""
    if not is_support_day(day, state):
        return None
    opens, closes = SUPPORT_HOURS[day.weekday()]
    return datetime.combine(day, opens, BERLIN), datetime.combine(day, closes, BERLIN)


def sla_due(received_at: datetime, hours: int, *, state: str | None = None) -> datetime:
    """When ``hours`` support hours have passed since ``received_at`` (SUP-2).

    Counts only support hours (SUP-9) in Europe/Berlin and skips the public holidays
    of the vendor's state; a ticket received outside support hours starts its clock at
    the next opening. Aware in, aware (Europe/Berlin) out. RULES example: received
    Thu 2026-11-19 16:00 → 1 h Thu, 6.5 h Fri, 8 h Mon, 8 h Tue = 23.5 h → Wed
    2026-11-25 09:30. A due time that falls exactly on a closing time stays there
    (Thu 17:00), it does not move to the next morning.
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("sla_due needs an aware datetime.")
    if hours < 0:
        raise ValueError("hours must not be negative.")
    state = _state(state)
    remaining = timedelta(hours=hours)
    moment = received_at.astimezone(BERLIN)
    day = moment.date()
    # Support hours lie between 09:00 and 17:00, never across a DST switch, so the
    # wall-clock arithmetic of one day is exact.
    for _ in range(3700):  # ten years of days: a bound, never reached for a sane SLA
        window = support_hours_on(day, state)
        if window is not None:
            opens, closes = window
            start = max(moment, opens)
            if start < closes:
                available = closes - start
                if remaining <= available:
                    return start + remaining
                remaining -= available
        day += timedelta(days=1)
        moment = datetime.combine(day, time(0, 0), BERLIN)
    raise ValueError("No support hours found within ten years.")


def sla_warning_at(received_at: datetime, hours: int, *, state: str | None = None) -> datetime:
    """The moment one support hour is left before the SLA is breached (the staff warning)."""
    return sla_due(received_at, max(hours - SLA_WARNING_HOURS, 0), state=state)


# --- SUP-1: queue order ------------------------------------------------------------------


def has_service_group(*, plan: str, service_contract_until: date | None, on: date) -> bool:
    """SUP-1 / SUP-10: a service & maintenance contract in force on ``on`` or a Premium or
    Enterprise plan on the server key. Software maintenance (SWP), update contracts and
    subscriptions are not service contracts and never count here."""
    contract = service_contract_until is not None and service_contract_until >= on
    return contract or plan in PLANS_WITH_SERVICE


def queue_key(*, sla_attention: bool, service_group: bool, urgency: str, received_at: datetime) -> tuple:
    """The order the staff queue works in (SUP-1, SUP-2): first tickets whose Enterprise
    SLA is about to be or has been breached, then customers with a service contract or
    plan, within a group by urgency, then by arrival. ``support.selectors.ticket_queue``
    orders the database the same way."""
    return (0 if sla_attention else 1, 0 if service_group else 1, URGENCY_RANK[urgency], received_at)


# --- Status workflow ---------------------------------------------------------------------


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


# --- SUP-3 / SUP-4 / SUP-8: entitlements -------------------------------------------------


@dataclass(frozen=True)
class Entitlements:
    plan: str
    service_contract: bool
    dpa: bool
    documentation: bool = True
    status_replies: bool = False  # bug reports / feature requests answered with a status
    installation_support: str = ""  # "", "email_phone", "email_phone_remote"
    email_support: bool = False
    phone_support: bool = False
    remote_support: bool = False  # TeamViewer: plan and DPA (SUP-4)
    log_analysis: bool = False  # DPA only (SUP-4)
    discounted_rate: bool = False
    priority: bool = False
    sla_hours: int | None = None
    internal_articles: bool = False  # SUP-8


def entitlements(*, plan: str, service_contract: bool, dpa: bool, basic_booked: bool = False) -> Entitlements:
    """What a customer may expect (SUP-3 with seed 001's table, SUP-4, SUP-8, seed 004).

    ``plan`` is the Premium/Enterprise plan on the server key (or free); ``basic_booked``
    an installation support Basic bought with an order (one appointment by e-mail/phone).
    A service & maintenance contract (seed 004) gives contractual e-mail/phone support and
    the internal articles; the DPA (AV-Vertrag) alone unlocks remote sessions and log
    analysis, never a plan without it.
    """
    with_plan = plan in PLANS_WITH_SERVICE
    if with_plan:
        installation = "email_phone_remote" if dpa else "email_phone"
    elif basic_booked:
        installation = "email_phone"
    else:
        installation = ""
    return Entitlements(
        plan=plan,
        service_contract=service_contract,
        dpa=dpa,
        status_replies=with_plan,
        installation_support=installation,
        email_support=with_plan or service_contract,
        phone_support=with_plan or service_contract,
        remote_support=(with_plan or service_contract) and dpa,
        log_analysis=dpa,
        discounted_rate=with_plan,
        priority=plan == ENTERPRISE,
        sla_hours=ENTERPRISE_SLA_HOURS if plan == ENTERPRISE else None,
        internal_articles=service_contract or with_plan,
    )


# --- SUP-5: billable time ----------------------------------------------------------------

MINIMUM_MINUTES_PER_CASE = 30
BILLING_STEP_MINUTES = 15


def billable_minutes(minutes: int, *, first_billing_of_case: bool) -> int:
    """Minutes billed for a case's logged ``minutes`` (SUP-5): at least 0,5 h per case,
    then per started 15 minutes. Later months of a case already billed round to started
    15 minutes without a second minimum. 1 → 30, 31 → 45, 46 → 60; later: 5 → 15."""
    if minutes <= 0:
        return 0
    rounded = math.ceil(minutes / BILLING_STEP_MINUTES) * BILLING_STEP_MINUTES
    return max(rounded, MINIMUM_MINUTES_PER_CASE) if first_billing_of_case else rounded


# --- SUP-7: versions and incompatibility -------------------------------------------------


def mentions_incompatibility(text: str) -> bool:
    """A log excerpt with ``java.lang.NoSuchMethodError`` means module and PBX version
    do not fit together (SUP-7, seed 000)."""
    return NO_SUCH_METHOD.casefold() in (text or "").casefold()


# SUP-7 for Auerswald systems (seed 003): a ticket about a COMtrexx names the system by
# its serial number (SYS-1) and states the firmware and the PBX Call Assist version.
_VERSION_RE = re.compile(r"^[vV]?\s*(\d{1,4}(?:\.\d{1,4}){0,3})$")
CALL_ASSIST_MIN_COMTREXX_FIRMWARE = (2, 0, 3)  # seed 003: "Softwarestand ab V. 2.0.3"
CALL_ASSIST_FIRMWARE_BOUND_MAJOR = 5  # the requirement is stated for PBX Call Assist 5


def normalize_version(text: str) -> str | None:
    """A version as dotted numbers ("2.0.3"; "V 2.0.3" → "2.0.3"), None when it is none."""
    match = _VERSION_RE.match((text or "").strip())
    return match.group(1) if match else None


def version_tuple(version: str) -> tuple[int, ...]:
    """ "2.0.3" → (2, 0, 3); missing places count as 0 when compared ("2.1" > "2.0.3")."""
    return tuple(int(part) for part in version.split("."))


def _padded(version: tuple[int, ...], places: int = 4) -> tuple[int, ...]:
    return version + (0,) * (places - len(version))


def call_assist_firmware_too_old(*, firmware_version: str, call_assist_version: str, is_comtrexx: bool) -> bool:
    """PBX Call Assist 5 on a COMtrexx needs firmware 2.0.3 or later (seed 003).

    Both versions as :func:`normalize_version` gives them; an unknown model counts as a
    COMtrexx (a COMpact's or COMmander's firmware numbers are far above 2.0.3 anyway).
    Examples: Call Assist 5.1 on 2.0.2 → True; on 2.0.3 or 2.1 → False; 4.8 on 1.9 → False.
    """
    if not (is_comtrexx and firmware_version and call_assist_version):
        return False
    if version_tuple(call_assist_version)[0] != CALL_ASSIST_FIRMWARE_BOUND_MAJOR:
        return False
    return _padded(version_tuple(firmware_version)) < _padded(CALL_ASSIST_MIN_COMTREXX_FIRMWARE)


def looks_like_log_file(filename: str, content_type: str = "") -> bool:
    """Log files fall under SUP-4 (no analysis without a DPA): ``*.log``, or a text/archive
    whose name says log/trace/debug (``modul-log.txt``, ``trace.zip``). The name alone; the
    upload paths call :func:`log_data_reason`, which also reads the content."""
    name = (filename or "").lower()
    if name.endswith(".log"):
        return True
    return name.endswith(LOG_FILE_SUFFIXES) and bool(LOG_NAME_PATTERN.search(name.rsplit(".", 1)[0]))


# --- SUP-4: log data recognised by content -----------------------------------------------

# Why a file counts as log data (stored on the attachment, shown in the portal).
LOG_MARKED = "marked"  # the partner ticked "enthält Logdaten"
LOG_ARCHIVE = "archive"  # zip/gz/tar/7z/…: what is inside cannot be seen without unpacking
LOG_STACK_TRACE = "stack_trace"
LOG_LINES = "log_lines"  # timestamped lines or log levels
LOG_NAME = "name"  # *.log, syslog.txt, protokoll.txt, …

LOG_SNIFF_BYTES = 8192  # the first 8 KB decide; a log shows itself in its first lines
LOG_LINES_MIN = 3  # at least three lines with a timestamp or a log level …
LOG_LINES_SHARE = 0.4  # … making at least 40 % of the non-empty lines looked at
LOG_LINES_LOOKED_AT = 60

# (offset, magic bytes, kind); tar's "ustar" sits at byte 257 of the first header block.
ARCHIVE_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"PK\x03\x04", "zip"),
    (0, b"PK\x05\x06", "zip"),  # an empty zip
    (0, b"PK\x07\x08", "zip"),  # a spanned zip
    (0, b"\x1f\x8b", "gzip"),
    (0, b"7z\xbc\xaf\x27\x1c", "7z"),
    (257, b"ustar", "tar"),
    (0, b"BZh", "bzip2"),  # followed by a digit and the block magic, checked below
    (0, b"\xfd7zXZ\x00", "xz"),
    (0, b"Rar!\x1a\x07", "rar"),
)
ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".7z", ".bz2", ".xz", ".rar")

# Words in a file name that say "log"; common words that merely contain "log" are removed
# first (a PBX vendor's partners write about analoge Anschlüsse and Dialoge).
LOG_NAME_WORDS = re.compile(r"log|protokoll|trace|debug|journal|dump")
NOT_LOG_WORDS = re.compile(r"analog|katalog|catalog|dialog|prolog|epilog|blog|biolog|technolog|logo")
TEXT_SUFFIXES = (".txt", ".csv", ".xml", ".json", ".out", ".err")

_MONTHS = r"(?:jan|feb|mar|mär|apr|may|mai|jun|jul|aug|sep|oct|okt|nov|dec|dez)"
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T_]\d{1,2}:\d{2}"  # ISO 8601: 2026-03-02 10:15 / 2026-03-02T10:15
    r"|\d{4}/\d{2}/\d{2} \d{1,2}:\d{2}"  # 2026/03/02 10:15
    r"|\d{1,2}\.\d{1,2}\.\d{2,4},? \d{1,2}:\d{2}:\d{2}"  # German: 02.03.2026 10:15:00
    rf"|\b{_MONTHS} +\d{{1,2}} \d{{2}}:\d{{2}}:\d{{2}}"  # syslog: Mar  2 10:15:00
    rf"|\d{{2}}/{_MONTHS}/\d{{4}}:\d{{2}}:\d{{2}}:\d{{2}}"  # access log: 02/Mar/2026:10:15:00
    r"|^\s*\[?\d{1,2}:\d{2}:\d{2}"  # a time at the start of the line: [10:15:00]
    r"|^\s*\[?\d{10}(?:\.\d+)?\]?\s",  # Unix time at the start: 1772442900.123
    re.IGNORECASE,
)
# Log levels as loggers write them: upper case, standing alone ("INFO", "[WARN]", "E/").
_LEVEL = re.compile(
    r"(?<![\w-])(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|FATAL|CRIT|CRITICAL|ALERT|EMERG)(?![\w-])"
)
_STACK_TRACE_START = re.compile(
    r"^Traceback \(most recent call last\):"  # Python
    r'|^Exception in thread "'  # Java
    r"|^Caused by: [\w$.]+"  # Java
    r"|^\s*at [\w$.<>/]+\([\w$.<>/ ]*(?::\d+)*\)\s*$",  # Java / JavaScript frame: at a.b.C.m(C.java:42)
    re.MULTILINE,
)


def archive_kind(head: bytes) -> str:
    """The archive format the first bytes show ("zip", "gzip", "tar", "7z", …), or ""."""
    head = head or b""
    for offset, magic, kind in ARCHIVE_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if kind == "bzip2" and not (head[3:4].isdigit() and head[4:10] == b"\x31\x41\x59\x26\x53\x59"):
                continue
            return kind
    return ""


def _as_text(head: bytes) -> str | None:
    """The first bytes as text, or None for a binary file (images, PDFs with streams)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM (Windows event exports)
        return head.decode("utf-16", errors="replace")
    if b"\x00" in head:
        return None
    return head.decode("utf-8", errors="replace")


def looks_like_log_text(text: str) -> str:
    """LOG_STACK_TRACE, LOG_LINES or "" for the start of a text file (SUP-4).

    A stack trace needs one unmistakable start (``Traceback …``, ``Exception in thread``,
    ``Caused by:``) or two frames (``at a.b.C.m(C.java:42)``). Log lines: at least
    ``LOG_LINES_MIN`` lines with a timestamp or an upper-case log level, and at least
    ``LOG_LINES_SHARE`` of the non-empty lines looked at, so a letter naming one date or
    one "ERROR" stays an ordinary file."""
    frames = 0
    for match in _STACK_TRACE_START.finditer(text):
        if match.group(0).lstrip().startswith("at "):
            frames += 1
            if frames >= 2:
                return LOG_STACK_TRACE
        else:
            return LOG_STACK_TRACE
    lines = [line for line in text.splitlines() if line.strip()][:LOG_LINES_LOOKED_AT]
    hits = sum(1 for line in lines if _TIMESTAMP.search(line) or _LEVEL.search(line))
    if hits >= LOG_LINES_MIN and hits >= LOG_LINES_SHARE * len(lines):
        return LOG_LINES
    return ""


def log_name(filename: str) -> bool:
    """A name that says log: ``*.log``, or a text file named ``syslog``, ``serverlog``,
    ``protokoll``, ``trace``, ``debug``, ``journal``, ``dump`` (not ``katalog.txt``)."""
    name = os.path.basename((filename or "").replace("\\", "/")).lower()
    if name.endswith(".log"):
        return True
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix}" not in TEXT_SUFFIXES + ARCHIVE_SUFFIXES:
        return False
    return bool(LOG_NAME_WORDS.search(NOT_LOG_WORDS.sub(" ", stem)))


def log_data_reason(filename: str, head: bytes, *, marked: bool = False) -> str:
    """Why an uploaded file counts as log data under SUP-4 (locked for staff until a DPA is
    on file), or "" for an ordinary file. ``head``: the file's first ``LOG_SNIFF_BYTES``.

    In this order: the partner marked it; an archive by its magic bytes or its name (what is
    inside cannot be checked without unpacking, so it waits for the DPA); a text whose
    first lines are a stack trace or log lines; a name that says log."""
    if marked:
        return LOG_MARKED
    head = (head or b"")[:LOG_SNIFF_BYTES]
    name = (filename or "").lower()
    if archive_kind(head) or name.endswith(ARCHIVE_SUFFIXES):
        return LOG_ARCHIVE
    text = _as_text(head)
    if text is not None:
        found = looks_like_log_text(text)
        if found:
            return found
    return LOG_NAME if log_name(filename) else ""
