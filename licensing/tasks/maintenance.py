"""Periodic Softwarepflege tasks (SWP-8): the daily expiry notices and the weekly
report. Thin: parse the optional day, call the service, own the retry policy.

Re-running is safe: the daily job claims every notice through a unique constraint,
so a retry (or a second worker) never sends a notice twice.
"""
from __future__ import annotations

from datetime import date

from celery import shared_task
from vendorportal import clock
from django.db import OperationalError

_RETRY = dict(
    # Transient: SMTP and network errors (smtplib.SMTPException is an OSError), a
    # locked or unreachable database. Programming errors fail at once.
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
    """Send the Softwarepflege notices due on ``on`` (ISO date; default: today, Berlin)."""
    from licensing.services.maintenance_job import maintenance_expiry_daily

    return maintenance_expiry_daily(today=_day(on))


@shared_task(name="licensing.tasks.swp_report_weekly", **_RETRY)
def swp_report_weekly(on: str | None = None) -> None:
    """E-mail the weekly Softwarepflege report for ``on`` (default: today) to finance."""
    from licensing.services.maintenance_job import maintenance_report_weekly

    maintenance_report_weekly(today=_day(on))
