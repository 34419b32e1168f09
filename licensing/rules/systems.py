"""Rules of Auerswald systems and PBX Call Assist 5 Softwarepflege (SYS-1, SYS-2, SWP-1…SWP-9).

Pure functions over ``date`` and plain values (STYLE 2): no ORM, no ``now()``, no I/O.
In rule-ID order; each docstring names its RULES.md ID. Seeds 002 (COMtrexx
licensing) and 003 (PBX Call Assist 5 Softwarepflege).

Every month period is GEN-1's ``month_period_end``; every period end is inclusive.
Quotes are ``Counter``s of article number → quantity without zero lines, so
``quote == {"94375": 5}`` compares like a dict and ``quote["94381"]`` is 0 when the
line is absent.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licensing.constants import (
    CALL_ASSIST_PACK_1,
    CALL_ASSIST_PACK_5,
    CALL_ASSIST_PACK_15,
    CALL_ASSIST_SWP_12,
    CALL_ASSIST_SWP_36,
    CALL_ASSIST_SWP_DAY,
    COMTREXX_ADVANCED,
    COMTREXX_BUSINESS,
)
from licensing.exceptions import InitialisationCodeError, MaintenanceInputError, MaintenanceRuleError
from vendorportal.formats import format_date
from vendorportal.periods import month_period_end

# --- SYS-1: re-initialisation -------------------------------------------------------------

_INITIALISATION_CODE_RE = re.compile(r"[A-Za-z0-9+/=]{16,4096}")


def normalize_initialisation_code(text: str) -> str:
    """Clean up a COMtrexx initialisation code for "Zertifikat neu erstellen" (SYS-1).

    **Decision** (the seeds give no format): the code is what the COMtrexx shows
    under Administration > Lizenzen; after removing all whitespace (line breaks
    from e-mails) it is 16–4096 characters of A–Z, a–z, 0–9, ``+``, ``/`` and
    ``=``, case preserved (it looks base64-encoded). Raises
    :class:`InitialisationCodeError` otherwise.
    """
    compact = re.sub(r"\s+", "", text or "")
    if not _INITIALISATION_CODE_RE.fullmatch(compact):
        raise InitialisationCodeError(
            _(
                "Das ist kein gültiger Initialisierungscode (%(length)s Zeichen erkannt). Sie "
                "finden ihn auf der TK-Anlage unter Administration > Lizenzen. Er besteht aus "
                "16 bis 4096 Buchstaben, Ziffern und den Zeichen + / =; Leerzeichen und "
                "Zeilenumbrüche werden ignoriert. Kopieren Sie ihn vollständig."
            )
            % {"length": len(compact)},
            code="invalid_initialisation_code",
        )
    return compact


# --- SYS-2: system activation and tryout --------------------------------------------------

ACTIVATION_REQUIRED_MODELS = frozenset({COMTREXX_BUSINESS, COMTREXX_ADVANCED})
_ACTIVATION_MODEL_NAMES = {COMTREXX_BUSINESS: "COMtrexx Business", COMTREXX_ADVANCED: "COMtrexx Advanced"}
TRYOUT_DAYS = 14
TRYOUT_TEST_USERS = 3


def activation_required(model: str) -> bool:
    """True for the models that need a system activation licence and have no tryout (SYS-2).

    ``model`` is the installation's edition code (``comtrexx_business`` …).
    """
    return model in ACTIVATION_REQUIRED_MODELS


def tryout_refusal(model: str, tryout_started_on: date | None, has_purchased_user_licenses: bool) -> str | None:
    """Why a 14-day tryout cannot start on this system, or None when it can (SYS-2).

    COMtrexx Business/Advanced have no tryout mode; a tryout runs once per system
    ever; buying licences ends it, and none can start afterwards.
    **Decision:** every other Auerswald model may run a tryout (seed 002 names the
    COMtrexx VM; RULES SYS-2 says "other systems").
    """
    if activation_required(model):
        return _(
            "Die %(model)s hat keinen Tryout-Modus: sie braucht immer eine Systemaktivierung und Benutzerlizenzen."
        ) % {"model": _ACTIVATION_MODEL_NAMES[model]}
    if tryout_started_on is not None:
        return _(
            "Für diese Anlage wurde der Tryout-Modus bereits am %(date)s gestartet; er ist je "
            "Anlage nur einmal möglich."
        ) % {"date": format_date(tryout_started_on)}
    if has_purchased_user_licenses:
        return _("Für diese Anlage wurden bereits Lizenzen erworben; ein Tryout-Modus ist danach nicht mehr möglich.")
    return None


def tryout_end(started_on: date) -> date:
    """Last day (inclusive) of a tryout: 14 days including the start day (SYS-2).

    Started 2026-11-01 → ends 2026-11-14.
    """
    return started_on + timedelta(days=TRYOUT_DAYS - 1)


def tryout_days_left(started_on: date, today: date, ended_by_purchase_on: date | None = None) -> int:
    """Tryout days left on ``today``, counting today (SYS-2).

    14 on the start day, 1 on the last day, 0 afterwards; 0 once licences were
    bought on or before ``today`` (buying ends the tryout). Before the start day: 14.
    """
    if ended_by_purchase_on is not None and ended_by_purchase_on <= today:
        return 0
    left = (tryout_end(started_on) - today).days + 1
    return max(0, min(TRYOUT_DAYS, left))


def licensing_refusal(model: str, has_activation: bool, article_is_activation: bool) -> str | None:
    """Why a licence article cannot be licensed on this system now, or None (SYS-2).

    On COMtrexx Business/Advanced nothing but the system activation can be
    licensed before the system is activated. ``has_activation``: the system holds
    its activation licence, or the same order contains it.
    **Decisions** (the seeds are silent): the activation is bought once, so it is
    refused on a system that has it; other models have no system activation article.
    """
    if activation_required(model):
        name = _ACTIVATION_MODEL_NAMES[model]
        if article_is_activation and has_activation:
            return _("Die %(model)s ist bereits aktiviert; die Systemaktivierung wird nur einmal erworben.") % {
                "model": name
            }
        if not article_is_activation and not has_activation:
            return _(
                "Die %(model)s braucht zuerst die Systemaktivierung. Bestellen Sie sie vorher "
                "oder zusammen mit dieser Lizenz."
            ) % {"model": name}
        return None
    if article_is_activation:
        return _(
            "Eine Systemaktivierung gibt es nur für COMtrexx Business und COMtrexx Advanced; "
            "diese Anlage braucht keine."
        )
    return None


# --- SWP-1…SWP-3: PBX Call Assist 5 orders and coverage -----------------------------------

# CAT-8: PBX Call Assist 5 article numbers (the rules' short names for them).
PACK_1 = CALL_ASSIST_PACK_1  # 1-User-Lizenz-Paket
PACK_5 = CALL_ASSIST_PACK_5  # 5-Userlizenzen
PACK_15 = CALL_ASSIST_PACK_15  # 15-Userlizenzen
SWP_12 = CALL_ASSIST_SWP_12  # Softwarepflege pro User für 12 Monate
SWP_36 = CALL_ASSIST_SWP_36  # Softwarepflege pro User für 36 Monate
SWP_DAY = CALL_ASSIST_SWP_DAY  # Softwarepflege-Erweiterung pro User und Tag (12-Monats-Satz)
PACK_SIZES = {PACK_15: 15, PACK_5: 5, PACK_1: 1}  # SWP-1: users per licence pack

SWP_TERMS_MONTHS = (12, 36)
FIRST_ORDER_MIN_USERS = 5  # SWP-1: a first order has at least 5 users …
SINGLE_PACK_MIN_USERS = 5  # … and 1-user packs work only from 5 users on the system.
ADD_USERS_GOODWILL_DAYS = 21  # SWP-3: credit per new user; also the last-day margin.
LAPSE_FREE_MONTHS = 3  # SWP-5
LAPSE_MAX_MONTHS = 36  # SWP-7


def _quote(lines: dict[str, int]) -> Counter:
    """A quote without zero lines (unary ``+`` drops counts ≤ 0)."""
    return +Counter(lines)


def _check_users(users: int) -> None:
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise MaintenanceInputError(
            _("Die Anzahl der Benutzer muss eine ganze Zahl ab 1 sein, nicht %(users)s.") % {"users": users},
            code="invalid_user_count",
        )


def _check_term(months: int) -> None:
    if isinstance(months, bool) or months not in SWP_TERMS_MONTHS:
        raise MaintenanceInputError(
            _("Die Softwarepflege läuft 12 oder 36 Monate, nicht %(months)s.") % {"months": months},
            code="invalid_term",
        )


def user_packs(users: int, existing_users: int = 0) -> Counter:
    """User licence packs for ``users`` new PBX Call Assist 5 users (SWP-1).

    Fewest packs of 15, 5 and 1 users (greedy is optimal for these sizes):
    25 → 1 × 94377 + 2 × 94376; 7 on a first order → 1 × 94376 + 2 × 94375.
    A first order (``existing_users == 0``) needs at least 5 users. A 1-user pack
    works only on a system with at least 5 users, counting the existing users and
    the users of the 15- and 5-packs of this same order (existing 3 + 2 → refused;
    existing 5 + 3 → 3 × 94375). Any other split has the same number of 1-user
    packs (users mod 5) and no more users in bigger packs, so when the greedy
    split is refused, every split is.
    Raises :class:`MaintenanceRuleError` (``MaintenanceInputError`` for users < 1).
    """
    _check_users(users)
    if isinstance(existing_users, bool) or not isinstance(existing_users, int) or existing_users < 0:
        raise MaintenanceInputError(
            _("Die Anzahl der vorhandenen Benutzer kann nicht negativ sein (%(users)s).") % {"users": existing_users},
            code="invalid_existing_users",
        )
    if existing_users == 0 and users < FIRST_ORDER_MIN_USERS:
        raise MaintenanceRuleError(
            _(
                "Die Erstbestellung von PBX Call Assist 5 umfasst mindestens %(minimum)s Benutzer "
                "(Userlizenz-Pakete ab 5 Usern); bestellt sind %(users)s."
            )
            % {"minimum": FIRST_ORDER_MIN_USERS, "users": users},
            code="first_order_minimum",
        )
    fifteens, rest = divmod(users, 15)
    fives, ones = divmod(rest, 5)
    if ones and existing_users + 15 * fifteens + 5 * fives < SINGLE_PACK_MIN_USERS:
        rounded_up = users + (5 - ones)
        raise MaintenanceRuleError(
            _(
                "1-User-Lizenzen sind erst nutzbar, wenn das System mindestens %(minimum)s PBX Call "
                "Assist 5 Benutzer hat; es hat %(existing)s. Bestellen Sie stattdessen "
                "%(suggested)s Benutzer (z. B. ein 5-User-Paket)."
            )
            % {"minimum": SINGLE_PACK_MIN_USERS, "existing": existing_users, "suggested": rounded_up},
            code="single_pack_unusable",
        )
    return _quote({PACK_15: fifteens, PACK_5: fives, PACK_1: ones})


def swp_article(months: int) -> str:
    """The Softwarepflege article for a 12- or 36-month term (CAT-8, SWP-1/SWP-4)."""
    _check_term(months)
    return SWP_12 if months == 12 else SWP_36


def initial_order_quote(users: int, months: int) -> Counter:
    """Cart of a first PBX Call Assist 5 order: packs + mandatory SWP per user (SWP-1).

    Seed 003, 25 users, 12 months → 1 × 94377, 2 × 94376, 25 × 94379.
    """
    lines = user_packs(users)
    lines[swp_article(months)] += users
    return _quote(lines)


def coverage_end(start: date, months: int) -> date:
    """Last day (inclusive) of Softwarepflege from ``start`` for 12 or 36 months (SWP-2, GEN-1).

    2025-01-01, 12 → 2025-12-31.
    """
    _check_term(months)
    return month_period_end(start, months)


def add_users_last_day(coverage_end: date) -> date:
    """Last order day on which users can still be added to a running coverage (SWP-3)."""
    return coverage_end - timedelta(days=ADD_USERS_GOODWILL_DAYS)


def add_users_quote(coverage_end: date, order_date: date, users: int) -> Counter:
    """Cart for adding ``users`` to a system with running Softwarepflege (SWP-3).

    Remaining days = coverage_end − order_date (plain date difference). New users
    get 1-user packs, as in seed 003's example (the system already has ≥ 5 users
    after its first order, so 1-user packs are usable), and SWP per user and day
    for the remaining days minus a goodwill credit of 21 days per user.
    End 2025-12-31, order 2025-07-04: 180 days; 5 users → 5 × 94375 and
    5 × 180 − 5 × 21 = 795 × 94381. Fewer than 21 days left (2025-12-11: 20) →
    :class:`MaintenanceRuleError`: renew first; the last possible day is
    coverage_end − 21 days (exactly 21 days left is allowed, 0 user-days).
    """
    _check_users(users)
    remaining = (coverage_end - order_date).days
    if remaining < ADD_USERS_GOODWILL_DAYS:
        raise MaintenanceRuleError(
            _(
                "Benutzer können nur bis 21 Tage vor Ende der Softwarepflege hinzugefügt werden; "
                "letzter möglicher Tag war der %(last_day)s (Softwarepflege bis %(end)s). Bitte "
                "verlängern Sie zuerst die Softwarepflege für die vorhandenen Benutzer um 12 oder "
                "36 Monate und fügen Sie die Benutzer danach hinzu."
            )
            % {"last_day": format_date(add_users_last_day(coverage_end)), "end": format_date(coverage_end)},
            code="add_users_too_late",
        )
    return _quote({PACK_1: users, SWP_DAY: users * remaining - users * ADD_USERS_GOODWILL_DAYS})


# --- SWP-4…SWP-7: renewal, in term and lapsed ---------------------------------------------


@dataclass(frozen=True)
class RenewalQuote:
    """A Softwarepflege renewal (SWP-4…SWP-7): new coverage and its cart.

    ``start``/``end`` are inclusive; ``lines`` maps article → quantity;
    ``lapsed_days`` = order date − old end (0 when renewed in term);
    ``surcharge`` is True when the lapsed days are charged once more (SWP-6).
    """

    start: date
    end: date
    lines: Counter
    lapsed_days: int
    surcharge: bool
    users: int
    months: int

    @property
    def in_term(self) -> bool:
        return self.lapsed_days == 0


def renewal_quote(old_end: date, order_date: date, users: int, months: int) -> RenewalQuote:
    """Renew Softwarepflege for all ``users`` of a system for 12 or 36 months (SWP-4…SWP-7).

    The new coverage always starts the day after ``old_end`` — in term (SWP-4) and
    retroactively after a lapse (SWP-5/6) — and ends ``month_period_end(start, months)``.
    Lapse windows count by GEN-1 from that start day:
    - order ≤ month_period_end(start, 3): no surcharge (old end 2024-12-31: up to
      and including 2025-03-31);
    - order ≤ month_period_end(start, 36): surcharge of users × lapsed days on
      94381, lapsed days = order − old end (2025-07-03: 184 days; 5 users → 920);
    - later (from 2028-01-01 for old end 2024-12-31): refused, contact the vendor.
    """
    _check_users(users)
    _check_term(months)
    start = old_end + timedelta(days=1)
    end = month_period_end(start, months)
    lines = {swp_article(months): users}
    lapsed_days = max(0, (order_date - old_end).days)
    surcharge = False
    if lapsed_days and order_date > month_period_end(start, LAPSE_FREE_MONTHS):
        if order_date > month_period_end(start, LAPSE_MAX_MONTHS):
            raise MaintenanceRuleError(
                _(
                    "Die Softwarepflege ist seit dem %(end)s abgelaufen, also länger als 36 Monate. "
                    "Eine Verlängerung online ist nicht möglich; bitte wenden Sie sich direkt an "
                    "uns, wir verlängern sie für Sie."
                )
                % {"end": format_date(old_end)},
                code="not_renewable",
            )
        surcharge = True
        lines[SWP_DAY] = users * lapsed_days
    return RenewalQuote(
        start=start,
        end=end,
        lines=_quote(lines),
        lapsed_days=lapsed_days,
        surcharge=surcharge,
        users=users,
        months=months,
    )


def surcharge_free_until(coverage_end: date) -> date:
    """Last order day on which a lapsed Softwarepflege is renewed without surcharge (SWP-5).

    3 months by GEN-1 from the day after the old end: end 2024-12-31 → 2025-03-31.
    Agrees with :func:`renewal_quote` and :func:`maintenance_state`.
    """
    return month_period_end(coverage_end + timedelta(days=1), LAPSE_FREE_MONTHS)


def online_renewal_until(coverage_end: date) -> date:
    """Last order day on which a lapsed Softwarepflege can still be renewed online (SWP-7).

    36 months by GEN-1 from the day after the old end: end 2024-12-31 → 2027-12-31.
    """
    return month_period_end(coverage_end + timedelta(days=1), LAPSE_MAX_MONTHS)


# --- SWP-8: state, notices and their date windows -----------------------------------------

# Softwarepflege state of a system on a day.
SWP_ACTIVE = "active"
SWP_EXPIRING = "expiring"
SWP_LAPSED = "lapsed"
SWP_LAPSED_SURCHARGE = "lapsed_surcharge"
SWP_NOT_RENEWABLE = "not_renewable"
SWP_EXPIRING_DAYS = 60  # Decision: "expiring" from 60 days before the end, like the first reminder.

# Lazy: this module is imported by models before translations are ready.
SWP_STATE_LABELS = {
    SWP_ACTIVE: gettext_lazy("aktiv"),
    SWP_EXPIRING: gettext_lazy("läuft bald ab"),
    SWP_LAPSED: gettext_lazy("abgelaufen (bis 3 Monate, ohne Säumniszuschlag)"),
    SWP_LAPSED_SURCHARGE: gettext_lazy("abgelaufen (mit Säumniszuschlag)"),
    SWP_NOT_RENEWABLE: gettext_lazy("abgelaufen, nicht mehr online verlängerbar"),
}


def maintenance_state(coverage_end: date, today: date) -> str:
    """Softwarepflege state of a system on ``today`` (SWP-8).

    active: more than 60 days left; expiring: 0 ≤ days left ≤ 60 (the end day is
    still covered); lapsed: after the end, today ≤ month_period_end(end + 1, 3);
    lapsed_surcharge: up to month_period_end(end + 1, 36); not_renewable beyond.
    The lapse states agree with :func:`renewal_quote` ordered on ``today``.
    """
    days_left = (coverage_end - today).days
    if days_left > SWP_EXPIRING_DAYS:
        return SWP_ACTIVE
    if days_left >= 0:
        return SWP_EXPIRING
    lapse_start = coverage_end + timedelta(days=1)
    if today <= month_period_end(lapse_start, LAPSE_FREE_MONTHS):
        return SWP_LAPSED
    if today <= month_period_end(lapse_start, LAPSE_MAX_MONTHS):
        return SWP_LAPSED_SURCHARGE
    return SWP_NOT_RENEWABLE


# Reminder mails of the daily job.
NOTICE_60 = "remind_60"
NOTICE_30 = "remind_30"
NOTICE_21 = "remind_21"
NOTICE_LAPSED = "lapsed"
NOTICE_SURCHARGE = "surcharge"
NOTICE_KINDS = (NOTICE_60, NOTICE_30, NOTICE_21, NOTICE_LAPSED, NOTICE_SURCHARGE)
# Short labels for staff (admin, job log); the partner's mail uses the longer titles.
NOTICE_LABELS = {
    NOTICE_60: gettext_lazy("Erinnerung 60 Tage"),
    NOTICE_30: gettext_lazy("Erinnerung 30 Tage"),
    NOTICE_21: gettext_lazy("Erinnerung 21 Tage"),
    NOTICE_LAPSED: gettext_lazy("abgelaufen"),
    NOTICE_SURCHARGE: gettext_lazy("Säumniszuschlag"),
}

# Days left (coverage_end − today), inclusive, for the reminders before the end.
_NOTICE_DAYS_LEFT = {
    NOTICE_60: (31, 60),
    NOTICE_30: (22, 30),
    NOTICE_21: (0, ADD_USERS_GOODWILL_DAYS),
}


def due_notice(coverage_end: date, today: date) -> str | None:
    """Which reminder is due on ``today`` for a coverage ending ``coverage_end`` (SWP-8).

    remind_60: 30 < days left ≤ 60; remind_30: 21 < days left ≤ 30; remind_21:
    0 ≤ days left ≤ 21 (its mail says users can be added only up to
    coverage_end − 21 days); lapsed: after the end within the 3-month window
    (GEN-1, as SWP-5); surcharge: beyond it up to 36 months; None otherwise.
    The windows are wide on purpose: the job sends each kind once per system and
    coverage end, so a job that missed a day still sends the right notice.
    """
    days_left = (coverage_end - today).days
    for kind, (low, high) in _NOTICE_DAYS_LEFT.items():
        if low <= days_left <= high:
            return kind
    if days_left > 0:
        return None
    state = maintenance_state(coverage_end, today)
    if state == SWP_LAPSED:
        return NOTICE_LAPSED
    if state == SWP_LAPSED_SURCHARGE:
        return NOTICE_SURCHARGE
    return None


def _first_start_within(months: int, today: date) -> date:
    """Earliest period start ``s`` with ``today <= month_period_end(s, months)``.

    ``month_period_end`` never decreases as the start moves later, so the starts
    that qualify are exactly the days from this one on. Found by stepping forward
    from a start that surely does not qualify (31 days per month back, then to the
    1st: its period ends before ``today``); at most a few dozen steps. This
    inverts GEN-1 through ``month_period_end`` itself rather than redoing month
    arithmetic.
    """
    start = (today - timedelta(days=31 * months)).replace(day=1)
    while month_period_end(start, months) < today:
        start += timedelta(days=1)
    return start


def notice_window(kind: str, today: date) -> tuple[date, date]:
    """Inclusive range of coverage ends for which ``kind`` is due on ``today`` (SWP-8).

    ``due_notice(end, today) == kind`` exactly when ``low <= end <= high``; the
    daily job uses it for set-based queries. Raises ``ValueError`` for an unknown kind.
    """
    if kind in _NOTICE_DAYS_LEFT:
        low, high = _NOTICE_DAYS_LEFT[kind]
        return today + timedelta(days=low), today + timedelta(days=high)
    one_day = timedelta(days=1)
    # lapsed/surcharge are due while today <= month_period_end(end + 1, n):
    # end + 1 >= first qualifying start, i.e. end >= that start − 1 day.
    free_from = _first_start_within(LAPSE_FREE_MONTHS, today) - one_day
    if kind == NOTICE_LAPSED:
        return free_from, today - one_day
    if kind == NOTICE_SURCHARGE:
        return _first_start_within(LAPSE_MAX_MONTHS, today) - one_day, free_from - one_day
    raise ValueError(f"Unknown notice kind {kind!r}; known: {', '.join(NOTICE_KINDS)}")


def maintenance_state_windows(today: date) -> dict[str, tuple[date | None, date | None]]:
    """Inclusive range of coverage ends per Softwarepflege state on ``today`` (SWP-8).

    ``maintenance_state(end, today) == state`` exactly when ``low <= end <= high``
    (``None`` = open end). The set-based queries (portal, admin filter, report)
    filter with these ranges instead of re-deciding the state in SQL. The lapse
    windows are the same as those of the lapsed/surcharge notices.
    """
    lapsed_low, lapsed_high = notice_window(NOTICE_LAPSED, today)
    surcharge_low, surcharge_high = notice_window(NOTICE_SURCHARGE, today)
    return {
        SWP_ACTIVE: (today + timedelta(days=SWP_EXPIRING_DAYS + 1), None),
        SWP_EXPIRING: (today, today + timedelta(days=SWP_EXPIRING_DAYS)),
        SWP_LAPSED: (lapsed_low, lapsed_high),
        SWP_LAPSED_SURCHARGE: (surcharge_low, surcharge_high),
        SWP_NOT_RENEWABLE: (None, surcharge_low - timedelta(days=1)),
    }


# --- SWP-9: one purchase per system -------------------------------------------------------
#
# Structural: an order names exactly one system; this refuses one that would not.


def order_systems_refusal(serials: list[str]) -> str | None:
    """An order for licences or Softwarepflege covers exactly one system (SWP-9)."""
    distinct = {s for s in serials if s}
    if len(distinct) > 1:
        return _(
            "Lizenzen und Softwarepflege werden je System bestellt. Diese Bestellung betrifft "
            "%(count)s Systeme; bitte geben Sie für jedes System eine eigene Bestellung auf."
        ) % {"count": len(distinct)}
    return None
