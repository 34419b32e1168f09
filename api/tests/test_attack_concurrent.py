"""Attack: the same API write sent twice at the same moment (two workers of the partner's
shop). One order confirmed once with one invoice, a confirm racing a cancel ends in one state,
every answer a 2xx or a 4xx problem — never a 500. PostgreSQL only (row locks)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from api.services import api_token_create
from api.tests.helpers import call
from api.tests.test_api_orders import installation_of, intercom_for
from billing.models import Invoice, Order
from licensing.models import License
from licensing.tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*requests):
    """Run the callables at the same moment; their results in order."""
    start = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(n, request):
        try:
            start.wait()
            results[n] = request()
        except Exception as exc:  # noqa: BLE001 - the test reports what raised
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, r)) for n, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.fixture
def draft(clock, modules):
    if connection.vendor != "postgresql":
        pytest.skip("two requests at the same moment need PostgreSQL's row locks (SQLite serialises writers)")
    clock.set(date(2026, 11, 21))
    partner = PartnerFactory(status_confirmed_on=None)
    secret = api_token_create(partner=partner, name="Shop", scopes=["order", "read", "keys"]).secret
    placed = call("post", "/orders", secret, intercom_for([installation_of(partner)]), HTTP_IDEMPOTENCY_KEY="k1")
    assert placed.status_code == 201, placed.content
    return secret, placed.json()["id"]


def test_confirm_twice_at_once_issues_one_invoice_and_one_key(draft):
    secret, order_id = draft
    answers = at_once(*(lambda: call("post", f"/orders/{order_id}/confirm", secret) for _n in range(2)))
    codes = sorted(getattr(a, "status_code", repr(a)) for a in answers)
    assert all(isinstance(c, int) and c < 500 for c in codes), answers
    assert 200 in codes
    assert Invoice.objects.filter(order_id=order_id).count() == 1
    assert License.objects.filter(order_lines__order_id=order_id).distinct().count() == 1


def test_confirm_racing_cancel_ends_in_one_state(draft):
    secret, order_id = draft
    answers = at_once(
        lambda: call("post", f"/orders/{order_id}/confirm", secret),
        lambda: call("post", f"/orders/{order_id}/cancel", secret),
    )
    codes = [getattr(a, "status_code", repr(a)) for a in answers]
    assert all(isinstance(c, int) and c < 500 for c in codes), answers
    order = Order.objects.get(pk=order_id)
    invoices = Invoice.objects.filter(order_id=order_id, kind=Invoice.INVOICE).count()
    if order.state == Order.CANCELLED:
        # cancelled before the keys: nothing issued, or a confirmed one cancelled with its correction
        assert License.objects.filter(order_lines__order_id=order_id).count() == 0 or invoices == 1
    else:
        assert invoices == 1 and codes[1] in (409, 422)
