"""Dunning letters, returned direct debits and the ancillary-charges invoice of an English
partner (issue 18 in the partner's language, docs/i18n.md): no German in the letters, their
e-mails and the invoice, found the way ``vendorportal/tests/test_english.py`` finds it.

Same invoice and days as ``test_dunning.py`` (RE-2025-000001, 4.730,49 €, due 10.06.2025):
payment reminder on 17.06., first dunning notice on 01.07., final one on 15.07.2025 with the
flat fee 40,00 € and interest 49,18 € → total 4.819,67 €; the next run (01.08.2025) bills the
89,18 € on an "Invoice for ancillary charges" without VAT.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings

from billing import services
from billing.models import DunningNotice, Invoice, SepaMandate
from billing.services import invoicing
from billing.services.bank import bank_statement_import
from billing.tests import test_returns
from billing.tests.factories import make_order, make_partner
from billing.tests.test_returns import JAN, the_file
from vendorportal.documents import document_bytes
from vendorportal.models import OutboxMessage
from vendorportal.tests import test_english
from vendorportal.tests.test_english import _words, data_words, german_words, visible_text

pytestmark = pytest.mark.django_db
# The fixtures of the two tests this one follows: an invoice collected by direct debit, and the
# HTML of every document rendered.
collected = test_returns.collected
rendered_documents = test_english.rendered_documents
D = Decimal


def german_found(texts):
    german = german_words()
    data = data_words() | _words(" ".join(str(value) for value in settings.VENDOR.values()))  # the letterhead
    found = {}
    for where, text in texts:
        words = (_words(text) & german.keys()) - data
        if words:
            found[where] = {w: german[w] for w in sorted(words)}
    return found


def outbox_texts(**filters):
    messages = OutboxMessage.objects.filter(**filters).order_by("pk")
    return [(f"e-mail {m.kind} {m.subject}", f"{m.subject}\n{m.body}") for m in messages]


def test_english_partner_gets_english_dunning_letters_and_charges_invoice(
    modules, clock, rendered_documents, send_outbox
):
    clock.set(date(2025, 5, 27))
    partner = make_partner(language="en")
    invoice = services.order_confirm(order=make_order(partner, ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0)))
    assert (invoice.gross_total, invoice.due_date) == (D("4730.49"), date(2025, 6, 10))
    for day in (date(2025, 6, 11), date(2025, 6, 17), date(2025, 7, 1), date(2025, 7, 15)):
        clock.set(day)
        services.invoices_overdue()
    notices = list(DunningNotice.objects.filter(invoice=invoice).order_by("level"))
    assert [n.issued_on for n in notices] == [date(2025, 6, 17), date(2025, 7, 1), date(2025, 7, 15)]
    send_outbox()  # writes the letters' PDFs
    for notice in notices:
        notice.refresh_from_db()
        assert document_bytes(notice).startswith(b"%PDF")
    clock.set(date(2025, 8, 1))
    result = invoicing.invoicing_run(month=date(2025, 8, 1), render_pdf=True)
    (extra,) = [i for i in result.invoices if i.net_total == D("89.18")]
    assert (extra.gross_total, extra.vat_category) == (D("89.18"), "O")
    send_outbox()  # the charges invoice's PDF and e-mail

    kinds = {name for name, _ in rendered_documents}
    assert "documents/dunning_notice.html" in kinds and "documents/invoice.html" in kinds, kinds
    invoices = [visible_text(html) for name, html in rendered_documents if name == "documents/invoice.html"]
    assert any("Invoice for ancillary charges" in text and extra.number in text for text in invoices)
    # Stored texts: the lines in the partner's language, the VAT note in German (BT-120) and
    # printed in English with the German below (docs/i18n.md). Charges' texts are data to the
    # crawl's check, so they are asserted here.
    assert list(extra.lines.order_by("position").values_list("description", flat=True)) == [
        "Flat-rate late payment fee (§ 288 para. 5 BGB) for RE-2025-000001, final dunning notice of 15 Jul 2025",
        "Default interest (§ 288 para. 2 BGB) for RE-2025-000001 from 11 Jun 2025 to 15 Jul 2025",
    ]
    assert extra.vat_note.startswith("Nicht steuerbarer Schadensersatz")
    charges_pdf = [text for text in invoices if extra.number in text][0]
    assert "Non-taxable compensation for damages" in charges_pdf
    texts = [(f"document {name}", visible_text(html)) for name, html in rendered_documents] + outbox_texts()
    subjects = [m.subject for m in OutboxMessage.objects.filter(kind__icontains="dunning").order_by("pk")]
    assert subjects == [
        "Payment reminder: invoice RE-2025-000001",
        "First dunning notice: invoice RE-2025-000001",
        "Final dunning notice: invoice RE-2025-000001",
    ], subjects
    final_letter = [html for name, html in rendered_documents if name == "documents/dunning_notice.html"][-1]
    # Amounts and dates in English formats (docs/i18n.md): €40.00, 11 Jun 2025.
    for expected in (
        "Final dunning notice",
        "Flat-rate late payment fee (§ 288 para. 5 BGB) €40.00",
        "Default interest (§ 288 para. 2 BGB) from 11 Jun 2025 to 15 Jul 2025 (35 days) €49.18",
        "Total claim €4,819.67",
    ):
        assert expected in " ".join(visible_text(final_letter).split()), expected
    found = german_found(texts)
    assert not found, "\n".join(f"{where}: {sorted(words)}" for where, words in found.items())


def test_english_partner_gets_an_english_returned_direct_debit_email(collected, clock, rendered_documents):
    collected.language = "en"
    collected.save(update_fields=["language"])
    before = OutboxMessage.objects.order_by("pk").last().pk
    bank_statement_import(content=the_file(), file_name="auszug-18.xml")
    clock.set(JAN)
    invoicing.invoicing_run(month=JAN, render_pdf=True)
    charges_invoice = Invoice.objects.get(partner=collected, number="RE-2027-000002")
    assert list(charges_invoice.lines.values_list("description", flat=True)) == [
        "Returned direct debit for invoice RE-2026-000004, collected on 15 Dec 2026 (reason MD06)"
    ]
    assert list(SepaMandate.objects.filter(partner=collected).values_list("suspended_reason", flat=True)) == [
        "Returned direct debit MD06 for RE-2026-000004: You objected to the direct debit and reclaimed the amount."
    ]
    texts = [(f"document {name}", visible_text(html)) for name, html in rendered_documents]
    texts += [
        t
        for t, m in zip(outbox_texts(pk__gt=before), OutboxMessage.objects.filter(pk__gt=before).order_by("pk"))
        if "rechnung@beispiel.test" in m.recipients
    ]
    assert any("Returned direct debit for invoice RE-2026-000004" in t for _, t in texts), texts
    assert any(
        "Reason given by the bank (MD06): You objected to the direct debit and reclaimed the amount." in t
        for _, t in texts
    )
    found = german_found(texts)
    assert not found, "\n".join(f"{where}: {sorted(words)}" for where, words in found.items())
