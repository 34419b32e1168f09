"""Issue 16 point 7: "Zahlung erfassen" posted twice at the same moment (two browser tabs, a
double click that reached two workers) records one payment — on PostgreSQL the invoice row
lock makes the second wait and find the first, on SQLite the unique token constraint decides.
The same test runs on both databases."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections

from billing import services
from billing.models import Invoice, Payment, VatRate
from billing.tests.factories import make_order, make_partner

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_parallel_posts_of_one_payment_form_record_one_payment(modules, clock):
    clock.set(date(2026, 11, 21))
    if not VatRate.objects.filter(category="S").exists():  # a transactional test before may have flushed it
        VatRate.objects.create(category="S", percent="19.00", valid_from=date(2007, 1, 1))
    # Intercom 169,00 € − 20 % partner conditions = 135,20 € net, + 25,69 € VAT = 160,89 € gross.
    invoice = services.order_confirm(order=make_order(make_partner(), ("INTERCOM", "purchase", 0)))
    assert invoice.gross_total == Decimal("160.89")
    barrier = threading.Barrier(4)
    results, errors = [], []

    def post():
        try:
            barrier.wait(timeout=30)
            payment = services.payment_record(
                invoice=invoice, amount=Decimal("60.89"), paid_on=date(2026, 11, 21), token="same-form"
            )
            results.append(payment.pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(results) == 4 and len(set(results)) == 1  # every post answers with the one payment
    assert Payment.objects.count() == 1
    invoice = Invoice.objects.get(pk=invoice.pk)
    # 160,89 − 60,89 = 100,00 € still open.
    assert (invoice.paid_amount, invoice.state) == (Decimal("60.89"), "open")
