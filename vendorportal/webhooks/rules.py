"""Timing of webhook deliveries as pure functions (issue 19; not a RULES.md rule — the
product's own promise to partners, documented in docs/api.md).

- A failed delivery is retried after 1, 3, 9, 27, 81, 243 minutes, then every 6 hours
  (exponential, base 3), for 3 days after the event (``RETRY_FOR``); then it is given up.
- An endpoint whose deliveries have failed without a single success for ``RETRY_FOR`` is
  paused and its partner told by e-mail.
"""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=6)
RETRY_FOR = timedelta(days=3)
SIGNATURE_TOLERANCE_SECONDS = 300  # what docs/api.md recommends receivers accept


def retry_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: 1, 3, 9, 27, 81, 243 minutes, then 6 hours.

    >>> [int(retry_delay(n).total_seconds() // 60) for n in range(1, 8)]
    [1, 3, 9, 27, 81, 243, 360]
    """
    if attempts < 1:
        return timedelta(0)
    return min(FIRST_RETRY_DELAY * 3 ** min(attempts - 1, 10), MAX_RETRY_DELAY)


def delivery_gives_up(*, now: datetime, retry_until: datetime) -> bool:
    """A failed delivery is not retried once its 3 days are over."""
    return now >= retry_until


def endpoint_to_pause(*, now: datetime, failing_since: datetime | None) -> bool:
    """An endpoint failing without a success for 3 days is paused."""
    return failing_since is not None and now - failing_since >= RETRY_FOR


def is_success(status_code: int | None) -> bool:
    """Only a 2xx answer counts; a redirect is not followed and so is a failure."""
    return status_code is not None and 200 <= status_code < 300
