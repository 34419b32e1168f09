"""The list endpoints keep their number of queries whatever the data size (issue 19: ≤ 10),
asserted at two sizes each; the lists of orders, subscriptions, service plans and tickets
are asserted in their own modules."""

from __future__ import annotations

from datetime import date

import pytest

from api.services import api_token_create
from api.tests.helpers import call
from billing import services as billing_services
from licensing.models import Product
from licensing.tests.factories import (
    CustomerFactory,
    InstallationFactory,
    PartnerFactory,
    book,
    make_license,
    make_system,
)
from support.models import Article, Tag

pytestmark = pytest.mark.django_db
BUDGET = 10


@pytest.fixture
def world(modules, clock):
    clock.set(date(2026, 11, 21))
    partner = PartnerFactory(status_confirmed_on=None)
    secret = api_token_create(partner=partner, name="Budget", scopes=["read", "keys", "support"]).secret
    return partner, secret


def within_budget(secret, path, size, assert_max):
    with assert_max(BUDGET):
        response = call("get", f"{path}{'&' if '?' in path else '?'}page_size=100", secret)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == size, path


def test_customers_installations_licences_systems(world, django_assert_max_num_queries):
    partner, secret = world
    version = Product.objects.get(article="CALLREC").versions.get(version="2.1")
    for size in (2, 40):
        while partner.customers.count() < size:
            customer = CustomerFactory(partner=partner)
            inst = InstallationFactory(customer=customer, pbx_users=90)
            make_license(inst, version)
            book(make_system(customer=customer), start=date(2026, 1, 1), end=date(2026, 12, 31), users=5)
        within_budget(secret, "/customers", size, django_assert_max_num_queries)
        within_budget(secret, "/installations", size * 2, django_assert_max_num_queries)
        within_budget(secret, "/licenses", size, django_assert_max_num_queries)
        within_budget(secret, "/systems", size, django_assert_max_num_queries)


def test_invoices(world, django_assert_max_num_queries):
    partner, secret = world
    intercom = Product.objects.get(article="INTERCOM")
    for size in (2, 25):
        while partner.invoices.count() < size:
            order = billing_services.order_create(partner=partner)
            inst = InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=30)
            billing_services.order_line_add(order=order, installation=inst, product=intercom, kind="purchase")
            billing_services.order_confirm(order=order)
        within_budget(secret, "/invoices", size, django_assert_max_num_queries)


def test_knowledge_base_and_catalog(world, django_assert_max_num_queries):
    _partner, secret = world
    tag = Tag.objects.create(name="Installation")
    for size in (2, 40):
        while Article.objects.count() < size:
            n = Article.objects.count()
            article = Article.objects.create(title=f"Artikel {n}", slug=f"artikel-{n}", body="Installation prüfen")
            article.tags.add(tag)
        within_budget(secret, "/knowledge-base?q=Installation", size, django_assert_max_num_queries)
    with django_assert_max_num_queries(BUDGET):
        assert call("get", "/catalog", secret).status_code == 200
