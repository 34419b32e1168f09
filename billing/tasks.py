"""Celery tasks of the billing area (thin: service call, recorded as a job run)."""

from celery import shared_task

from vendorportal.jobs import recorded_job

OVERDUE_JOB_NAME = "invoices-overdue"


@shared_task(name="billing.tasks.invoices_overdue_daily")
def invoices_overdue_daily() -> int:
    """Daily: open invoices past their due date become overdue; one friendly reminder
    7 days after the due date (billing.services.invoices_overdue)."""
    from billing.services import invoices_overdue

    with recorded_job(OVERDUE_JOB_NAME) as run:
        result = invoices_overdue()
        run.summary = result.summary()
    return result.reminders


@shared_task(name="billing.tasks.subscriptions_end_daily")
def subscriptions_end_daily() -> int:
    """Daily: block the keys of every subscription whose last day has passed, once (LIC-12),
    recorded as a job run (billing.services.subscriptions.subscriptions_end_keys_job)."""
    from billing.services.subscriptions import subscriptions_end_keys_job

    return subscriptions_end_keys_job()
