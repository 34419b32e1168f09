"""Closed months' revenue summed once by the nightly job, and read by the cockpit only while the
sum is exact (issue 20, cockpit.snapshots). Amounts by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice, InvoiceLine
from billing.tests.factories import make_partner
from cockpit import tasks
from cockpit.models import RevenueMonth, RevenueMonthLine
from cockpit.periods import CUSTOM, MONTH, Period, containing
from cockpit.selectors import _compiled, finance
from cockpit.snapshots import BACK_MONTHS, closed_before, revenue_months_sum
from vendorportal import clock
from vendorportal.models import JobRun

pytestmark = pytest.mark.django_db
D = Decimal
NOVEMBER = containing(MONTH, date(2026, 11, 1))
DEC_2 = date(2026, 12, 2)
MODULE, OTHER = "Modul", "Sonstiges (z. B. Supportzeit)"


@pytest.fixture(autouse=True)
def _nothing_compiled():
    _compiled.forget()
    yield
    _compiled.forget()


_numbers = iter(range(1, 10_000))


def _document(partner, day, lines, *, kind=Invoice.INVOICE, credited=None, vat_category="S"):
    """A document issued on ``day`` with ``lines`` = [(article, net), …]."""
    net = sum((n for _, n in lines), D("0"))
    vat = (net * D("0.19")).quantize(D("0.01")) if vat_category == "S" else D("0")
    invoice = Invoice.objects.create(
        kind=kind,
        number=f"{'GS' if credited else 'RE'}-2026-{next(_numbers):06d}",
        issue_date=day,
        issued_at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
        partner=partner,
        buyer_name=partner.company,
        buyer_country="DE",
        email="r@example.test",
        vat_category=vat_category,
        net_total=net,
        vat_total=vat,
        gross_total=net + vat,
        credited_invoice=credited,
    )
    for position, (article, amount) in enumerate(lines, 1):
        InvoiceLine.objects.create(
            invoice=invoice, position=position, article=article, description=article, quantity=D("1"),
            unit_price=amount, net_total=amount, vat_category=vat_category,
            vat_percent=D("19") if vat_category == "S" else D("0"),
        )  # fmt: skip
    return invoice


@pytest.fixture
def documents(catalog):
    """October: Call Recording 120,00 + support 30,00. November: Call Recording 200,00 (19 %),
    80,00 (reverse charge), a correction of 50,00 Call Recording, support 45,00. December
    (not closed on 2.12.): Call Recording 999,00. September: nothing."""
    partner = make_partner()
    _document(partner, date(2026, 10, 5), [("CALLREC", D("120.00")), ("SUPPORT-STD", D("30.00"))])
    first = _document(partner, date(2026, 11, 3), [("CALLREC", D("200.00"))])
    _document(partner, date(2026, 11, 10), [("CALLREC", D("80.00"))], vat_category="AE")
    _document(partner, date(2026, 11, 20), [("CALLREC", D("50.00"))], kind=Invoice.CREDIT_NOTE, credited=first)
    _document(partner, date(2026, 11, 30), [("SUPPORT-STD", D("45.00"))])
    _document(partner, date(2026, 12, 1), [("CALLREC", D("999.00"))])
    return partner


def _figures(result):
    return result.total, result.by_group, result.by_vat, result.by_month


def test_closed_from_the_second_day_after_the_month():
    assert closed_before(date(2026, 12, 1)) == date(2026, 11, 1)  # November not closed yet
    assert closed_before(date(2026, 12, 2)) == date(2026, 12, 1)  # November closed
    assert closed_before(date(2027, 1, 1)) == date(2026, 12, 1)


def test_the_job_sums_each_closed_month_once_by_article_vat_and_kind(documents):
    result = revenue_months_sum(DEC_2)
    # Five years back from November 2026 (the first document is younger): 12/2021 … 11/2026.
    assert len(result.summed) == BACK_MONTHS
    assert (result.summed[0], result.summed[-1]) == (date(2021, 12, 1), date(2026, 11, 1))
    assert not RevenueMonth.objects.filter(month=date(2026, 12, 1)).exists()  # December is open
    november = {
        (line.article, line.vat_category, line.kind): line.net
        for line in RevenueMonthLine.objects.filter(month__month=date(2026, 11, 1))
    }
    assert november == {
        ("CALLREC", "S", "invoice"): D("200.00"),
        ("CALLREC", "AE", "invoice"): D("80.00"),
        ("CALLREC", "S", "credit_note"): D("50.00"),
        ("SUPPORT-STD", "S", "invoice"): D("45.00"),
    }
    # September had no document: one empty line says "summed to nothing".
    september = RevenueMonthLine.objects.get(month__month=date(2026, 9, 1))
    assert (september.article, september.net) == ("", D("0.00"))
    # A second run the same night sums nothing.
    assert revenue_months_sum(DEC_2).summed == []
    assert RevenueMonth.objects.count() == BACK_MONTHS


def test_the_cockpit_reads_the_sums_and_shows_the_same_figures_in_fewer_queries(documents):
    with CaptureQueriesContext(connection) as from_lines:
        before = finance.revenue(NOVEMBER, DEC_2)
    revenue_months_sum(DEC_2)
    with CaptureQueriesContext(connection) as from_sums:
        after = finance.revenue(NOVEMBER, DEC_2)
    assert _figures(after) == _figures(before)
    # November: 200 + 80 − 50 = 230,00 modules, 45,00 support; 275,00 in all.
    assert after.total == D("275.00")
    assert after.by_group == {MODULE: D("230.00"), OTHER: D("45.00")}
    assert after.by_vat == {"Inland (USt.)": D("195.00"), "EU Reverse Charge": D("80.00")}
    assert after.by_month.labels[-2:] == ["10/2026", "11/2026"]
    assert after.by_month.series[MODULE][-2:] == [D("120.00"), D("230.00")]
    assert after.by_month.series[OTHER][-2:] == [D("30.00"), D("45.00")]
    # Sums read, product groups; no query over the lines (the lines' query joins the documents).
    assert len(from_sums) == 2 and len(from_lines) == 3
    assert not any('"billing_invoiceline"' in q["sql"] for q in from_sums.captured_queries)


def test_the_current_month_comes_from_its_lines(documents):
    revenue_months_sum(DEC_2)
    december = finance.revenue(containing(MONTH, date(2026, 12, 1)), DEC_2)
    assert december.total == D("999.00")
    assert december.by_month.series[MODULE][-2:] == [D("230.00"), D("999.00")]


def test_a_period_that_covers_a_month_in_part_sums_that_month_from_its_lines(documents):
    revenue_months_sum(DEC_2)
    # 15.10.–20.11.: October's support (5.10.) and Call Recording are outside; November up to
    # the 20th: 200 + 80 − 50 = 230,00 (the support of 30.11. is outside).
    part = finance.revenue(Period(CUSTOM, date(2026, 10, 15), date(2026, 11, 20)), DEC_2)
    assert part.total == D("230.00") and part.by_group == {MODULE: D("230.00")}
    _compiled.forget()
    RevenueMonth.objects.all().delete()
    assert _figures(finance.revenue(Period(CUSTOM, date(2026, 10, 15), date(2026, 11, 20)), DEC_2)) == _figures(part)


def test_a_document_issued_afterwards_within_a_summed_month_is_counted_at_once_and_summed_again(documents):
    revenue_months_sum(DEC_2)
    # Never done by the services (documents carry the day they are issued on) — an import:
    _document(documents, date(2026, 11, 25), [("CALLREC", D("10.00"))])
    assert finance.revenue(NOVEMBER, DEC_2).total == D("285.00")
    result = revenue_months_sum(DEC_2)
    assert result.dropped == [date(2026, 11, 1)] and result.summed == [date(2026, 11, 1)]
    assert "11/2026" in result.summary()
    november = RevenueMonthLine.objects.get(
        month__month=date(2026, 11, 1), article="CALLREC", vat_category="S", kind="invoice"
    )
    assert november.net == D("210.00")
    assert finance.revenue(NOVEMBER, DEC_2).total == D("285.00")


def test_later_documents_of_the_current_month_leave_the_sums_in_use(documents):
    revenue_months_sum(DEC_2)
    _document(documents, date(2026, 12, 2), [("CALLREC", D("1.00"))])
    with CaptureQueriesContext(connection) as queries:
        assert finance.revenue(NOVEMBER, DEC_2).total == D("275.00")
    assert len(queries) == 2
    # The next night the sums are checked against it and stay.
    assert revenue_months_sum(date(2026, 12, 3)).dropped == []


def test_sums_written_under_a_later_date_are_dropped_when_the_month_is_not_closed(documents):
    revenue_months_sum(DEC_2)
    result = revenue_months_sum(date(2026, 12, 1))  # a clock set back: November is open again
    assert result.dropped == [date(2026, 11, 1)]
    assert not RevenueMonth.objects.filter(month=date(2026, 11, 1)).exists()


def test_the_nightly_task_records_what_it_summed(documents):
    clock.freeze(datetime(2026, 12, 2, 1, 40, tzinfo=UTC))
    try:
        assert tasks.revenue_months_daily() == BACK_MONTHS
        assert tasks.revenue_months_daily() == 0
    finally:
        clock.freeze(None)
    first, second = JobRun.objects.filter(name=tasks.REVENUE_MONTHS_JOB_NAME).order_by("pk")
    assert first.ok and "60 Monate summiert (12/2021, 01/2022, 02/2022 …)" in first.summary
    assert second.ok and second.summary.startswith("0 Monate summiert")
