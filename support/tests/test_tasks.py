"""The periodic jobs are wired: beat entries and thin tasks that record a job run."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from support import tasks
from vendorportal.celery import app
from vendorportal.models import JobRun

pytestmark = pytest.mark.django_db


def test_beat_runs_the_sla_check_every_15_minutes_and_reads_mail():
    schedule = app.conf.beat_schedule
    assert schedule["support-sla-quarter-hourly"]["task"] == "support.tasks.sla_check_quarter_hourly"
    assert schedule["support-sla-quarter-hourly"]["schedule"].minute == {0, 15, 30, 45}
    assert schedule["support-mail"]["task"] == "support.tasks.fetch_support_mail"


def test_tasks_record_their_runs(clock):
    clock.set(datetime(2026, 11, 24, 16, 30, tzinfo=ZoneInfo("Europe/Berlin")))
    assert tasks.sla_check_quarter_hourly() == {"warned": [], "breached": []}
    assert tasks.fetch_support_mail()["tickets"] == 0
    assert set(JobRun.objects.values_list("name", flat=True)) == {"support-sla", "support-mail"}
    assert all(JobRun.objects.values_list("ok", flat=True))


def test_support_mail_is_read_on_its_own_queue_that_a_worker_of_its_own_consumes():
    """A mailbox that hangs holds the mail-in worker, never the one that sends e-mail."""
    import shlex
    from pathlib import Path

    from django.conf import settings

    route = app.amqp.router.route
    mail_in = route({}, "support.tasks.fetch_support_mail")["queue"]
    default = route({}, "vendorportal.tasks.outbox_send")["queue"]
    # each queue reached by its own routing key: no task lands in both
    assert (mail_in.name, mail_in.exchange.name, mail_in.routing_key) == ("mail-in", "mail-in", "mail-in")
    assert (default.name, default.exchange.name, default.routing_key) == ("celery", "celery", "celery")
    assert app.conf.beat_schedule["support-mail"]["options"] == {"expires": 240}
    consumed = {}
    for line in (Path(settings.BASE_DIR) / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        args = shlex.split(command)
        if "worker" in args:
            consumed[name] = set(args[args.index("-Q") + 1].split(","))
    # webhooks (issue 19) have their own worker too: a slow partner endpoint never delays e-mail
    assert consumed == {"worker": {"celery"}, "mailin": {"mail-in"}, "webhooks": {"webhooks"}}
