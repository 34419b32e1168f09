"""The cockpit's figures on small data sets built here, each worked out by hand (issue 20)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.models import Invoice, SubscriptionPriceChange
from billing.tests.factories import make_partner, make_service_plan, make_subscription
from cockpit.periods import MONTH, containing
from cockpit.selectors import finance, licensing, revenue, support
from licensing.models import MaintenanceCoverage
from licensing.tests.factories import make_system
from support.models import Ticket

pytestmark = pytest.mark.django_db
D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
NOVEMBER = containing(MONTH, date(2026, 11, 1))


@pytest.fixture
def three_subscriptions(catalog):
    """A: 44,75 € since September, tier change to 59,00 € from 1 November (SUB-7).
    B: 2 licences × 30,00 € since August, cancelled, last day 15 November.
    C: 22,50 € signed 20 November."""
    partner = make_partner()
    a = make_subscription(partner, monthly_price="44.75", signed_on=date(2026, 9, 10), term_start=date(2026, 10, 1))
    SubscriptionPriceChange.objects.create(
        subscription=a, effective_from=date(2026, 11, 1), tier="41-80", monthly_price=D("59.00")
    )
    make_subscription(
        partner,
        monthly_price="30.00",
        quantity=2,
        signed_on=date(2026, 8, 5),
        term_start=date(2026, 9, 1),
        notice_on=date(2026, 10, 20),
        ends_on=date(2026, 11, 15),
    )
    make_subscription(partner, monthly_price="22.50", signed_on=date(2026, 11, 20), term_start=date(2026, 12, 1))
    return partner


def test_mrr_movement_of_november_by_hand(three_subscriptions):
    movement = revenue.mrr_movement(NOVEMBER)
    # 31 October: A 44,75 + B 2 × 30,00 = 104,75. 30 November: A 59,00 + C 22,50 = 81,50.
    assert movement.start == D("104.75")
    assert movement.new == D("22.50")  # C
    assert movement.expansion == D("14.25")  # A: 59,00 − 44,75
    assert movement.contraction == D("0.00")
    assert movement.churn == D("60.00")  # B
    assert movement.end == D("81.50") == movement.start + movement.net


def test_mrr_trend_and_now(three_subscriptions):
    trend = revenue.mrr_trend(NOVEMBER, today=date(2026, 12, 2))
    assert trend.labels[-3:] == ["09/2026", "10/2026", "11/2026"] and len(trend.labels) == 12
    # 31.07.: nothing; 31.08.: B 60,00; 30.09. and 31.10.: + A 44,75; 30.11.: A 59,00 + C 22,50.
    assert trend.series["MRR"][-5:] == [D("0.00"), D("60.00"), D("104.75"), D("104.75"), D("81.50")]
    assert revenue.mrr_now(date(2026, 11, 15)) == D("119.00")  # B's last day: 59,00 + 60,00
    assert revenue.mrr_now(date(2026, 11, 16)) == D("59.00")


def test_tier_change_down_is_contraction_and_plans_count_a_twelfth(three_subscriptions, catalog):
    sub = three_subscriptions.subscriptions.get(monthly_price=D("22.50"))
    SubscriptionPriceChange.objects.create(
        subscription=sub, effective_from=date(2026, 12, 1), tier="1-20", monthly_price=D("15.00")
    )
    make_service_plan(three_subscriptions, plan="enterprise", yearly_price="1548.00", starts_on=date(2026, 12, 10))
    december = containing(MONTH, date(2026, 12, 1))
    movement = revenue.mrr_movement(december)
    assert movement.start == D("81.50")
    assert movement.contraction == D("7.50")  # C: 22,50 → 15,00
    assert movement.new == D("129.00")  # Enterprise plan 1.548,00 / 12
    assert movement.end == D("203.00")  # 59,00 + 15,00 + 129,00


def _invoice(partner, number, day, net, *, kind=Invoice.INVOICE, credited=None, **fields):
    vat = (net * D("0.19")).quantize(D("0.01")) if fields.get("vat_category", "S") == "S" else D("0")
    return Invoice.objects.create(
        kind=kind,
        number=number,
        issue_date=day,
        issued_at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
        partner=partner,
        buyer_name=partner.company,
        buyer_country="DE",
        email="r@example.test",
        vat_category=fields.pop("vat_category", "S"),
        net_total=net,
        vat_total=vat,
        gross_total=net + vat,
        credited_invoice=credited,
        **fields,
    )


def test_top_partners_count_corrections_negative(catalog):
    muster, beispiel = make_partner(company="Muster GmbH"), make_partner(company="Beispiel AG")
    first = _invoice(muster, "RE-2026-000001", date(2026, 11, 3), D("500.00"))
    _invoice(muster, "GS-2026-000001", date(2026, 11, 20), D("200.00"), kind=Invoice.CREDIT_NOTE, credited=first)
    _invoice(beispiel, "RE-2026-000002", date(2026, 11, 5), D("400.00"))
    _invoice(beispiel, "RE-2026-000003", date(2026, 10, 31), D("999.00"))  # October
    rows = revenue.top_partners(NOVEMBER)
    assert [(r.company, r.net) for r in rows] == [("Beispiel AG", D("400.00")), ("Muster GmbH", D("300.00"))]


def test_receivables_ageing_overdue_dso_and_direct_debit_share(catalog):
    partner = make_partner()
    today = date(2026, 12, 2)
    # due 20.11. → 12 days overdue (1–30); 119,00 gross, 19,00 paid → 100,00 open
    _invoice(
        partner,
        "RE-2026-000001",
        date(2026, 11, 6),
        D("100.00"),
        due_date=date(2026, 11, 20),
        paid_amount=D("19.00"),
        state="overdue",
    )
    # due 10.12. → not due; 238,00 gross, corrected by 119,00 → 119,00 open
    second = _invoice(partner, "RE-2026-000002", date(2026, 11, 26), D("200.00"), due_date=date(2026, 12, 10))
    _invoice(partner, "GS-2026-000001", date(2026, 11, 27), D("100.00"), kind=Invoice.CREDIT_NOTE, credited=second)
    # due 15.08. → 109 days (> 90); a direct debit of 59,50
    _invoice(
        partner, "RE-2026-000003", date(2026, 8, 1), D("50.00"), due_date=date(2026, 8, 15),
        payment_means="direct_debit", mandate_reference="M-1", state="overdue",
    )  # fmt: skip
    _invoice(partner, "RE-2026-000004", date(2026, 11, 2), D("10.00"), state="paid", paid_amount=D("11.90"))
    figures = finance.receivables(NOVEMBER, today)
    assert figures.buckets["not_due"] == D("119.00")
    assert figures.buckets["1_30"] == D("100.00")
    assert figures.buckets["over_90"] == D("59.50")
    assert figures.total == D("278.50") and figures.overdue == D("159.50") and figures.count == 3
    # billed in the 90 days up to 2.12.: 119,00 + 238,00 − 119,00 + 11,90 = 249,90 → 278,50 / 249,90 × 90 = 100,3
    assert figures.billed_gross_90 == D("249.90")
    assert figures.dso == D("100.3")
    # November: three invoices, none by direct debit
    assert figures.period_invoices == 3 and figures.direct_debit_share == D("0.00")


def test_revenue_by_product_group_and_vat(catalog):
    from billing.models import InvoiceLine

    partner = make_partner()
    invoice = _invoice(partner, "RE-2026-000001", date(2026, 11, 6), D("150.00"))
    InvoiceLine.objects.create(
        invoice=invoice, position=1, article="CALLREC", description="Call Recording", quantity=D("1"),
        unit_price=D("120.00"), net_total=D("120.00"), vat_category="S", vat_percent=D("19"),
    )  # fmt: skip
    InvoiceLine.objects.create(
        invoice=invoice, position=2, article="SUPPORT-STD", description="Support", quantity=D("0.5"),
        unit_price=D("60.00"), net_total=D("30.00"), vat_category="S", vat_percent=D("19"),
    )  # fmt: skip
    rc = _invoice(partner, "RE-2026-000002", date(2026, 11, 8), D("80.00"), vat_category="AE")
    InvoiceLine.objects.create(
        invoice=rc, position=1, article="CALLREC", description="Call Recording", quantity=D("1"),
        unit_price=D("80.00"), net_total=D("80.00"), vat_category="AE", vat_percent=D("0"),
    )  # fmt: skip
    credit = _invoice(
        partner, "GS-2026-000001", date(2026, 11, 9), D("30.00"), kind=Invoice.CREDIT_NOTE, credited=invoice
    )
    InvoiceLine.objects.create(
        invoice=credit, position=1, article="SUPPORT-STD", description="Support", quantity=D("0.5"),
        unit_price=D("60.00"), net_total=D("30.00"), vat_category="S", vat_percent=D("19"),
    )  # fmt: skip
    result = finance.revenue_in(NOVEMBER)
    assert result.total == D("200.00")  # 120 + 30 + 80 − 30
    assert result.by_group == {"Modul": D("200.00"), "Sonstiges (z. B. Supportzeit)": D("0.00")}
    assert result.by_vat == {"Inland (USt.)": D("120.00"), "EU Reverse Charge": D("80.00")}
    chart = finance.revenue_by_month(NOVEMBER, date(2026, 12, 2))
    assert chart.labels[-1] == "11/2026" and chart.series["Modul"][-1] == D("200.00")


def _ticket(partner, number, received, **fields):
    return Ticket.objects.create(number=number, partner=partner, subject=number, received_at=received, **fields)


def test_enterprise_sla_compliance_answer_after_25_support_hours_is_a_breach(catalog):
    partner = make_partner()
    received = datetime(2026, 11, 19, 16, 0, tzinfo=BERLIN)  # Thu 16:00
    due = datetime(2026, 11, 25, 9, 30, tzinfo=BERLIN)  # SUP-2: 1 + 6,5 + 8 + 8 = 23,5 h → Wed 09:30
    # 25 support hours: one hour after the due time → breached
    _ticket(partner, "T-1", received, sla_due_at=due, first_response_at=datetime(2026, 11, 25, 10, 30, tzinfo=BERLIN))
    # answered Friday 10:00 (within the SLA)
    _ticket(partner, "T-2", received, sla_due_at=due, first_response_at=datetime(2026, 11, 20, 10, 0, tzinfo=BERLIN))
    # no Enterprise plan: no SLA, answered late, not counted
    _ticket(partner, "T-3", received, first_response_at=datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN))
    # received Mon 30.11. 16:00, due Thu 3.12. 16:00 — still running on 2.12., not counted
    _ticket(
        partner,
        "T-4",
        datetime(2026, 11, 30, 16, 0, tzinfo=BERLIN),
        sla_due_at=datetime(2026, 12, 3, 16, 0, tzinfo=BERLIN),
    )
    now = datetime(2026, 12, 2, 12, 0, tzinfo=BERLIN)
    months = support.sla_by_month(NOVEMBER, now)
    november = months[-1]
    assert (november.month, november.met, november.breached, november.rate) == (date(2026, 11, 1), 1, 1, D("50.00"))
    # a day after T-4's due time without an answer it is breached
    later = support.sla_by_month(NOVEMBER, datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN))[-1]
    assert (later.met, later.breached) == (1, 2)


def test_desk_backlog_and_first_response(catalog):
    partner = make_partner()
    received = datetime(2026, 11, 2, 9, 0, tzinfo=BERLIN)
    _ticket(partner, "T-1", received, status="new")
    _ticket(partner, "T-2", received, status="open", first_response_at=received + timedelta(hours=2))
    _ticket(partner, "T-3", received, status="waiting", first_response_at=received + timedelta(hours=5))
    _ticket(partner, "T-4", received, status="closed")
    figures = support.desk(NOVEMBER, datetime(2026, 12, 2, 12, 0, tzinfo=BERLIN))
    assert figures.backlog == {"new": 1, "open": 1, "waiting": 1} and figures.backlog_total == 3
    assert figures.answered == 2 and figures.first_response_hours == D("3.5")


def test_swp_renewal_rate_and_states(catalog):
    renewed, lapsed, expiring = make_system(), make_system(), make_system()
    for system in (renewed, lapsed):
        MaintenanceCoverage.objects.create(
            installation=system, kind="initial", start=date(2025, 11, 10), end=date(2026, 11, 9), months=12, users=5
        )
    MaintenanceCoverage.objects.create(
        installation=renewed, kind="renewal", start=date(2026, 11, 10), end=date(2027, 11, 9), months=12, users=5
    )
    MaintenanceCoverage.objects.create(
        installation=expiring, kind="initial", start=date(2026, 1, 1), end=date(2026, 12, 31), months=12, users=5
    )
    figures = licensing.swp_renewals(NOVEMBER)
    assert (figures.due, figures.renewed, figures.rate) == (2, 1, D("50.00"))
    states = licensing.swp_states(date(2026, 12, 2))
    assert states["expiring"] == 1 and states["lapsed"] == 1 and states["active"] == 1


def test_demo_conversion_within_60_days(catalog):
    from licensing.models import License, ModuleVersion, Product
    from licensing.tests.factories import InstallationFactory

    product = Product.objects.get(article="CALLREC")
    version = ModuleVersion.objects.create(product=product, version="2.1", released_on=date(2024, 4, 15))
    serials = iter(range(9_000_000, 9_000_100))

    def key(installation, kind, issued):
        n = next(serials)
        return License.objects.create(
            serial=n, product=product, module_version=version, installation=installation, kind=kind,
            issued_at=issued, valid_until=issued.date() + timedelta(days=29) if kind == "demo" else None, key=f"K-{n}", key_compact=f"K{n}", signing_key_id=1,
        )  # fmt: skip

    bought, too_late, other_module, waiting = (InstallationFactory() for _ in range(4))
    demo_day = datetime(2026, 9, 10, 10, 0, tzinfo=BERLIN)
    key(bought, "demo", demo_day)
    key(bought, "purchase", demo_day + timedelta(days=59))  # within 60 days
    key(too_late, "demo", demo_day)
    key(too_late, "subscription", demo_day + timedelta(days=61))  # too late
    key(other_module, "demo", demo_day)
    key(waiting, "demo", datetime(2026, 9, 30, 10, 0, tzinfo=BERLIN))  # 60 days run until 29.11.
    september = containing(MONTH, date(2026, 9, 1))
    figures = revenue.demo_conversion(september, today=date(2026, 11, 20))
    assert (figures.demos, figures.converted, figures.open) == (4, 1, 1)
    assert figures.rate == D("33.33")  # 1 of the 3 decided
    chart = revenue.licences_by_month(september, today=date(2026, 11, 20))
    assert chart.labels[-1] == "09/2026"
    assert chart.series["Demo"][-1] == 4 and chart.series["Kauf"][-1] == 0


def test_overview_gives_the_same_figures_in_three_queries(three_subscriptions, django_assert_num_queries):
    with django_assert_num_queries(3):
        overview = revenue.mrr_overview(NOVEMBER, today=date(2026, 12, 2))
    assert overview.movement == revenue.mrr_movement(NOVEMBER)
    assert overview.trend == revenue.mrr_trend(NOVEMBER, today=date(2026, 12, 2))
    assert overview.now == revenue.mrr_now(date(2026, 12, 2)) == D("81.50")


def test_second_tier_change_counts_from_its_day(three_subscriptions):
    a = three_subscriptions.subscriptions.get(monthly_price=D("44.75"))
    SubscriptionPriceChange.objects.create(
        subscription=a, effective_from=date(2026, 12, 1), tier="21-40", monthly_price=D("49.00")
    )
    # 30.11.: A 59,00 (first change) + C 22,50; 2.12.: A 49,00 (second change) + C 22,50
    assert revenue.mrr_on_days([date(2026, 11, 30), date(2026, 12, 2)]) == [D("81.50"), D("71.50")]
    december = revenue.mrr_movement(containing(MONTH, date(2026, 12, 1)))
    assert (december.start, december.contraction, december.expansion, december.end) == (
        D("81.50"), D("10.00"), D("0.00"), D("71.50")
    )  # fmt: skip


def _ticket_history(partner, number, steps):
    """A ticket whose history has ``steps`` = [(when, status), …] (the first one creates it)."""
    (first_at, first_status), *later = steps
    ticket = Ticket(number=number, partner=partner, subject=number, received_at=first_at, status=first_status)
    ticket._history_date = first_at
    ticket.save()
    for when, status in later:
        ticket.status = status
        ticket._history_date = when
        ticket.save()
    return ticket


def test_closed_per_week_counts_the_week_a_ticket_was_last_closed(catalog):
    partner = make_partner()
    # KW 46 (9.–15.11.): received 2.11., answered 3.11., closed Tue 10.11.
    _ticket_history(
        partner,
        "T-1",
        [
            (datetime(2026, 11, 2, 9, 0, tzinfo=BERLIN), "new"),
            (datetime(2026, 11, 3, 9, 0, tzinfo=BERLIN), "open"),
            (datetime(2026, 11, 10, 10, 0, tzinfo=BERLIN), "closed"),
        ],
    )
    # solved 4.11. (KW 45), reopened 17.11., solved again Wed 18.11. (KW 47): counts in KW 47 only
    _ticket_history(
        partner,
        "T-2",
        [
            (datetime(2026, 11, 2, 10, 0, tzinfo=BERLIN), "new"),
            (datetime(2026, 11, 4, 10, 0, tzinfo=BERLIN), "solved"),
            (datetime(2026, 11, 17, 10, 0, tzinfo=BERLIN), "open"),
            (datetime(2026, 11, 18, 10, 0, tzinfo=BERLIN), "solved"),
        ],
    )
    # closed in June: before the twelve weeks
    _ticket_history(
        partner,
        "T-3",
        [(datetime(2026, 6, 1, 9, 0, tzinfo=BERLIN), "new"), (datetime(2026, 6, 2, 9, 0, tzinfo=BERLIN), "closed")],
    )
    # closed 5.11., reopened 20.11. and still open: not closed
    _ticket_history(
        partner,
        "T-4",
        [
            (datetime(2026, 11, 2, 11, 0, tzinfo=BERLIN), "new"),
            (datetime(2026, 11, 5, 11, 0, tzinfo=BERLIN), "closed"),
            (datetime(2026, 11, 20, 11, 0, tzinfo=BERLIN), "open"),
        ],
    )
    weeks = support.closed_per_week(NOVEMBER, date(2026, 12, 2))
    # the twelve weeks end with KW 49 (30.11.): KW 45 is index 7, KW 46 index 8, KW 47 index 9
    assert weeks == [0] * 8 + [1, 1, 0, 0]


def test_blocked_subscription_keys_in_the_period_and_in_all(catalog):
    from licensing.models import License
    from licensing.tests.factories import InstallationFactory, make_license, module_version

    version = module_version()
    in_november, in_october, active, bought = (
        make_license(InstallationFactory(), version, kind=kind)
        for kind in (License.SUBSCRIPTION, License.SUBSCRIPTION, License.SUBSCRIPTION, License.PURCHASE)
    )
    License.objects.filter(pk=in_november.pk).update(
        state=License.BLOCKED, state_changed_at=datetime(2026, 11, 30, 23, 30, tzinfo=BERLIN)
    )
    License.objects.filter(pk=in_october.pk).update(
        state=License.BLOCKED, state_changed_at=datetime(2026, 10, 31, 23, 30, tzinfo=BERLIN)
    )
    License.objects.filter(pk=bought.pk).update(
        state=License.REVOKED, state_changed_at=datetime(2026, 11, 10, tzinfo=BERLIN)
    )
    # 30.11. 23:30 Berlin is still November; 31.10. 23:30 is October
    assert licensing.subscription_keys_blocked(NOVEMBER) == licensing.BlockedKeys(in_period=1, total=2)
    overview = revenue.licence_overview(NOVEMBER, date(2026, 12, 2))
    assert overview.blocked == licensing.BlockedKeys(in_period=1, total=2)
    assert overview.by_month == revenue.licences_by_month(NOVEMBER, date(2026, 12, 2))
    assert active.state == License.ACTIVE


def test_softwarepflege_overview_is_renewals_and_states_in_one_query(catalog, django_assert_num_queries):
    system = make_system()
    MaintenanceCoverage.objects.create(
        installation=system, kind="initial", start=date(2025, 11, 10), end=date(2026, 11, 9), months=12, users=5
    )
    with django_assert_num_queries(1):
        overview = licensing.swp_overview(NOVEMBER, date(2026, 12, 2))
    assert overview.renewals == licensing.Renewals(due=1, renewed=0)
    assert overview.states == licensing.swp_states(date(2026, 12, 2))
    assert overview.states["lapsed"] == 1
