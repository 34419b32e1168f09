"""The periodic jobs as staff read them: settings' beat schedule in German words with the
recipients of the finance reports; readable by every staff group, changeable by none."""

import pytest
from celery.schedules import crontab
from django.contrib.auth.models import Group
from django.urls import reverse

from vendorportal import roles
from vendorportal.parties.tests.factories import UserFactory
from vendorportal.schedule import describe_crontab, scheduled_jobs


@pytest.mark.parametrize(
    "schedule, words",
    [
        (crontab(minute="*/5"), "alle 5 Minuten"),
        (crontab(minute=20), "stündlich um :20"),  # the invoicing catch-up (issue 20)
        (crontab(minute=5), "stündlich um :05"),
        (crontab(hour=6, minute=30), "täglich um 06:30 Uhr"),
        (crontab(hour=7, minute=15, day_of_week="mon"), "montags um 07:15 Uhr"),
        (crontab(hour=22, minute=0, day_of_week=5), "freitags um 22:00 Uhr"),
        (crontab(hour=7, minute=30, day_of_month=1), "am 1. jedes Monats um 07:30 Uhr"),
        # Nothing the page knows no words for is hidden: shown as its fields.
        (crontab(hour=3, minute=0, month_of_year="1,7"), "Cron: Minute 0, Stunde 3, Tag *, Monat 1,7, Wochentag *"),
    ],
)
def test_describe_crontab_in_german(schedule, words):
    assert describe_crontab(schedule) == words


def test_scheduled_jobs_name_the_recipients_of_the_finance_reports(settings):
    settings.FINANCE_EMAILS = ["buchhaltung@vendor.example", "steuer@kanzlei.example"]
    settings.FINANCE_EMAIL = "buchhaltung@vendor.example"
    jobs = {job.name: job for job in scheduled_jobs()}
    journal = jobs["finance-journal-monthly"]
    assert (journal.task, journal.when, journal.recipients, journal.recipients_setting) == (
        "billing.tasks.finance_journal_monthly",
        "am 1. jedes Monats um 07:30 Uhr",
        ("buchhaltung@vendor.example", "steuer@kanzlei.example"),
        "FINANCE_EMAILS",
    )
    assert jobs["finance-open-items-weekly"].when == "montags um 07:15 Uhr"
    assert jobs["swp-report-weekly"].recipients == ("buchhaltung@vendor.example",)
    assert jobs["outbox-dispatch"].recipients == ()


def as_group(client, name):
    user = UserFactory(username=f"staff-{name}", is_staff=True)
    user.groups.add(Group.objects.get(name=name))
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("group", [roles.SALES, roles.FINANCE, roles.SUPPORT])
def test_every_staff_group_reads_the_schedule_and_cannot_change_it(client, settings, group):
    settings.FINANCE_EMAILS = ["buchhaltung@vendor.example", "steuer@kanzlei.example"]
    as_group(client, group)
    index = client.get(reverse("admin:index"))
    assert reverse("admin:job_schedule") in index.content.decode()
    page = client.get(reverse("admin:job_schedule"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Zeitplan der Jobs" in text
    assert "finance-journal-monthly" in text and "am 1. jedes Monats um 07:30 Uhr" in text
    assert "montags um 07:15 Uhr" in text and "alle 5 Minuten" in text
    assert "buchhaltung@vendor.example, steuer@kanzlei.example" in text
    table = text[text.index('id="job-schedule"') :]
    assert "<input" not in table and "<form" not in table and "<select" not in table
    assert client.post(reverse("admin:job_schedule"), {"schedule": "x"}).status_code == 405


@pytest.mark.django_db
def test_the_schedule_is_for_staff_only(client):
    response = client.get(reverse("admin:job_schedule"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(UserFactory(username="partner-login", is_staff=False))
    response = client.get(reverse("admin:job_schedule"))
    assert response.status_code == 302 and "/login/" in response["Location"]
