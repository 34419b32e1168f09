"""Billable lines of other apps on the monthly invoice (INV-3 run, issue 10/11).

Billing may not import the apps that sit above it (support reads billing, never the other
way round), so an app that has something to bill each month — support's billable time of
the previous month — *registers a source* here from its ``AppConfig.ready``::

    from billing import invoicing_sources

    invoicing_sources.register(
        "support-time",
        partners="support.services.partners_with_billable_time",  # f(month) -> partner ids
        proposals="support.services.billable_time_proposals",  # f(partner, month) -> [LineProposal]
        billed="support.services.mark_time_billed",  # f(partner, month, [(LineProposal, InvoiceLine)])
    )

The contract, for a run of month ``month`` (a ``date``, the 1st of the month billed):

- ``partners(month)`` returns the ids of the partners the source has lines for, so the run
  visits them even when they have no subscription period due. It may return more (the run
  then finds no proposal and bills nothing for that source).
- ``proposals(partner, month)`` is called inside the partner's billing transaction, after
  the partner row is locked (``select_for_update``; SQLite serialises writes), and returns
  :class:`LineProposal` values: what the invoice line says. It must return only what is not
  billed yet — the source keeps that fact (e.g. a time entry's ``invoice_line``).
- ``billed(partner, month, pairs)`` is called in the same transaction with each proposal and
  the :class:`~billing.models.InvoiceLine` written for it: the source records the line on
  its own rows (ideally behind a unique constraint, so a concurrent run cannot bill them
  twice: an ``IntegrityError`` rolls the whole partner invoice back, number included, and
  the run retries the partner). Nothing is called for a partner whose transaction rolls back.

Functions are given as dotted names (imported when the run calls them) or callables. A source
that raises makes that partner's invoice roll back; the run reports the partner as failed and
the next run or catch-up tick bills it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class LineProposal:
    """One line a source wants on the partner's invoice; amounts net EUR (GEN-2)."""

    article: str
    description: str  # German, as printed on the invoice (at most 300 characters)
    quantity: Decimal
    unit_price: Decimal
    unit: str = "C62"  # an InvoiceLine.UNIT_CHOICES code: C62 piece, MON month, ANN year, DAY day, HUR hour
    period_start: date | None = None
    period_end: date | None = None  # inclusive
    ref: Any = field(default=None, compare=False)  # the source's own handle (e.g. time entry ids)


@dataclass(frozen=True)
class InvoicingSource:
    name: str
    partners: Callable | str
    proposals: Callable | str
    billed: Callable | str

    def call(self, what: str, *args):
        func = getattr(self, what)
        if isinstance(func, str):
            func = import_string(func)
        return func(*args)


_SOURCES: dict[str, InvoicingSource] = {}


def register(name: str, *, partners: Callable | str, proposals: Callable | str, billed: Callable | str) -> None:
    """Add (or replace, by ``name``) a source of billable lines for the monthly run."""
    _SOURCES[name] = InvoicingSource(name=name, partners=partners, proposals=proposals, billed=billed)


def unregister(name: str) -> None:
    _SOURCES.pop(name, None)


def sources() -> list[InvoicingSource]:
    """The registered sources, by name (their lines follow the subscription lines in that order)."""
    return [_SOURCES[name] for name in sorted(_SOURCES)]
