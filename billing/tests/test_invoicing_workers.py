"""INV-3 with real processes: two runs at once on two workers, a worker killed with SIGKILL in
the middle of a run and finished by the catch-up tick (filesystem broker) or by the broker
handing the unacknowledged task to the next worker (Redis), two ``run_invoicing`` processes at once.

Each test runs against whatever the test process is configured with — SQLite file + the
filesystem broker, or PostgreSQL + Redis (CI's second pass, ``DATABASE_URL`` /
``CELERY_BROKER_URL``) — on a queue of its own (see vendorportal/tests/test_worker.py). The
processes read the real clock, so the subscriptions start on the 1st of the current month and
the run bills the current month.

What must hold after each: every partner has exactly one invoice, every period exactly one
BilledPeriod row (two per partner here), the invoice numbers are RE-<year>-000001 … 00000N
without a gap, and every invoice is whole (its lines and periods, its PDF, its e-mail).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F

from billing.models import BilledPeriod, Invoice, InvoiceLine, VatRate
from billing.services import invoicing
from billing.tasks import invoicing_catch_up, invoicing_monthly
from billing.tasks import invoicing_partner as invoicing_partner_task
from billing.tests.factories import make_partner, make_subscription
from vendorportal import clock
from vendorportal.celery import app
from vendorportal.models import DocumentSequence, JobRun, OutboxMessage
from vendorportal.tasks import heartbeat

TIMEOUT = 120


def _wait_for(condition, what: str, procs, output) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.2)
    pytest.fail(f"{what} (exit codes {[p.poll() for p in procs]})\n{output()}")


def _partners_with_subscriptions(n: int) -> tuple[list, date]:
    """``n`` partners with a monthly and a quarterly subscription from the 1st of this month."""
    if not VatRate.objects.filter(category="S").exists():  # flushed by an earlier transactional test
        VatRate.objects.create(category="S", percent="19.00", valid_from=date(2007, 1, 1))
    month = clock.today().replace(day=1)
    partners = []
    for i in range(n):
        partner = make_partner(company=f"Abrechnung {i:02d} GmbH", invoice_email=f"rechnung{i}@partner.test")
        make_subscription(partner, article="CALLREC", monthly_price="44.75", term_start=month)
        make_subscription(partner, article="ADSYNC", monthly_price="16.58", term_start=month, billing_months=3)
        partners.append(partner)
    return partners, month


def _assert_billed_once(partners, month: date) -> None:
    invoices = list(Invoice.objects.filter(kind="invoice").order_by("number"))
    assert sorted(i.partner_id for i in invoices) == sorted(p.pk for p in partners)  # one each
    year = clock.today().year
    assert [i.number for i in invoices] == [f"RE-{year}-{n:06d}" for n in range(1, len(partners) + 1)]
    assert DocumentSequence.objects.get(prefix="RE", year=year).last_number == len(partners)
    assert BilledPeriod.objects.count() == 2 * len(partners)
    assert set(BilledPeriod.objects.values_list("period_start", flat=True)) == {month}
    for invoice in invoices:
        # 44,75 + 3 × 16,58 = 94,49 € net; VAT 17,9531 → 17,95 €; gross 112,44 €
        assert (str(invoice.net_total), str(invoice.gross_total)) == ("94.49", "112.44")
        assert InvoiceLine.objects.filter(invoice=invoice, billed_period__isnull=False).count() == 2
        assert invoice.pdf
    assert OutboxMessage.objects.filter(kind="invoice").count() == len(partners)


def _start(cmd, env, log) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


@pytest.fixture
def test_queue(monkeypatch, worker_tools):
    """The run queues its partner tasks onto a queue of this test's own, with the real broker."""
    queue = f"test-{uuid.uuid4().hex}"
    monkeypatch.setattr(
        invoicing,
        "_queue_partner",
        lambda pid, month: invoicing_partner_task.apply_async((pid, month.isoformat()), queue=queue),
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield queue
    app.conf.task_always_eager = eager
    worker_tools.forget_queue(queue)


def _log():
    log = tempfile.TemporaryFile(mode="w+")

    def output() -> str:
        log.flush()
        log.seek(0)
        return f"--- process output ---\n{log.read()[-20000:]}"

    return log, output


def _drain(queue: str, workers, output) -> None:
    """A heartbeat per worker queued last: once each ran, the partner tasks before them were taken."""
    notes = [f"invoicing drained {uuid.uuid4()}" for _ in workers]
    for note in notes:
        heartbeat.apply_async(kwargs={"note": note}, queue=queue)
    _wait_for(
        lambda: JobRun.objects.filter(name="heartbeat", summary__in=notes, ok=True).count() == len(notes),
        "the workers did not drain the queue",
        workers,
        output,
    )


@pytest.mark.worker
def test_two_runs_at_once_on_two_workers_bill_every_period_once(
    transactional_db, worker_tools, catalog, tmp_path, test_queue
):
    partners, month = _partners_with_subscriptions(8)
    env = worker_tools.env(MEDIA_ROOT=str(settings.MEDIA_ROOT), EMAIL_FILE_PATH=str(tmp_path / "mail"))
    log, output = _log()
    workers = []
    try:
        workers = [_start(worker_tools.command(test_queue), env, log) for _ in range(2)]
        # Two runs of the month at once: every partner is queued twice.
        runs = [threading.Thread(target=lambda: (invoicing_monthly.apply(), connections.close_all())) for _ in range(2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(timeout=60)
        assert JobRun.objects.filter(name="invoicing", ok=True).count() == 2
        _wait_for(lambda: Invoice.objects.count() == len(partners), "not every partner was billed", workers, output)
        _drain(test_queue, workers, output)
    finally:
        for proc in workers:
            worker_tools.stop(proc)
    _assert_billed_once(partners, month)
    assert invoicing.due_partner_ids(month=month) == []
    log.close()


def _hold_sequence_lock(year: int, release: threading.Event, held: threading.Event) -> None:
    """Hold the invoice sequence row (PostgreSQL) or SQLite's write lock until ``release``: a
    worker billing the next partner stops inside its transaction (PostgreSQL: after locking
    the partner and reading its periods; SQLite: at BEGIN IMMEDIATE)."""
    try:
        with transaction.atomic():
            DocumentSequence.objects.filter(prefix="RE", year=year).update(last_number=F("last_number"))
            held.set()
            release.wait(timeout=TIMEOUT)
    finally:
        connections.close_all()


def _worker_waits_on_lock() -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.worker
def test_worker_killed_mid_run_is_finished_by_the_catch_up_tick(
    transactional_db, worker_tools, catalog, tmp_path, test_queue
):
    partners, month = _partners_with_subscriptions(10)
    env = worker_tools.env(MEDIA_ROOT=str(settings.MEDIA_ROOT), EMAIL_FILE_PATH=str(tmp_path / "mail"))
    log, output = _log()
    first = second = None
    release, held = threading.Event(), threading.Event()
    holder = None
    try:
        # The run's first two partners are billed; the lock then stops the worker inside the
        # next partner's billing (deterministic: taken before the worker starts), and it is killed there.
        for partner in partners[:2]:
            invoicing.invoicing_bill_partner(partner_id=partner.pk, month=month)
        assert invoicing_monthly.apply().get() == len(partners) - 2  # the run queues the other eight
        holder = threading.Thread(target=_hold_sequence_lock, args=(clock.today().year, release, held))
        holder.start()
        assert held.wait(timeout=30)
        first = _start(worker_tools.command(test_queue), env, log)
        _wait_for(lambda: "invoicing_partner" in output(), "the worker took no partner task", [first], output)
        _wait_for(_worker_waits_on_lock, "the worker did not wait inside a partner", [first], output)
        time.sleep(0.5)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        release.set()
        holder.join(timeout=30)

        billed = Invoice.objects.count()
        assert billed == 2
        # No half-made invoice: each committed one is whole, the rest left nothing behind.
        assert BilledPeriod.objects.count() == 2 * billed
        assert InvoiceLine.objects.count() == 2 * billed
        if connection.vendor == "postgresql":  # the dead worker's transaction is rolled back
            _wait_for(lambda: not _worker_waits_on_lock(), "the dead worker's transaction stayed", [], output)

        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            # Redis: the killed worker never acknowledged its partner task (acks_late), so the
            # broker hands it to the next worker once the visibility timeout has passed (here
            # 2 s instead of production's 10 minutes) — the run finishes without the tick.
            assert invoicing_partner_task.acks_late and invoicing_partner_task.reject_on_worker_lost
            second = _start(worker_tools.command(test_queue), {**env, "CELERY_VISIBILITY_TIMEOUT": "2"}, log)
        else:
            # The filesystem broker deleted the message when the worker took it: the catch-up
            # tick (no staff action) queues the partners still due; a new worker bills them.
            assert invoicing_catch_up.apply().get() == len(partners) - billed
            second = _start(worker_tools.command(test_queue), env, log)
        _wait_for(lambda: Invoice.objects.count() == len(partners), "the catch-up did not finish", [second], output)
        _drain(test_queue, [second], output)
    finally:
        release.set()
        if holder is not None:
            holder.join(timeout=30)
        for proc in (first, second):
            if proc is not None:
                worker_tools.stop(proc)
    _assert_billed_once(partners, month)
    log.close()


@pytest.mark.worker
def test_two_run_invoicing_processes_at_once_bill_each_period_once(transactional_db, worker_tools, catalog, tmp_path):
    partners, month = _partners_with_subscriptions(12)
    # The outbox's wake-up messages go nowhere (the rows are what counts here).
    env = worker_tools.env(
        MEDIA_ROOT=str(settings.MEDIA_ROOT), EMAIL_FILE_PATH=str(tmp_path / "mail"), CELERY_BROKER_URL="memory://"
    )
    cmd = [sys.executable, "manage.py", "run_invoicing", "--month", f"{month:%Y-%m}"]
    logs = [tempfile.TemporaryFile(mode="w+") for _ in range(2)]
    procs = [_start(cmd, env, log) for log in logs]
    outputs = []
    for proc, log in zip(procs, logs, strict=True):
        proc.wait(timeout=TIMEOUT * 2)
        log.seek(0)
        outputs.append(log.read())
    assert [p.returncode for p in procs] == [0, 0], outputs
    counts = []
    for text in outputs:
        found = re.search(r"(\d+) Rechnungen, (\d+) Abrechnungszeiträume", text)
        counts.append((int(found.group(1)), int(found.group(2))) if found else (0, 0))
        assert found or "nichts mehr abzurechnen" in text, text
    assert sum(c[0] for c in counts) == len(partners)  # between them, each partner once
    assert sum(c[1] for c in counts) == 2 * len(partners)
    _assert_billed_once(partners, month)


@pytest.mark.worker
def test_two_run_invoicing_processes_at_once_bill_each_charge_once(transactional_db, worker_tools, catalog, tmp_path):
    """Issue 18: charges added before the month go on one "Rechnung über Nebenforderungen" per
    partner, right after its regular invoice, in its transaction — with two runs at once, each
    charge once and the RE numbers without a gap (6 partners → RE-…-000001 … 000012)."""
    from datetime import datetime, timedelta
    from datetime import time as day_time

    from django.utils import timezone

    from billing.models import Charge
    from billing.services.charges import charge_add

    partners, month = _partners_with_subscriptions(6)
    before = timezone.make_aware(datetime.combine(month, day_time(0, 0))) - timedelta(hours=1)
    for partner in partners:
        charge_add(
            partner=partner,
            kind=Charge.RETURN_FEE,
            amount="3.00",
            description="Rücklastschrift",
            dedup_key=f"r:{partner.pk}",
        )
    Charge.objects.update(created_at=before)  # added in the previous month
    env = worker_tools.env(
        MEDIA_ROOT=str(settings.MEDIA_ROOT), EMAIL_FILE_PATH=str(tmp_path / "mail"), CELERY_BROKER_URL="memory://"
    )
    cmd = [sys.executable, "manage.py", "run_invoicing", "--month", f"{month:%Y-%m}"]
    logs = [tempfile.TemporaryFile(mode="w+") for _ in range(2)]
    procs = [_start(cmd, env, log) for log in logs]
    for proc in procs:
        proc.wait(timeout=TIMEOUT * 2)
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read())
    assert [p.returncode for p in procs] == [0, 0], outputs
    year = clock.today().year
    invoices = list(Invoice.objects.order_by("number"))
    assert [i.number for i in invoices] == [f"RE-{year}-{n:06d}" for n in range(1, 13)]
    for partner in partners:
        mine = [i for i in invoices if i.partner_id == partner.pk]
        assert [(i.charges_only, str(i.gross_total)) for i in mine] == [(False, "112.44"), (True, "3.00")]
        assert int(mine[1].number[-6:]) == int(mine[0].number[-6:]) + 1  # right after, same transaction
    assert Charge.objects.filter(billed_on__charges_only=True).count() == 6
