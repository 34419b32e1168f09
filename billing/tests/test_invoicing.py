"""The monthly invoicing run (INV-3, SUB-3/4/7/8, ORD-8): what it bills, once.

Amounts worked by hand (GEN-2: line net = quantity × unit price, VAT on the sum per rate,
both rounded half up to cents; 19 % for German partners):

- Muster (German, no mandate), December 2026: Call Recording monthly 44,75 € (1 × 44,75),
  Active Directory Synchronisation quarterly 33,25 €/month (3 × 33,25 = 99,75, 01.12.2026–
  28.02.2027), Service-Plan Premium 828,00 €/year (01.12.2026–30.11.2027)
  → net 44,75 + 99,75 + 828,00 = 972,50 €; VAT 972,50 × 0,19 = 184,775 → 184,78 €;
  gross 1.157,28 €; > 50 € → transfer, due 01.12. + 14 days = 15.12.2026.
- Beispiel (German, SEPA mandate): ADSYNC monthly 16,58 € → net 16,58 €; VAT 3,1502 → 3,15 €;
  gross 19,73 €; ≤ 50 € with mandate → SEPA direct debit (ORD-8).
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from billing import invoicing_sources
from billing.models import BilledPeriod, Invoice, InvoiceLine, InvoicingRun, SepaMandate, SubscriptionPriceChange
from billing.services import invoicing
from billing.tasks import invoicing_catch_up, invoicing_monthly, invoicing_partner
from billing.tests.factories import make_partner, make_service_plan, make_subscription
from vendorportal.models import DocumentSequence, JobRun, OutboxMessage

pytestmark = pytest.mark.django_db

DEC = date(2026, 12, 1)
JAN = date(2027, 1, 1)
D = Decimal


@pytest.fixture
def muster(catalog):
    partner = make_partner(company="Muster Kommunikation GmbH", invoice_email="buchhaltung@muster.test")
    make_subscription(partner, article="CALLREC", monthly_price="44.75", term_start=DEC, minimum_months=12)
    make_subscription(
        partner, article="ADSYNC", monthly_price="33.25", term_start=DEC, minimum_months=24, billing_months=3
    )
    make_service_plan(partner, plan="premium", yearly_price="828.00", starts_on=DEC)
    return partner


@pytest.fixture
def beispiel(catalog):
    partner = make_partner(company="Beispiel IT-Service GmbH", invoice_email="rechnung@beispiel.test")
    SepaMandate.objects.create(
        partner=partner,
        reference="VP-MANDAT-000042",
        iban="DE02120300000000202051",
        signed_on=date(2025, 1, 15),
    )
    make_subscription(partner, article="ADSYNC", monthly_price="16.58", term_start=DEC, minimum_months=1)
    return partner


def lines_of(invoice):
    return sorted(
        (line.article, line.quantity, line.unit, line.unit_price, line.net_total, line.period_start, line.period_end)
        for line in invoice.lines.all()
    )


def test_december_run_bills_each_partner_once_with_hand_worked_totals(
    clock, muster, beispiel, django_capture_on_commit_callbacks
):
    clock.set(DEC)
    with django_capture_on_commit_callbacks(execute=True):
        result = invoicing.invoicing_run(month=DEC)

    assert [i.number for i in result.invoices] == ["RE-2026-000001", "RE-2026-000002"]
    first = Invoice.objects.get(partner=muster)
    assert lines_of(first) == [
        ("ADSYNC", D("3.00"), "MON", D("33.25"), D("99.75"), DEC, date(2027, 2, 28)),
        ("CALLREC", D("1.00"), "MON", D("44.75"), D("44.75"), DEC, date(2026, 12, 31)),
        ("SP-PREMIUM", D("1.00"), "ANN", D("828.00"), D("828.00"), DEC, date(2027, 11, 30)),
    ]
    assert (first.net_total, first.vat_total, first.gross_total) == (D("972.50"), D("184.78"), D("1157.28"))
    assert (first.payment_means, first.due_date, first.email) == (
        "transfer",
        date(2026, 12, 15),
        "buchhaltung@muster.test",
    )
    assert first.issue_date == DEC and first.pdf  # PDF rendered and stored right after each partner's commit
    callrec = first.lines.get(article="CALLREC")
    # Readable lines: product, reference, customer and installation; the period only in its columns.
    assert callrec.description.startswith("Call Recording, Abo ABO-TEST-")
    assert callrec.description.count("Serverlizenzschlüssel") == 1 and " AG, " in callrec.description
    assert "01.12.2026" not in callrec.description and "31.12.2026" not in callrec.description
    assert (callrec.period_start, callrec.period_end) == (DEC, date(2026, 12, 31))

    second = Invoice.objects.get(partner=beispiel)
    assert (second.net_total, second.vat_total, second.gross_total) == (D("16.58"), D("3.15"), D("19.73"))
    assert (second.payment_means, second.mandate_reference) == ("direct_debit", "VP-MANDAT-000042")

    assert BilledPeriod.objects.filter(subscription__partner=muster).count() == 2
    assert BilledPeriod.objects.filter(service_plan__partner=muster).count() == 1
    assert BilledPeriod.objects.count() == 4 and result.periods == 4
    assert {p.amount for p in BilledPeriod.objects.all()} == {D("44.75"), D("99.75"), D("828.00"), D("16.58")}
    assert (result.net, result.gross) == (D("989.08"), D("1177.01"))  # 972,50 + 16,58; 1.157,28 + 19,73
    assert sorted(OutboxMessage.objects.values_list("kind", "recipients")) == [
        ("invoice", ["buchhaltung@muster.test"]),
        ("invoice", ["rechnung@beispiel.test"]),
    ]
    assert "2 Rechnungen, 4 Abrechnungszeiträume" in result.summary()
    assert "netto 989,08 €, brutto 1.177,01 €" in result.summary()


def test_second_run_bills_nothing_and_takes_no_number(clock, muster, beispiel):
    clock.set(DEC)
    invoicing.invoicing_run(month=DEC)
    again = invoicing.invoicing_run(month=DEC)
    assert again.invoices == [] and again.periods == 0
    assert "nichts mehr abzurechnen" in again.summary()
    assert Invoice.objects.count() == 2 and BilledPeriod.objects.count() == 4
    assert DocumentSequence.objects.get(prefix="RE", year=2026).last_number == 2
    assert invoicing.due_partner_ids(month=DEC) == []


def test_a_month_without_a_run_is_caught_up_by_the_next(clock, muster):
    # No run in December: the January run bills December and January of the monthly
    # subscription, the quarter from December (the next starts in March) and the plan year.
    clock.set(JAN)
    result = invoicing.invoicing_run(month=JAN)
    invoice = result.invoices[0]
    assert lines_of(invoice) == [
        ("ADSYNC", D("3.00"), "MON", D("33.25"), D("99.75"), DEC, date(2027, 2, 28)),
        ("CALLREC", D("1.00"), "MON", D("44.75"), D("44.75"), DEC, date(2026, 12, 31)),
        ("CALLREC", D("1.00"), "MON", D("44.75"), D("44.75"), JAN, date(2027, 1, 31)),
        ("SP-PREMIUM", D("1.00"), "ANN", D("828.00"), D("828.00"), DEC, date(2027, 11, 30)),
    ]
    assert invoice.number == "RE-2027-000001"  # the year of the issue date
    # February: only Call Recording; March: Call Recording and the next quarter.
    clock.set(date(2027, 2, 1))
    assert [lines_of(b) for b in invoicing.invoicing_run(month=date(2027, 2, 1)).invoices] == [
        [("CALLREC", D("1.00"), "MON", D("44.75"), D("44.75"), date(2027, 2, 1), date(2027, 2, 28))]
    ]
    clock.set(date(2027, 3, 1))
    march = invoicing.invoicing_run(month=date(2027, 3, 1)).invoices[0]
    assert [(line.article, line.net_total, line.period_end) for line in march.lines.order_by("article")] == [
        ("ADSYNC", D("99.75"), date(2027, 5, 31)),
        ("CALLREC", D("44.75"), date(2027, 3, 31)),
    ]


def test_tier_change_applies_from_its_period_and_an_ended_subscription_stops(clock, catalog):
    partner = make_partner()
    changed = make_subscription(partner, article="CALLREC", monthly_price="44.75", term_start=DEC, minimum_months=1)
    SubscriptionPriceChange.objects.create(
        subscription=changed, effective_from=JAN, tier="41-80", monthly_price=D("66.58")
    )
    make_subscription(
        partner,
        article="ADSYNC",
        monthly_price="16.58",
        term_start=DEC,
        minimum_months=1,
        notice_on=date(2026, 12, 5),
        ends_on=date(2026, 12, 31),
    )
    clock.set(DEC)
    december = invoicing.invoicing_run(month=DEC).invoices[0]
    assert december.net_total == D("61.33")  # 44,75 + 16,58
    clock.set(JAN)
    january = invoicing.invoicing_run(month=JAN).invoices[0]
    assert lines_of(january) == [("CALLREC", D("1.00"), "MON", D("66.58"), D("66.58"), JAN, date(2027, 1, 31))]
    assert january.net_total == D("66.58")


def test_subscription_with_several_licences_bills_the_monthly_price_of_all(clock, catalog):
    partner = make_partner()
    make_subscription(partner, article="CALLREC", monthly_price="10.00", term_start=DEC, quantity=3)
    clock.set(DEC)
    line = invoicing.invoicing_run(month=DEC).invoices[0].lines.get()
    assert (line.quantity, line.unit_price, line.net_total) == (D("1.00"), D("30.00"), D("30.00"))
    assert "3 Lizenzen" in line.description


def test_retroactive_plan_bills_only_years_from_billed_from(clock, catalog):
    partner = make_partner()
    make_service_plan(
        partner,
        plan="enterprise",
        yearly_price="1548.00",
        starts_on=date(2020, 6, 1),
        signed_on=date(2026, 6, 10),
        retroactive=True,
        billed_from=date(2026, 6, 1),
    )
    clock.set(DEC)
    invoice = invoicing.invoicing_run(month=DEC).invoices[0]
    # 2020…2025 were provided without charge (SUB-8); the year from 01.06.2026 was not billed yet.
    assert lines_of(invoice) == [
        ("SP-ENTERPRISE", D("1.00"), "ANN", D("1548.00"), D("1548.00"), date(2026, 6, 1), date(2027, 5, 31))
    ]
    clock.set(date(2027, 6, 1))
    june = invoicing.invoicing_run(month=date(2027, 6, 1)).invoices[0]
    assert lines_of(june)[0][5:] == (date(2027, 6, 1), date(2028, 5, 31))


def test_periods_starting_after_the_month_wait(clock, muster):
    clock.set(date(2026, 11, 22))
    assert invoicing.invoicing_run(month=date(2026, 11, 1)).invoices == []
    assert invoicing.due_partner_ids(month=date(2026, 11, 1)) == []
    assert invoicing.due_partner_ids(month=DEC) == [muster.pk]


# --- other apps' lines (support time, issue 11) ------------------------------------------------


class FakeSupportTime:
    """A source as support registers it: 1,5 hours at 120,00 € for October, billed once."""

    def __init__(self, partner_ids, fail=None):
        self.partner_ids = partner_ids
        self.billed: list = []
        self.fail = fail

    def partners(self, month):
        return list(self.partner_ids)

    def proposals(self, partner, month):
        if partner.pk not in self.partner_ids or any(entry[0] == partner.pk for entry in self.billed):
            return []
        return [
            invoicing_sources.LineProposal(
                article="SUPPORT-H",
                description="Supportzeit Oktober 2026",
                quantity=D("1.5"),
                unit_price=D("120.00"),
                period_start=date(2026, 10, 1),
                period_end=date(2026, 10, 31),
                ref=["entry-7", "entry-9"],
            )
        ]

    def mark(self, partner, month, pairs):
        if self.fail:
            error, self.fail = self.fail, None
            raise error
        self.billed += [(partner.pk, month, proposal.ref, line.pk) for proposal, line in pairs]


@pytest.fixture
def fake_source():
    made = []

    def register(*args, **kwargs):
        source = FakeSupportTime(*args, **kwargs)
        invoicing_sources.register(
            "test-support", partners=source.partners, proposals=source.proposals, billed=source.mark
        )
        made.append(source)
        return source

    yield register
    invoicing_sources.unregister("test-support")


def test_source_lines_join_the_invoice_and_are_told_which_line_billed_them(clock, muster, fake_source):
    source_only = make_partner(company="Nur Support GmbH")
    source = fake_source([muster.pk, source_only.pk])
    clock.set(DEC)
    result = invoicing.invoicing_run(month=DEC)
    assert len(result.invoices) == 2 and result.source_lines == 2
    invoice = Invoice.objects.get(partner=muster)
    support = invoice.lines.get(article="SUPPORT-H")
    assert (support.quantity, support.unit_price, support.net_total) == (D("1.50"), D("120.00"), D("180.00"))
    assert support.position == 4  # after the three periods
    assert invoice.net_total == D("1152.50")  # 972,50 + 180,00
    assert not hasattr(support, "billed_period") or not BilledPeriod.objects.filter(invoice_line=support).exists()
    only = Invoice.objects.get(partner=source_only)
    assert only.net_total == D("180.00") and only.lines.count() == 1
    assert sorted(source.billed) == sorted(
        [
            (muster.pk, DEC, ["entry-7", "entry-9"], support.pk),
            (source_only.pk, DEC, ["entry-7", "entry-9"], only.lines.get().pk),
        ]
    )
    assert invoicing.invoicing_run(month=DEC).invoices == []


def test_a_failing_partner_rolls_back_alone_and_leaves_no_number(clock, muster, beispiel, fake_source):
    fake_source([muster.pk], fail=RuntimeError("Supportdaten nicht lesbar"))
    clock.set(DEC)
    result = invoicing.invoicing_run(month=DEC)
    # Muster's transaction rolled back whole (invoice, lines, periods, number); Beispiel billed.
    assert [i.partner_id for i in result.invoices] == [beispiel.pk]
    assert result.failed[0][0] == muster.pk and "Supportdaten nicht lesbar" in result.summary()
    assert Invoice.objects.get().number == "RE-2026-000001"
    assert not BilledPeriod.objects.filter(subscription__partner=muster).exists()
    assert not InvoiceLine.objects.filter(invoice__partner=muster).exists()
    # The next run bills Muster with the next number: no gap.
    again = invoicing.invoicing_run(month=DEC)
    assert [i.number for i in again.invoices] == ["RE-2026-000002"]


def test_a_period_billed_concurrently_rolls_back_and_retries_without_a_gap(clock, muster, fake_source):
    # A unique violation in the partner's transaction (as when an order billed a period the
    # same instant): everything rolls back, number included, and the partner is tried again.
    fake_source([muster.pk], fail=IntegrityError("UNIQUE constraint failed"))
    clock.set(DEC)
    bill = invoicing.invoicing_bill_partner(partner_id=muster.pk, month=DEC)
    assert bill.invoice.number == "RE-2026-000001" and bill.periods == 3
    assert Invoice.objects.count() == 1 and BilledPeriod.objects.count() == 3
    assert DocumentSequence.objects.get(prefix="RE", year=2026).last_number == 1


# --- queries ------------------------------------------------------------------------------------


def _queries_for_partner(n_subscriptions: int, clock) -> int:
    partner = make_partner()
    for _ in range(n_subscriptions):
        make_subscription(partner, article="CALLREC", monthly_price="10.00", term_start=DEC)
    make_service_plan(partner, starts_on=DEC)
    clock.set(DEC)
    with CaptureQueriesContext(connection) as ctx:
        bill = invoicing.invoicing_bill_partner(partner_id=partner.pk, month=DEC, render_pdf=False, rates={})
    assert bill.periods == n_subscriptions + 1
    return len(ctx.captured_queries)


def test_queries_per_partner_do_not_grow_with_its_subscriptions(clock, catalog):
    _queries_for_partner(1, clock)  # the year's first number creates the sequence row: more queries once
    one, twelve = _queries_for_partner(1, clock), _queries_for_partner(12, clock)
    assert one == twelve
    assert one <= 20


def _queries_in_a_run(n_subscriptions: int, clock) -> list[str]:
    partner = make_partner()
    for _ in range(n_subscriptions):
        make_subscription(partner, article="CALLREC", monthly_price="10.00", term_start=DEC)
    clock.set(DEC)
    named = invoicing.source_partners(month=DEC)  # as the run asks the sources, once
    rates: dict = {}
    invoicing.invoice_vat(partner, DEC, rates=rates)  # as after the run's first partner
    with CaptureQueriesContext(connection) as ctx:
        bill = invoicing.invoicing_bill_partner(
            partner_id=partner.pk, month=DEC, render_pdf=False, rates=rates, named=named
        )
    assert bill.periods == n_subscriptions
    return [q["sql"] for q in ctx.captured_queries]


def test_a_partner_in_a_run_costs_the_writes_and_three_reads(clock, catalog):
    """The run's per-partner transaction for a partner with subscriptions only (no plan, no tier
    change, no mandate, no support time): the savepoint of the test's transaction (2), lock +
    mandate id + "has plans", subscriptions, billed periods (3 reads), the number (one UPDATE …
    RETURNING), invoice, lines, periods (3 inserts), the e-mail (1 insert, no savepoint: its key
    names the new invoice) — 10, whatever the number of subscriptions. Before: 19 (price changes,
    plans, mandate, full_clean's two checks, the support source's time entries each read per
    partner), then 13 (the number's second query, the e-mail's savepoint and release)."""
    _queries_in_a_run(1, clock)  # the year's first number creates the sequence row
    one, nine = _queries_in_a_run(1, clock), _queries_in_a_run(9, clock)
    assert len(one) == len(nine) == 10, "\n".join(one)
    assert not any(
        "support_timeentry" in sql or "billing_subscriptionpricechange" in sql for sql in one if "EXISTS" not in sql
    )


def test_a_run_asks_a_source_for_its_lines_only_for_the_partners_it_named(clock, muster, beispiel):
    asked = []
    invoicing_sources.register(
        "test-calls",
        partners=lambda month: [beispiel.pk],
        proposals=lambda partner, month: asked.append(partner.pk) or [],
        billed=lambda partner, month, pairs: None,
    )
    try:
        clock.set(DEC)
        result = invoicing.invoicing_run(month=DEC)
    finally:
        invoicing_sources.unregister("test-calls")
    assert len(result.invoices) == 2 and asked == [beispiel.pk]


def test_a_revoked_mandate_is_no_mandate_and_the_active_one_debits(clock, catalog):
    """ORD-8 with the mandate read in the partner's lock: 16,58 € net ≤ 50 € debits only with an
    active mandate. Revoked only → transfer, due 01.12. + 14 days; revoked and a newer active →
    direct debit with the active mandate's reference."""
    revoked_only = make_partner(company="Widerrufen GmbH")
    both = make_partner(company="Neues Mandat GmbH")
    for partner, ref in ((revoked_only, "VP-ALT-1"), (both, "VP-ALT-2")):
        SepaMandate.objects.create(
            partner=partner,
            reference=ref,
            iban="DE02120300000000202051",
            signed_on=date(2024, 1, 5),
            revoked_on=date(2025, 6, 30),
        )
        make_subscription(partner, article="ADSYNC", monthly_price="16.58", term_start=DEC, minimum_months=1)
    SepaMandate.objects.create(
        partner=both, reference="VP-NEU-3", iban="DE02120300000000202051", signed_on=date(2025, 7, 1)
    )
    clock.set(DEC)
    invoicing.invoicing_run(month=DEC)
    first, second = Invoice.objects.get(partner=revoked_only), Invoice.objects.get(partner=both)
    assert (first.payment_means, first.mandate_reference, first.due_date) == ("transfer", "", date(2026, 12, 15))
    assert (second.payment_means, second.mandate_reference) == ("direct_debit", "VP-NEU-3")


# --- tasks and command ---------------------------------------------------------------------------


def test_monthly_task_queues_each_due_partner_once_and_records_a_job_run(clock, muster, beispiel, monkeypatch):
    queued = []
    monkeypatch.setattr(invoicing, "_queue_partner", lambda pid, month: queued.append((pid, month)))
    clock.set(DEC)
    assert invoicing_monthly.apply().get() == 2
    assert sorted(queued) == sorted([(muster.pk, DEC), (beispiel.pk, DEC)])
    run = JobRun.objects.get(name="invoicing")
    assert run.ok and "2 Partner" in run.summary
    # The partner task bills; the catch-up tick then finds nothing left.
    for pid, month in queued:
        invoicing_partner.apply(args=[pid, month.isoformat()]).get()
    assert Invoice.objects.count() == 2
    queued.clear()
    assert invoicing_catch_up.apply().get() == 0 and queued == []
    assert JobRun.objects.get(name="invoicing-catch-up").ok


def test_catch_up_tick_queues_a_partner_a_dead_run_left(clock, muster, beispiel, monkeypatch):
    clock.set(DEC)
    invoicing.invoicing_bill_partner(partner_id=beispiel.pk, month=DEC)  # the run died after this one
    queued = []
    monkeypatch.setattr(invoicing, "_queue_partner", lambda pid, month: queued.append(pid))
    clock.set(date(2026, 12, 1))
    assert invoicing_catch_up.apply().get() == 1 and queued == [muster.pk]


def test_catch_up_finishes_a_past_months_run_whose_worker_died(clock, muster, beispiel, monkeypatch):
    queued = []
    monkeypatch.setattr(invoicing, "_queue_partner", lambda pid, month: queued.append((pid, month)))
    clock.set(DEC)
    assert invoicing_monthly.apply().get() == 2  # the December run queued both partners …
    queued.clear()  # … and its messages died with the worker (filesystem broker: gone)
    assert InvoicingRun.objects.get(month=DEC).finished_at is None

    # January 5th: the tick finishes the December run (oldest first), then looks at January.
    clock.set(date(2027, 1, 5))
    assert invoicing_catch_up.apply().get() == 4
    assert queued == [(muster.pk, DEC), (beispiel.pk, DEC), (muster.pk, JAN), (beispiel.pk, JAN)]
    summary = JobRun.objects.get(name="invoicing-catch-up").summary
    assert summary.splitlines() == [
        "12/2026: 2 Partner zur Abrechnung eingeplant.",
        "01/2027: 2 Partner zur Abrechnung eingeplant.",
    ]
    for pid, month in queued:
        invoicing_partner.apply(args=[pid, month.isoformat()]).get()
    # December as the December run bills it (hand-worked above); January on its own invoice.
    december, january = Invoice.objects.filter(partner=muster).order_by("number")
    assert (december.net_total, december.gross_total) == (D("972.50"), D("1157.28"))
    assert lines_of(january) == [("CALLREC", D("1.00"), "MON", D("44.75"), D("44.75"), JAN, date(2027, 1, 31))]
    assert [i.net_total for i in Invoice.objects.filter(partner=beispiel).order_by("number")] == [
        D("16.58"),
        D("16.58"),
    ]
    # The next tick finds nothing left and closes the December run.
    queued.clear()
    assert invoicing_catch_up.apply().get() == 0 and queued == []
    assert InvoicingRun.objects.get(month=DEC).finished_at is not None


def test_catch_up_finishes_a_run_started_ahead_for_next_month(clock, muster, monkeypatch):
    queued = []
    monkeypatch.setattr(invoicing, "_queue_partner", lambda pid, month: queued.append((pid, month)))
    clock.set(date(2026, 11, 28))
    assert invoicing_monthly.apply(args=["2026-12"]).get() == 1
    queued.clear()  # lost
    assert invoicing_catch_up.apply().get() == 1
    assert queued == [(muster.pk, DEC)]  # November itself has nothing due


def test_a_finished_run_is_not_checked_again(clock, muster, beispiel, monkeypatch):
    clock.set(DEC)
    invoicing.invoicing_run(month=DEC)
    assert InvoicingRun.objects.get(month=DEC).finished_at is not None
    clock.set(date(2027, 1, 5))
    assert invoicing.invoicing_catch_up(today=date(2027, 1, 5)) == {JAN: 2}  # December is not asked again


def test_beat_declares_the_monthly_run_and_the_catch_up_tick():
    from vendorportal.celery import app

    schedule = app.conf.beat_schedule
    monthly = schedule["invoicing-monthly"]
    assert monthly["task"] == "billing.tasks.invoicing_monthly"
    assert monthly["schedule"].day_of_month == {1} and monthly["schedule"].hour == {3}
    assert schedule["invoicing-catch-up"]["task"] == "billing.tasks.invoicing_catch_up"
    assert len(schedule["invoicing-catch-up"]["schedule"].hour) == 24  # every hour


def test_partner_task_survives_a_killed_worker_and_redis_hands_it_back_within_minutes(settings):
    task = invoicing_partner
    assert task.acks_late and task.reject_on_worker_lost
    assert settings.CELERY_VISIBILITY_TIMEOUT == 600  # 10 minutes, CELERY_VISIBILITY_TIMEOUT
    if settings.CELERY_BROKER_URL.startswith("redis"):
        assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == 600


def test_run_invoicing_command_prints_what_it_billed_then_nothing(clock, muster, beispiel):
    clock.set(DEC)
    out = io.StringIO()
    call_command("run_invoicing", "--month", "2026-12", stdout=out)
    text = out.getvalue()
    assert "Abrechnung 12/2026: 2 Rechnungen, 4 Abrechnungszeiträume" in text
    assert "netto 989,08 €, brutto 1.177,01 €" in text
    assert "RE-2026-000001  Muster Kommunikation GmbH: netto 972,50 €, brutto 1.157,28 €" in text
    out = io.StringIO()
    call_command("run_invoicing", "--month", "2026-12", stdout=out)
    assert "Abrechnung 12/2026: nichts mehr abzurechnen." in out.getvalue()
    assert JobRun.objects.filter(name="invoicing", ok=True).count() == 2


@pytest.mark.parametrize("bad", ["2026-13", "12/2026", "2026-1", "", "next"])
def test_run_invoicing_refuses_a_bad_month(bad, db):
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("run_invoicing", "--month", bad, stderr=err)
    assert exit_info.value.code == 2
    assert "ist kein Monat: bitte als JJJJ-MM angeben" in err.getvalue()
    assert not Invoice.objects.exists()
