"""Staff admin of Auerswald systems and the Softwarepflege ledgers (SYS-1, SYS-2, SWP-8)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from licensing.models import MaintenanceCoverage, MaintenanceNotice, Reinitialisation, SystemLicense, Tryout
from licensing.models.systems import AuerswaldSystem
from licensing.tests.factories import (
    CustomerFactory,
    InstallationFactory,
    PartnerFactory,
    UserFactory,
    book,
    make_system,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:licensing_auerswaldsystem_changelist"


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def systems(db):
    """Systems in every SWP-8 state on the real today (the admin uses timezone.localdate())."""
    today = timezone.localdate()
    partner = PartnerFactory(company="Muster Kommunikation GmbH", delivery_email="technik@muster.test")
    customer = CustomerFactory(partner=partner)
    made = {}
    for name, end_offset in [
        ("active", 200),
        ("expiring", 20),
        ("lapsed", -30),
        ("lapsed_surcharge", -200),
        ("not_renewable", -1500),
    ]:
        system = make_system(customer=customer, name=name)
        end = today + timedelta(days=end_offset)
        book(system, start=end - timedelta(days=364), end=end, users=8)
        made[name] = system
    made["none"] = make_system("comtrexx_vm", customer=customer, name="none")
    Tryout.objects.create(installation=made["none"], started_on=today - timedelta(days=13))
    return made


def test_proxy_lists_only_auerswald_systems(systems):
    starface = InstallationFactory()
    assert starface not in AuerswaldSystem.objects.all()
    assert AuerswaldSystem.objects.count() == 6


def test_changelist_shows_columns_and_filters_by_swp_state(staff_client, systems):
    url = reverse(CHANGELIST)
    response = staff_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert systems["active"].customer.company in page and "läuft bald ab" in page
    rows = {obj.name: obj for obj in response.context["cl"].result_list}
    assert rows["expiring"].call_assist_users == 8
    # Tryout started 13 days ago: 14 − 13 = 1 day left (the start day counts).
    model_admin = response.context["cl"].model_admin
    assert model_admin.tryout_days_left_display(rows["none"]) == 1
    assert model_admin.tryout_days_left_display(rows["active"]) is None
    assert str(model_admin.swp_state_display(rows["lapsed_surcharge"])) == "abgelaufen (mit Säumniszuschlag)"
    for state in ["active", "expiring", "lapsed", "lapsed_surcharge", "not_renewable", "none"]:
        result = staff_client.get(url, {"swp": state}).context["cl"].result_list
        assert [obj.name for obj in result] == [state], state


def test_change_view_shows_ledgers_read_only(staff_client, systems):
    system = systems["expiring"]
    response = staff_client.get(reverse("admin:licensing_auerswaldsystem_change", args=[system.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Softwarepflege-Zeiträume" in page and "Systemlizenzen" in page
    assert 'name="maintenance_coverages-0-end"' not in page  # shown, not editable


def test_action_sends_renewal_quote_to_partner(staff_client, systems, prices, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    chosen = [systems["expiring"].pk, systems["none"].pk]
    response = staff_client.post(
        reverse(CHANGELIST), {"action": "send_renewal_quote", "_selected_action": chosen}, follow=True
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any("Verlängerungsangebot gesendet für 1 System" in t for t in texts)
    assert any("keine Softwarepflege" in t for t in texts)
    (message,) = mail.outbox
    assert message.to == ["technik@muster.test"]
    # In term, 12 months: 8 × 12,00 = 96,00 €.
    assert "96,00 €" in message.body and systems["expiring"].identifier in message.subject
    assert MaintenanceCoverage.objects.count() == 5  # an offer books nothing


def test_action_checks_notices_now(staff_client, systems, settings, send_outbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = staff_client.post(
        reverse(CHANGELIST),
        {"action": "check_maintenance_notices", "_selected_action": [systems["active"].pk]},
        follow=True,
    )
    assert any(
        "Softwarepflege-Hinweise geprüft" in str(m) and "E-Mails zum Versand eingeplant: 1" in str(m)
        for m in response.context["messages"]
    )
    # expiring (20 days left → 21-day notice), lapsed and surcharge; one mail to the partner, via the outbox.
    assert set(MaintenanceNotice.objects.values_list("kind", flat=True)) == {"remind_21", "lapsed", "surcharge"}
    assert send_outbox() == 1
    assert len(mail.outbox) == 1


def test_manual_coverage_is_booked_through_the_form(staff_client, admin_user):
    system = make_system()
    book(system, start=date(2021, 1, 1), end=date(2021, 12, 31), users=5)
    url = reverse("admin:licensing_maintenancecoverage_add")
    assert staff_client.get(url).status_code == 200
    data = {
        "installation": system.pk,
        "start": "2022-01-01",
        "end": "2026-12-31",
        "months": "",
        "users": 5,
        "order_reference": "",
        "note": "nach mehr als 36 Monaten von Hand (SWP-7)",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302
    row = MaintenanceCoverage.objects.get(kind="manual")
    assert (row.installation, row.end, row.created_by) == (system, date(2026, 12, 31), admin_user)


def test_manual_coverage_that_does_not_extend_is_refused(staff_client):
    system = make_system()
    book(system, start=date(2025, 1, 1), end=date(2025, 12, 31), users=5)
    data = {"installation": system.pk, "start": "2025-01-01", "end": "2025-06-30", "users": 5, "note": "Test"}
    response = staff_client.post(reverse("admin:licensing_maintenancecoverage_add"), data)
    assert response.status_code == 200
    assert "läuft bereits bis 31.12.2025" in response.content.decode()
    assert MaintenanceCoverage.objects.count() == 1


def test_manual_coverage_only_for_auerswald(staff_client):
    starface = InstallationFactory()
    data = {"installation": starface.pk, "start": "2025-01-01", "end": "2025-12-31", "users": 5, "note": "Test"}
    response = staff_client.post(reverse("admin:licensing_maintenancecoverage_add"), data)
    assert response.status_code == 200
    assert not MaintenanceCoverage.objects.exists()


@pytest.mark.parametrize(
    "model", ["systemlicense", "tryout", "reinitialisation", "maintenancecoverage", "maintenancenotice"]
)
def test_ledgers_open_and_cannot_be_changed_or_deleted(staff_client, systems, model):
    Reinitialisation.objects.create(
        installation=systems["active"], initialisation_code="ABCDEFGHIJKLMNOP", response="X"
    )
    MaintenanceNotice.objects.create(
        installation=systems["active"], coverage_end=date(2026, 1, 1), kind="lapsed", claim="x"
    )
    model_class = {
        "systemlicense": SystemLicense,
        "tryout": Tryout,
        "reinitialisation": Reinitialisation,
        "maintenancecoverage": MaintenanceCoverage,
        "maintenancenotice": MaintenanceNotice,
    }[model]
    obj = model_class.objects.first()
    assert staff_client.get(reverse(f"admin:licensing_{model}_changelist")).status_code == 200
    change = staff_client.get(reverse(f"admin:licensing_{model}_change", args=[obj.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert (
        staff_client.post(reverse(f"admin:licensing_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    )
    assert model_class.objects.filter(pk=obj.pk).exists()


def test_staff_who_may_view_installations_see_systems(client, systems):
    user = UserFactory(username="support1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_installation"))
    client.force_login(user)
    assert client.get(reverse(CHANGELIST)).status_code == 200
    other = UserFactory(username="nobody", is_staff=True)
    client.force_login(other)
    assert client.get(reverse(CHANGELIST)).status_code == 403
