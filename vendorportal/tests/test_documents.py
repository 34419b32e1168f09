"""Issued documents prove themselves (GoBD): the SHA-256 stored with every PDF, the
``check_documents`` command and the daily job, the German page of a download whose file is
missing or changed, and the staff alert on the admin index."""

from __future__ import annotations

import hashlib
import importlib
import io
from datetime import date
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from billing import services
from billing.models import Invoice
from billing.tests.factories import make_order, make_partner
from licensing.models import DeliveryNote
from licensing.services.delivery import delivery_note_render
from licensing.tests.factories import UserFactory
from vendorportal import roles
from vendorportal.models import JobRun
from vendorportal.parties.models import PartnerUser
from vendorportal.parties.tests.factories import PartnerUserFactory
from vendorportal.tasks import documents_check_daily

pytestmark = pytest.mark.django_db


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def issued(modules, clock, settings, tmp_path):
    """An order confirmed: its invoice and its delivery note, both PDFs stored."""
    settings.MEDIA_ROOT = tmp_path / "media"
    clock.set(date(2026, 11, 21))
    partner = make_partner()
    invoice = services.order_confirm(order=make_order(partner, ("CALLREC", "purchase", 0)))
    invoice = services.invoice_pdf_ensure(invoice)
    note = DeliveryNote.objects.get()
    delivery_note_render(note=note)
    note.refresh_from_db()
    return partner, invoice, note


def run_check() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("check_documents", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_each_stored_pdf_carries_the_sha256_of_its_file(issued):
    _partner, invoice, note = issued
    assert invoice.pdf_sha256 == file_sha256(Path(invoice.pdf.path))
    assert note.pdf_sha256 == file_sha256(Path(note.pdf.path))
    assert len(invoice.pdf_sha256) == 64 and invoice.pdf_sha256 != note.pdf_sha256


def test_check_passes_then_names_a_deleted_and_an_altered_pdf(issued):
    _partner, invoice, note = issued
    code, out, _err = run_check()
    assert code == 0
    assert "2 Dokumente geprüft: alle vorhanden und unverändert." in out

    Path(note.pdf.path).unlink()
    data = Path(invoice.pdf.path).read_bytes()
    Path(invoice.pdf.path).write_bytes(data.replace(b"%%EOF", b"%%EOF\n% geaendert", 1))
    code, _out, err = run_check()
    assert code == 1
    assert "2 Dokumente geprüft, 2 fehlen oder wurden verändert:" in err
    assert f"Lieferschein {note.number}: Datei fehlt (delivery-notes/2026/{note.number}.pdf)" in err
    assert f"Rechnung {invoice.number}: Datei wurde verändert (Prüfsumme stimmt nicht)" in err


def test_a_pdf_not_rendered_yet_is_not_a_problem(modules, clock, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    clock.set(date(2026, 11, 21))
    services.order_confirm(order=make_order(make_partner(), ("CALLREC", "purchase", 0)))
    # The test's transaction never commits: neither PDF was rendered.
    assert not Invoice.objects.get().pdf and not DeliveryNote.objects.get().pdf
    code, out, _err = run_check()
    assert (code, out.strip()) == (0, "0 Dokumente geprüft: alle vorhanden und unverändert.")


# --- downloads ---------------------------------------------------------------------------------


@pytest.fixture
def partner_client(client, issued):
    partner = issued[0]
    client.force_login(PartnerUserFactory(partner=partner, role=PartnerUser.ADMIN).user)
    return client


def test_portal_downloads_serve_the_file_while_it_is_intact(partner_client, issued):
    _partner, invoice, note = issued
    response = partner_client.get(reverse("portal:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == Path(invoice.pdf.path).read_bytes()
    response = partner_client.get(reverse("portal:delivery_note_pdf", args=[note.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_portal_download_of_a_missing_file_is_a_german_page_not_a_500(partner_client, issued, caplog):
    _partner, invoice, note = issued
    Path(invoice.pdf.path).unlink()
    Path(note.pdf.path).unlink()
    for url in (
        reverse("portal:invoice_pdf", args=[invoice.pk]),
        reverse("portal:delivery_note_pdf", args=[note.pk]),
        reverse("portal:order_delivery_note", args=[invoice.order_id, note.pk]),
    ):
        response = partner_client.get(url)
        page = response.content.decode()
        assert response.status_code == 404, url
        assert "Dokument nicht verfügbar" in page and "ist derzeit nicht verfügbar" in page, url
    assert (
        f"Die PDF-Datei zu Rechnung {invoice.number} ist derzeit nicht verfügbar"
        in partner_client.get(reverse("portal:invoice_pdf", args=[invoice.pk])).content.decode()
    )
    assert "the stored file is missing" in caplog.text


def test_portal_download_of_a_changed_file_is_refused(partner_client, issued):
    _partner, invoice, _note = issued
    Path(invoice.pdf.path).write_bytes(b"%PDF-1.7 not the issued document")
    response = partner_client.get(reverse("portal:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 404
    assert "stimmt nicht mit dem ausgestellten Dokument überein" in response.content.decode()
    assert b"not the issued document" not in response.content


def staff_login(client, group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


def test_admin_download_of_a_missing_file_is_an_admin_page_for_every_staff_group(client, issued):
    _partner, invoice, note = issued
    Path(invoice.pdf.path).unlink()
    Path(note.pdf.path).unlink()
    # One rendered order for all three groups (rendering is the slow part).
    for group_name in (roles.SALES, roles.FINANCE, roles.SUPPORT):
        staff_login(client, group_name)
        for url in (
            reverse("admin:billing_invoice_pdf", args=[invoice.pk]),
            reverse("admin:licensing_deliverynote_pdf", args=[note.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 404, (group_name, url)
            assert "ist derzeit nicht verfügbar" in response.content.decode()
            assert "Zur Übersicht der Verwaltung" in response.content.decode()


# --- the daily job and the admin alert ------------------------------------------------------------


def admin_index(client, group_name) -> str:
    staff_login(client, group_name)
    return client.get(reverse("admin:index")).content.decode()


GROUPS = (roles.SALES, roles.FINANCE, roles.SUPPORT)


def test_daily_job_alerts_every_staff_group_on_the_admin_index_until_a_clean_check(client, issued):
    _partner, invoice, note = issued
    assert documents_check_daily.apply().get() == 0
    assert all('id="documents-check-alert"' not in admin_index(client, g) for g in GROUPS)

    path = Path(note.pdf.path)
    kept = path.read_bytes()
    path.unlink()
    assert documents_check_daily.apply().get() == 1
    run = JobRun.objects.filter(name="documents-check").order_by("-pk").first()
    assert not run.ok and f"Lieferschein {note.number}: Datei fehlt" in run.summary
    for group_name in GROUPS:
        page = admin_index(client, group_name)
        assert 'id="documents-check-alert"' in page, group_name
        assert "2 Dokumente geprüft, 1 fehlt oder wurde verändert" in page
        assert f"Lieferschein {note.number}: Datei fehlt" in page

    path.write_bytes(kept)  # restored from the backup
    assert documents_check_daily.apply().get() == 0
    assert all('id="documents-check-alert"' not in admin_index(client, g) for g in GROUPS)


def test_beat_runs_the_document_check_daily():
    from vendorportal.celery import app

    entry = app.conf.beat_schedule["documents-check-daily"]
    assert entry["task"] == "vendorportal.tasks.documents_check_daily"
    assert entry["schedule"].hour == {4} and len(entry["schedule"].day_of_month) == 31


# --- the data migration ---------------------------------------------------------------------------


def test_migration_fills_the_hash_of_existing_files_and_leaves_missing_ones_empty(issued):
    _partner, invoice, note = issued
    Invoice._base_manager.filter(pk=invoice.pk).update(pdf_sha256="")
    DeliveryNote.objects.filter(pk=note.pk).update(pdf_sha256="")
    Path(note.pdf.path).unlink()
    billing_migration = importlib.import_module("billing.migrations.0012_invoice_financereport_pdf_sha256")
    licensing_migration = importlib.import_module("licensing.migrations.0011_deliverynote_swpreport_pdf_sha256")
    billing_migration.fill_hashes(apps, None)
    licensing_migration.fill_hashes(apps, None)
    invoice.refresh_from_db()
    note.refresh_from_db()
    assert invoice.pdf_sha256 == file_sha256(Path(invoice.pdf.path))
    assert note.pdf_sha256 == ""
    code, _out, err = run_check()
    assert code == 1 and f"Lieferschein {note.number}: Datei fehlt" in err


def test_the_stored_hash_is_never_replaced(issued):
    from billing.exceptions import InvoiceImmutable

    _partner, invoice, _note = issued
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.filter(pk=invoice.pk).update(pdf_sha256="0" * 64)
    invoice.pdf_sha256 = "0" * 64
    with pytest.raises(InvoiceImmutable):
        invoice.save()
