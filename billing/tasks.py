"""Celery tasks of the billing area (thin: service call, recorded as a job run)."""

from datetime import date

from celery import shared_task
from django.db import OperationalError

from vendorportal import clock
from vendorportal.jobs import recorded_job

OVERDUE_JOB_NAME = "invoices-overdue"


@shared_task(name="billing.tasks.invoices_overdue_daily")
def invoices_overdue_daily() -> int:
    """Daily: open invoices past their due date become overdue; the dunning level due today is
    written (Zahlungserinnerung, 1. Mahnung, letzte Mahnung — billing.services.dunning), each once;
    the job log warns when the base rate of the current half-year is missing."""
    from billing.services import invoices_overdue

    with recorded_job(OVERDUE_JOB_NAME) as run:
        result = invoices_overdue()
        run.summary = result.summary()
    return result.reminders


REANNOUNCE_JOB_NAME = "direct-debits-reannounce"


@shared_task(name="billing.tasks.direct_debits_reannounce_daily")
def direct_debits_reannounce_daily() -> int:
    """Daily: a direct debit that can no longer be collected on its announced day gets a new
    day and a new pre-notification e-mail (ORD-8 / SEPA; billing.services.direct_debits_reannounce)."""
    from billing.services import direct_debits_reannounce

    with recorded_job(REANNOUNCE_JOB_NAME) as run:
        done = direct_debits_reannounce()
        run.summary = f"neu angekündigt: {len(done)}"
    return len(done)


@shared_task(name="billing.tasks.subscriptions_end_daily")
def subscriptions_end_daily() -> int:
    """Daily: block the keys of every subscription whose last day has passed, once (LIC-12),
    recorded as a job run (billing.services.subscriptions.subscriptions_end_keys_job)."""
    from billing.services.subscriptions import subscriptions_end_keys_job

    return subscriptions_end_keys_job()


@shared_task(name="billing.tasks.invoicing_monthly")
def invoicing_monthly(month: str | None = None) -> int:
    """Monthly (the 1st, 03:00 Berlin time): bill every period that starts this month (INV-3);
    queues one task per partner with something due (billing.services.invoicing)."""
    from billing.services.invoicing import JOB_NAME, invoicing_dispatch, parse_month
    from vendorportal import clock

    billed_month = parse_month(month) if month else clock.today().replace(day=1)
    with recorded_job(JOB_NAME) as run:
        queued = invoicing_dispatch(month=billed_month)
        run.summary = f"{billed_month:%m/%Y}: {queued} Partner zur Abrechnung eingeplant."
    return queued


@shared_task(name="billing.tasks.invoicing_catch_up")
def invoicing_catch_up() -> int:
    """Hourly: every unfinished run of any month and the current month, so a run that died
    (killed worker, lost message, restarted machine) is finished without staff action; queues
    nothing when all is billed."""
    from billing.services.invoicing import CATCH_UP_JOB_NAME
    from billing.services.invoicing import invoicing_catch_up as catch_up

    with recorded_job(CATCH_UP_JOB_NAME) as run:
        queued = catch_up(today=clock.today())
        run.summary = "\n".join(f"{month:%m/%Y}: {n} Partner zur Abrechnung eingeplant." for month, n in queued.items())
    return sum(queued.values())


@shared_task(
    name="billing.tasks.invoicing_partner",
    # A killed worker (kill -9, OOM, a lost machine) must not lose the partner: the message is
    # acknowledged only after the task ran and requeued when its worker process dies; on Redis an
    # unacknowledged message returns after CELERY_VISIBILITY_TIMEOUT. Billing a partner twice is
    # harmless (the second finds nothing due under the lock, INV-3).
    acks_late=True,
    reject_on_worker_lost=True,
    # A locked database is worth a retry; anything else is logged and left to the catch-up tick.
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=5,
)
def invoicing_partner(partner_id: int, month: str) -> str:
    """Bill one partner for ``month`` ("YYYY-MM-DD", the 1st): a no-op when nothing is due."""
    from billing.services.invoicing import invoicing_bill_partner

    bill = invoicing_bill_partner(partner_id=partner_id, month=date.fromisoformat(month))
    return bill.invoice.number if bill else ""


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
