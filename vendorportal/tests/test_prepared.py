"""A read compiled once and run for many keys (vendorportal.prepared, the invoicing run's reads)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from vendorportal.parties.models import Customer, Partner
from vendorportal.prepared import PreparedRead

pytestmark = pytest.mark.django_db


def test_a_prepared_read_is_compiled_once_and_answers_for_each_key():
    built = []

    def build(partner_id):
        built.append(partner_id)
        return Customer.objects.filter(partner_id=partner_id).annotate(partner_company=F("partner__company"))

    read = PreparedRead(build)
    alpha = Partner.objects.create(company="Alpha GmbH", invoice_email="a@alpha.test")
    beta = Partner.objects.create(company="Beta AG", invoice_email="b@beta.test")
    Customer.objects.create(partner=alpha, company="Kunde A1")
    Customer.objects.create(partner=alpha, company="Kunde A2")
    Customer.objects.create(partner=beta, company="Kunde B1")
    with CaptureQueriesContext(connection) as ctx:
        of_alpha = sorted((c.company, c.partner_company) for c in read(alpha.pk))
        of_beta = [(c.company, c.partner_company) for c in read(beta.pk)]
        nobody = list(read(alpha.pk + beta.pk + 1000))
    assert of_alpha == [("Kunde A1", "Alpha GmbH"), ("Kunde A2", "Alpha GmbH")]
    assert of_beta == [("Kunde B1", "Beta AG")]
    assert nobody == []
    assert len(built) == 1  # built and compiled once, three answers
    assert len(ctx.captured_queries) == 3


def test_model_columns_come_back_converted_and_a_lock_compiles_in_a_transaction(catalog):
    """Dates and decimals as the ORM gives them (raw's converters); a select_for_update read is
    compiled inside the caller's transaction (outside one the ORM refuses it)."""
    from billing.tests.factories import make_partner as make_billing_partner
    from billing.tests.factories import make_subscription

    partner = make_billing_partner()
    make_subscription(partner, article="CALLREC", monthly_price="12.50", term_start=date(2026, 12, 1))
    from billing.models import Subscription

    subs = PreparedRead(lambda pid: Subscription.objects.filter(partner_id=pid).order_by())
    locked = PreparedRead(lambda pid: Partner.objects.select_for_update().filter(pk=pid))
    with transaction.atomic():
        (sub,) = subs(partner.pk)
        (row,) = locked(partner.pk)
    assert sub.term_start == date(2026, 12, 1) and sub.monthly_price == Decimal("12.50")
    assert row.company == partner.company


def test_a_builder_that_ignores_its_key_is_refused():
    read = PreparedRead(lambda pid: Partner.objects.filter(company="x"))
    with pytest.raises(ValueError):
        list(read(1))
