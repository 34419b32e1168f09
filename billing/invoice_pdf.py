"""TEMPORARY stand-in for the invoice PDF renderer (branch ``invoices`` only).

The real :func:`invoice_pdf` — PDF/A-3 with the embedded Factur-X / ZUGFeRD XML
(INV-2, INV-4) — is built in parallel and replaces this file when the branches are
merged. This one renders a minimal WeasyPrint PDF (number, date, buyer, lines,
totals, terms) through the one PDF service, so the invoice services and their tests
run. Same signature: ``invoice_pdf(doc: InvoiceDocument) -> bytes``.
"""

from __future__ import annotations

from billing.documents import CREDIT_NOTE, InvoiceDocument
from vendorportal.formats import format_date_de
from vendorportal.money import format_eur
from vendorportal.pdf import render_pdf

TEMPLATE = "documents/invoice_minimal.html"


def _qty(value) -> str:
    return f"{value.normalize():f}".replace(".", ",")


def invoice_pdf(doc: InvoiceDocument) -> bytes:
    context = {
        "doc": doc,
        "title": "Gutschrift" if doc.kind == CREDIT_NOTE else "Rechnung",
        "issue_date": format_date_de(doc.issue_date),
        "preceding_date": format_date_de(doc.preceding_invoice_date),
        "lines": [
            {
                "position": line.position,
                "article": line.article,
                "description": line.description,
                "quantity": _qty(line.quantity),
                "unit_price": format_eur(line.unit_price),
                "net_total": format_eur(line.net_total),
                "vat": f"{_qty(line.vat_percent)} %",
                "period": (
                    f"{format_date_de(line.period_start)} – {format_date_de(line.period_end)}"
                    if line.period_start
                    else ""
                ),
            }
            for line in doc.lines
        ],
        "vat_rows": [
            {"label": f"USt. {_qty(row.percent)} % auf {format_eur(row.basis)}", "amount": format_eur(row.amount)}
            for row in doc.vat_breakdown
        ],
        "net": format_eur(doc.net_total),
        "gross": format_eur(doc.gross_total),
    }
    return render_pdf(TEMPLATE, context)
