"""A worker killed mid-batch loses no delivery note, and none is sent twice (STYLE 13).

Real processes, as in production: 30 delivery notes are committed, a real
``celery -A vendorportal worker`` sends the first 10 and is killed with SIGKILL while
it holds the 11th (claimed, PDF stored, e-mail not yet handed over — the moment the
old code lost a note for good: the embedded broker had already deleted the message).
The periodic job then queues what is due and unsent, including the 11th once its
claim has run out, and a second worker sends the rest. Every note must arrive
exactly once: the mails are counted as the file backend wrote them, one file per
e-mail, in a folder of this test's own.

Runs with whatever the test process is configured with (SQLite + filesystem broker,
or PostgreSQL + Redis in CI's second pass), on a queue of its own (see test_worker.py).
"""

from __future__ import annotations

import re
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from licensing.models import DeliveryNote, ModuleVersion, Product
from licensing.services.delivery import delivery_note_create
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory, make_license
from vendorportal import clock, outbox
from vendorportal.celery import app
from vendorportal.models import JobRun, OutboxMessage
from vendorportal.tasks import heartbeat, outbox_dispatch
from vendorportal.tasks import outbox_send as outbox_send_task

NOTES = 30
KILL_BEFORE = 11  # the worker stops before the 11th e-mail and is killed there
CLAIM_SECONDS = 2  # the first worker's claims run out quickly, so the test need not wait 10 minutes
TIMEOUT = 60


def _wait_for(condition, what: str, proc: subprocess.Popen | None, output) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"{what} (worker exit code {proc.poll() if proc else None})\n{output()}")


def _mailed_note_numbers(mail_dir: Path) -> list[str]:
    """The note numbers of every e-mail written (one PDF attachment per delivery-note e-mail).

    Counted across all files: Django's file backend names a file by the second and the
    connection object's id, so two connections in one second can share a file and append
    (two e-mails in it). Each e-mail still appears once.
    """
    numbers = []
    for path in sorted(mail_dir.iterdir()):
        numbers += [n.decode() for n in re.findall(rb'filename="(LS-\d{4}-\d{5})\.pdf"', path.read_bytes())]
    return numbers


@pytest.mark.worker
def test_killed_worker_loses_no_note_and_sends_none_twice(
    transactional_db, worker_tools, catalog, tmp_path, monkeypatch
):
    queue = f"test-{uuid.uuid4().hex}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    marker = tmp_path / "paused"
    # The test process queues onto the test's queue (with the real broker), as production queues onto the default one.
    monkeypatch.setattr(
        outbox, "_queue_send", lambda pk, ticket=None: outbox_send_task.apply_async((pk, ticket), queue=queue)
    )

    version = ModuleVersion.objects.create(
        product=Product.objects.get(article="ADSYNC"), version="3.2", released_on=date(2024, 1, 10)
    )
    partner = PartnerFactory(delivery_email="lieferung@partner.test")
    created = time.monotonic()
    for i in range(NOTES):
        installation = InstallationFactory(
            customer=CustomerFactory(partner=partner), identifier=f"ABCDE-12345-FGHIJ-{i:05d}"
        )
        with transaction.atomic():  # one issue = one transaction; its task is queued on commit
            delivery_note_create(installation=installation, licenses=[make_license(installation, version)])
    numbers = sorted(DeliveryNote.objects.values_list("number", flat=True))
    print(f"{NOTES} notes created in {time.monotonic() - created:.1f} s")
    assert len(numbers) == NOTES and OutboxMessage.objects.filter(sent_at__isnull=True).count() == NOTES

    env = worker_tools.env(
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        EMAIL_FILE_PATH=str(mail_dir),
        EMAIL_URL="",
    )
    cmd = worker_tools.command(queue)
    log = tempfile.TemporaryFile(mode="w+")

    def output() -> str:
        log.flush()
        log.seek(0)
        return f"--- worker output ---\n{log.read()[-20000:]}"

    def start(**extra) -> subprocess.Popen:
        return subprocess.Popen(
            cmd,
            cwd=settings.BASE_DIR,
            env={**env, **extra},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    first = second = None
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    started = time.monotonic()
    try:
        # 1. A worker sends 10 notes and is killed while it holds the 11th.
        first = start(
            EMAIL_BACKEND="vendorportal.tests.mail_backends.PausingFileBackend",
            OUTBOX_TEST_PAUSE_BEFORE=str(KILL_BEFORE),
            OUTBOX_TEST_PAUSED_MARKER=str(marker),
            OUTBOX_CLAIM_SECONDS=str(CLAIM_SECONDS),
        )
        _wait_for(marker.exists, f"the worker did not reach e-mail {KILL_BEFORE}", first, output)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert len(list(mail_dir.iterdir())) == KILL_BEFORE - 1
        assert OutboxMessage.objects.filter(sent_at__isnull=False).count() == KILL_BEFORE - 1
        held = OutboxMessage.objects.get(sent_at__isnull=True, claimed_until__isnull=False)
        assert DeliveryNote.objects.get(pk=held.document_id).pdf  # rendered and stored, never sent

        # 2. The periodic job, once the dead worker's claim has run out.
        _wait_for(lambda: clock.now() > held.claimed_until, "the claim did not run out", None, output)
        queued = outbox_dispatch.apply().get()
        assert queued == NOTES - (KILL_BEFORE - 1)  # the held note and every unsent one, each once
        assert JobRun.objects.get(name="outbox").ok

        # 3. A new worker sends the rest; a heartbeat queued last shows the queue is drained
        # (one solo worker takes a queue in order), so late duplicates would be counted too.
        second = start(EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend")
        sentinel = f"outbox crash test {uuid.uuid4()}"
        heartbeat.apply_async(kwargs={"note": sentinel}, queue=queue)
        _wait_for(
            lambda: JobRun.objects.filter(name="heartbeat", summary=sentinel, ok=True).exists(),
            "the second worker did not drain the queue",
            second,
            output,
        )
    finally:
        app.conf.task_always_eager = eager
        for proc in (first, second):
            if proc is not None:
                worker_tools.stop(proc)
        worker_tools.forget_queue(queue)
    print(f"workers, kill and recovery took {time.monotonic() - started:.1f} s")

    mailed = _mailed_note_numbers(mail_dir)
    assert Counter(mailed) == Counter(numbers), output()  # every note, each exactly once
    assert len(mailed) == NOTES
    assert list(DeliveryNote.objects.order_by().values_list("send_count", flat=True).distinct()) == [1]
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    held.refresh_from_db()
    assert held.attempts == 2  # the killed try and the one that sent it
    log.close()
