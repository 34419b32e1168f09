"""What each staff group sees on the cockpit (issue 20), and every chart's numbers.

Panels by group (``vendorportal.roles``): sales — recurring revenue and sales, and licensing;
finance — finance; support — support and licensing. Superusers (the vendor's management: the
managing director logs in as one) see every panel. Money figures only for finance, sales and
superusers (:func:`sees_money`): the two panels with money are refused to anybody else even if
a group table change gave them the panel. Every figure links to the admin list it summarises,
filtered, when the user may view that list; every chart has a CSV download (``charts``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cockpit import charts as chart_render
from cockpit.periods import Period
from cockpit.selectors import finance, licensing, revenue, support
from cockpit.selectors._common import Series
from vendorportal import roles
from vendorportal.csvsafe import text_cell
from vendorportal.formats import format_date, format_datetime
from vendorportal.money import format_eur

REVENUE, FINANCE, SUPPORT, LICENSING = "umsatz", "finanzen", "support", "lizenzen"


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: object
    groups: frozenset[str]
    money: bool


PANELS = (
    PanelSpec(REVENUE, gettext_lazy("Umsatz und Vertrieb"), frozenset({roles.SALES}), money=True),
    PanelSpec(FINANCE, gettext_lazy("Finanzen"), frozenset({roles.FINANCE}), money=True),
    PanelSpec(SUPPORT, gettext_lazy("Support"), frozenset({roles.SUPPORT}), money=False),
    PanelSpec(
        LICENSING, gettext_lazy("Lizenzen und Softwarepflege"), frozenset({roles.SALES, roles.SUPPORT}), money=False
    ),
)
MONEY_GROUPS = frozenset({roles.SALES, roles.FINANCE})


def _group_names(user) -> set[str]:
    cached = getattr(user, "_cockpit_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._cockpit_groups = cached
    return cached


def sees_money(user) -> bool:
    return user.is_active and (user.is_superuser or bool(_group_names(user) & MONEY_GROUPS))


def visible_panels(user) -> list[PanelSpec]:
    """The panels ``user`` may see, in page order."""
    if not (user.is_active and user.is_staff):
        return []
    if user.is_superuser:
        return list(PANELS)
    names = _group_names(user)
    return [p for p in PANELS if p.groups & names and (not p.money or sees_money(user))]


# --- context: what a chart or figure is computed from ----------------------------------------


@dataclass
class Context:
    period: Period
    today: date
    now: datetime
    user: object
    cache: dict = field(default_factory=dict)

    def once(self, key: str, compute: Callable):
        """A selector's result computed once per page (two charts may share it)."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def link(self, url_name: str, perm: str, **params) -> str:
        """The admin list ``url_name`` filtered by ``params``, or "" without the view right."""
        if not self.user.has_perm(perm):
            return ""
        url = reverse(url_name)
        return f"{url}?{urlencode(params)}" if params else url

    @property
    def range(self) -> dict:
        return {"gte": self.period.start.isoformat(), "lte": self.period.end.isoformat()}


def _between(field_name: str, ctx: Context) -> dict:
    return {f"{field_name}__gte": ctx.period.start.isoformat(), f"{field_name}__lte": ctx.period.end.isoformat()}


# --- charts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartSpec:
    key: str
    panel: str
    title: object
    kind: str  # bar, stacked, line, hbar
    unit: str  # money, percent, decimal or "" (counts)
    series: Callable[[Context], Series]


def _mrr(ctx: Context):
    return ctx.once("mrr", lambda: revenue.mrr_overview(ctx.period, ctx.today))


def _mrr_movement_series(ctx: Context) -> Series:
    m = _mrr(ctx).movement
    return Series(
        labels=[_("Anfang"), _("neu"), _("Erweiterung"), _("Verkleinerung"), _("Kündigung"), _("Ende")],
        series={"MRR": [m.start, m.new, m.expansion, -m.contraction, -m.churn, m.end]},
        money=True,
    )


def _top_partner_series(ctx: Context) -> Series:
    rows = ctx.once("top_partners", lambda: revenue.top_partners(ctx.period))
    rows = rows[::-1]  # a horizontal bar chart draws the first value at the bottom
    return Series(labels=[r.company for r in rows], series={_("Umsatz netto"): [r.net for r in rows]}, money=True)


def _revenue(ctx: Context) -> finance.Revenue:
    return ctx.once("revenue", lambda: finance.revenue(ctx.period, ctx.today))


def _ageing_series(ctx: Context) -> Series:
    figures = ctx.once("receivables", lambda: finance.receivables(ctx.period, ctx.today))
    rows = figures.bucket_rows()
    return Series(
        labels=[label for _k, label, _v in rows], series={_("offen (brutto)"): [v for _k, _l, v in rows]}, money=True
    )


def _support(ctx: Context) -> support.SupportOverview:
    return ctx.once("support", lambda: support.support_overview(ctx.period, ctx.now))


def _tickets_series(ctx: Context) -> Series:
    opened = _support(ctx).opened
    closed = support.closed_per_week(ctx.period, ctx.today)
    return Series(labels=opened.labels, series={_("eröffnet"): opened.series["eröffnet"], _("erledigt"): closed})


def _backlog_series(ctx: Context) -> Series:
    desk = _support(ctx).desk
    from support.models import Ticket

    labels = dict(Ticket.STATUS_CHOICES)
    return Series(labels=[str(labels[s]) for s in desk.backlog], series={_("Tickets"): list(desk.backlog.values())})


def _sla_months(ctx: Context):
    return _support(ctx).sla


def _swp(ctx: Context) -> licensing.SwpOverview:
    return ctx.once("swp", lambda: licensing.swp_overview(ctx.period, ctx.today))


def _licences(ctx: Context) -> revenue.LicenceOverview:
    return ctx.once("licences", lambda: revenue.licence_overview(ctx.period, ctx.today))


def _swp_series(ctx: Context) -> Series:
    from licensing import rules as licensing_rules

    states = _swp(ctx).states
    keys = [
        licensing_rules.SWP_EXPIRING,
        licensing_rules.SWP_LAPSED,
        licensing_rules.SWP_LAPSED_SURCHARGE,
        licensing_rules.SWP_NOT_RENEWABLE,
    ]
    return Series(
        labels=[str(licensing_rules.SWP_STATE_LABELS[k]) for k in keys],
        series={_("Systeme"): [states[k] for k in keys]},
    )


CHARTS = (
    ChartSpec(
        "mrr",
        REVENUE,
        gettext_lazy("MRR der letzten 12 Monate (Monatsende)"),
        "line",
        "money",
        lambda ctx: _mrr(ctx).trend,
    ),
    ChartSpec("mrr-bewegung", REVENUE, gettext_lazy("MRR-Bewegung im Zeitraum"), "bar", "money", _mrr_movement_series),
    ChartSpec(
        "top-partner",
        REVENUE,
        gettext_lazy("Top-Partner nach Umsatz im Zeitraum"),
        "hbar",
        "money",
        _top_partner_series,
    ),
    ChartSpec(
        "lizenzen",
        REVENUE,
        gettext_lazy("Ausgestellte Lizenzen je Monat und Art"),
        "stacked",
        "",
        lambda ctx: _licences(ctx).by_month,
    ),
    ChartSpec(
        "umsatz",
        FINANCE,
        gettext_lazy("Umsatz netto je Monat nach Produktgruppe (Rechnungen abzüglich Korrekturen)"),
        "stacked",
        "money",
        lambda ctx: _revenue(ctx).by_month,
    ),
    ChartSpec(
        "offene-posten", FINANCE, gettext_lazy("Offene Posten nach Alter (heute)"), "bar", "money", _ageing_series
    ),
    ChartSpec(
        "tickets",
        SUPPORT,
        gettext_lazy("Tickets je Woche: eröffnet und erledigt"),
        "bar",
        "",
        _tickets_series,
    ),
    ChartSpec("rueckstand", SUPPORT, gettext_lazy("Offene Tickets nach Status (jetzt)"), "bar", "", _backlog_series),
    ChartSpec(
        "sla",
        SUPPORT,
        gettext_lazy("Enterprise-SLA eingehalten je Monat (SUP-2)"),
        "line",
        "percent",
        lambda ctx: support.sla_series(_sla_months(ctx)),
    ),
    ChartSpec(
        "stunden",
        SUPPORT,
        gettext_lazy("Abrechenbare Supportstunden je Monat"),
        "bar",
        "decimal",
        lambda ctx: support.billable_hours_by_month(ctx.period, ctx.today),
    ),
    ChartSpec(
        "softwarepflege",
        LICENSING,
        gettext_lazy("Softwarepflege: Systeme nach Zustand (heute)"),
        "hbar",  # the states' long names read on the left, not slanted across each other
        "",
        _swp_series,
    ),
)
CHARTS_BY_KEY = {c.key: c for c in CHARTS}


def chart_csv(spec: ChartSpec, ctx: Context) -> str:
    """A chart's numbers as CSV for a German spreadsheet: semicolons, decimal comma, no
    thousands separator, a header row (label, one column per series)."""
    series = spec.series(ctx)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Beschriftung"), *series.series.keys()])
    for n, label in enumerate(series.labels):
        row = [text_cell(label)]  # a partner's name is no formula
        for values in series.series.values():
            value = values[n]
            if value is None:
                row.append("")
            elif isinstance(value, Decimal):
                row.append(f"{value:f}".replace(".", ","))
            else:
                row.append(str(value))
        writer.writerow(row)
    return out.getvalue()


# --- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    link: str = ""
    note: str = ""


def _pct(value) -> str:
    return chart_render.format_percent_de(value)


def _revenue_figures(ctx: Context) -> list[Figure]:
    now, m = _mrr(ctx).now, _mrr(ctx).movement
    conversion = revenue.demo_conversion(ctx.period, ctx.today)
    subs = ("admin:billing_subscription_changelist", "billing.view_subscription")
    changes = ("admin:billing_subscriptionpricechange_changelist", "billing.view_subscriptionpricechange")
    licences = ("admin:licensing_license_changelist", "licensing.view_license")
    return [
        Figure(_("MRR heute"), format_eur(now), ctx.link(*subs, ends_on__isnull="True")),
        Figure(_("ARR heute (12 × MRR)"), format_eur(now * 12)),
        Figure(_("MRR am Ende des Zeitraums"), format_eur(m.end)),
        Figure(_("neu"), format_eur(m.new), ctx.link(*subs, **_between("signed_on", ctx))),
        Figure(
            _("Erweiterung (Staffelwechsel)"),
            format_eur(m.expansion),
            ctx.link(*changes, **_between("effective_from", ctx)),
        ),
        Figure(_("Verkleinerung"), format_eur(m.contraction), ctx.link(*changes, **_between("effective_from", ctx))),
        Figure(_("Kündigungen (Churn)"), format_eur(m.churn), ctx.link(*subs, **_between("ends_on", ctx))),
        Figure(
            _("Demo → Kauf/Abo in 60 Tagen"),
            _pct(conversion.rate),
            ctx.link(*licences, kind__exact="demo", **_between("issued_at__date", ctx)),
            _("%(converted)s von %(decided)s entschiedenen Demos; %(open)s noch offen")
            % {
                "converted": conversion.converted,
                "decided": conversion.demos - conversion.open,
                "open": conversion.open,
            },
        ),
    ]


def _finance_figures(ctx: Context) -> list[Figure]:
    r = ctx.once("receivables", lambda: finance.receivables(ctx.period, ctx.today))
    rev = _revenue(ctx)
    returns = finance.direct_debit_returns(ctx.period)
    run = finance.last_invoicing_run()
    invoices = ("admin:billing_invoice_changelist", "billing.view_invoice")
    figures = [
        Figure(_("Umsatz netto im Zeitraum"), format_eur(rev.total), ctx.link(*invoices, **_between("issue_date", ctx)))
    ]
    figures += [Figure(f"· {label}", format_eur(net)) for label, net in sorted(rev.by_group.items())]
    figures += [Figure(f"· {label}", format_eur(net)) for label, net in sorted(rev.by_vat.items())]
    figures += [
        Figure(
            _("Offene Posten (brutto)"),
            format_eur(r.total),
            ctx.link(*invoices, kind__exact="invoice", state__in="open,overdue"),
            _("%(count)s Rechnungen") % {"count": r.count},
        ),
        Figure(
            _("davon überfällig"),
            format_eur(r.overdue),
            ctx.link(*invoices, kind__exact="invoice", due_date__lt=ctx.today.isoformat(), state__in="open,overdue"),
        ),
        Figure(
            _("DSO (Tage)"),
            chart_render.format_number_de(r.dso, 1) if r.dso is not None else "–",
            note=_("offene Posten ÷ Umsatz brutto der letzten 90 Tage × 90"),
        ),
        Figure(
            _("Lastschrift-Anteil (Rechnungen im Zeitraum)"),
            _pct(r.direct_debit_share),
            ctx.link(*invoices, payment_means__exact="direct_debit", **_between("issue_date", ctx)),
            _("%(dd)s von %(all)s") % {"dd": r.period_direct_debits, "all": r.period_invoices},
        ),
        Figure(
            _("Rücklastschriften"),
            f"{returns.count} · {format_eur(returns.amount)}",
            ctx.link(
                "admin:billing_bankentry_changelist",
                "billing.view_bankentry",
                state__exact="returned",
                **_between("booked_on", ctx),
            ),
        ),
    ]
    if run is None:
        figures.append(Figure(_("Letzter Abrechnungslauf"), _("noch keiner")))
    else:
        state = (
            _("läuft noch / wartet")
            if run.waiting
            else _("abgeschlossen %(when)s") % {"when": format_datetime(run.finished_at)}
        )
        figures.append(
            Figure(
                _("Letzter Abrechnungslauf %(month)s") % {"month": f"{run.month.month:02d}/{run.month.year}"},
                _("%(count)s Rechnungen · %(net)s") % {"count": run.invoices, "net": format_eur(run.net)},
                ctx.link(*invoices, kind__exact="invoice", issue_date__gte=run.started_at.date().isoformat()),
                _("%(state)s; fehlgeschlagene Jobs: %(failed)s") % {"state": state, "failed": run.failed_jobs},
            )
        )
    return figures


def _support_figures(ctx: Context) -> list[Figure]:
    desk = _support(ctx).desk
    months = _sla_months(ctx)
    tickets = ("admin:support_ticket_changelist", "support.view_ticket")
    sla_in_period = [m for m in months if ctx.period.start <= m.month <= ctx.period.end] or months[-1:]
    met = sum(m.met for m in sla_in_period)
    breached = sum(m.breached for m in sla_in_period)
    rate = support.SlaMonth(ctx.period.start, met, breached).rate
    figures = [Figure(_("Offene Tickets"), str(desk.backlog_total), ctx.link(*tickets, status__in="new,open,waiting"))]
    from support.models import Ticket

    labels = dict(Ticket.STATUS_CHOICES)
    figures += [Figure(f"· {labels[s]}", str(n), ctx.link(*tickets, status__exact=s)) for s, n in desk.backlog.items()]
    figures += [
        Figure(
            _("Erste Antwort im Mittel (Stunden)"),
            chart_render.format_number_de(desk.first_response_hours, 1)
            if desk.first_response_hours is not None
            else "–",
            ctx.link(*tickets, **_between("received_at__date", ctx)),
            _("%(n)s beantwortete Tickets, Kalenderstunden") % {"n": desk.answered},
        ),
        Figure(
            _("Enterprise-SLA eingehalten"),
            _pct(rate),
            ctx.link(*tickets, sla="breached"),
            _("%(met)s eingehalten, %(breached)s verletzt") % {"met": met, "breached": breached},
        ),
    ]
    return figures


def _licensing_figures(ctx: Context) -> list[Figure]:
    from licensing import rules as licensing_rules

    renewals, states = _swp(ctx).renewals, _swp(ctx).states
    blocked = _licences(ctx).blocked
    systems = ("admin:licensing_auerswaldsystem_changelist", "licensing.view_auerswaldsystem")
    lapsed = (
        states[licensing_rules.SWP_LAPSED]
        + states[licensing_rules.SWP_LAPSED_SURCHARGE]
        + states[licensing_rules.SWP_NOT_RENEWABLE]
    )
    return [
        Figure(
            _("Softwarepflege verlängert"),
            _pct(renewals.rate),
            ctx.link(
                "admin:licensing_maintenancecoverage_changelist",
                "licensing.view_maintenancecoverage",
                **_between("end", ctx),
            ),
            _("%(renewed)s von %(due)s Systemen, deren Softwarepflege im Zeitraum endete")
            % {"renewed": renewals.renewed, "due": renewals.due},
        ),
        Figure(
            _("läuft in 60 Tagen ab"),
            str(states[licensing_rules.SWP_EXPIRING]),
            ctx.link(*systems, swp=licensing_rules.SWP_EXPIRING),
        ),
        Figure(_("abgelaufen"), str(lapsed), ctx.link(*systems, swp=licensing_rules.SWP_LAPSED)),
        Figure(
            _("Abo-Schlüssel gesperrt"),
            str(blocked.in_period),
            ctx.link(
                "admin:licensing_license_changelist",
                "licensing.view_license",
                kind__exact="subscription",
                state__exact="blocked",
            ),
            _("im Zeitraum; insgesamt %(total)s") % {"total": blocked.total},
        ),
    ]


FIGURES = {
    REVENUE: _revenue_figures,
    FINANCE: _finance_figures,
    SUPPORT: _support_figures,
    LICENSING: _licensing_figures,
}


@dataclass
class Panel:
    key: str
    title: str
    figures: list[Figure]
    charts: list[dict]


def build_panels(ctx: Context, panels: list[PanelSpec]) -> list[Panel]:
    """Every visible panel with its figures and charts (SVG for the page, CSV link)."""
    query = urlencode(ctx.period.query())
    built = []
    for spec in panels:
        figures = FIGURES[spec.key](ctx)
        chart_blocks = []
        for chart in (c for c in CHARTS if c.panel == spec.key):
            series = chart.series(ctx)
            title = str(chart.title)
            svg = chart_render.cached_html(series, kind=chart.kind, unit=chart.unit, label=title)
            csv_url = reverse("admin:cockpit_csv", kwargs={"chart": chart.key}) + f"?{query}"
            chart_blocks.append({"key": chart.key, "title": title, "svg": svg, "csv": csv_url})
        built.append(Panel(key=spec.key, title=str(spec.title), figures=figures, charts=chart_blocks))
    return built


def period_heading(period: Period) -> str:
    return _("%(label)s (%(start)s bis %(end)s)") % {
        "label": period.label,
        "start": format_date(period.start),
        "end": format_date(period.end),
    }
