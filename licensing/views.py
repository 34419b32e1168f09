"""Licensing's contributions to the portal shell: its dashboard panels (STYLE 5: thin).

Each panel's context is one or two bounded queries, whatever the partner holds: the
dashboard stays fast for a partner with hundreds of installations.
"""

from __future__ import annotations

from django.db.models import Count

from licensing.selectors.portal import KEYS_EXPIRING_DAYS, expiring_keys, swp_attention
from vendorportal import clock
from vendorportal.parties.models import Customer

# At most this many rows per panel; the panel links to the full list.
PANEL_ROWS = 10


def installations_panel(request, partner) -> dict:
    """How many customers and installations the partner has, with the links to them."""
    # One query for both counts (the dashboard's query budget).
    return Customer.objects.filter(partner=partner).aggregate(
        customers=Count("pk", distinct=True), installations=Count("installations")
    )


def expiring_keys_panel(request, partner) -> dict | None:
    """Time-limited keys running out within 30 days (or run out in the last week); none: no panel."""
    today = clock.today()
    keys = list(expiring_keys(partner=partner, today=today)[: PANEL_ROWS + 1])
    if not keys:
        return None
    return {"keys": keys[:PANEL_ROWS], "more": len(keys) > PANEL_ROWS, "today": today, "days": KEYS_EXPIRING_DAYS}


def swp_panel(request, partner) -> dict | None:
    """Auerswald systems whose Softwarepflege runs out within 60 days or lapsed (SWP-8)."""
    today = clock.today()
    systems = list(swp_attention(partner=partner, today=today)[: PANEL_ROWS + 1])
    if not systems:
        return None
    from licensing import rules

    rows = [{"system": s, "state": rules.SWP_STATE_LABELS[s.swp_state], "end": s.coverage_end} for s in systems]
    return {"rows": rows[:PANEL_ROWS], "more": len(rows) > PANEL_ROWS}
