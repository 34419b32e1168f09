"""The support desk's errors (STYLE 9): German messages the partner or staff can act on."""

from vendorportal.errors import PortalError


class SupportError(PortalError):
    """A support request the desk refuses."""


class AttachmentRefused(SupportError):
    """A file too large or of a type the desk does not take."""


class AttachmentLocked(SupportError):
    """A customer's log file without a DPA on file: staff may not open it (SUP-4)."""


class AlreadyBilled(SupportError):
    """A time entry that is already on an invoice line (SUP-5: each entry is billed once)."""


class MailboxError(SupportError):
    """The support mailbox cannot be read: credentials, folder, server, certificate, timeout.
    The message is one German line an administrator can act on."""
