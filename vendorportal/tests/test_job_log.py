"""The job log (JobRun) as staff read it: Berlin time everywhere, German labels and dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from licensing.services.maintenance_job import maintenance_expiry_daily
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory, book
from vendorportal.models import JobRun

pytestmark = pytest.mark.django_db


def test_job_run_is_named_in_berlin_time():
    # 05:30 UTC on 21 November is 06:30 in Berlin (CET, UTC+1).
    run = JobRun(name="swp_expiry", started_at=datetime(2026, 11, 21, 5, 30, tzinfo=UTC))
    assert str(run) == "swp_expiry 21.11.2026 06:30"


def test_job_run_page_heading_and_fields_agree(client, admin_user):
    run = JobRun.objects.create(
        name="swp_expiry",
        started_at=datetime(2026, 7, 1, 4, 0, tzinfo=UTC),
        finished_at=datetime(2026, 7, 1, 4, 1, tzinfo=UTC),
        ok=True,
    )
    client.force_login(admin_user)
    page = client.get(reverse("admin:vendorportal_jobrun_change", args=[run.pk])).content.decode()
    # Summer time: 04:00 UTC is 06:00 in Berlin, in the heading as in the field below it.
    assert "<h2>swp_expiry 01.07.2026 06:00</h2>" in page
    assert "1. Juli 2026 06:00" in page
    assert "04:00" not in page


def test_daily_softwarepflege_job_summary_is_german(clock, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clock.set(date(2026, 11, 21))
    system = InstallationFactory(
        vendor="auerswald",
        edition="comtrexx_next",
        identifier_kind="serial",
        identifier="1AC5008123",
        pbx_version="",
        customer=CustomerFactory(partner=PartnerFactory(delivery_email="technik@muster.test")),
    )
    # Ends 05.01.2027: 45 days after 21.11.2026 (9 + 31 + 5), inside the 60-day reminder's window (31–60).
    book(system, start=date(2026, 1, 6), end=date(2027, 1, 5), users=8)

    maintenance_expiry_daily(today=date(2026, 11, 21))

    summary = JobRun.objects.get(name="swp_expiry").summary
    assert summary.splitlines() == [
        "Stichtag 21.11.2026",
        "Erinnerung 60 Tage: 1",
        "Erinnerung 30 Tage: 0",
        "Erinnerung 21 Tage: 0",
        "abgelaufen: 0",
        "Säumniszuschlag: 0",
        "E-Mails zum Versand eingeplant: 1",
    ]


@pytest.mark.parametrize("group", ["finance", "support"])
def test_job_list_shows_each_runs_result(client, group):
    from django.contrib.auth.models import Group

    from vendorportal.parties.tests.factories import UserFactory

    JobRun.objects.create(
        name="invoicing",
        started_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
        finished_at=datetime(2026, 12, 1, 2, 3, tzinfo=UTC),
        ok=True,
        summary="Abrechnung 12/2026: 3 Rechnungen, 5 Abrechnungszeiträume.\nübersprungen: 1",
    )
    JobRun.objects.create(name="support-mail", started_at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    user = UserFactory(username=f"log-{group}", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    page = client.get(reverse("admin:vendorportal_jobrun_changelist")).content.decode()
    assert "Abrechnung 12/2026: 3 Rechnungen, 5 Abrechnungszeiträume. · übersprungen: 1" in page
    assert "läuft noch oder wurde abgebrochen" in page
