"""A mail backend for the worker crash test: the file backend, which stops for good
before the N-th e-mail, so the test kills the worker at a known point (a row claimed,
its e-mail not yet handed to the mail server) instead of at a random one.

Configured through the worker's environment: ``EMAIL_BACKEND`` names this class,
``OUTBOX_TEST_PAUSE_BEFORE`` is N, ``OUTBOX_TEST_PAUSED_MARKER`` a file created when it stops.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class PausingFileBackend(EmailBackend):
    def send_messages(self, email_messages):
        pause_before = int(os.environ.get("OUTBOX_TEST_PAUSE_BEFORE", "0"))
        if pause_before and len(list(Path(self.file_path).iterdir())) >= pause_before - 1:
            Path(os.environ["OUTBOX_TEST_PAUSED_MARKER"]).touch()
            time.sleep(3600)  # until the test kills the worker
        return super().send_messages(email_messages)
