"""The invoicing runs in the admin (issue 17): read-only, for finance; sales and support do
not see them; the figures are what the run billed."""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.models import InvoicingRun
from billing.services import invoicing
from billing.tests.factories import make_partner, make_subscription
from licensing.tests.factories import UserFactory
from vendorportal import roles

pytestmark = pytest.mark.django_db
DEC = date(2026, 12, 1)


def staff_client(client, group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


@pytest.fixture
def december_run(catalog, clock):
    """Two partners due in December 2026: Muster with two monthly subscriptions, Beispiel with
    one. Muster is billed (1 invoice, 2 periods); Beispiel is still due — the run unfinished."""
    muster = make_partner(company="Muster GmbH")
    beispiel = make_partner(company="Beispiel AG")
    make_subscription(muster, monthly_price="10.00", term_start=DEC)
    make_subscription(muster, monthly_price="20.00", term_start=DEC)
    make_subscription(beispiel, monthly_price="30.00", term_start=DEC)
    clock.set(DEC)
    invoicing.invoicing_run_started(month=DEC)
    invoicing.invoicing_bill_partner(partner_id=muster.pk, month=DEC, render_pdf=False)
    return InvoicingRun.objects.get(month=DEC)


@pytest.mark.parametrize("group_name,status", [(roles.FINANCE, 200), (roles.SALES, 403), (roles.SUPPORT, 403)])
def test_the_runs_list_is_finances(client, december_run, group_name, status):
    response = staff_client(client, group_name).get(reverse("admin:billing_invoicingrun_changelist"))
    assert response.status_code == status


@pytest.mark.parametrize("group_name,status", [(roles.FINANCE, 200), (roles.SALES, 403), (roles.SUPPORT, 403)])
def test_a_runs_page_is_finances(client, december_run, group_name, status):
    url = reverse("admin:billing_invoicingrun_change", args=[december_run.pk])
    assert staff_client(client, group_name).get(url).status_code == status


def test_finance_sees_what_the_run_billed_and_who_is_still_due(client, december_run):
    page = staff_client(client, roles.FINANCE).get(reverse("admin:billing_invoicingrun_changelist")).content.decode()
    row = page[page.index("12/2026") :]
    row = row[: row.index("</tr>")]
    # 1 invoice (Muster), 2 periods (Muster's two subscriptions), 1 partner still due (Beispiel).
    cells = [c.split(">", 1)[1].split("<", 1)[0].strip() for c in row.split("<td")[1:]]
    assert cells[-3:] == ["1", "2", "1"]
    assert "läuft / unvollständig" in row


@pytest.mark.parametrize("group_name", [roles.FINANCE, roles.SALES, roles.SUPPORT])
def test_nobody_adds_changes_or_deletes_a_run(client, december_run, group_name):
    c = staff_client(client, group_name)
    assert c.get(reverse("admin:billing_invoicingrun_add")).status_code == 403
    delete = reverse("admin:billing_invoicingrun_delete", args=[december_run.pk])
    assert c.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:billing_invoicingrun_change", args=[december_run.pk])
    c.post(change, {"month": "2027-01-01", "started_at": "2027-01-01 03:00"})
    assert InvoicingRun.objects.get(pk=december_run.pk).month == DEC
