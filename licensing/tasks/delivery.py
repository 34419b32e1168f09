"""Delivery of Lieferscheine (ORD-2): render the PDF once, e-mail it."""
from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(
    name="licensing.tasks.render_and_send_delivery_note",
    # Transient: SMTP errors (smtplib.SMTPException is an OSError), refused or reset
    # connections, a storage hiccup. A missing stored file will not come back by
    # waiting; rendering errors are not OSErrors and fail at once.
    autoretry_for=(OSError,),
    dont_autoretry_for=(FileNotFoundError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=5,
)
def render_and_send_delivery_note(note_id: int) -> None:
    # Imported here: the service module queues this task, so it imports this module.
    from licensing.models import DeliveryNote
    from licensing.services.delivery import delivery_note_send

    note = DeliveryNote.objects.filter(pk=note_id).first()
    if note is None:
        # Queued on commit, so the note existed; deleted since (it cannot be in the
        # admin). Retrying would not bring it back.
        logger.warning("Delivery note %s no longer exists; nothing to send.", note_id)
        return
    delivery_note_send(note=note)  # renders the PDF first if none is stored yet
