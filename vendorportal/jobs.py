"""Recording job runs (used by every periodic task and by the commands that run them by hand)."""

from __future__ import annotations

from contextlib import contextmanager

from vendorportal import clock

from .models import JobRun


@contextmanager
def recorded_job(name: str):
    """Record a JobRun around a block; the block may set ``run.summary``."""
    run = JobRun.objects.create(name=name, started_at=clock.now())
    try:
        yield run
    except Exception as exc:
        run.summary = (run.summary + "\n" if run.summary else "") + f"Fehler: {exc!r}"
        run.finished_at = clock.now()
        run.save(update_fields=["summary", "finished_at"])
        raise
    run.ok = True
    run.finished_at = clock.now()
    run.save(update_fields=["summary", "finished_at", "ok"])
