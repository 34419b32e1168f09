"""The one error base of the project (STYLE 9).

Every area derives its errors from :class:`PortalError`; the message is written
for the person who has to act on it (partner or staff), in German, translatable.
"""


class PortalError(Exception):
    """A request the portal refuses, with a message the user can act on."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = str(message)
        self.code = code

    def __str__(self) -> str:
        return self.message
