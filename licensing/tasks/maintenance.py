"""Periodic Softwarepflege tasks (SWP-8): the daily expiry notices and the weekly
report. Thin: parse the optional day, call the service, own the retry policy.

Re-running is safe: the daily job claims every notice through a unique constraint and
writes its e-mail in the same transaction, so a retry (or a second worker) never
writes a notice or its e-mail twice; the weekly report is one per ISO week. Sending
is the outbox's job (its worker and periodic job own that retry).
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.db import OperationalError

from vendorportal import clock

_RETRY = dict(
    # Transient: a locked or unreachable database (a deadlock between two runs on
    # PostgreSQL too), a full disk for the report's PDF. Programming errors fail at once.
    autoretry_for=(OSError, OperationalError),
    retry_backoff=60,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=5,
)


def _day(on: str | None) -> date:
    return date.fromisoformat(on) if on else clock.today()


@shared_task(name="licensing.tasks.swp_expiry_daily", **_RETRY)
def swp_expiry_daily(on: str | None = None) -> dict[str, int]:
    """Write the Softwarepflege notices due on ``on`` and their e-mails (ISO date; default: today, Berlin)."""
    from licensing.services.maintenance_job import maintenance_expiry_daily

    return maintenance_expiry_daily(today=_day(on))


@shared_task(name="licensing.tasks.swp_report_weekly", **_RETRY)
def swp_report_weekly(on: str | None = None) -> None:
    """Store the weekly Softwarepflege report for ``on`` (default: today) and queue its e-mail to finance."""
    from licensing.services.maintenance_job import maintenance_report_weekly

    maintenance_report_weekly(today=_day(on))
