"""The SEPA core direct-debit mandate as a printable form (SEPA-Lastschriftmandat, ORD-8).

The mandate exists with its reference before it is signed (``signed_on`` empty = "wartet auf
Unterschrift"), so the paper the debtor signs carries the creditor identifier and the mandate
reference, as the SEPA rulebook asks. Rendered through the one PDF service
(``templates/documents/sepa_mandate.html``); this module gathers the values, formatted.
"""

from __future__ import annotations

import re

from billing.models import SepaMandate, group_iban
from vendorportal.formats import format_date
from vendorportal.i18n import for_partner

TEMPLATE = "documents/sepa_mandate.html"


def mandate_context(mandate: SepaMandate) -> dict:
    from billing.selectors import sepa_creditor

    partner = mandate.partner
    creditor = sepa_creditor()
    return {
        "mandate": mandate,
        "creditor": creditor,
        "debtor_name": mandate.account_holder or partner.company,
        "debtor_street": partner.street,
        "debtor_city": f"{partner.postal_code} {partner.city}".strip(),
        "debtor_country": partner.country,
        "iban": group_iban(mandate.iban),
        "bic": mandate.bic,
        "signed_on": format_date(mandate.signed_on, missing=""),
        "revoked_on": format_date(mandate.revoked_on, missing=""),
    }


def mandate_filename(mandate: SepaMandate) -> str:
    """``SEPA-Mandat-VP-000042-001.pdf``; characters a reference may hold but a file name
    should not ("/", "?", …) become "-"."""
    return "SEPA-Mandat-" + re.sub(r"[^A-Za-z0-9-]+", "-", mandate.reference) + ".pdf"


def mandate_pdf(mandate: SepaMandate) -> bytes:
    """The mandate form as PDF, with creditor ID and mandate reference, signed or not."""
    from vendorportal.pdf import render_pdf

    with for_partner(mandate.partner):
        return render_pdf(TEMPLATE, mandate_context(mandate))
