"""Fixtures of the core's tests: tools for tests that start a real Celery worker process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.db import connection

from vendorportal.celery import app


def _test_database_url() -> str:
    """DATABASE_URL of the database this test runs against (the test database, not the real one)."""
    db = connection.settings_dict
    engine = db["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            pytest.fail(f"the worker process cannot open an in-memory SQLite test database ({name!r})")
        return "sqlite:///" + quote(str(Path(name).resolve()))
    if engine == "django.db.backends.postgresql":
        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or ""
        port = f":{db['PORT']}" if db.get("PORT") else ""
        if host.startswith("/"):  # Unix socket directory: goes into the path, host part stays empty
            url = f"postgres://{auth}{port}/" + quote(f"{host}/{db['NAME']}", safe="")
        else:
            url = f"postgres://{auth}{host}{port}/" + quote(db["NAME"], safe="")
        options = {k: v for k, v in (db.get("OPTIONS") or {}).items() if isinstance(v, (str, int))}
        return url + (f"?{urlencode(options)}" if options else "")
    pytest.fail(f"no DATABASE_URL for database engine {engine}")


def _stop(proc: subprocess.Popen) -> None:
    """Warm shutdown (SIGTERM), then kill if the worker does not go within 20 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _forget_queue(queue: str) -> None:
    """Drop the test queue from the broker: leftover message (if the worker never took it) and binding."""
    try:
        with app.connection_for_write() as conn:
            # Virtual transports only delete bindings this channel knows about, so
            # declare the queue (exactly as Celery did when sending) before deleting it.
            bound = app.amqp.queues[queue].bind(conn.default_channel)
            bound.declare()
            bound.purge()
            bound.delete()
    except Exception:  # cleanup only; the assertion that matters has been made
        pass
    app.amqp.queues.pop(queue, None)
    if app.conf.broker_url.startswith("filesystem://"):
        # the filesystem transport keeps one "<exchange>.exchange" file per exchange in
        # control_folder (relative to the working directory unless configured); the test
        # queue's exchange is its own, so remove the file instead of leaving it behind.
        control = Path((app.conf.broker_transport_options or {}).get("control_folder", "control"))
        for base in {Path.cwd(), Path(settings.BASE_DIR)}:
            (base / control / f"{queue}.exchange").unlink(missing_ok=True)


def _worker_env(**extra: str) -> dict:
    """The environment of a worker process on this test's database and broker."""
    return {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _worker_command(queue: str) -> list[str]:
    """A solo worker that consumes only ``queue``, so no other worker takes the test's tasks."""
    return [
        sys.executable, "-m", "celery", "-A", "vendorportal", "worker",
        "--pool", "solo", "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-Q", queue, "-n", f"{queue}@%h",
        # No remote control: the worker's pidbox binding would outlive it in a shared
        # broker (filesystem: <control_folder>/celery.pidbox.exchange) and from then on
        # collect a message file per broadcast (celery inspect/control) that nobody reads.
        "--", "worker.enable_remote_control=False",
    ]  # fmt: skip


@pytest.fixture
def worker_tools():
    """``env(**extra)`` and ``command(queue)`` to start a worker, ``database_url()``,
    ``stop(proc)``, ``forget_queue(name)``."""
    return SimpleNamespace(
        env=_worker_env,
        command=_worker_command,
        database_url=_test_database_url,
        stop=_stop,
        forget_queue=_forget_queue,
    )
