"""The channel a write comes through, for the history (issue 19: "every write through the API
is in the history with the token's name").

A caller that acts for somebody else — the partner API for a token — wraps its writes in
:func:`acting_as`; while it runs, every historical record django-simple-history creates gets
that change reason (and that user, where the service named none). Services that write history
in bulk (``bulk_history_create`` sends no per-record signal) pass
:func:`change_reason` as the default. A context variable, so concurrent requests do not mix.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

REASON_MAX = 100  # simple-history's change reason column

_acting: ContextVar[tuple[str, object] | None] = ContextVar("audit_acting", default=None)


@contextmanager
def acting_as(*, reason: str, user=None):
    handle = _acting.set((reason[:REASON_MAX], user))
    try:
        yield
    finally:
        _acting.reset(handle)


def change_reason() -> str:
    """The change reason of the channel acting now ("" outside :func:`acting_as`)."""
    acting = _acting.get()
    return acting[0] if acting else ""


@receiver(pre_create_historical_record)
def _record_the_channel(sender, history_instance, **kwargs):
    acting = _acting.get()
    if acting is None:
        return
    reason, user = acting
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = reason
    if user is not None and getattr(history_instance, "history_user_id", None) is None:
        history_instance.history_user = user
