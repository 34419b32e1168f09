import pytest


@pytest.fixture(autouse=True)
def _support_dirs(settings, tmp_path):
    # Attachments and the inbound Maildir of a test live in its own folder.
    settings.SUPPORT_ATTACHMENTS_ROOT = str(tmp_path / "support-attachments")
    settings.SUPPORT_MAILDIR = str(tmp_path / "support-mail")
    settings.SUPPORT_IMAP_URL = ""
    settings.SUPPORT_EMAIL = "support@vendor.example"
