"""The outbox (STYLE 13): write once, claim once, send once, recover what a dead worker left.

The kind "test-note" stands for any document e-mail; its attachment is built by
:func:`attachment` below, as a delivery note's PDF is by the licensing area.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from licensing.tests.factories import UserFactory
from vendorportal import outbox
from vendorportal.celery import app
from vendorportal.models import JobRun, OutboxMessage
from vendorportal.outbox import (
    OutboxError,
    outbox_claim,
    outbox_dispatch_due,
    outbox_enqueue,
    outbox_resend,
    outbox_send,
    register_kind,
    retry_delay,
)
from vendorportal.tasks import outbox_dispatch

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SENT_HOOK_CALLS: list[int] = []


def attachment(message):
    return [(f"beleg-{message.pk}.txt", b"Beleg", "text/plain")]


def record_sent(message):
    SENT_HOOK_CALLS.append(message.pk)


def broken_attachment(message):
    raise FileNotFoundError("beleg.pdf fehlt")


@pytest.fixture(autouse=True)
def kinds():
    register_kind("test-note", attachments=f"{__name__}.attachment", on_sent=f"{__name__}.record_sent")
    register_kind("test-broken", attachments=f"{__name__}.broken_attachment")
    SENT_HOOK_CALLS.clear()
    yield
    outbox._KINDS.pop("test-note")
    outbox._KINDS.pop("test-broken")


@pytest.fixture
def queued(monkeypatch):
    """The task messages the outbox sends to the broker: (row id, ticket)."""
    calls = []
    monkeypatch.setattr(outbox, "_queue_send", lambda pk, ticket=None: calls.append((pk, ticket)))
    return calls


def enqueue(key="test-note:1:initial", kind="test-note", to=("kunde@example.test",)):
    with transaction.atomic():
        return outbox_enqueue(kind=kind, dedup_key=key, recipients=list(to), subject="Beleg 1", body="Guten Tag")


# --- enqueue ---------------------------------------------------------------------------


def test_same_message_twice_is_one_row_and_one_task(clock, queued, django_capture_on_commit_callbacks):
    clock.set(T0)
    with django_capture_on_commit_callbacks(execute=True):
        first = enqueue()
        second = enqueue()
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1
    assert queued == [(first.pk, None)]
    assert (first.due_at, first.created_at, first.attempts, first.sent_at) == (T0, T0, 0, None)


def test_rolled_back_document_leaves_no_row_and_no_task(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ZeroDivisionError):
            with transaction.atomic():
                outbox_enqueue(kind="test-note", dedup_key="k", recipients=["a@example.test"], subject="s", body="b")
                raise ZeroDivisionError("the document's transaction fails after the e-mail was written")
    assert OutboxMessage.objects.count() == 0
    assert queued == []


def test_an_unreachable_broker_does_not_fail_the_committed_document(monkeypatch, django_capture_on_commit_callbacks):
    # The broker is down when the document commits: the request must not fail (the row is
    # committed and stays due); the periodic dispatch sends it later.
    from vendorportal import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(tasks.outbox_send, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue()
    message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 0
    assert list(OutboxMessage.objects.filter(sent_at__isnull=True)) == [message]


def test_enqueue_outside_a_transaction_is_a_programming_error(transactional_db):
    with pytest.raises(RuntimeError):
        outbox_enqueue(kind="test-note", dedup_key="k", recipients=["a@example.test"], subject="s", body="b")


@pytest.mark.parametrize(
    "to, message",
    [
        ([], "Die E-Mail hat keinen Empfänger."),
        (["  "], "Die E-Mail hat keinen Empfänger."),
        (["kein-at.test"], "„kein-at.test“ ist keine gültige E-Mail-Adresse."),
    ],
)
def test_bad_recipients_are_refused_in_german(to, message):
    with pytest.raises(OutboxError) as refused:
        enqueue(to=to)
    assert refused.value.message == message
    assert OutboxMessage.objects.count() == 0


def test_kind_that_composes_no_text_needs_subject_and_body():
    with pytest.raises(ValueError), transaction.atomic():
        outbox_enqueue(kind="test-note", dedup_key="k", recipients=["a@example.test"], subject="", body="Text")


def test_unknown_kind_fails_when_written_not_later_in_a_worker():
    with pytest.raises(LookupError):
        enqueue(kind="tippfehler")


def test_a_batch_is_written_in_three_queries_and_queued_once(clock, queued, django_capture_on_commit_callbacks):
    clock.set(T0)
    drafts = [
        outbox.OutboxDraft(
            dedup_key=f"test-note:{i}", recipients=[f"p{i}@example.test"], subject=f"Beleg {i}", body="Text"
        )
        for i in range(25)
    ]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            rows = outbox.outbox_enqueue_many(kind="test-note", drafts=drafts)
    assert len(queries.captured_queries) == 3  # existing keys, one INSERT, the rows
    assert [r.subject for r in rows] == [f"Beleg {i}" for i in range(25)]
    assert sorted(pk for pk, _ticket in queued) == sorted(r.pk for r in rows)
    # The same batch again (a re-run) plus one new e-mail: one row more, one wake-up more.
    more = [
        *drafts,
        outbox.OutboxDraft(dedup_key="test-note:new", recipients=["neu@example.test"], subject="Neu", body="Text"),
    ]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        again = outbox.outbox_enqueue_many(kind="test-note", drafts=more)
    assert [r.pk for r in again[:25]] == [r.pk for r in rows]
    assert OutboxMessage.objects.count() == 26 and len(queued) == 26


def test_a_batch_with_a_bad_address_writes_nothing():
    drafts = [
        outbox.OutboxDraft(dedup_key="a", recipients=["gut@example.test"], subject="s", body="b"),
        outbox.OutboxDraft(dedup_key="b", recipients=["kaputt"], subject="s", body="b"),
    ]
    with pytest.raises(OutboxError, match="„kaputt“ ist keine gültige E-Mail-Adresse."), transaction.atomic():
        outbox.outbox_enqueue_many(kind="test-note", drafts=drafts)
    assert OutboxMessage.objects.count() == 0


def test_kinds_show_their_german_label_or_else_their_name():
    assert outbox.kind_label("delivery-note") == "Lieferschein"
    assert outbox.kind_label("swp-notices") == "Softwarepflege-Hinweise"
    assert outbox.kind_label("swp-report") == "Softwarepflege-Bericht"
    assert outbox.kind_label("test-note") == "test-note"  # registered without a label
    assert outbox.kind_label("unbekannt") == "unbekannt"
    labels = dict(outbox.registered_kinds())
    assert labels["portal-invitation"] == "Einladung zum Partnerportal"
    assert labels["portal-password-reset"] == "Passwort zurücksetzen"


# --- claim and send ----------------------------------------------------------------------


def test_sends_with_attachment_marks_sent_and_calls_the_hook_once(clock, queued, mailoutbox):
    clock.set(T0)
    row = enqueue()
    clock.set(T0 + timedelta(seconds=3))

    assert outbox_send(message_id=row.pk) is True
    assert outbox_send(message_id=row.pk) is False  # a second copy of the task: nothing

    [mail] = mailoutbox
    assert (mail.to, mail.subject, mail.body) == (["kunde@example.test"], "Beleg 1", "Guten Tag")
    assert mail.attachments == [(f"beleg-{row.pk}.txt", "Beleg", "text/plain")]
    row.refresh_from_db()
    assert (row.sent_at, row.attempts, row.claimed_by, row.claimed_until) == (T0 + timedelta(seconds=3), 1, "", None)
    assert SENT_HOOK_CALLS == [row.pk]


def test_only_one_of_two_workers_claims_a_row(clock, queued, settings):
    settings.OUTBOX_CLAIM_SECONDS = 600
    clock.set(T0)
    row = enqueue()
    first = outbox_claim(message_id=row.pk)
    second = outbox_claim(message_id=row.pk)
    assert first and second is None
    # The first worker dies; 10 minutes later its claim has run out and the row may be taken over.
    clock.set(T0 + timedelta(minutes=10))
    assert outbox_claim(message_id=row.pk) is None  # exactly at the end it still holds
    clock.set(T0 + timedelta(minutes=10, seconds=1))
    assert outbox_claim(message_id=row.pk)
    row.refresh_from_db()
    assert row.attempts == 2  # the dead worker's try counts


@pytest.mark.parametrize("attempts, minutes", [(1, 1), (2, 4), (3, 16), (4, 64), (5, 256), (6, 360), (20, 360)])
def test_retry_delay_grows_to_six_hours(attempts, minutes):
    assert retry_delay(attempts) == timedelta(minutes=minutes)


def test_failed_send_records_the_error_and_is_due_again_later(clock, queued, mailoutbox):
    clock.set(T0)
    row = enqueue(kind="test-broken")
    for attempt, minutes in [(1, 1), (2, 4), (3, 16)]:
        assert outbox_send(message_id=row.pk) is False
        row.refresh_from_db()
        assert row.attempts == attempt
        assert row.last_error == "FileNotFoundError: beleg.pdf fehlt"
        assert row.due_at == clock_now() + timedelta(minutes=minutes)
        assert outbox_send(message_id=row.pk) is False and OutboxMessage.objects.get().attempts == attempt  # not due
        clock.set(row.due_at)
    assert mailoutbox == []


def clock_now():
    from vendorportal import clock

    return clock.now()


# --- the periodic job --------------------------------------------------------------------


def test_job_queues_what_is_due_and_unsent_once(clock, queued, settings, django_capture_on_commit_callbacks):
    settings.OUTBOX_CLAIM_SECONDS = 600
    clock.set(T0)
    lost = enqueue("lost")  # its broker message was lost
    dead = enqueue("dead")  # claimed by a worker that was killed
    outbox_claim(message_id=dead.pk)
    busy = enqueue("busy")  # a worker is sending it right now
    sent = enqueue("sent")
    waiting = enqueue("waiting", kind="test-broken")  # just failed, due again in a minute
    clock.set(T0 + timedelta(minutes=5))
    outbox_claim(message_id=busy.pk)
    clock.set(T0 + timedelta(minutes=10, seconds=1))  # the dead worker's claim has run out
    assert outbox_send(message_id=sent.pk) and not outbox_send(message_id=waiting.pk)
    queued.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = outbox_dispatch_due()

    assert result.queued == 2
    assert sorted(pk for pk, _ticket in queued) == sorted([lost.pk, dead.pk])
    tickets = {ticket for _pk, ticket in queued}
    assert len(tickets) == 1 and tickets.pop().startswith("queued:")
    # Two minutes later: "lost" and "dead" are not queued again while their task may still
    # come; "waiting" is due again (since 09:11:01); "busy" is still its worker's (until 09:15).
    queued.clear()
    clock.set(T0 + timedelta(minutes=12))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_dispatch_due().queued == 1
    assert [pk for pk, _ticket in queued] == [waiting.pk]


def test_queued_ticket_lets_its_task_send_and_a_stale_copy_does_nothing(
    clock, queued, mailoutbox, django_capture_on_commit_callbacks
):
    clock.set(T0)
    row = enqueue()
    clock.set(T0 + timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        outbox_dispatch_due()
    [(pk, ticket)] = queued

    assert outbox_send(message_id=pk) is False  # the original task, arriving late: the row is the ticket's
    assert outbox_send(message_id=pk, ticket=ticket) is True
    assert outbox_send(message_id=pk, ticket=ticket) is False  # the ticket's task twice: still one e-mail
    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert row.attempts == 1


def test_job_logs_a_run_and_flags_rows_that_keep_failing(clock, queued):
    clock.set(T0)
    row = enqueue(kind="test-broken", to=["partner@example.test"])
    OutboxMessage.objects.filter(pk=row.pk).update(attempts=5, last_error="SMTPRecipientsRefused: 550 unknown user")

    queued_count = outbox_dispatch.apply().get()

    run = JobRun.objects.get(name="outbox")
    assert run.ok and queued_count == 1
    assert run.summary.splitlines() == [
        "erneut eingeplant: 1",
        "Fehlgeschlagen (5 Versuche oder mehr): 1",
        "- Beleg 1 → partner@example.test (5×): SMTPRecipientsRefused: 550 unknown user",
    ]


def test_beat_runs_the_job_every_five_minutes():
    entry = app.conf.beat_schedule["outbox-dispatch"]
    assert entry["task"] == "vendorportal.tasks.outbox_dispatch"
    assert entry["schedule"].minute == {0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55}
    assert "vendorportal.tasks.outbox_dispatch" in app.tasks and "vendorportal.tasks.outbox_send" in app.tasks


# --- resend ------------------------------------------------------------------------------


def test_resend_of_a_sent_message_is_a_new_row_sent_once(clock, queued, mailoutbox):
    clock.set(T0)
    row = enqueue()
    outbox_send(message_id=row.pk)
    row.refresh_from_db()
    with transaction.atomic():
        again = outbox_resend(message=row)
    assert again.pk != row.pk and again.dedup_key == "test-note:1:initial:resend-1"
    assert outbox_send(message_id=again.pk) is True
    assert [m.subject for m in mailoutbox] == ["Beleg 1", "Beleg 1"]
    assert SENT_HOOK_CALLS == [row.pk, again.pk]


def test_resend_of_a_failing_message_sends_it_now_and_clears_the_flag(clock, queued, mailoutbox):
    clock.set(T0)
    row = enqueue()
    OutboxMessage.objects.filter(pk=row.pk).update(attempts=7, due_at=T0 + timedelta(hours=6))
    with transaction.atomic():
        same = outbox_resend(message=row)
    assert same.pk == row.pk and (same.attempts, same.due_at) == (0, T0)
    assert outbox_send(message_id=row.pk) is True and len(mailoutbox) == 1


# --- staff -----------------------------------------------------------------------------


def staff(group_name):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.mark.parametrize("group, may_resend", [("sales", True), ("support", True), ("finance", False)])
def test_outbox_admin_per_staff_group(client, group, may_resend, clock, queued, mailoutbox):
    clock.set(T0)
    row = enqueue()
    outbox_send(message_id=row.pk)
    client.force_login(staff(group))
    url = reverse("admin:vendorportal_outboxmessage_changelist")

    page = client.get(url)
    assert page.status_code == 200
    assert "kunde@example.test" in page.content.decode()
    assert ("erneut senden" in page.content.decode()) is may_resend
    assert client.get(reverse("admin:vendorportal_outboxmessage_change", args=[row.pk])).status_code == 200
    assert client.post(reverse("admin:vendorportal_outboxmessage_delete", args=[row.pk])).status_code == 403

    response = client.post(url, {"action": "resend", "_selected_action": [row.pk]}, follow=True)

    if may_resend:
        assert "1 E-Mail wird erneut gesendet." in response.content.decode()
        assert OutboxMessage.objects.count() == 2
    else:
        # Django answers an action the user lacks as an unknown action: nothing happens.
        assert "1 E-Mail wird erneut gesendet." not in response.content.decode()
        assert OutboxMessage.objects.count() == 1


def test_staff_without_outbox_rights_cannot_open_it(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:vendorportal_outboxmessage_changelist")).status_code == 403


@pytest.mark.parametrize("group", ["sales", "finance", "support"])
def test_admin_index_flags_messages_that_keep_failing(client, group, clock, queued):
    clock.set(T0)
    failing = [enqueue(f"k{i}", to=[f"p{i}@example.test"]) for i in range(3)]
    OutboxMessage.objects.filter(pk__in=[failing[0].pk, failing[1].pk]).update(attempts=5)
    OutboxMessage.objects.filter(pk=failing[2].pk).update(attempts=4)  # not yet flagged
    client.force_login(staff(group))

    page = client.get(reverse("admin:index")).content.decode()

    assert "2 E-Mails konnten wiederholt nicht gesendet werden." in page
    assert reverse("admin:vendorportal_outboxmessage_changelist") + "?state=failing" in page
    listed = client.get(reverse("admin:vendorportal_outboxmessage_changelist"), {"state": "failing"})
    assert sorted(m.pk for m in listed.context["cl"].result_list) == sorted([failing[0].pk, failing[1].pk])


def test_admin_index_without_failures_or_rights_shows_no_notice(client, clock, queued):
    clock.set(T0)
    row = enqueue()
    client.force_login(staff("sales"))
    assert "wiederholt nicht gesendet" not in client.get(reverse("admin:index")).content.decode()
    OutboxMessage.objects.filter(pk=row.pk).update(attempts=5)
    client.force_login(UserFactory(is_staff=True))  # staff without rights on the outbox
    assert "wiederholt nicht gesendet" not in client.get(reverse("admin:index")).content.decode()


def test_outbox_admin_says_when_a_text_is_made_at_sending_or_never_stored(admin_client, send_outbox):
    from vendorportal.parties.tests.factories import PartnerUserFactory

    PartnerUserFactory(user__username="bert", user__email="bert@partner.test")
    admin_client.post(reverse("portal:password_reset"), {"email": "bert@partner.test"})
    row = OutboxMessage.objects.get(kind="portal-password-reset")
    listing = admin_client.get(reverse("admin:vendorportal_outboxmessage_changelist")).content.decode()
    assert "(entsteht beim Versand)" in listing
    send_outbox()
    detail = admin_client.get(reverse("admin:vendorportal_outboxmessage_change", args=[row.pk])).content.decode()
    assert "wird nicht gespeichert" in detail and "passwort-setzen" not in detail
