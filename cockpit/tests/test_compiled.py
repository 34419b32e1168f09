"""The cockpit's SQL compiled once per input and run again on the rows as they are (issue 20)."""

from datetime import date, datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db.models.sql.compiler import SQLCompiler

from billing.models import Invoice
from billing.tests.factories import make_partner, make_subscription
from cockpit.periods import MONTH, containing
from cockpit.selectors import _compiled, revenue, support
from support.models import Ticket

pytestmark = pytest.mark.django_db
D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
NOVEMBER = containing(MONTH, date(2026, 11, 1))


@pytest.fixture(autouse=True)
def _nothing_compiled_yet():
    _compiled.forget()
    yield
    _compiled.forget()


def _compiles():
    """Counts Django's SQL compilations (``SQLCompiler.as_sql`` calls) inside the block."""
    return mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql)


def test_second_ask_runs_the_same_sql_on_the_rows_as_they_are_now(catalog):
    partner = make_partner()
    make_subscription(partner, monthly_price="44.75", signed_on=date(2026, 9, 10), term_start=date(2026, 10, 1))
    assert revenue.mrr_now(date(2026, 11, 20)) == D("44.75")
    compiled = len(_compiled._compiled)
    assert compiled == 3  # subscriptions, tier changes, service plans
    # A second subscription of 2 × 30,00: the next answer counts it, without compiling anything.
    make_subscription(
        partner, monthly_price="30.00", quantity=2, signed_on=date(2026, 11, 1), term_start=date(2026, 12, 1)
    )
    with _compiles() as as_sql:
        assert revenue.mrr_now(date(2026, 11, 20)) == D("104.75")
    assert as_sql.call_count == 0
    assert len(_compiled._compiled) == compiled
    # Another day is another input: compiled anew (three queries), and answered for that day.
    with _compiles() as as_sql:
        assert revenue.mrr_now(date(2026, 10, 31)) == D("44.75")
    assert as_sql.call_count >= 3
    assert len(_compiled._compiled) == compiled + 3


def test_now_is_filled_in_on_every_ask_of_the_same_compiled_query(catalog):
    """T-1's SLA runs out on Thu 3.12. 16:00 without an answer (SUP-2): at 15:00 its clock still
    runs (not counted), at 17:00 the same day — the same compiled query — it is breached."""
    partner = make_partner()
    Ticket.objects.create(
        number="T-1",
        partner=partner,
        subject="Anlage klingelt nicht",
        received_at=datetime(2026, 11, 30, 16, 0, tzinfo=BERLIN),
        sla_due_at=datetime(2026, 12, 3, 16, 0, tzinfo=BERLIN),
    )
    before = support.support_overview(NOVEMBER, datetime(2026, 12, 3, 15, 0, tzinfo=BERLIN))
    assert (before.sla[-1].met, before.sla[-1].breached) == (0, 0)
    with _compiles() as as_sql:
        after = support.support_overview(NOVEMBER, datetime(2026, 12, 3, 17, 0, tzinfo=BERLIN))
    assert as_sql.call_count == 0
    assert (after.sla[-1].met, after.sla[-1].breached, after.sla[-1].rate) == (0, 1, D("0.00"))


def test_a_query_django_answers_without_the_database_is_not_kept(catalog):
    from django.db.models import Count

    result = _compiled.aggregate(("empty",), lambda: (Invoice.objects.filter(pk__in=[]), {"n": Count("pk")}))
    assert result == {"n": 0}
    assert ("aggregate", "empty") not in _compiled._compiled


def test_the_kept_queries_are_bounded(catalog, monkeypatch):
    monkeypatch.setattr(_compiled, "KEEP", 2)
    for day in (date(2026, 11, 1), date(2026, 11, 2)):
        revenue.mrr_now(day)
    assert len(_compiled._compiled) == 2  # the last day's three queries, less the oldest
