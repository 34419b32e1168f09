"""The support desk in the admin, per staff group: queue, change form, replies, status, rates."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from licensing.models import Product
from support import services
from support.models import Ticket
from support.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory, make_facts, make_plan
from vendorportal import roles
from vendorportal.models import OutboxMessage
from vendorportal.parties.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def staff(group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True, email=f"{group_name}@vendor.example")
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def ticket(modules, clock):
    login = PartnerUserFactory()
    installation = InstallationFactory(customer=CustomerFactory(partner=login.partner))
    make_plan(installation, "enterprise")
    clock.set(datetime(2026, 11, 19, 16, 0, tzinfo=BERLIN))
    return services.ticket_open(
        partner=login.partner,
        by=login.user,
        kind="support",
        subject="Ansage bricht ab",
        body="java.lang.NoSuchMethodError: de.starface.license…",
        installation=installation,
        pbx_version="8.2.0.5",
        product=Product.objects.filter(kind="module").order_by("article").first(),
        module_version="2.0",
    )


@pytest.mark.parametrize(
    "group_name,changelist,change", [(roles.SUPPORT, 200, 200), (roles.SALES, 200, 200), (roles.FINANCE, 200, 200)]
)
def test_every_staff_group_sees_the_queue(client, ticket, group_name, changelist, change):
    client.force_login(staff(group_name))
    assert client.get(reverse("admin:support_ticket_changelist")).status_code == changelist
    assert client.get(reverse("admin:support_ticket_change", args=[ticket.pk])).status_code == change


def test_change_form_shows_entitlements_version_hint_and_incompatibility(client, ticket):
    client.force_login(staff(roles.SUPPORT))
    page = client.get(reverse("admin:support_ticket_change", args=[ticket.pk])).content.decode()
    assert "Enterprise" in page and "24 h" in page
    assert "bitte Version 2.1 installieren" in page
    assert "nicht kompatibel (SUP-7)" in page
    assert "Kein AV-Vertrag" in page


def test_support_replies_and_sets_status_through_the_admin(client, ticket, clock):
    clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=BERLIN))
    client.force_login(staff(roles.SUPPORT))
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    data = {
        "urgency": "high",
        "reply": "Bitte Modulversion 2.1 installieren.",
        "new_status": "waiting",
        "messages-TOTAL_FORMS": 0,
        "messages-INITIAL_FORMS": 1,
        "attachments-TOTAL_FORMS": 0,
        "attachments-INITIAL_FORMS": 0,
        "time_entries-TOTAL_FORMS": 1,
        "time_entries-INITIAL_FORMS": 0,
        "time_entries-0-worked_on": "20.11.2026",
        "time_entries-0-minutes": "20",
        "time_entries-0-note": "Analyse",
        "time_entries-0-billable": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.urgency) == ("waiting", "high")
    assert ticket.first_response_at == datetime(2026, 11, 20, 10, 0, tzinfo=BERLIN)
    entry = ticket.time_entries.get()
    assert (entry.minutes, entry.billable) == (20, True)
    assert OutboxMessage.objects.filter(kind="support-partner", body__contains="Modulversion 2.1").exists()


def test_illegal_status_move_is_a_form_error(client, ticket):
    services.ticket_set_status(ticket=ticket, status="closed")
    client.force_login(staff(roles.SUPPORT))
    data = {
        "urgency": "normal",
        "new_status": "waiting",
        "messages-TOTAL_FORMS": 0,
        "messages-INITIAL_FORMS": 1,
        "attachments-TOTAL_FORMS": 0,
        "attachments-INITIAL_FORMS": 0,
        "time_entries-TOTAL_FORMS": 0,
        "time_entries-INITIAL_FORMS": 0,
    }
    response = client.post(reverse("admin:support_ticket_change", args=[ticket.pk]), data)
    assert response.status_code == 200 and "geht es nicht dorthin" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "closed"


@pytest.mark.parametrize("group_name", [roles.SALES, roles.FINANCE])
def test_sales_and_finance_cannot_reply_or_change_status(client, ticket, group_name):
    client.force_login(staff(group_name))
    response = client.post(
        reverse("admin:support_ticket_change", args=[ticket.pk]),
        {"urgency": "low", "reply": "x", "new_status": "open"},
    )
    ticket.refresh_from_db()
    assert response.status_code == 403 and ticket.status == "new" and ticket.messages.count() == 1


@pytest.mark.parametrize("group_name,status", [(roles.FINANCE, 200), (roles.SUPPORT, 403), (roles.SALES, 403)])
def test_hourly_rates_are_entered_by_finance(client, group_name, status):
    client.force_login(staff(group_name))
    assert client.get(reverse("admin:support_hourlyrate_add")).status_code == status


@pytest.mark.parametrize("group_name,status", [(roles.SUPPORT, 200), (roles.SALES, 200), (roles.FINANCE, 403)])
def test_dpa_and_contract_dates_are_kept_by_support_and_sales(client, group_name, status):
    client.force_login(staff(group_name))
    assert client.get(reverse("admin:support_customersupportfacts_add")).status_code == status


def test_admin_queue_is_in_sup1_order(client, modules, clock):
    login = PartnerUserFactory()
    product = Product.objects.filter(kind="module").order_by("article").first()
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN))
    free = services.ticket_open(
        partner=login.partner, by=login.user, kind="feature", subject="FREI-KRITISCH", body="x", urgency="critical"
    )
    customer = CustomerFactory(partner=login.partner)
    make_facts(customer, contract_until=date(2027, 1, 1))
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN))
    contract = services.ticket_open(
        partner=login.partner,
        by=login.user,
        kind="support",
        subject="VERTRAG-NIEDRIG",
        body="x",
        urgency="low",
        installation=InstallationFactory(customer=customer),
        pbx_version="8.2.0.5",
        product=product,
        module_version="2.1",
    )
    client.force_login(staff(roles.SUPPORT))
    page = client.get(reverse("admin:support_ticket_changelist")).content.decode()
    assert page.index(contract.number) < page.index(free.number)
    assert Ticket.objects.count() == 2


def test_ticket_change_posted_with_a_garbage_attachment_id_is_no_500(client, admin_user):
    # Issue 17's fuzz test: the re-rendered file row had no id and its download link failed.
    from django.core.files.uploadedfile import SimpleUploadedFile

    login = PartnerUserFactory()
    ticket = services.ticket_open(
        partner=login.partner,
        kind="feature",
        subject="Wunsch",
        body="Bitte.",
        files=[SimpleUploadedFile("bild.png", b"\x89PNG\r\n\x1a\n")],
    )
    client.force_login(admin_user)
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    page = client.get(url).content.decode()
    assert "bild.png" in page
    data = {
        "attachments-TOTAL_FORMS": "1",
        "attachments-INITIAL_FORMS": "1",
        "attachments-MIN_NUM_FORMS": "0",
        "attachments-MAX_NUM_FORMS": "1000",
        "attachments-0-id": "2026-13-45",
        "attachments-0-ticket": str(ticket.pk),
    }
    response = client.post(url, data)
    assert response.status_code == 200
