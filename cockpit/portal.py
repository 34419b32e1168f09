"""The partner portal dashboard panel of the cockpit (issue 20): the partner's own spend per
month and its upcoming renewals as charts (registered in ``CockpitConfig.ready``). Scoped to
``request.partner``; the SVG has no script and no inline style (CSP), its stylesheet is linked."""

from __future__ import annotations

import dataclasses

from django.utils.translation import gettext as _

from cockpit import charts
from cockpit.selectors import partner as partner_selectors
from vendorportal import clock


def spend_panel(request, partner) -> dict:
    today = clock.today()
    spend = partner_selectors.partner_spend_by_month(partner, today)
    renewals = partner_selectors.partner_renewals_by_month(partner, today)
    # The selector names its series in German; the legend speaks the partner's language.
    legend = {"Softwarepflege": _("Softwarepflege"), "Service-Pläne": _("Service-Pläne")}
    renewals = dataclasses.replace(
        renewals, series={legend.get(name, name): values for name, values in renewals.series.items()}
    )
    spend_title = _("Ihre Ausgaben je Monat (netto, Korrekturen abgezogen)")
    renewals_title = _("Anstehende Verlängerungen je Monat")
    return {
        "spend_title": spend_title,
        "spend_chart": charts.cached_html(spend, kind="bar", unit="money", label=spend_title),
        "renewals_title": renewals_title,
        "renewals_chart": charts.cached_html(renewals, kind="stacked", unit="", label=renewals_title),
        "renewals_total": sum(sum(v) for v in renewals.series.values()),
        # Nothing billed in twelve months: a sentence, not an empty chart of 0,00 € … 1,00 €.
        "spend_any": any(v for values in spend.series.values() for v in values),
    }
