"""Operational tasks."""
from celery import shared_task

from .jobs import recorded_job


@shared_task(name="vendorportal.tasks.heartbeat")
def heartbeat(note: str = "") -> None:
    """Proves that beat and a worker run: each run leaves a JobRun row staff can see."""
    with recorded_job("heartbeat") as run:
        run.summary = note or "Worker und Beat laufen."
