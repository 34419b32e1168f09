"""Celery tasks of the billing area (thin: service call, recorded as a job run)."""

from datetime import date

from celery import shared_task
from django.db import OperationalError

from vendorportal import clock
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


# Transient: a locked or unreachable database, a full disk for the report's PDF.
_REPORT_RETRY = dict(
    autoretry_for=(OSError, OperationalError),
    retry_backoff=60,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=5,
)


def _day(on: str | None) -> date:
    return date.fromisoformat(on) if on else clock.today()


@shared_task(name="billing.tasks.finance_journal_monthly", **_REPORT_RETRY)
def finance_journal_monthly(on: str | None = None) -> int:
    """Monthly (on the 1st): the previous month's invoice journal with its SEPA files to
    finance, once per month (billing.finance)."""
    from billing.finance import finance_journal_send, previous_month

    today = _day(on)
    year, month = previous_month(today)
    report, _created = finance_journal_send(year=year, month=month, today=today)
    return report.pk


@shared_task(name="billing.tasks.finance_open_items_weekly", **_REPORT_RETRY)
def finance_open_items_weekly(on: str | None = None) -> int:
    """Weekly: the open items with ageing buckets to finance, once per ISO week."""
    from billing.finance import finance_open_items_send

    report, _created = finance_open_items_send(on=_day(on))
    return report.pk
