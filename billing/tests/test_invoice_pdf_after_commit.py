"""Invoice PDFs are rendered after the issuing transaction (issue 10 budget, issue 9 INV-2):
order invoices, credit notes and the monthly run commit the invoice, its lines, billed
periods and e-mail without rendering; the PDF is rendered right after commit, or — when the
process died in between — by whatever reads it first (the outbox worker sending the e-mail, a
download, the export). Every reader gets the same stored bytes; a document is rendered once.

Amounts as in test_invoices.py: Call Recording 81–150 4.800,00 € − 20 % = 3.840,00 €, Intercom
169,00 € − 20 % = 135,20 €; net 3.975,20 €, VAT 755,29 €, gross 4.730,49 €.
"""

from __future__ import annotations

import io
import threading
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse
from pypdf import PdfReader

from billing import services
from billing.models import Invoice, VatRate
from billing.services import invoices as invoices_service
from billing.services import invoicing
from billing.tests.factories import make_order, make_partner, make_subscription
from licensing.tests.factories import UserFactory
from vendorportal import roles
from vendorportal.models import OutboxMessage
from vendorportal.parties.models import PartnerUser
from vendorportal.parties.tests.factories import PartnerUserFactory

TODAY = date(2026, 11, 21)
DEC = date(2026, 12, 1)


@pytest.fixture
def renders(monkeypatch):
    """The numbers of the documents whose PDF was rendered, in order."""
    calls = []
    real = services._render_invoice_pdf

    def counting(doc):
        calls.append(doc.number)
        return real(doc)

    # Where invoice_pdf_ensure looks it up (the split moved it into services.invoices).
    monkeypatch.setattr(invoices_service, "_render_invoice_pdf", counting)
    return calls


@pytest.fixture
def order(db, modules, clock):
    clock.set(TODAY)
    return make_order(make_partner(), ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))


def stored_bytes(invoice) -> bytes:
    invoice.refresh_from_db()
    with invoice.pdf.open("rb") as stored:
        return stored.read()


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def media_pdfs(settings) -> list[str]:
    return sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*.pdf"))


# --- rendered after commit, not inside the issuing transaction ------------------------------------


@pytest.mark.django_db
def test_order_invoice_is_committed_without_pdf_and_rendered_right_after_commit(
    order, renders, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invoice = services.order_confirm(order=order)
        # Still inside the issuing transaction: nothing rendered, no PDF stored.
        assert renders == [] and not Invoice.objects.get(pk=invoice.pk).pdf
    assert renders == ["RE-2026-000001"]
    assert len(callbacks) >= 2  # the PDF, then the e-mail's wake-up
    content = stored_bytes(invoice)
    assert "RE-2026-000001" in pdf_text(content) and "4.730,49 €" in pdf_text(content)


@pytest.mark.django_db
def test_credit_note_is_rendered_after_commit(order, renders, django_capture_on_commit_callbacks):
    invoice = services.order_confirm(order=order)  # its PDF left for later (callbacks not run)
    with django_capture_on_commit_callbacks(execute=True):
        note = services.credit_note_issue(invoice=invoice, reason="Storno")
        assert renders == [] and not Invoice.objects.get(pk=note.pk).pdf
    assert renders == ["GS-2026-000001"]
    text = pdf_text(stored_bytes(note))
    assert "GS-2026-000001" in text and "RE-2026-000001" in text and "4.730,49 €" in text
    assert not Invoice.objects.get(pk=invoice.pk).pdf  # the invoice's own PDF is still unrendered


@pytest.mark.django_db
def test_run_commits_the_partners_invoice_without_pdf_and_renders_after(
    clock, catalog, renders, django_capture_on_commit_callbacks
):
    clock.set(DEC)
    partner = make_partner(company="Muster Kommunikation GmbH", invoice_email="buchhaltung@muster.test")
    make_subscription(partner, article="CALLREC", monthly_price="44.75", term_start=DEC)
    with django_capture_on_commit_callbacks(execute=True):
        bill = invoicing.invoicing_bill_partner(partner_id=partner.pk, month=DEC)
        assert renders == [] and not Invoice.objects.get(pk=bill.invoice.pk).pdf
    assert renders == ["RE-2026-000001"]
    # 44,75 € net, VAT 8,5025 → 8,50 €, gross 53,25 €.
    assert "53,25 €" in pdf_text(stored_bytes(bill.invoice))


@pytest.mark.django_db
def test_a_failing_render_after_commit_keeps_the_invoice_and_the_send_renders_it(
    order, monkeypatch, django_capture_on_commit_callbacks, send_outbox, mailoutbox
):
    real = services._render_invoice_pdf

    def broken(doc):
        raise OSError("Platte voll")

    monkeypatch.setattr(invoices_service, "_render_invoice_pdf", broken)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = services.order_confirm(order=order)
    assert Invoice.objects.filter(pk=invoice.pk).exists() and not Invoice.objects.get(pk=invoice.pk).pdf
    monkeypatch.setattr(invoices_service, "_render_invoice_pdf", real)
    assert send_outbox() == 2  # delivery note and invoice
    (mail,) = [m for m in mailoutbox if m.subject.startswith("Rechnung")]
    assert mail.attachments[0][0] == "RE-2026-000001.pdf" and mail.attachments[0][1] == stored_bytes(invoice)


# --- a process killed between commit and render loses nothing -------------------------------------


@pytest.mark.django_db
def test_killed_between_commit_and_render_the_outbox_renders_and_sends_once(
    order, renders, send_outbox, mailoutbox, settings
):
    # No on_commit callback runs here: as if the process died right after commit.
    invoice = services.order_confirm(order=order)
    assert not Invoice.objects.get(pk=invoice.pk).pdf
    assert OutboxMessage.objects.filter(kind="invoice", document_id=invoice.pk).count() == 1
    assert send_outbox() == 2
    assert renders == ["RE-2026-000001"]
    (mail,) = [m for m in mailoutbox if m.subject.startswith("Rechnung")]
    content = stored_bytes(invoice)
    assert mail.attachments == [("RE-2026-000001.pdf", content, "application/pdf")]
    assert media_pdfs(settings).count("RE-2026-000001.pdf") == 1
    # The resend attaches the same stored file; nothing is rendered again.
    services.invoice_resend(invoice=invoice)
    assert send_outbox() == 1
    assert [m.attachments[0][1] for m in mailoutbox if m.subject.startswith("Rechnung")] == [content, content]
    assert renders == ["RE-2026-000001"]


@pytest.mark.django_db
def test_run_killed_after_commit_is_rendered_by_the_send(clock, catalog, renders, send_outbox, mailoutbox):
    clock.set(DEC)
    partner = make_partner(company="Muster Kommunikation GmbH", invoice_email="buchhaltung@muster.test")
    make_subscription(partner, article="CALLREC", monthly_price="44.75", term_start=DEC)
    bill = invoicing.invoicing_bill_partner(partner_id=partner.pk, month=DEC)  # callbacks never run
    assert renders == [] and not Invoice.objects.get(pk=bill.invoice.pk).pdf
    assert send_outbox() == 1
    (mail,) = mailoutbox
    assert mail.to == ["buchhaltung@muster.test"] and mail.attachments[0][1] == stored_bytes(bill.invoice)
    assert renders == ["RE-2026-000001"]


# --- every reader renders a missing PDF once, then returns the stored bytes -----------------------


@pytest.mark.django_db
def test_portal_download_renders_a_missing_pdf_once_and_is_byte_identical_after(client, order, renders):
    invoice = services.order_confirm(order=order)
    login = PartnerUserFactory(partner=invoice.partner, role=PartnerUser.MEMBER)
    client.force_login(login.user)
    url = reverse("portal:invoice_pdf", args=[invoice.pk])
    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    first_bytes = b"".join(first.streaming_content)
    second_bytes = b"".join(client.get(url).streaming_content)
    assert first_bytes == second_bytes == stored_bytes(invoice)
    assert renders == ["RE-2026-000001"]
    assert "4.730,49 €" in pdf_text(first_bytes)


@pytest.mark.django_db
@pytest.mark.parametrize("group_name", [roles.SALES, roles.FINANCE, roles.SUPPORT])
def test_admin_download_renders_a_missing_pdf_once_for_every_staff_group(client, order, renders, group_name):
    invoice = services.order_confirm(order=order)
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    changelist = client.get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert reverse("admin:billing_invoice_pdf", args=[invoice.pk]) in changelist  # the link is there before
    url = reverse("admin:billing_invoice_pdf", args=[invoice.pk])
    first = b"".join(client.get(url).streaming_content)
    second = b"".join(client.get(url).streaming_content)
    assert first == second == stored_bytes(invoice) and renders == ["RE-2026-000001"]


@pytest.mark.django_db
def test_export_renders_missing_pdfs_and_copies_the_stored_files(order, renders, tmp_path):
    invoice = services.order_confirm(order=order)
    note = services.credit_note_issue(invoice=invoice, reason="Storno")
    out = tmp_path / "export"
    call_command("export_invoices", month="2026-11", out=str(out), stdout=io.StringIO())
    assert sorted(p.name for p in out.iterdir()) == ["GS-2026-000001.pdf", "RE-2026-000001.pdf", "index.csv"]
    assert (out / "RE-2026-000001.pdf").read_bytes() == stored_bytes(invoice)
    assert (out / "GS-2026-000001.pdf").read_bytes() == stored_bytes(note)
    assert sorted(renders) == ["GS-2026-000001", "RE-2026-000001"]
    # A second export of the month copies the same files, renders nothing.
    again = tmp_path / "again"
    call_command("export_invoices", month="2026-11", out=str(again), stdout=io.StringIO())
    assert (again / "RE-2026-000001.pdf").read_bytes() == (out / "RE-2026-000001.pdf").read_bytes()
    assert len(renders) == 2


@pytest.mark.django_db
def test_ensure_is_idempotent_and_never_replaces_the_stored_pdf(order, renders, settings):
    invoice = services.order_confirm(order=order)
    first = services.invoice_pdf_ensure(invoice)
    name = first.pdf.name
    # A stale in-memory copy without the PDF finds the stored one, renders nothing.
    stale = Invoice.objects.get(pk=invoice.pk)
    stale.pdf = ""
    again = services.invoice_pdf_ensure(stale)
    assert again.pdf.name == name == "invoices/2026/RE-2026-000001.pdf"
    assert renders == ["RE-2026-000001"] and media_pdfs(settings) == ["RE-2026-000001.pdf"]


# --- two processes at once: one PDF -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_readers_at_once_store_one_pdf_and_both_get_it(modules, clock, monkeypatch, settings):
    """Two threads (own connections) ask for the PDF of the same unrendered invoice at once.
    PostgreSQL: the row lock makes the second wait for the first's PDF — rendered once.
    SQLite: both may render (outside the write lock), one stores; both return the stored bytes."""
    clock.set(TODAY)
    if not VatRate.objects.filter(category="S").exists():  # flushed by an earlier transactional test
        VatRate.objects.create(category="S", percent="19.00", valid_from=date(2007, 1, 1))
    # The issuing process "dies" after commit: its on_commit render never runs.
    monkeypatch.setattr(invoices_service, "_pdf_queue", lambda invoice, render_pdf=True: None)
    invoice = services.order_confirm(
        order=make_order(make_partner(), ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))
    )
    assert not Invoice.objects.get(pk=invoice.pk).pdf
    renders = []
    real = services._render_invoice_pdf
    gate = threading.Barrier(2, timeout=30)

    def counting(doc):
        renders.append(doc.number)
        return real(doc)

    # Where invoice_pdf_ensure looks it up (the split moved it into services.invoices).
    monkeypatch.setattr(invoices_service, "_render_invoice_pdf", counting)
    results, errors = [None, None], []

    def read(index):
        try:
            gate.wait()
            results[index] = services.invoice_pdf_bytes(Invoice.objects.get(pk=invoice.pk))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert results[0] == results[1] == stored_bytes(invoice)
    assert media_pdfs(settings) == ["RE-2026-000001.pdf"]
    if connection.vendor == "postgresql":
        assert renders == ["RE-2026-000001"]
    else:
        assert 1 <= len(renders) <= 2
