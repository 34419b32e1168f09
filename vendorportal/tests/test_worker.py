"""A task really travels broker -> worker process -> database.

Runs against whatever the test process is configured with: the embedded default
(SQLite file + kombu filesystem transport under var/) or PostgreSQL + Redis
(``DATABASE_URL`` / ``CELERY_BROKER_URL``, as the second pass of ``.ci/run`` does).
It is never skipped.

The worker consumes only a queue with a unique name, so a developer's running
``make run`` worker cannot take the test's task and the test worker cannot take
anything of theirs (the filesystem transport shares ``var/celery/queue`` but picks
messages by the queue name in the file name, see ``test_filesystem_transport_routes_by_queue_name``).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid

import pytest
from celery.result import EagerResult
from django.conf import settings
from kombu import Connection, Exchange, Queue

from vendorportal.celery import app
from vendorportal.models import JobRun
from vendorportal.tasks import heartbeat

WORKER_TIMEOUT = 60  # seconds until the task's JobRun row must be there


@pytest.mark.worker
def test_task_runs_in_a_real_worker_process(transactional_db, worker_tools):
    queue = f"test-{uuid.uuid4().hex}"
    note = f"worker test {uuid.uuid4()}"
    env = worker_tools.env()
    cmd = worker_tools.command(queue)
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        cmd,
        cwd=settings.BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def worker_output() -> str:
        log.flush()
        log.seek(0)
        return (
            f"worker command: {' '.join(cmd)}\nDATABASE_URL={env['DATABASE_URL']}\n--- worker output ---\n{log.read()}"
        )

    eager = app.conf.task_always_eager
    try:
        app.conf.task_always_eager = False
        try:
            # Sent right away: the message waits in the (declared) queue until the worker is up.
            result = heartbeat.apply_async(kwargs={"note": note}, queue=queue)
        finally:
            app.conf.task_always_eager = eager
        assert not isinstance(result, EagerResult), "the task ran eagerly in the test process"

        run = None
        deadline = time.monotonic() + WORKER_TIMEOUT
        while time.monotonic() < deadline:
            run = JobRun.objects.filter(name="heartbeat", summary=note).first()
            if run is not None and run.finished_at is not None:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.25)

        assert run is not None, (
            f"no JobRun with summary {note!r} after {WORKER_TIMEOUT}s "
            f"(worker exit code {proc.poll()})\n{worker_output()}"
        )
        assert run.ok, f"JobRun {run.pk} not ok: {run.summary!r}\n{worker_output()}"
    finally:
        worker_tools.stop(proc)
        worker_tools.forget_queue(queue)
        log.close()


def test_filesystem_transport_routes_by_queue_name(tmp_path):
    """What the worker test relies on with the default broker: in one shared folder, a
    consumer of queue A never gets a message published to queue B."""
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
    }
    a = Queue("test-a", Exchange("test-a"), routing_key="test-a")
    b = Queue("test-b", Exchange("test-b"), routing_key="test-b")
    with Connection("filesystem://", transport_options=options) as conn:
        with conn.Producer() as producer:
            producer.publish({"for": "b"}, exchange=b.exchange, routing_key="test-b", declare=[b])
            producer.publish({"for": "a"}, exchange=a.exchange, routing_key="test-a", declare=[a])
        assert sorted(p.name.split(".", 1)[1] for p in folder.iterdir()) == ["test-a.msg", "test-b.msg"]

        with conn.SimpleQueue(a) as queue_a:
            got = queue_a.get(timeout=2)
            assert got.payload == {"for": "a"}
            got.ack()
            with pytest.raises(queue_a.Empty):
                queue_a.get(timeout=0.5)  # b's message is still in the folder, but not a's to take
        assert [p.name.split(".", 1)[1] for p in folder.iterdir()] == ["test-b.msg"]

        with conn.SimpleQueue(b) as queue_b:
            got = queue_b.get(timeout=2)
            assert got.payload == {"for": "b"}
            got.ack()
    assert list(folder.iterdir()) == []
