"""INV-1 under concurrency: two invoices issued at the same moment on separate database
connections get two different, consecutive numbers — on PostgreSQL (DATABASE_URL) the
sequence row's lock decides, on SQLite the write lock; the same test runs on both."""

import threading
from datetime import date

import pytest
from django.db import connection, connections

from billing import services
from billing.models import Invoice, Order, VatRate
from billing.tests.factories import make_order, make_partner

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_threads_issuing_at_once_get_consecutive_numbers(modules, clock):
    clock.set(date(2026, 11, 21))
    # A transactional test before this one may have flushed the rates the data migration wrote.
    if not VatRate.objects.filter(category="S").exists():
        VatRate.objects.create(category="S", percent="19.00", valid_from=date(2007, 1, 1))
    orders = [make_order(make_partner(company=f"Gleichzeitig {n} GmbH"), ("INTERCOM", "purchase", 0)) for n in range(2)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(state=Order.CONFIRMED)
    barrier = threading.Barrier(2)
    numbers, errors = [], []

    def issue(order):
        try:
            barrier.wait(timeout=30)
            numbers.append(services.invoice_issue_for_order(order=order).number)
        except Exception as exc:  # reported below, with the thread's error
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(numbers) == ["RE-2026-000001", "RE-2026-000002"]
    assert Invoice.objects.count() == 2
    assert connection.vendor in ("postgresql", "sqlite")
