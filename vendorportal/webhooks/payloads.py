"""The ``data`` of each webhook event, as plain values (issue 19).

The shapes follow the API's read schemas (api/endpoints.py: ``InvoiceOut``, ``LicenseOut``)
so a partner parses an invoice the same way from ``GET /invoices`` and from
``invoice.issued``. Ids are integers, amounts strings ("1299.00"), dates ISO 8601. The
builders read attributes only — they are handed the area's objects by the service that
emits the event, so this core module imports no area (STYLE 1). Key texts are never in a
payload: a receiver fetches them with a token that has the ``keys`` scope.
"""

from __future__ import annotations


def invoice_payload(invoice) -> dict:
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "kind": invoice.kind,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "state": invoice.state,
        "payment_means": invoice.payment_means,
        "net_total": invoice.net_total,
        "vat_total": invoice.vat_total,
        "gross_total": invoice.gross_total,
        "paid_amount": invoice.paid_amount,
        "order_id": invoice.order_id,
        "credited_invoice_id": invoice.credited_invoice_id,
    }


def license_payload(lic) -> dict:
    return {
        "id": lic.pk,
        "serial": lic.serial,
        "article": lic.product.article,
        "product": lic.product.name,
        "installation_id": lic.installation_id,
        "kind": lic.kind,
        "tier": lic.tier,
        "state": lic.state,
        "valid_until": lic.valid_until,
        "issued_at": lic.issued_at,
        "order_reference": lic.order_reference,
        "subscription_reference": lic.subscription_reference,
    }


def order_payload(order, invoice) -> dict:
    return {
        "id": order.pk,
        "reference": order.reference,
        "state": order.state,
        "order_date": order.order_date,
        "invoice_id": invoice.pk if invoice is not None else None,
        "invoice_number": invoice.number if invoice is not None else None,
        "gross_total": invoice.gross_total if invoice is not None else None,
    }


def delivery_note_payload(note, *, recipients: list[str], sent_at) -> dict:
    return {
        "id": note.pk,
        "number": note.number,
        "installation_id": note.installation_id,
        "recipients": recipients,
        "sent_at": sent_at,
    }


def subscription_payload(subscription) -> dict:
    return {
        "id": subscription.pk,
        "reference": subscription.reference,
        "installation_id": subscription.installation_id,
        "article": subscription.product.article,
        "monthly_price": subscription.monthly_price,
        "term_start": subscription.term_start,
        "minimum_end": subscription.minimum_end,
        "notice_on": subscription.notice_on,
        "special_notice": subscription.notice_special,
        "ends_on": subscription.ends_on,
    }


def maintenance_payload(notice) -> dict:
    installation = notice.installation
    return {
        "installation_id": installation.pk,
        "identifier": installation.identifier,
        "customer_id": installation.customer_id,
        "coverage_end": notice.coverage_end,
        "notice": notice.kind,
    }


def ticket_reply_payload(ticket, message) -> dict:
    return {
        "ticket_id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "message_id": message.pk,
        "created_at": message.created_at,
    }
