"""The billing area's refusals, in one place (STYLE 9, as django-oscar's ``exceptions``).

All derive from :class:`BillingError`, itself a :class:`vendorportal.errors.PortalError`:
the message is German and says what the partner or staff member can do.
"""

from __future__ import annotations

from vendorportal.errors import PortalError


class BillingError(PortalError):
    """Base of the billing area's refusals."""


class BillingInputError(BillingError, ValueError):
    """Impossible input to a rule (an unknown plan, a date before the purchase): also a ``ValueError``."""


class TierUpgradeRefused(BillingError):
    """A tier upgrade to a tier that is not higher than the licensed one (ORD-6)."""


class OrderRefused(BillingError):
    """An order or order line the rules do not allow; nothing was written."""


class IllegalOrderTransition(BillingError):
    """An order state change the state machine does not allow (draft → confirmed → fulfilled, or cancelled)."""


class OrderNotCancellable(BillingError):
    """A cancellation after the key was generated (ORD-9, LIC-8)."""


class PriceMissing(BillingError):
    """An order line without a price in the price list valid on the order date (CAT-1)."""


class VatRateMissing(BillingError):
    """No VAT rate of the needed category is valid on the day (GEN-2)."""


class InvoiceImmutable(BillingError):
    """A change or deletion of an issued invoice or credit note (INV-1): corrections are credit notes."""


class IllegalInvoiceTransition(BillingError):
    """An invoice state change the state machine does not allow (open → paid / overdue / cancelled)."""


class InvoiceRefused(BillingError):
    """An invoice, credit note or payment the rules do not allow; nothing was written."""


class SepaFileInvalid(BillingError):
    """A pain.008 direct-debit file that could not be built or does not validate against its schema (ORD-8)."""


class SepaCollectionRefused(BillingError):
    """A direct debit that may not be collected: no active mandate, or already in a batch (ORD-8)."""


class SepaMandateRefused(BillingError):
    """A change to a SEPA mandate the rules do not allow (a second active mandate, a revoked one)."""


class SubscriptionRefused(BillingError):
    """A notice, tier change or other subscription change the rules do not allow (SUB-5…SUB-7); nothing was written."""


class ServicePlanRefused(BillingError):
    """A service plan booking or notice the rules do not allow (SUB-8); nothing was written."""


class FinanceReportRefused(BillingError):
    """A finance report that cannot be made for that period (a month not yet over), or
    whose stored report is gone."""


class DunningRefused(BillingError):
    """A pause, resume or key block of the dunning process the rules do not allow (issue 18); nothing was written."""


class ChargeRefused(BillingError):
    """A charge (Nebenforderung) that cannot be added or changed; nothing was written."""
