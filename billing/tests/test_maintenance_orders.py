"""Softwarepflege (PBX Call Assist 5) in orders: priced by licensing's quote, invoiced with
the coverage as service period, booked through licensing's maintenance_confirm on
confirmation, once (issue 9 gap, SWP-3…SWP-9).

Prices are the sample list of the demo data (valid from 2024-11-01): 94375 1-user pack
29,00 · 94379 SWP 12 months/user 12,00 · 94380 SWP 36 months/user 30,00 · 94381 SWP per
user and day 0,04. The partner is Certified with 20 % partner conditions: they do not apply
to Softwarepflege, whose amounts are the quote's. Every amount is worked out by hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing import selectors, services
from billing.exceptions import OrderRefused
from billing.models import Invoice, Order, OrderLine
from licensing.models import MaintenanceCoverage, SystemLicense
from licensing.selectors.systems import system_facts
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory, book, make_system

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def prices(db):
    from demo.loader import SAMPLE_PRICE_LIST
    from licensing.services.catalog import SEED_PRICE_LIST
    from licensing.tests.catalog_cache import catalog_load_cached

    catalog_load_cached(price_lists=[SEED_PRICE_LIST, SAMPLE_PRICE_LIST])


@pytest.fixture
def partner(db):
    return PartnerFactory(company="Muster Kommunikation GmbH", invoice_email="buchhaltung@muster.test")


def system_of(partner, **booked):
    system = make_system(customer=CustomerFactory(partner=partner))
    if booked:
        book(system, **booked)
    return system


def lines_of(order):
    return [
        (line.product.article, line.quantity, line.unit_net, line.line_net, line.period_start, line.period_end)
        for line in selectors.order_lines(order)
    ]


def state():
    return (
        list(MaintenanceCoverage.objects.values()),
        list(SystemLicense.objects.values()),
        list(OrderLine.objects.values()),
        list(Invoice.objects.values_list("number", flat=True)),
    )


def test_add_users_seed_example_priced_invoiced_and_booked_once(prices, partner, clock):
    clock.set(date(2025, 7, 4))
    system = system_of(partner, start=date(2025, 1, 1), end=date(2025, 12, 31), users=25)
    order_installation = system
    order = services.order_create(partner=partner)
    services.order_maintenance_add(order=order, installation=order_installation, swp_kind="add_users", users=5)
    # SWP-3: 31.12.2025 − 04.07.2025 = 180 days; 5 × 180 − 5 × 21 = 795 user-days.
    # 5 × 29,00 = 145,00 (packs: no period); 795 × 0,04 = 31,80 for 04.07.–31.12.2025.
    assert lines_of(order) == [
        ("94375", 5, D("29.00"), D("145.00"), None, None),
        ("94381", 795, D("0.04"), D("31.80"), date(2025, 7, 4), date(2025, 12, 31)),
    ]
    breakdown = selectors.order_breakdown(order)
    # No partner conditions on the quote: net 176,80; VAT 19 % = 33,592 → 33,59; gross 210,39.
    once = breakdown.total("once")
    assert (once.net, once.vat, once.gross) == (D("176.80"), D("33.59"), D("210.39"))
    assert (
        breakdown.lines[1].steps[0].label == "Preis laut Softwarepflege-Angebot (Softwarepflege: Benutzer hinzufügen)"
    )

    invoice = services.order_confirm(order=order)
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("176.80"), D("33.59"), D("210.39"))
    assert [
        (line.article, line.quantity, line.net_total, line.period_start, line.period_end)
        for line in selectors.invoice_lines(invoice)
    ] == [
        ("94375", D("5"), D("145.00"), date(2025, 7, 4), date(2025, 7, 4)),
        ("94381", D("795"), D("31.80"), date(2025, 7, 4), date(2025, 12, 31)),
    ]
    assert "System " + system.identifier in selectors.invoice_lines(invoice)[1].description
    added = MaintenanceCoverage.objects.get(installation=system, kind="add_users")
    assert (added.start, added.end, added.users, added.order_reference) == (
        date(2025, 7, 4),
        date(2025, 12, 31),
        5,
        order.reference,
    )
    assert system_facts(system).call_assist_users == 30  # 25 + 5

    # Confirming again returns the same invoice and books nothing more.
    before = state()
    assert services.order_confirm(order=order) == invoice
    assert state() == before
    order.refresh_from_db()
    assert order.state == Order.FULFILLED


def test_renewal_in_term_36_months(prices, partner, clock):
    clock.set(date(2025, 11, 21))
    system = system_of(partner, start=date(2025, 1, 1), end=date(2025, 12, 31), users=8)
    order_installation = system
    order = services.order_create(partner=partner)
    services.order_maintenance_add(order=order, installation=order_installation, swp_kind="renewal", months=36)
    # SWP-4: 8 × 94380 × 30,00 = 240,00 from 01.01.2026 to 31.12.2028.
    assert lines_of(order) == [("94380", 8, D("30.00"), D("240.00"), date(2026, 1, 1), date(2028, 12, 31))]
    invoice = services.order_confirm(order=order)
    # VAT 240,00 × 0,19 = 45,60 → gross 285,60.
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("240.00"), D("45.60"), D("285.60"))
    assert system_facts(system).coverage_end == date(2028, 12, 31)
    renewal = MaintenanceCoverage.objects.get(installation=system, kind="renewal")
    assert (renewal.start, renewal.users, renewal.months) == (date(2026, 1, 1), 8, 36)


def test_lapsed_renewal_with_surcharge(prices, partner, clock):
    clock.set(date(2025, 7, 3))
    system = system_of(partner, start=date(2024, 1, 1), end=date(2024, 12, 31), users=5)
    order_installation = system
    order = services.order_create(partner=partner)
    services.order_maintenance_add(order=order, installation=order_installation, swp_kind="renewal", months=12)
    # SWP-6: 03.07.2025 − 31.12.2024 = 184 lapsed days; 5 × 12,00 = 60,00 and
    # 5 × 184 = 920 × 0,04 = 36,80 → 96,80 net, all for 01.01.–31.12.2025.
    assert lines_of(order) == [
        ("94379", 5, D("12.00"), D("60.00"), date(2025, 1, 1), date(2025, 12, 31)),
        ("94381", 920, D("0.04"), D("36.80"), date(2025, 1, 1), date(2025, 12, 31)),
    ]
    assert services.order_confirm(order=order).net_total == D("96.80")


@pytest.mark.parametrize(
    ("today", "booked", "kind", "kw", "message"),
    [
        # SWP-3: 20 days left → renew first; the last day was 10.12.2025.
        (date(2025, 12, 11), True, "add_users", {"users": 5}, "10.12.2025"),
        # SWP-7: old end 31.12.2024, from 01.01.2028 on not renewable online.
        (date(2028, 1, 1), True, "renewal", {"months": 12}, "länger als 36 Monate"),
        (date(2025, 7, 4), True, "renewal", {"months": 24}, "12 oder 36 Monate"),
        (date(2025, 7, 4), True, "add_users", {"users": 0}, "ganze Zahl ab 1"),
        (date(2025, 7, 4), False, "renewal", {"months": 12}, "noch keine Softwarepflege"),
        (date(2025, 7, 4), True, "upgrade", {"months": 12}, "„Benutzer hinzufügen“ oder „Verlängerung“"),
    ],
)
def test_refusals_are_german_and_write_nothing(prices, partner, clock, today, booked, kind, kw, message):
    clock.set(today)
    end = date(2025, 12, 31) if kind == "add_users" else date(2024, 12, 31)
    system = system_of(partner, **({"start": date(2024, 1, 1), "end": end, "users": 25} if booked else {}))
    order_installation = system
    order = services.order_create(partner=partner)
    before = state()
    with pytest.raises(OrderRefused, match=message):
        services.order_maintenance_add(order=order, installation=order_installation, swp_kind=kind, **kw)
    assert state() == before


def test_starface_installation_has_no_softwarepflege_quote(prices, partner, clock):
    clock.set(date(2025, 7, 4))
    installation = InstallationFactory(customer=CustomerFactory(partner=partner))
    order_installation = installation
    order = services.order_create(partner=partner)
    with pytest.raises(OrderRefused, match="keine Auerswald-Anlage"):
        services.order_maintenance_add(order=order, installation=order_installation, swp_kind="renewal", months=12)


def test_one_quote_per_order(prices, partner, clock):
    clock.set(date(2025, 7, 4))
    system = system_of(partner, start=date(2025, 1, 1), end=date(2025, 12, 31), users=25)
    order_installation = system
    order = services.order_create(partner=partner)
    services.order_maintenance_add(order=order, installation=order_installation, swp_kind="add_users", users=5)
    with pytest.raises(OrderRefused, match="bereits ein Softwarepflege-Angebot"):
        services.order_maintenance_add(order=order, installation=order_installation, swp_kind="renewal", months=12)


def test_quote_of_yesterday_is_refused_then_repriced(prices, partner, clock):
    clock.set(date(2025, 7, 4))
    system = system_of(partner, start=date(2025, 1, 1), end=date(2025, 12, 31), users=25)
    order_installation = system
    order = services.order_create(partner=partner)
    services.order_maintenance_add(order=order, installation=order_installation, swp_kind="add_users", users=5)
    clock.set(date(2025, 7, 5))
    before = state()
    with pytest.raises(OrderRefused, match="Preis neu berechnen"):
        services.order_confirm(order=order)
    assert state() == before
    services.order_price(order=order)
    # 31.12. − 05.07. = 179 days; 5 × 179 − 105 = 790 × 0,04 = 31,60; + 145,00 = 176,60.
    assert lines_of(order)[1][:4] == ("94381", 790, D("0.04"), D("31.60"))
    assert services.order_confirm(order=order).net_total == D("176.60")


def test_renewal_booked_meanwhile_by_another_order_is_refused(prices, partner, clock):
    clock.set(date(2025, 11, 21))
    system = system_of(partner, start=date(2025, 1, 1), end=date(2025, 12, 31), users=8)
    first_installation = system
    first = services.order_create(partner=partner)
    second_installation = system
    second = services.order_create(partner=partner)
    services.order_maintenance_add(order=first, installation=first_installation, swp_kind="renewal", months=12)
    services.order_maintenance_add(order=second, installation=second_installation, swp_kind="renewal", months=12)
    services.order_confirm(order=first)
    before = state()
    # The second renewal would start on 01.01.2027 now, not 01.01.2026 as priced.
    with pytest.raises(OrderRefused, match="gilt heute nicht mehr"):
        services.order_confirm(order=second)
    assert state() == before
    assert MaintenanceCoverage.objects.filter(installation=system, kind="renewal").count() == 1
