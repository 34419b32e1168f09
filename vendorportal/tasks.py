"""Operational tasks."""

from celery import shared_task
from django.db import OperationalError

from .jobs import recorded_job

OUTBOX_JOB_NAME = "outbox"


@shared_task(name="vendorportal.tasks.heartbeat")
def heartbeat(note: str = "") -> None:
    """Proves that beat and a worker run: each run leaves a JobRun row staff can see."""
    with recorded_job("heartbeat") as run:
        run.summary = note or "Worker und Beat laufen."


@shared_task(
    name="vendorportal.tasks.outbox_send",
    # A locked or unreachable database; anything else is recorded on the row by the
    # service, and the periodic job retries it (the row owns the retry).
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=5 * 60,
    max_retries=5,
)
def outbox_send(message_id: int, ticket: str | None = None) -> None:
    """Send one outbox row (a no-op when it is sent already or another worker holds it)."""
    from .outbox import outbox_send as send

    send(message_id=message_id, ticket=ticket)


@shared_task(name="vendorportal.tasks.outbox_dispatch")
def outbox_dispatch() -> int:
    """Periodic: queue again every e-mail that is due and unsent (STYLE 13)."""
    from .outbox import outbox_dispatch_due

    with recorded_job(OUTBOX_JOB_NAME) as run:
        result = outbox_dispatch_due()
        run.summary = result.summary()
    return result.queued


@shared_task(name="vendorportal.tasks.documents_check_daily")
def documents_check_daily() -> int:
    """Daily: every issued document's file present and unchanged (GoBD); the result is a job
    run, and missing or changed documents are listed on the admin index. Returns how many."""
    from .documents import documents_check_job

    return len(documents_check_job().problems)
