"""Two (here: three) workers run the daily overdue job at the same moment (issue 18): each
dunning level is written once, with one e-mail, and the letzte Mahnung's fee and interest are
added once. On PostgreSQL the invoice row lock makes the later worker wait and find the level
written; on SQLite the unique (invoice, level) constraint decides. Runs on both databases."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections

from billing import services
from billing.models import BaseRate, Charge, DunningNotice, VatRate
from billing.tests.factories import make_order, make_partner
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(count=3):
    barrier = threading.Barrier(count)
    errors = []

    def job():
        try:
            barrier.wait(timeout=30)
            services.invoices_overdue()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert errors == []


def test_three_workers_on_the_same_days_write_each_level_once(modules, clock):
    # A transactional test before may have flushed the rows of the data migrations.
    if not VatRate.objects.filter(category="S").exists():
        VatRate.objects.create(category="S", percent="19.00", valid_from=date(2007, 1, 1))
    for valid_from, rate in (("2025-01-01", "2.27"), ("2025-07-01", "1.27")):
        BaseRate.objects.get_or_create(valid_from=date.fromisoformat(valid_from), defaults={"rate_percent": rate})
    clock.set(date(2025, 5, 27))
    # Intercom 169,00 € − 20 % = 135,20 € net + 25,69 € VAT = 160,89 € gross, due 10.06.2025.
    invoice = services.order_confirm(order=make_order(make_partner(), ("INTERCOM", "purchase", 0)))
    assert invoice.gross_total == Decimal("160.89")
    for day in (date(2025, 6, 17), date(2025, 7, 1), date(2025, 7, 15)):
        clock.set(day)
        run_at_once()
    assert list(DunningNotice.objects.order_by("level").values_list("level", "issued_on")) == [
        (1, date(2025, 6, 17)),
        (2, date(2025, 7, 1)),
        (3, date(2025, 7, 15)),
    ]
    assert OutboxMessage.objects.filter(kind="dunning-notice").count() == 3
    # 160,89 × 11,27 % × 20 / 365 = 0,993551 + 160,89 × 10,27 % × 15 / 365 = 0,679044 → 1,672595 → 1,67 €
    assert sorted(Charge.objects.values_list("kind", "amount")) == [
        ("default_interest", Decimal("1.67")),
        ("dunning_fee", Decimal("40.00")),
    ]
