"""Every write of the billing area, by subject (STYLE 19):

- :mod:`.orders` — orders: create, add lines, price, place drafts, cancel, confirm;
- :mod:`.invoices` — invoices and corrections, their PDF, resend, the outbox hook;
- :mod:`.payments` — payments and payment reminders;
- :mod:`.mandates` — SEPA mandates and direct-debit batches;
- :mod:`.subscriptions` — subscriptions and service plans;
- :mod:`.invoicing` — the monthly invoicing run;
- :mod:`.charges` — charges (Nebenforderungen) and their "Rechnung über Nebenforderungen";
- :mod:`.bank` / :mod:`.returns` — bank statements, returned direct debits.

The names other apps, admin, views and tests use are re-exported here, so
``from billing import services; services.order_confirm(...)`` keeps working.
"""

from billing.constants import (  # noqa: F401
    CREDIT_NOTE_KIND,
    DOCUMENT_LANGUAGE,
    INVOICE_KIND,
    ORDERABLE_KINDS,
    REMINDER_AFTER_DAYS,
    REMINDER_KIND,
)
from billing.services.charges import charge_add  # noqa: F401
from billing.services.invoices import (  # noqa: F401
    NUMBER_WIDTH,
    UNIT_CODES,
    LineDraft,
    _render_invoice_pdf,
    credit_note_issue,
    invoice_attachments,
    invoice_issue_for_order,
    invoice_payment_terms,
    invoice_pdf_bytes,
    invoice_pdf_ensure,
    invoice_resend,
    invoice_vat,
    invoice_write,
)
from billing.services.mandates import (  # noqa: F401
    PORTAL_MANDATE_PREFIX,
    direct_debits_reannounce,
    mandate_reference_next,
    sepa_batch_create,
    sepa_export,
    sepa_mandate_create,
    sepa_mandate_enter,
    sepa_mandate_revoke,
    sepa_mandate_set_above_limit,
    sepa_mandate_sign,
    sepa_mandate_update,
)
from billing.services.orders import (  # noqa: F401
    PRICE_FIELDS,
    LineWish,
    RowVerdict,
    maintenance_quote,
    order_cancel,
    order_confirm,
    order_create,
    order_create_refusal,
    order_draft_place,
    order_draft_preview,
    order_emails_change,
    order_line_add,
    order_line_remove,
    order_lines_add,
    order_maintenance_add,
    order_price,
    order_rows_check,
)
from billing.services.payments import OverdueResult, invoices_overdue, payment_record  # noqa: F401
from billing.services.subscriptions import (  # noqa: F401
    service_plan_book,
    service_plan_give_notice,
    service_plan_notice_preview,
    subscription_change_tier,
    subscription_give_notice,
    subscription_notice_preview,
    subscription_tier_change_preview,
    subscriptions_end_keys_block,
)
