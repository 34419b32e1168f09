"""Reads about Auerswald systems, PBX Call Assist 5 users and their Softwarepflege
(SYS-1, SYS-2, SWP-1…SWP-9).

Current values are derived in SQL from the append-only ledgers: the coverage end is
the latest ``MaintenanceCoverage.end`` of a system, licence counts are sums of
``SystemLicense`` rows. Which state or price a system is in is decided by
:mod:`licensing.rules` and :mod:`licensing.pricing`; this module only turns the
rules' date windows into filters and reads what the pricing needs (CAT-1, GEN-2).
Display formats belong to the pages and reports that show these values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    DateField,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from licensing import rules
from licensing.constants import AUERSWALD, CALL_ASSIST_ARTICLES
from licensing.exceptions import LicensingError
from licensing.models import Installation, MaintenanceCoverage, SystemLicense
from licensing.pricing import ArticlePrice, CallAssistQuote, renewal_quote_priced
from licensing.selectors.catalog import purchase_prices
from vendorportal.money import ZERO
from vendorportal.parties.models import Partner

NO_COVERAGE = "none"  # state filter value: the system never had Softwarepflege


# --- SQL annotations ----------------------------------------------------------------


def coverage_end_subquery(outer: str = "pk") -> Subquery:
    """Current Softwarepflege end of the installation ``OuterRef(outer)``: the latest
    ``end`` of its coverage ledger (the ledger is append-only, SWP-2…SWP-7)."""
    return Subquery(
        MaintenanceCoverage.objects.filter(installation=OuterRef(outer))
        .values("installation")
        .annotate(latest=Max("end"))
        .values("latest")[:1],
        output_field=DateField(),
    )


def license_sum(kind: str, outer: str = "pk") -> Coalesce:
    """Sum of the system's licence ledger rows of one kind (0 when there are none)."""
    return Coalesce(
        Subquery(
            SystemLicense.objects.filter(installation=OuterRef(outer), kind=kind)
            .values("installation")
            .annotate(total=Sum("quantity"))
            .values("total")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _window_q(field: str, window: tuple[date | None, date | None]) -> Q:
    low, high = window
    q = Q()
    if low is not None:
        q &= Q(**{f"{field}__gte": low})
    if high is not None:
        q &= Q(**{f"{field}__lte": high})
    return q


def swp_state_case(today: date, field: str = "coverage_end") -> Case:
    """SQL expression: the SWP-8 state of every row on ``today`` from its coverage end,
    through the rules' inclusive end windows; ``"none"`` without any coverage."""
    whens = [
        When(_window_q(field, window), then=Value(state))
        for state, window in rules.maintenance_state_windows(today).items()
    ]
    return Case(*whens, default=Value(NO_COVERAGE), output_field=CharField())


def auerswald_systems(*, today: date, partner: Partner | None = None, queryset: QuerySet | None = None) -> QuerySet:
    """Auerswald systems with their current values, as of ``today`` (SWP-8, SYS-2).

    Annotations: ``coverage_end`` (None without Softwarepflege), ``call_assist_users``,
    ``user_licenses``, ``activations``, ``swp_state``, ``tryout_started_on``,
    ``tryout_ended_by_purchase_on``. Scoped to ``partner`` for portal use.
    ``queryset``: the installations to start from (the admin passes its proxy's rows).
    """
    qs = (queryset if queryset is not None else Installation.objects.all()).filter(vendor=AUERSWALD)
    if partner is not None:
        qs = qs.for_partner(partner)
    return (
        qs.select_related("customer", "customer__partner")
        .annotate(
            coverage_end=coverage_end_subquery(),
            call_assist_users=license_sum(SystemLicense.CALL_ASSIST_USERS),
            user_licenses=license_sum(SystemLicense.USER_LICENSES),
            activations=license_sum(SystemLicense.ACTIVATION),
            tryout_started_on=F("tryout__started_on"),
            tryout_ended_by_purchase_on=F("tryout__ended_by_purchase_on"),
        )
        .annotate(swp_state=swp_state_case(today))
    )


def filter_swp_state(qs: QuerySet, state: str, today: date) -> QuerySet:
    """Rows of an :func:`auerswald_systems` queryset in one SWP-8 state (or ``"none"``)."""
    if state == NO_COVERAGE:
        return qs.filter(coverage_end__isnull=True)
    window = rules.maintenance_state_windows(today)[state]  # KeyError for an unknown state
    return qs.filter(_window_q("coverage_end", window))


@dataclass(frozen=True)
class SystemFacts:
    """What the Call Assist and licensing rules need to know about one system now."""

    coverage_end: date | None
    call_assist_users: int
    user_licenses: int
    has_activation: bool


def system_facts(installation: Installation) -> SystemFacts:
    """Current coverage end and licence sums of one system, in one query."""
    row = (
        Installation.objects.filter(pk=installation.pk)
        .annotate(
            coverage_end=coverage_end_subquery(),
            call_assist_users=license_sum(SystemLicense.CALL_ASSIST_USERS),
            user_licenses=license_sum(SystemLicense.USER_LICENSES),
            activations=license_sum(SystemLicense.ACTIVATION),
        )
        .values("coverage_end", "call_assist_users", "user_licenses", "activations")
        .get()
    )
    return SystemFacts(
        coverage_end=row["coverage_end"],
        call_assist_users=row["call_assist_users"],
        user_licenses=row["user_licenses"],
        has_activation=row["activations"] > 0,
    )


def license_totals(installation: Installation) -> dict[str, int]:
    """Licence ledger sums per kind of one system (SYS-1); every kind listed, 0 if none."""
    totals = {kind: 0 for kind, _label in SystemLicense.KIND_CHOICES}
    for row in SystemLicense.objects.filter(installation=installation).values("kind").annotate(total=Sum("quantity")):
        totals[row["kind"]] = row["total"]
    return totals


# --- Prices -------------------------------------------------------------------------------


def call_assist_prices(on: date) -> dict[str, ArticlePrice]:
    """Purchase prices of the Call Assist articles valid on ``on`` (CAT-1), one query."""
    return purchase_prices(on, CALL_ASSIST_ARTICLES)


# --- Overviews for the portal, the admin and the weekly report ----------------------


@dataclass(frozen=True)
class SystemOverview:
    system: Installation  # annotated by auerswald_systems()
    coverage_end: date | None
    swp_state: str | None  # None without Softwarepflege
    call_assist_users: int
    tryout_days_left: int | None  # None when the system never ran a tryout
    renewal: CallAssistQuote | None  # 12-month renewal ordered today, at today's prices
    renewal_refusal: str  # why there is no renewal quote ("" when there is one)

    @property
    def swp_state_label(self) -> str:
        return str(rules.SWP_STATE_LABELS[self.swp_state]) if self.swp_state else _("keine Softwarepflege")

    @property
    def add_users_until(self) -> date | None:
        """Last day users can still be added to the running coverage (SWP-3)."""
        return rules.add_users_last_day(self.coverage_end) if self.coverage_end else None


def tryout_days_left_for(system: Installation, today: date) -> int | None:
    if system.tryout_started_on is None:
        return None
    return rules.tryout_days_left(system.tryout_started_on, today, system.tryout_ended_by_purchase_on)


def overview_rows(systems, *, today: date, months: int = 12) -> list[SystemOverview]:
    """Overviews of annotated systems with the price of a renewal ordered ``today``.

    Prices are read once; the quote of each system comes from the rules in Python
    (no query per system).
    """
    prices = call_assist_prices(today)
    rows = []
    for system in systems:
        renewal, refusal = None, ""
        if system.coverage_end is None:
            refusal = _("keine Softwarepflege")
        elif system.call_assist_users < 1:
            refusal = _("keine PBX Call Assist 5 Benutzer")
        else:
            try:
                renewal = renewal_quote_priced(
                    installation_id=system.pk,
                    serial=system.identifier,
                    coverage_end=system.coverage_end,
                    users=system.call_assist_users,
                    months=months,
                    today=today,
                    prices=prices,
                )
            except LicensingError as exc:
                refusal = exc.message
        rows.append(
            SystemOverview(
                system=system,
                coverage_end=system.coverage_end,
                swp_state=system.swp_state if system.coverage_end else None,
                call_assist_users=system.call_assist_users,
                tryout_days_left=tryout_days_left_for(system, today),
                renewal=renewal,
                renewal_refusal=refusal,
            )
        )
    return rows


def systems_overview_for_partner(*, partner: Partner, today: date) -> list[SystemOverview]:
    """A partner's Auerswald systems for the portal (SWP-8, SYS-2)."""
    systems = auerswald_systems(today=today, partner=partner).order_by("customer__company", "identifier")
    return overview_rows(systems, today=today)


def partner_system(*, partner: Partner, pk: int, today: date) -> Installation:
    """One Auerswald system of ``partner`` (``Installation.DoesNotExist`` otherwise)."""
    return auerswald_systems(today=today, partner=partner).get(pk=pk)


@dataclass(frozen=True)
class PartnerReportGroup:
    partner: Partner
    expiring: list[SystemOverview]
    lapsed: list[SystemOverview]
    renewal_total: Decimal


@dataclass(frozen=True)
class MaintenanceReport:
    today: date
    expiring_until: date
    lapsed_since: date
    groups: list[PartnerReportGroup]
    renewal_total: Decimal
    expiring_count: int
    lapsed_count: int
    sample_prices: bool
    unpriced: int  # systems without a renewal value (no users, no price)


def maintenance_report_data(*, today: date) -> MaintenanceReport:
    """Data of the weekly Softwarepflege report (SWP-8): systems whose coverage ends in
    the next 60 days and systems lapsed up to 36 months (still renewable online),
    grouped by partner, each with the value of a 12-month renewal ordered today."""
    windows = rules.maintenance_state_windows(today)
    expiring_low, expiring_high = windows[rules.SWP_EXPIRING]
    lapsed_low = windows[rules.SWP_LAPSED_SURCHARGE][0]
    systems = (
        auerswald_systems(today=today)
        .active(today)
        .filter(coverage_end__gte=lapsed_low, coverage_end__lte=expiring_high)
        .order_by("customer__partner__company", "customer__partner_id", "coverage_end", "identifier")
    )
    groups: dict[int, dict] = {}
    for row in overview_rows(systems, today=today):
        partner = row.system.customer.partner
        group = groups.setdefault(partner.pk, {"partner": partner, "expiring": [], "lapsed": []})
        if expiring_low <= row.coverage_end:
            group["expiring"].append(row)
        else:
            group["lapsed"].append(row)
    result = []
    for group in groups.values():
        rows = group["expiring"] + group["lapsed"]
        total = sum((r.renewal.net_total for r in rows if r.renewal), ZERO)
        result.append(PartnerReportGroup(group["partner"], group["expiring"], group["lapsed"], total))
    all_rows = [r for g in result for r in g.expiring + g.lapsed]
    return MaintenanceReport(
        today=today,
        expiring_until=expiring_high,
        lapsed_since=lapsed_low,
        groups=result,
        renewal_total=sum((g.renewal_total for g in result), ZERO),
        expiring_count=sum(len(g.expiring) for g in result),
        lapsed_count=sum(len(g.lapsed) for g in result),
        sample_prices=any(r.renewal.sample_prices for r in all_rows if r.renewal),
        unpriced=sum(1 for r in all_rows if r.renewal is None),
    )
