"""The cockpit's figures, one selector each, by area (docs/metrics.md defines every one).

They read the other apps' tables directly, read-only, with database aggregates — a figure over
10,000 subscriptions is one query, not a loop — and never write. Money figures return
``Decimal``; counts ``int``; chart data a :class:`~cockpit.selectors._common.Series`.
"""
