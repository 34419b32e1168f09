"""The restore drill of docs/operations.md, in every CI pass: issue documents, back up with
``scripts/backup.sh``, restore with ``scripts/restore.sh`` into a fresh database and fresh
folders, and ``check_documents`` there passes; with one restored PDF deleted it fails and
names it.

It runs against whatever the test process is configured with: the SQLite test database (the
backup is SQLite's online backup) or, in CI's second pass, PostgreSQL (pg_dump / pg_restore
into a new database on the same server).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from billing import services
from billing.models import Invoice, VatRate
from billing.tests.factories import make_order, make_partner
from licensing.models import DeliveryNote
from vendorportal.celery import app

pytestmark = pytest.mark.drill


def _run(cmd: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, cwd=settings.BASE_DIR, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def fresh_database(transactional_db, worker_tools, tmp_path):
    """DATABASE_URL of a new, empty database of the kind the tests run on; dropped afterwards."""
    if connection.vendor == "sqlite":
        yield "sqlite:///" + str(tmp_path / "restored" / "db.sqlite3")
        return
    name = f"drill_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    base, _sep, query = worker_tools.database_url().partition("?")
    yield base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def issued_documents(transactional_db, catalog, modules, clock):
    """An order confirmed and its e-mails sent: the invoice's and the delivery note's PDF stored."""
    if not VatRate.objects.filter(category="S").exists():  # flushed by an earlier transactional test
        VatRate.objects.create(category="S", percent="19.00", valid_from=date(2007, 1, 1))
    clock.set(date(2026, 11, 21))
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the e-mails (and the delivery note's PDF) now, in-process
    try:
        invoice = services.order_confirm(order=make_order(make_partner(), ("CALLREC", "purchase", 0)))
    finally:
        app.conf.task_always_eager = eager
    invoice = Invoice.objects.get(pk=invoice.pk)
    note = DeliveryNote.objects.get()
    assert invoice.pdf and invoice.pdf_sha256 and note.pdf and note.pdf_sha256
    return invoice, note


def test_backup_restore_into_a_fresh_database_and_folder_then_check_documents(
    issued_documents, fresh_database, worker_tools, tmp_path
):
    invoice, note = issued_documents
    source = {
        **os.environ,
        "PY": sys.executable,
        "DATABASE_URL": worker_tools.database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SUPPORT_ATTACHMENTS_ROOT": str(tmp_path / "attachments"),
        "LICENSE_SIGNING_KEY_FILE": str(settings.LICENSE_SIGNING_KEY_FILE),
        "LICENSE_PUBLIC_KEYS_DIR": str(settings.LICENSE_PUBLIC_KEYS_DIR),
    }
    source.pop("SQLITE_TEST_NAME", None)
    backup = tmp_path / "backup"
    done = _run(["bash", "scripts/backup.sh", str(backup)], source)
    assert done.returncode == 0, done.stdout + done.stderr
    dump = "db.sqlite3" if connection.vendor == "sqlite" else "db.dump"
    assert {p.name for p in backup.iterdir()} == {
        dump,
        "documents.tar.gz",
        "attachments.tar.gz",
        "keys.tar.gz",
        "SHA256SUMS",
    }

    restored_media = tmp_path / "restored" / "media"
    target = {
        **source,
        "DATABASE_URL": fresh_database,
        "MEDIA_ROOT": str(restored_media),
        "SUPPORT_ATTACHMENTS_ROOT": str(tmp_path / "restored" / "attachments"),
        "LICENSE_SIGNING_KEY_FILE": str(tmp_path / "restored" / "keys" / "signing.pem"),
        "LICENSE_PUBLIC_KEYS_DIR": str(tmp_path / "restored" / "keys" / "public"),
    }
    done = _run(["bash", "scripts/restore.sh", str(backup)], target)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 Dokumente geprüft: alle vorhanden und unverändert." in done.stdout
    assert (tmp_path / "restored" / "keys" / "signing.pem").read_bytes() == Path(
        settings.LICENSE_SIGNING_KEY_FILE
    ).read_bytes()

    # A restore that lost one PDF is caught.
    (restored_media / note.pdf.name).unlink()
    done = _run([sys.executable, "manage.py", "check_documents"], target)
    assert done.returncode == 1
    assert f"Lieferschein {note.number}: Datei fehlt" in done.stderr
    assert invoice.number not in done.stderr

    # The backup refuses to overwrite, the restore to write into a folder that holds files.
    assert _run(["bash", "scripts/backup.sh", str(backup)], source).returncode == 2
    refused = _run(["bash", "scripts/restore.sh", str(backup)], target)
    assert refused.returncode == 2 and "is not empty" in refused.stderr
