"""The admin's "Lastschriftdatei erstellen" (ORD-8): finance only, once per invoice."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing import services
from billing.models import SepaBatch
from billing.tests.factories import make_order, make_partner
from vendorportal import roles
from vendorportal.parties.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def debit_invoice(modules, clock):
    # Blacklist PRO 12 months: 12,21 € − 20 % = 9,77 € a month (ORD-8: ≤ 50 € with a mandate →
    # direct debit, announced for 21.11. + 14 = Sat 05.12. → Mon 07.12.2026); the order bills the partial November
    # (SUB-2): 10/30 × 9,77 → 3,26 € net, 0,62 € VAT, 3,88 € gross.
    clock.set(date(2026, 11, 21))
    partner = make_partner()
    services.sepa_mandate_create(
        partner=partner, iban="DE89370400440532013000", reference="MUSTER-0001", signed_on=date(2025, 3, 10)
    )
    return services.order_confirm(order=make_order(partner, ("BLACKLIST", "subscription", 12)))


def as_group(client, name):
    user = UserFactory(username=f"staff-{name}", is_staff=True)
    user.groups.add(Group.objects.get(name=name))
    client.force_login(user)
    return client


@pytest.mark.parametrize("group, status", [(roles.FINANCE, 302), (roles.SALES, 403), (roles.SUPPORT, 403)])
def test_only_finance_writes_a_direct_debit_file(client, debit_invoice, group, status):
    response = as_group(client, group).post(reverse("admin:billing_sepabatch_export"), {"through": "07.12.2026"})
    assert response.status_code == status
    assert SepaBatch.objects.count() == (1 if status == 302 else 0)


def test_finance_sees_the_button_and_a_second_export_writes_nothing(client, debit_invoice):
    as_group(client, roles.FINANCE)
    page = client.get(reverse("admin:billing_sepabatch_changelist")).content.decode()
    assert reverse("admin:billing_sepabatch_export") in page
    first = client.post(reverse("admin:billing_sepabatch_export"), {"through": "07.12.2026"}, follow=True)
    assert "mit 1 Lastschrift über 3,88 € erstellt" in first.content.decode()
    assert SepaBatch.objects.get().total == Decimal("3.88")
    again = client.post(reverse("admin:billing_sepabatch_export"), {"through": "07.12.2026"}, follow=True)
    assert "Keine angekündigten Lastschriften bis 07.12.2026" in again.content.decode()
    assert SepaBatch.objects.count() == 1


def test_a_day_before_today_is_refused_in_the_form(client, debit_invoice):
    as_group(client, roles.FINANCE)
    response = client.post(reverse("admin:billing_sepabatch_export"), {"through": "20.11.2026"})
    assert response.status_code == 200
    assert "liegt vor dem heutigen Tag" in response.content.decode()
    assert not SepaBatch.objects.exists()
