"""The cockpit's figures in documents (issue 20): the finance journal's revenue chart and the
month's MRR movement, registered with :func:`billing.finance.journal_section_add`. Charts keep
pygal's inline style here (WeasyPrint applies no CSP) and have no script."""

from __future__ import annotations

from datetime import date

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from cockpit import charts
from cockpit.periods import MONTH, containing
from cockpit.selectors import finance, revenue
from cockpit.selectors._common import Series
from vendorportal.money import format_eur


def journal_section(*, year: int, month: int, today: date) -> str:
    """HTML for the journal of ``month``: revenue per month by product group (12 months up to
    it, net, corrections negative) and the month's MRR movement, as chart and table."""
    period = containing(MONTH, date(year, month, 1))
    rev = finance.revenue(period, today)
    movement = revenue.mrr_overview(period, today).movement
    rows = [
        (_("MRR am Monatsanfang (Vortag)"), movement.start),
        (_("neu"), movement.new),
        (_("Erweiterung (Staffelwechsel)"), movement.expansion),
        (_("Verkleinerung"), -movement.contraction),
        (_("Kündigungen (Churn)"), -movement.churn),
        (_("MRR am Monatsende"), movement.end),
    ]
    movement_series = Series(labels=[label for label, _v in rows], series={"MRR": [v for _l, v in rows]}, money=True)
    revenue_title = _("Umsatz netto je Monat nach Produktgruppe")
    movement_title = _("MRR-Bewegung %(month)02d/%(year)s") % {"month": month, "year": year}
    return render_to_string(
        "documents/cockpit_journal_section.html",
        {
            "revenue_title": revenue_title,
            "revenue_chart": charts.render_document(charts.build(rev.by_month, kind="stacked"), revenue_title),
            "movement_title": movement_title,
            "movement_chart": charts.render_document(charts.build(movement_series, kind="bar"), movement_title),
            "movement_rows": [(label, format_eur(value)) for label, value in rows],
        },
    )
