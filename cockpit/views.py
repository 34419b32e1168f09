"""The cockpit pages in the staff admin (issue 20): the start page ``/admin/`` and each chart's
CSV. Read-only (GET/HEAD only); ``admin_view`` has checked the staff login and second factor;
what a user sees is decided by :mod:`cockpit.panels` (group and money rights)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from cockpit import panels
from cockpit.periods import CUSTOM, KINDS, parse_period
from vendorportal import clock


def _context(request) -> tuple[panels.Context, str]:
    period, problem = parse_period(request.GET, clock.today())
    return panels.Context(period=period, today=clock.today(), now=clock.now(), user=request.user), problem


def cockpit_context(request) -> dict:
    """What the admin index shows above the model list: the picker and the visible panels."""
    visible = panels.visible_panels(request.user)
    ctx, problem = _context(request)
    period = ctx.period
    return {
        "cockpit_panels": panels.build_panels(ctx, visible),
        "cockpit_problem": problem,
        "cockpit_period": period,
        "cockpit_heading": panels.period_heading(period),
        "cockpit_kinds": [
            (k, label) for k, label in zip(KINDS, [_("Monat"), _("Quartal"), _("Jahr"), _("frei")], strict=True)
        ],
        "cockpit_custom": period.kind == CUSTOM,
        "cockpit_previous": urlencode(period.previous().query()) if period.kind != CUSTOM else "",
        "cockpit_next": urlencode(period.next().query()) if period.kind != CUSTOM else "",
    }


@require_safe
def chart_csv_view(request, chart: str):
    spec = panels.CHARTS_BY_KEY.get(chart)
    if spec is None or spec.panel not in {p.key for p in panels.visible_panels(request.user)}:
        raise Http404(_("Dieses Diagramm gibt es nicht oder es ist für Sie nicht freigegeben."))
    ctx, _problem = _context(request)
    body = panels.chart_csv(spec, ctx)
    response = HttpResponse("\ufeff" + body, content_type="text/csv; charset=utf-8")
    name = f"cockpit-{spec.key}-{ctx.period.start:%Y-%m-%d}-{ctx.period.end:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
