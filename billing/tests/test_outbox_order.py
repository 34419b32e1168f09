"""ORD-2 in the outbox: an order's invoice e-mail goes out after its delivery notes — also
after an outage that left both unsent (worker down, broker messages lost), and while a
delivery note keeps failing the invoice waits."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from billing import services
from billing.tests.factories import make_order, make_partner
from licensing.models import DeliveryNote
from vendorportal import outbox
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)


@pytest.fixture
def order_rows(modules, clock, settings, tmp_path):
    """A confirmed order whose e-mails were never queued (the broker was down): two rows."""
    settings.MEDIA_ROOT = tmp_path / "media"
    clock.set(NOON)
    partner = make_partner(delivery_email="technik@muster.test", invoice_email="buchhaltung@muster.test")
    invoice = services.order_confirm(order=make_order(partner, ("CALLREC", "purchase", 0)))
    note_row = OutboxMessage.objects.get(kind="delivery-note")
    invoice_row = OutboxMessage.objects.get(kind="invoice")
    assert note_row.document == DeliveryNote.objects.get() and invoice_row.document == invoice
    return note_row, invoice_row


@pytest.fixture
def queued(monkeypatch):
    """What the outbox hands to the broker (the broker itself is down)."""
    calls: list[int] = []
    monkeypatch.setattr(outbox, "_queue_send", lambda pk, ticket=None: calls.append(pk))
    return calls


def sent_kinds() -> list[str]:
    return ["delivery-note" if m.subject.startswith("Lieferschein") else "invoice" for m in mail.outbox]


def test_the_invoice_row_is_written_to_go_out_after_the_delivery_note(order_rows):
    note_row, invoice_row = order_rows
    assert list(invoice_row.after.all()) == [note_row]
    assert not note_row.after.exists()


def test_after_an_outage_the_dispatch_sends_the_delivery_note_first_then_the_invoice(
    order_rows, queued, django_capture_on_commit_callbacks
):
    note_row, invoice_row = order_rows
    with django_capture_on_commit_callbacks(execute=True):
        result = outbox.outbox_dispatch_due()
    assert (result.queued, queued) == (1, [note_row.pk])  # the invoice is not queued yet
    # A wake-up for the invoice that arrives first (a lost one re-sent, a second worker) sends nothing.
    assert outbox.outbox_send(message_id=invoice_row.pk) is False
    invoice_row.refresh_from_db()
    assert (invoice_row.sent_at, invoice_row.attempts) == (None, 0)

    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.outbox_send(message_id=note_row.pk, ticket=OutboxMessage.objects.get(pk=note_row.pk).claimed_by)
    assert queued == [invoice_row.pk]  # the note's send wakes the invoice
    assert outbox.outbox_send(message_id=invoice_row.pk) is True
    assert sent_kinds() == ["delivery-note", "invoice"]
    note_row.refresh_from_db()
    invoice_row.refresh_from_db()
    assert note_row.sent_at <= invoice_row.sent_at


def test_a_failing_delivery_note_keeps_the_invoice_waiting(
    order_rows, queued, monkeypatch, clock, django_capture_on_commit_callbacks
):
    note_row, invoice_row = order_rows

    def dispatch():
        with django_capture_on_commit_callbacks(execute=True):
            outbox.outbox_dispatch_due()

    def smtp_down(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("connection closed")

    with monkeypatch.context() as patched:
        patched.setattr(mail.EmailMessage, "send", smtp_down)
        for minutes in (0, 1, 5, 21):  # the retries after 1, 4 and 16 minutes
            clock.set(NOON + timedelta(minutes=minutes))
            queued.clear()
            dispatch()
            assert queued == [note_row.pk], minutes
            assert (
                outbox.outbox_send(message_id=note_row.pk, ticket=OutboxMessage.objects.get(pk=note_row.pk).claimed_by)
                is False
            )
            assert outbox.outbox_send(message_id=invoice_row.pk) is False
    note_row.refresh_from_db()
    invoice_row.refresh_from_db()
    assert (note_row.attempts, note_row.sent_at) == (4, None)
    assert (invoice_row.attempts, invoice_row.sent_at, invoice_row.last_error) == (0, None, "")
    assert mail.outbox == []

    # The mail server is back: the next dispatch sends the note; the one after, the invoice.
    clock.set(NOON + timedelta(minutes=90))
    queued.clear()
    dispatch()
    assert queued == [note_row.pk]
    assert outbox.outbox_send(message_id=note_row.pk, ticket=OutboxMessage.objects.get(pk=note_row.pk).claimed_by)
    queued.clear()
    dispatch()
    assert queued == [invoice_row.pk]
    assert outbox.outbox_send(message_id=invoice_row.pk, ticket=OutboxMessage.objects.get(pk=invoice_row.pk).claimed_by)
    assert sent_kinds() == ["delivery-note", "invoice"]


def test_the_dependency_costs_the_dispatch_no_query(order_rows, queued, django_assert_num_queries):
    # candidates, the ticket UPDATE, the rows it ticketed, then the failing rows for staff
    with django_assert_num_queries(4):
        outbox.outbox_dispatch_due()


def test_staff_see_what_a_waiting_invoice_waits_for(order_rows, admin_client):
    note_row, invoice_row = order_rows
    page = admin_client.get(f"/admin/vendorportal/outboxmessage/{invoice_row.pk}/change/").content.decode()
    assert "Erst nach" in page and f"{note_row.dedup_key} (noch nicht gesendet)" in page
