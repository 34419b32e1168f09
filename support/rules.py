"""The support rules of RULES.md section 8 as pure functions (STYLE 2).

No ORM, no ``now()``: the caller passes the moment, the plan and the facts. The only
outside input is the public-holiday calendar (``holidays`` package) of the vendor's
state, a setting (``SUPPORT_HOLIDAY_STATE``, default Baden-Württemberg) that callers
may override with ``state=``.
"""

from __future__ import annotations

import math
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


def looks_like_log_file(filename: str, content_type: str = "") -> bool:
    """Log files fall under SUP-4 (no analysis without a DPA): ``*.log``, or a text/archive
    whose name says log/trace/debug (``modul-log.txt``, ``trace.zip``)."""
    name = (filename or "").lower()
    if name.endswith(".log"):
        return True
    return name.endswith(LOG_FILE_SUFFIXES) and bool(LOG_NAME_PATTERN.search(name.rsplit(".", 1)[0]))
