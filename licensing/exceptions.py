"""The licensing area's refusals, in one place (STYLE 9, as django-oscar's ``exceptions``).

All derive from :class:`LicensingError`, itself a :class:`vendorportal.errors.PortalError`:
the message is German and says what the partner or staff member can do. The stand-alone
key modules keep their own ``ValueError``\\ s (``verifier.MalformedKey``,
``keys.KeyFileError``, ``keys.ReinitialisationResponseError``): they describe broken
input to a tool, carry no translated message and must not import Django.
"""

from __future__ import annotations

from vendorportal.errors import PortalError


class LicensingError(PortalError):
    """Base of the licensing area's refusals."""


class IdentifierFormatError(LicensingError):
    """An installation identifier (server key, hardware ID, serial) is malformed (LIC-1, SYS-1)."""


class IllegalTransition(LicensingError):
    """A licence state change the state machine does not allow."""


class LicenseRefused(LicensingError):
    """A key the rules do not allow to issue; nothing was written."""


class DeliveryNoteError(LicensingError):
    """A delivery note the portal refuses to create; nothing was written."""


class CatalogImportError(PortalError):
    """A catalog data file cannot be loaded; nothing was written.

    A :class:`PortalError` but not a :class:`LicensingError`: it is staff's data
    file that is wrong, not a licensing request.
    """


class MissingPriceError(LicensingError):
    """An article of a quote has no price in the list valid on the order day (CAT-1, CAT-8)."""


class SystemLicensingError(LicensingError):
    """A request about an Auerswald system the portal refuses (SYS-1, SYS-2)."""


class InitialisationCodeError(LicensingError):
    """A COMtrexx initialisation code (SYS-1) that cannot be one."""


class MaintenanceRuleError(LicensingError):
    """A PBX Call Assist order or Softwarepflege renewal the rules refuse (SWP-1…SWP-7)."""


class MaintenanceInputError(MaintenanceRuleError, ValueError):
    """Impossible input (no users, a term other than 12/36 months): also a ``ValueError``."""
