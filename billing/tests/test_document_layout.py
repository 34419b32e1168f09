"""What a reader of the printed letters notices (visual review): a letter that fits its page,
the page number in the document's language, a bilingual column heading that stays in its column.

The dunning invoice is the one of ``test_dunning.py`` (RE-2025-000001, 4.730,49 €, due
10.06.2025); its letzte Mahnung of 15.07.2025 carries the flat fee 40,00 € and interest over two
base-rate half-years (11.06.–30.06. and 01.07.–15.07.), the longest letter the rules write.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from billing import services
from billing.invoice_pdf import invoice_pdf
from billing.models import DunningNotice
from billing.services.dunning import _render as dunning_pdf
from billing.tests.factories import make_order, make_partner
from billing.tests.test_invoice_pdf import page_texts

pytestmark = pytest.mark.django_db
D = Decimal


def final_notice(clock, **partner):
    clock.set(date(2025, 5, 27))
    order = make_order(make_partner(**partner), ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))
    invoice = services.order_confirm(order=order)
    for day in (date(2025, 6, 11), date(2025, 6, 17), date(2025, 7, 1), date(2025, 7, 15)):
        clock.set(day)
        services.invoices_overdue()
    return DunningNotice.objects.get(invoice=invoice, level=3)


def test_german_letzte_mahnung_with_two_interest_spans_fits_on_one_page(modules, clock):
    # Before: the note "maschinell erstellt" ran alone onto a second page.
    notice = final_notice(clock)
    assert (notice.fee, notice.interest) == (D("40.00"), D("49.18"))
    (page,) = page_texts(dunning_pdf(notice))
    assert "Seite 1 von 1" in page
    assert "Gesamtforderung 4.819,67 €" in page
    assert "Mit freundlichen Grüßen" in page
    assert "Dieses Schreiben wurde maschinell erstellt und ist ohne Unterschrift gültig." in page


def test_english_letter_numbers_its_pages_in_english(modules, clock):
    (page,) = page_texts(dunning_pdf(final_notice(clock, language="en")))
    assert "Page 1 of 1" in page
    assert "Seite" not in page


def test_english_invoice_breaks_the_german_period_heading_inside_its_column(reverse_charge_invoice_doc):
    # "Leistungszeitraum" in one piece ran over the quantity column beside it.
    doc = dataclasses.replace(reverse_charge_invoice_doc, language="en")
    with translation.override("en"):
        (page,) = page_texts(invoice_pdf(doc))
    assert "Page 1 of 1" in page
    assert "Service\nperiod /\nLeistungs\u2010\nzeitraum\nQuantity /" in page


def test_letters_and_delivery_notes_abroad_end_the_address_with_the_country_name(modules, clock):
    # Before: the invoice said "ÖSTERREICH", the dunning letter and the delivery note "AT".
    from types import SimpleNamespace

    from licensing.selectors.delivery import _address_lines

    notice = final_notice(clock, country="AT", vat_id="ATU13585627", street="Mariahilfer Straße 45",
                          postal_code="1060", city="Wien")  # fmt: skip
    (page,) = page_texts(dunning_pdf(notice))
    assert "Mariahilfer Straße 45\n1060 Wien\nÖSTERREICH \n" in page
    customer = SimpleNamespace(company="Hotel Edelweiß", street="", postal_code="6020", city="Innsbruck", country="AT")
    assert _address_lines(customer) == ["Hotel Edelweiß", "6020 Innsbruck", "ÖSTERREICH"]
