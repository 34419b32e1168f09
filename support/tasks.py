"""Support's periodic jobs (STYLE 6): thin, call a service, own the retry; schedules in
vendorportal/celery.py. Both are safe to re-run: the SLA flags are set by conditional
UPDATEs and inbound mail is processed once per Message-ID."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from vendorportal.jobs import recorded_job

_RETRY = dict(autoretry_for=(OSError, OperationalError), retry_backoff=60, retry_jitter=True, max_retries=3)


@shared_task(name="support.tasks.sla_check_quarter_hourly", **_RETRY)
def sla_check_quarter_hourly() -> dict[str, list[str]]:
    """Warn one support hour before an Enterprise SLA runs out; flag breaches (SUP-2)."""
    from support.services import sla_check

    with recorded_job("support-sla") as run:
        result = sla_check()
        run.summary = f"gewarnt: {len(result.warned)}, verletzt: {len(result.breached)}"
    return {"warned": result.warned, "breached": result.breached}


# Routed to the "mail-in" queue (settings.CELERY_TASK_ROUTES). Not retried by Celery: a
# mailbox that cannot be read raises MailboxError (German, in the job log) and the next
# run five minutes later tries again. The time limits end a run that a server keeps busy
# with slow answers (each read has SUPPORT_MAIL_TIMEOUT; these bound the whole run).
@shared_task(name="support.tasks.fetch_support_mail", soft_time_limit=9 * 60, time_limit=10 * 60)
def fetch_support_mail() -> dict[str, int]:
    """Turn the support mailbox's new messages into tickets and replies."""
    from support.inbound import fetch_support_mail as fetch

    with recorded_job("support-mail") as run:
        result = fetch()
        run.summary = result.summary()
    return result.counts()
