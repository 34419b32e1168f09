"""Webhook tasks (issue 19): thin — ids in, the service owns claim and retry. They run on
their own queue ("webhooks", STYLE 20) so a slow receiver never delays e-mail."""

from celery import shared_task
from django.db import OperationalError

from vendorportal.jobs import recorded_job

DISPATCH_JOB_NAME = "webhooks"


@shared_task(
    name="vendorportal.webhooks.tasks.webhook_deliver",
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=5 * 60,
    max_retries=5,
)
def webhook_deliver(delivery_id: int, ticket: str | None = None) -> None:
    from .delivery import webhook_deliver as deliver

    deliver(delivery_id=delivery_id, ticket=ticket)


@shared_task(name="vendorportal.webhooks.tasks.webhook_dispatch")
def webhook_dispatch() -> int:
    """Periodic: queue every due delivery again, give up old ones, pause dead endpoints."""
    from .delivery import webhook_dispatch_due

    with recorded_job(DISPATCH_JOB_NAME) as run:
        result = webhook_dispatch_due()
        run.summary = result.summary()
    return result.queued
