"""Constants of the billing area that services, selectors, admin and templates share.

Kept apart from :mod:`billing.services` so that selectors and forms can read them without
importing services (STYLE 19).
"""

from billing import rules
from licensing.models import Product

# SWP and Auerswald system licences are ordered through their quotes (issue 4), not as
# plain catalog lines.
ORDERABLE_KINDS = (Product.MODULE, Product.SAAS, Product.SERVICE_PLAN)

# Outbox kinds of billing's documents, registered in BillingConfig.ready.
INVOICE_KIND = "invoice"
CREDIT_NOTE_KIND = "credit-note"
REMINDER_KIND = "invoice-reminder"
CONFIRMATION_KIND = "confirmation"  # written confirmations of changes with legal effect (issue 16)
DEBIT_NOTICE_KIND = "direct-debit-notice"  # a new collection day, or the move to transfer (ORD-8)
REMINDER_AFTER_DAYS = rules.DUNNING_REMINDER_AFTER_DUE_DAYS  # the Zahlungserinnerung, 7 days after the due date
DUNNING_KIND = "dunning-notice"  # Zahlungserinnerung, 1. Mahnung, letzte Mahnung (issue 18)
DEBIT_RETURN_KIND = "direct-debit-return"  # a direct debit came back: why, and how to pay now (issue 18)

# Documents (invoices, corrections, reminders) are written in German (INV-2).
DOCUMENT_LANGUAGE = "de"

#: Order articles that book a service plan on confirmation (SUB-8), and the plan they book;
#: the other way round, the article a plan is invoiced under (order invoice and monthly run).
SERVICE_PLAN_ARTICLES = {"SP-PREMIUM": rules.PLAN_PREMIUM, "SP-ENTERPRISE": rules.PLAN_ENTERPRISE}
PLAN_ARTICLE = {plan: article for article, plan in SERVICE_PLAN_ARTICLES.items()}
