"""Billing's models, by subject (STYLE 19). Fields, constraints and state transitions only
(STYLE 4): pricing is in :mod:`billing.pricing` over :mod:`billing.rules`, writes go
through :mod:`billing.services`. Every name is re-exported here (migrations refer to
``billing.models.invoice_pdf_path`` and the mandate validator)."""

from billing.models._common import HALF_CENT, MONEY, PERCENT  # noqa: F401
from billing.models.bank import BankEntry, BankStatement  # noqa: F401
from billing.models.charges import Charge  # noqa: F401
from billing.models.confirmations import Confirmation  # noqa: F401
from billing.models.dunning import (  # noqa: F401
    BaseRate,
    DunningBlock,
    DunningNotice,
    DunningPause,
    dunning_pdf_path,
)
from billing.models.invoices import (  # noqa: F401
    Invoice,
    InvoiceLine,
    InvoiceLineQuerySet,
    InvoiceQuerySet,
    Payment,
    invoice_pdf_path,
)
from billing.models.orders import Order, OrderLine, VatRate  # noqa: F401
from billing.models.reports import FinanceReport, finance_report_path  # noqa: F401
from billing.models.runs import InvoicingRun  # noqa: F401
from billing.models.sepa import (  # noqa: F401
    MANDATE_REFERENCE_RE,
    SEPA_START,
    SepaBatch,
    SepaBatchItem,
    SepaMandate,
    group_iban,
    validate_mandate_reference,
)
from billing.models.subscriptions import (  # noqa: F401
    BilledPeriod,
    ServicePlan,
    Subscription,
    SubscriptionPriceChange,
)
