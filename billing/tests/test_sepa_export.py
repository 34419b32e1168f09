"""sepa_export (ORD-8; decision "ORD-8 / SEPA"): every open direct debit collected on exactly
the day its invoice announced, one payment block per day and sequence type, never twice; a
debit that missed its day is announced again (e-mail) and collected on the new day.

The invoice: Blacklist PRO, subscription 12 months, 12,21 €/month list price − 20 % partner
conditions = 9,768 → 9,77 € net a month (≤ 50,00 €, so collected by direct debit when the partner
has a mandate). Signed 21.11.2026, the order bills the first partial month (SUB-2): 10/30 × 9,77 =
3,2566… → 3,26 € net; VAT 19 % 0,6194 → 0,62 €; gross 3,88 €. Issued 21.11.2026 (Sat); 14 days
later is Sat 05.12.2026, so the collection day printed on it (pre-notification) is the next
TARGET2 business day, Mon 07.12.2026. SEPA core wants the file at the bank 1 business day
before: by Fri 04.12.2026.
"""

from datetime import date
from decimal import Decimal
from io import StringIO
from xml.etree import ElementTree

import pytest
from django.core.management import call_command

from billing import finance, selectors, services
from billing.constants import DEBIT_NOTICE_KIND
from billing.models import Invoice, SepaBatch
from billing.tests.factories import make_order, make_partner
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}


def debit(partner_name="Muster Kommunikation GmbH", reference="MUSTER-0001"):
    partner = make_partner(company=partner_name)
    services.sepa_mandate_create(
        partner=partner, iban="DE89370400440532013000", reference=reference, signed_on=date(2025, 3, 10)
    )
    return services.order_confirm(order=make_order(partner, ("BLACKLIST", "subscription", 12)))


@pytest.fixture
def debit_invoice(modules, clock):
    clock.set(date(2026, 11, 21))
    invoice = debit()
    assert (invoice.payment_means, invoice.gross_total, invoice.due_date) == (
        "direct_debit",
        Decimal("3.88"),
        date(2026, 12, 7),
    )
    return invoice


def run(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("sepa_export", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def blocks(path) -> list[tuple[str, str, list[str]]]:
    """(collection day, sequence type, end-to-end ids) of every payment block of a file."""
    root = ElementTree.parse(path).getroot()
    return [
        (
            block.find("p:ReqdColltnDt", NS).text,
            block.find("p:PmtTpInf/p:SeqTp", NS).text,
            [tx.find("p:PmtId/p:EndToEndId", NS).text for tx in block.findall("p:DrctDbtTxInf", NS)],
        )
        for block in root.findall(".//p:PmtInf", NS)
    ]


def test_export_collects_on_the_announced_day_once_and_a_second_run_finds_nothing(debit_invoice, tmp_path):
    first = tmp_path / "lastschriften.xml"
    code, out, _ = run("--through", "2026-12-07", "--out", str(first))
    assert code == 0, out
    assert "1 Lastschrift über 3,88 €, Einzug am 07.12.2026" in out
    assert blocks(first) == [("2026-12-07", "FRST", [debit_invoice.number])]  # the mandate's first collection
    root = ElementTree.parse(first).getroot()
    tx = root.find(".//p:DrctDbtTxInf", NS)
    assert (tx.find("p:InstdAmt", NS).text, tx.find(".//p:MndtId", NS).text) == ("3.88", "MUSTER-0001")
    assert root.find(".//p:PmtInfId", NS).text.endswith("-FRST-20261207")
    batch = SepaBatch.objects.get()
    assert (batch.count, batch.items.get().collection_date) == (1, date(2026, 12, 7))

    second = tmp_path / "nochmal.xml"
    code, out, _ = run("--through", "2026-12-07", "--out", str(second))
    assert code == 0
    assert "Keine angekündigten Lastschriften bis 07.12.2026: keine Datei geschrieben." in out
    assert not second.exists() and SepaBatch.objects.count() == 1


def test_a_debit_announced_later_is_not_collected_yet(debit_invoice, tmp_path):
    # Without --through: announced up to 21.11. + 14 days = 05.12.2026; the debit is for 07.12.
    code, out, _ = run("--out", str(tmp_path / "x.xml"))
    assert code == 0 and "Keine angekündigten Lastschriften bis 05.12.2026" in out
    assert not SepaBatch.objects.exists()


def test_two_announced_days_give_two_payment_blocks_each_on_its_day(debit_invoice, clock, tmp_path):
    clock.set(date(2026, 11, 24))  # Tue: + 14 days = Tue 08.12.2026, a business day
    later = debit("Beispiel IT-Service GmbH", "BEISPIEL-0001")
    assert later.due_date == date(2026, 12, 8)
    out_file = tmp_path / "x.xml"
    code, out, _ = run("--through", "2026-12-08", "--out", str(out_file))
    assert code == 0, out
    # Signed 24.11.: 23 of 30 days elapsed → 7/30 × 9,77 = 2,2797 → 2,28 € net, VAT 0,4332 → 0,43 €,
    # gross 2,71 €; with the first invoice's 3,88 € → 6,59 €.
    assert "2 Lastschriften über 6,59 €, Einzug am 07.12.2026, 08.12.2026" in out
    assert blocks(out_file) == [
        ("2026-12-07", "FRST", [debit_invoice.number]),
        ("2026-12-08", "FRST", [later.number]),
    ]


def test_a_debit_exported_late_is_announced_again_and_collected_on_the_new_day(debit_invoice, clock, tmp_path):
    # The case: an invoice announcing its debit for 20.12.2026 (written before collection
    # days were moved to business days), exported only on 21.12.2026.
    debit_invoice.due_date = date(2026, 12, 20)
    debit_invoice.save(update_fields=["due_date"])
    clock.set(date(2026, 12, 21))
    out_file = tmp_path / "x.xml"
    code, out, _ = run("--through", "2027-01-10", "--out", str(out_file))
    assert code == 0, out
    # New day: 21.12.2026 + 14 days = Mon 04.01.2027 (01.01. is a TARGET2 holiday, 02./03. a weekend).
    assert blocks(out_file) == [("2027-01-04", "FRST", [debit_invoice.number])]
    invoice = Invoice.objects.get(pk=debit_invoice.pk)
    assert (invoice.due_date, invoice.payment_means) == (date(2027, 1, 4), "direct_debit")
    assert invoice.payment_terms == "Der Betrag wird am 04.01.2027 per SEPA-Basislastschrift eingezogen."
    notice = OutboxMessage.objects.get(kind=DEBIT_NOTICE_KIND, document_id=invoice.pk)
    assert notice.recipients == ["buchhaltung@muster.test"]
    assert "04.01.2027" in notice.subject
    assert "am 04.01.2027 per SEPA-Basislastschrift" in notice.body and "20.12.2026" in notice.body
    # Everyone shows the stored day: the open items report, the portal list, the document data.
    item = finance.open_items_data(on=date(2026, 12, 21)).partners[0].items[0]
    assert item.due == date(2027, 1, 4)
    assert selectors.invoice_document(invoice).payment.due_date == date(2027, 1, 4)


def test_exported_on_the_announced_day_itself_is_too_late(debit_invoice, clock, tmp_path):
    # The file for Mon 07.12. had to reach the bank by Fri 04.12. (1 business day): on Sat 05.12.
    # it is announced again — 05.12. + 14 = Sat 19.12. → Mon 21.12.2026 — and collected then.
    clock.set(date(2026, 12, 5))
    code, out, _ = run("--through", "2026-12-21", "--out", str(tmp_path / "x.xml"))
    assert code == 0, out
    assert blocks(tmp_path / "x.xml") == [("2026-12-21", "FRST", [debit_invoice.number])]
    assert OutboxMessage.objects.filter(kind=DEBIT_NOTICE_KIND).count() == 1


def test_the_daily_job_announces_again_once(debit_invoice, clock):
    clock.set(date(2026, 12, 5))
    assert [i.pk for i in services.direct_debits_reannounce()] == [debit_invoice.pk]
    assert services.direct_debits_reannounce() == []  # the new day 21.12. is in time
    assert OutboxMessage.objects.filter(kind=DEBIT_NOTICE_KIND).count() == 1


def test_the_overdue_job_leaves_an_uncollected_debit_alone(debit_invoice, clock):
    clock.set(date(2026, 12, 20))
    services.invoices_overdue(today=date(2026, 12, 20))
    assert Invoice.objects.get(pk=debit_invoice.pk).state == "open"  # announced again, not reminded


def test_a_batch_is_never_asked_for_another_day(debit_invoice, clock):
    from billing.exceptions import SepaCollectionRefused

    clock.set(date(2026, 12, 5))
    with pytest.raises(SepaCollectionRefused, match="Bitte neu ankündigen"):
        services.sepa_batch_create(collections=selectors.direct_debits_due(date(2026, 12, 7)))
    assert not SepaBatch.objects.exists()


def test_paid_invoice_is_not_collected(debit_invoice, tmp_path):
    services.payment_record(invoice=debit_invoice, amount=Decimal("3.88"), paid_on=date(2026, 11, 21))
    code, out, _ = run("--through", "2026-12-07", "--out", str(tmp_path / "x.xml"))
    assert code == 0 and "Keine angekündigten Lastschriften" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--through", "05.12.2026"], "ist kein Datum"),
        (["--through", "2026-11-20"], "liegt vor dem heutigen Tag"),
        (["--collection-date", "2026-12-07"], None),  # gone: the day is the invoice's, not the export's
    ],
)
def test_bad_arguments_exit_2_in_german_and_write_nothing(debit_invoice, tmp_path, args, message):
    out_file = tmp_path / "x.xml"
    if message is None:
        from django.core.management.base import CommandError

        with pytest.raises(CommandError):
            run(*args, "--out", str(out_file))
    else:
        code, _, err = run(*args, "--out", str(out_file))
        assert code == 2 and message in err
    assert not out_file.exists() and not SepaBatch.objects.exists()


def test_existing_file_is_not_overwritten(debit_invoice, tmp_path):
    out_file = tmp_path / "x.xml"
    out_file.write_text("alt")
    code, _, err = run("--through", "2026-12-07", "--out", str(out_file))
    assert code == 2 and "gibt es schon" in err and out_file.read_text() == "alt"
