"""Delivery of Lieferscheine (ORD-2) goes through the outbox (``vendorportal.tasks.outbox_send``).

Only this task of the time before the outbox is left, for its messages that may still
wait in a broker after an update: it writes the note's first e-mail as an outbox row
(the same row if it exists), which is then sent once.
"""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="licensing.tasks.render_and_send_delivery_note")
def render_and_send_delivery_note(note_id: int) -> None:
    # Imported here: the service module is imported by the admin and the issuing service.
    from licensing.models import DeliveryNote
    from licensing.services.delivery import delivery_note_queue_initial

    note = DeliveryNote.objects.filter(pk=note_id).first()
    if note is None:
        logger.warning("Delivery note %s no longer exists; nothing to send.", note_id)
        return
    delivery_note_queue_initial(note=note)
