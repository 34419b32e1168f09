"""sepa_export (ORD-8): every due direct-debit invoice in one pain.008 file, never twice.

The invoice: Blacklist PRO, subscription 12 months, 12,21 €/month list price − 20 % partner
conditions = 9,768 → 9,77 € net a month (≤ 50,00 €, so collected by direct debit when the partner
has a mandate). Signed 21.11.2026, the order bills the first partial month (SUB-2): 10/30 × 9,77 =
3,2566… → 3,26 € net; VAT 19 % 0,6194 → 0,62 €; gross 3,88 €. Issued 21.11.2026; the collection date
printed on it (pre-notification) is 05.12.2026.
"""

from datetime import date
from decimal import Decimal
from io import StringIO
from xml.etree import ElementTree

import pytest
from django.core.management import call_command

from billing import services
from billing.models import SepaBatch
from billing.tests.factories import make_order, make_partner

pytestmark = pytest.mark.django_db
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}


@pytest.fixture
def debit_invoice(modules, clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner()
    services.sepa_mandate_create(
        partner=partner, iban="DE89370400440532013000", reference="MUSTER-0001", signed_on=date(2025, 3, 10)
    )
    invoice = services.order_confirm(order=make_order(partner, ("BLACKLIST", "subscription", 12)))
    assert (invoice.payment_means, invoice.gross_total, invoice.due_date) == (
        "direct_debit",
        Decimal("3.88"),
        date(2026, 12, 5),
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


def test_export_writes_the_due_invoice_once_and_a_second_run_finds_nothing(debit_invoice, tmp_path):
    first = tmp_path / "lastschriften.xml"
    code, out, _ = run("--collection-date", "2026-12-05", "--out", str(first))
    assert code == 0, out
    assert "1 Lastschrift(en) über 3,88 € zum 05.12.2026" in out
    root = ElementTree.parse(first).getroot()
    tx = root.findall(".//p:DrctDbtTxInf", NS)
    assert len(tx) == 1
    assert tx[0].find("p:PmtId/p:EndToEndId", NS).text == debit_invoice.number
    assert tx[0].find("p:InstdAmt", NS).text == "3.88"
    assert tx[0].find(".//p:MndtId", NS).text == "MUSTER-0001"
    assert root.find(".//p:SeqTp", NS).text == "FRST"  # the mandate's first collection
    assert SepaBatch.objects.get().count == 1

    second = tmp_path / "nochmal.xml"
    code, out, _ = run("--collection-date", "2026-12-05", "--out", str(second))
    assert code == 0
    assert "Keine fälligen Lastschriften bis 05.12.2026: keine Datei geschrieben." in out
    assert not second.exists() and SepaBatch.objects.count() == 1


def test_invoice_due_later_is_not_collected_yet(debit_invoice, tmp_path):
    code, out, _ = run("--collection-date", "2026-12-04", "--out", str(tmp_path / "x.xml"))
    assert code == 0 and "Keine fälligen Lastschriften bis 04.12.2026" in out
    assert not SepaBatch.objects.exists()


def test_paid_invoice_is_not_collected(debit_invoice, tmp_path):
    services.payment_record(invoice=debit_invoice, amount=Decimal("3.88"), paid_on=date(2026, 11, 21))
    code, out, _ = run("--collection-date", "2026-12-05", "--out", str(tmp_path / "x.xml"))
    assert code == 0 and "Keine fälligen Lastschriften" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--collection-date", "05.12.2026"], "ist kein Datum"),
        (["--collection-date", "2026-11-21"], "muss nach dem heutigen Tag liegen"),
    ],
)
def test_bad_arguments_exit_2_in_german_and_write_nothing(debit_invoice, tmp_path, args, message):
    out_file = tmp_path / "x.xml"
    code, _, err = run(*args, "--out", str(out_file))
    assert code == 2 and message in err
    assert not out_file.exists() and not SepaBatch.objects.exists()


def test_existing_file_is_not_overwritten(debit_invoice, tmp_path):
    out_file = tmp_path / "x.xml"
    out_file.write_text("alt")
    code, _, err = run("--collection-date", "2026-12-05", "--out", str(out_file))
    assert code == 2 and "gibt es schon" in err and out_file.read_text() == "alt"
