"""A mail backend for the worker crash test: the file backend, which stops for good
before the N-th e-mail, so the test kills the worker at a known point (a row claimed,
its e-mail not yet handed to the mail server) instead of at a random one.

Configured through the worker's environment: ``EMAIL_BACKEND`` names this class,
``OUTBOX_TEST_PAUSE_BEFORE`` is N, ``OUTBOX_TEST_PAUSED_MARKER`` a file created when it stops.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class PausingFileBackend(EmailBackend):
    """One file per e-mail (Django's backend writes one per connection and second, so two
    e-mails sent within a second could share a file and the count of files would lag)."""

    def _get_filename(self):
        if self._fname is None:
            self._fname = str(Path(self.file_path) / f"{uuid.uuid4().hex}.log")
        return self._fname

    def send_messages(self, email_messages):
        pause_before = int(os.environ.get("OUTBOX_TEST_PAUSE_BEFORE", "0"))
        sent = 0
        for message in email_messages:
            if pause_before and len(list(Path(self.file_path).iterdir())) >= pause_before - 1:
                Path(os.environ["OUTBOX_TEST_PAUSED_MARKER"]).touch()
                time.sleep(3600)  # until the test kills the worker
            self.close()
            self._fname = None  # the next e-mail in a file of its own
            sent += super().send_messages([message])
        return sent
