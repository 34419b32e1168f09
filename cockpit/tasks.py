"""The cockpit's nightly job (issue 20)."""

from celery import shared_task

from vendorportal.jobs import recorded_job

REVENUE_MONTHS_JOB_NAME = "cockpit-revenue-months"


@shared_task(name="cockpit.tasks.revenue_months_daily")
def revenue_months_daily() -> int:
    """Nightly: sum the revenue of every closed month not summed yet, drop sums no longer exact
    (cockpit.snapshots). Returns the number of months summed."""
    from cockpit.snapshots import revenue_months_sum

    with recorded_job(REVENUE_MONTHS_JOB_NAME) as run:
        result = revenue_months_sum()
        run.summary = result.summary()
    return len(result.summed)
