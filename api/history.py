"""Every write through the API is in the history with the token's name (issue 19).

A write endpoint is decorated with :func:`api_write`: while it runs, every historical record
the services create — the order, its lines, the licences, the invoice, a ticket … — gets
``API: <token name> (<prefix>…)`` as its change reason (unless the service gave one) and,
where the service named no user, the login that created the token
(:mod:`vendorportal.audit` carries it).
"""

from __future__ import annotations

import functools

from vendorportal.audit import REASON_MAX, acting_as


def token_reason(token) -> str:
    """ "API: Shop (vp_AbCdEfG…)" — shortened to the column, the prefix always kept."""
    tail = f" ({token.prefix}…)"
    name = token.name[: REASON_MAX - len("API: ") - len(tail)]
    return f"API: {name}{tail}"


def api_write(view):
    """Decorator of a write endpoint: its writes name the token in the history."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        token = request.api_token
        with acting_as(reason=token_reason(token), user=token.created_by):
            return view(request, *args, **kwargs)

    return wrapper
