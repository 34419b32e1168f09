"""Attack on finance's new doors (issue 18): hostile and broken camt.053 files, absurd ids in the
admin's bank and dunning pages, the upload posted twice. A bad file is refused whole with a
German message and nothing written; no answer is a 500."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from billing.camt import CamtRefused
from billing.models import BankEntry, BankStatement, Payment
from billing.services.bank import bank_statement_import
from billing.tests.test_bank_statement import entry08, state, statement08
from billing.tests.test_bank_statement import invoices as invoices  # noqa: PLC0414 - the fixture
from licensing.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


def nothing_written():
    return (BankStatement.objects.count(), BankEntry.objects.count(), Payment.objects.count()) == (0, 0, 0)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<Stmt><Id>&lol9;</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct></Stmt>
</BkToCstmrStmt></Document>"""


def xxe_in_remittance(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("GEHEIM-4711")
    good = statement08(entry08("X1", "10.00", "CRDT", "&xxe;"))
    doctype = f'<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file://{secret}">]>'.encode()
    return good.replace(b"?>", b"?>" + doctype, 1)


def test_xxe_entity_is_not_read_from_the_disk(invoices, tmp_path):
    try:
        bank_statement_import(content=xxe_in_remittance(tmp_path), file_name="xxe.xml")
    except CamtRefused:
        assert nothing_written()
        return
    # Read without the entity: the file's content never lands in the database.
    assert not BankEntry.objects.filter(remittance__contains="GEHEIM").exists()


def test_billion_laughs_is_refused_quickly(invoices):
    with pytest.raises(CamtRefused):
        bank_statement_import(content=BILLION_LAUGHS, file_name="lol.xml")
    assert nothing_written()


@pytest.mark.parametrize(
    "amount", ["NaN", "sNaN", "Infinity", "-Infinity", "1e309", "12345678901234.00", "10000000000.00", "0.001", "", " "]
)
def test_absurd_amounts_are_refused_whole(invoices, amount):
    content = statement08(entry08("OK-1", "100.00", "CRDT", "RE-2026-000001"), entry08("BAD", amount, "CRDT", "x"))
    with pytest.raises(CamtRefused, match="Ungültiger Betrag"):
        bank_statement_import(content=content, file_name="a.xml")
    assert nothing_written()


@pytest.mark.parametrize("amount", ["NaN", "1e309", "99999999999.00"])
def test_absurd_charges_are_refused_whole(invoices, amount):
    extra = f'<RtrInf><Rsn><Cd>MD06</Cd></Rsn></RtrInf><Chrgs><Rcrd><Amt Ccy="EUR">{amount}</Amt></Rcrd></Chrgs>'
    content = statement08(entry08("R-1", "160.89", "DBIT", "x", e2e="RE-2026-000001", extra=extra))
    with pytest.raises(CamtRefused, match="Ungültiger Betrag"):
        bank_statement_import(content=content, file_name="a.xml")
    assert nothing_written()


@pytest.mark.parametrize(
    "iban", ["DE89" + "0" * 40, "DE89370400440532013000\x01", "<![CDATA[DE89]]>" + "9" * 50, "XX' OR 1=1 --"]
)
def test_an_account_that_is_no_iban_is_refused(invoices, iban):
    content = statement08(entry08("OK-1", "100.00", "CRDT", "RE-2026-000001")).replace(
        b"DE89370400440532013000", iban.encode(), 1
    )
    with pytest.raises(CamtRefused):
        bank_statement_import(content=content, file_name="a.xml")
    assert nothing_written()


@pytest.mark.parametrize("day", ["2026-13-45", "0000-01-01", "2026-02-30", "heute"])
def test_impossible_booking_dates_are_refused(invoices, day):
    content = statement08(entry08("OK-1", "100.00", "CRDT", "RE-2026-000001")).replace(b"2026-12-01", day.encode())
    with pytest.raises(CamtRefused, match="Ungültiges Datum"):
        bank_statement_import(content=content, file_name="a.xml")
    assert nothing_written()


def test_unicode_and_long_texts_are_stored_cut_not_refused(invoices):
    name = "Müller &amp; Söhne 😀 " * 30
    content = statement08(
        entry08("U" * 300, "160.89", "CRDT", "RE-2026-000002 " + "ß" * 20_000, name=name, e2e="E" * 80)
    )
    bank_statement_import(content=content, file_name="ü" * 400 + ".xml")
    entry = BankEntry.objects.get()
    assert (entry.state, state("RE-2026-000002").state) == ("matched", "paid")
    assert len(entry.party_name) <= 140 and len(entry.end_to_end_id) <= 35 and len(entry.reference) <= 120


def finance_client(client):
    user = UserFactory(username="staff-finance", is_staff=True)
    user.groups.add(Group.objects.get(name="finance"))
    client.force_login(user)
    return client


@pytest.mark.parametrize("object_id", ["abc", "1.5", "99999999999999999999999", "-1", "%00", "1/2"])
def test_assign_view_with_an_absurd_id_is_404(invoices, client, object_id):
    finance_client(client)
    url = reverse("admin:billing_bankentry_assign", args=["1"]).replace("/1/", f"/{object_id}/")
    # 404, a 400 for a NUL byte in the path, or the admin's own "does not exist" redirect.
    assert client.get(url).status_code in (302, 400, 404)
    assert client.post(url, {"invoice_number": "RE-2026-000001"}).status_code in (302, 400, 404)
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(
    "amount,message",
    [("NaN", "Zahl"), ("1e309", "Zahl"), ("-5", "größer"), ("99999999999999", "Ziffern"), ("1,2,3", "Zahl")],
)
def test_assign_form_refuses_absurd_amounts(invoices, client, amount, message):
    bank_statement_import(content=statement08(entry08("W-1", "50.00", "CRDT", "Rechnung 4711")), file_name="a.xml")
    waiting = BankEntry.objects.get()
    finance_client(client)
    response = client.post(
        reverse("admin:billing_bankentry_assign", args=[waiting.pk]),
        {"invoice_number": "RE-2026-000001", "amount": amount},
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert BankEntry.objects.get().state == "unmatched" and Payment.objects.count() == 0


def test_assign_form_with_nul_bytes_in_the_number(invoices, client):
    bank_statement_import(content=statement08(entry08("W-1", "50.00", "CRDT", "Rechnung 4711")), file_name="a.xml")
    finance_client(client)
    response = client.post(
        reverse("admin:billing_bankentry_assign", args=[BankEntry.objects.get().pk]),
        {"invoice_number": "RE-2026-\x00000001"},
    )
    assert response.status_code in (200, 400)  # Django refuses NUL bytes in a form with 400
    assert Payment.objects.count() == 0


def test_upload_of_an_empty_or_binary_file_is_a_form_error(invoices, client):
    finance_client(client)
    url = reverse("admin:billing_bankstatement_upload")
    for name, data in (("leer.xml", b""), ("bild.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100)):
        response = client.post(url, {"file": SimpleUploadedFile(name, data)})
        assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert client.post(url, {}).status_code == 200  # no file at all: the form again
    assert nothing_written()


def test_the_same_upload_twice_books_once(invoices, client):
    finance_client(client)
    url = reverse("admin:billing_bankstatement_upload")
    content = statement08(entry08("D-1", "160.89", "CRDT", "RE-2026-000002"))
    for _n in range(2):
        response = client.post(url, {"file": SimpleUploadedFile("a.xml", content)}, follow=True)
        assert response.status_code == 200
    assert (BankEntry.objects.count(), Payment.objects.count()) == (1, 1)
    assert "0 neue Umsätze (1 schon bekannt)" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_statement_at_once_book_once(invoices):
    """A double click on "Einlesen": two requests import the same file at the same moment. One
    books it; the other is told that it is already (being) read — never a 500."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL's row locks")
    content = statement08(entry08("C-1", "160.89", "CRDT", "RE-2026-000002"))
    start = threading.Barrier(2)
    outcomes = []

    def run():
        from django.db import connection as own

        try:
            start.wait()
            outcomes.append(bank_statement_import(content=content, file_name="a.xml").new_entries)
        except CamtRefused as refused:
            outcomes.append(refused.message)
        except Exception as exc:  # noqa: BLE001 - the test reports what raised
            outcomes.append(repr(exc))
        finally:
            own.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (BankEntry.objects.count(), Payment.objects.count()) == (1, 1)
    assert 1 in outcomes, outcomes
    other = outcomes[1 - outcomes.index(1)]
    assert other == 0 or "eingelesen" in other, outcomes


def test_export_index_writes_a_formula_name_as_text(modules, clock, tmp_path):
    """index.csv goes to finance's spreadsheet: a partner named "=HYPERLINK(…)" is text there."""
    import csv
    import io
    from datetime import date

    from django.core.management import call_command

    from billing import services
    from billing.tests.factories import make_order, make_partner

    clock.set(date(2026, 11, 21))
    services.order_confirm(
        order=make_order(make_partner(company='=HYPERLINK("http://x.example";"1")'), ("DHCP", "purchase", 0))
    )
    out = tmp_path / "export"
    call_command("export_invoices", month="2026-11", out=str(out), stdout=io.StringIO())
    rows = list(csv.reader((out / "index.csv").read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rows[1][3] == '\'=HYPERLINK("http://x.example";"1")'


def test_datev_files_keep_one_line_per_row_whatever_the_partner_name(modules, clock):
    """A partner name or address with a line break, a tab, a quote or an emoji: the DATEV files
    keep one record per line (a break inside a field split the record for DATEV's import)."""
    from datetime import date

    from django.utils import timezone

    from billing import datev, services
    from billing.tests.factories import make_order, make_partner

    clock.set(date(2026, 11, 21))
    partner = make_partner(company='Muster\r\nKommunikation "GmbH"\t😀')
    partner.street = "Hauptstr. 1\nHinterhaus"
    partner.save()
    services.order_confirm(order=make_order(partner, ("DHCP", "purchase", 0)))
    export = datev.datev_export(month=date(2026, 11, 1), today=date(2026, 12, 2), created=timezone.now())
    for content in (export.bookings, export.debtors):
        lines = content.decode("cp1252").split("\r\n")
        assert lines[-1] == ""
        lines = lines[:-1]
        assert all("\n" not in line and "\r" not in line and "\t" not in line for line in lines)
        assert len(lines) > 2  # header line, column line, then one record per line
        for record in lines[2:]:
            assert record.count('"') % 2 == 0, record
    assert len(export.bookings.decode("cp1252").split("\r\n")) == 2 + len(export.rows) + 1


GARBAGE_FORMS = [
    {},
    {"partner": "abc", "invoice_number": "", "reason": "x"},
    {"partner": "99999999999999999999", "reason": "x"},
    {"partner": "-1", "invoice_number": "RE-2026-000001", "reason": "beides"},
    {"invoice_number": "' OR 1=1 --", "reason": "x" * 10_000},
    {"invoice_number": "RE-2026-000001", "reason": "   "},
    {"month": "2026-13"},
    {"month": "9999-12"},
    {"month": "1e309"},
    {"month": "2026-11" * 100},
]


@pytest.mark.parametrize("data", GARBAGE_FORMS)
def test_finance_forms_with_garbage_answer_with_the_form_and_write_nothing(invoices, client, data):
    from billing.models import DunningBlock, DunningPause

    user = UserFactory(username="chef", is_staff=True, is_superuser=True)
    client.force_login(user)
    partner = invoices[0].partner
    for url in (
        reverse("admin:billing_dunningpause_pause"),
        reverse("admin:billing_dunningblock_block", args=[partner.pk]),
        reverse("admin:billing_financereport_datev"),
        reverse("admin:billing_dunningpause_pause") + "?partner=%27%3Cscript%3E",
    ):
        response = client.post(url, data)
        assert response.status_code == 200, (url, data, response.status_code)
        assert response["Content-Type"].startswith("text/html")
    assert (DunningPause.objects.count(), DunningBlock.objects.count()) == (0, 0)


@pytest.mark.parametrize("partner_id", ["99999999999999999999", "0"])
def test_block_page_for_a_partner_that_does_not_exist_is_404(invoices, client, partner_id):
    client.force_login(UserFactory(username="chef", is_staff=True, is_superuser=True))
    url = reverse("admin:billing_dunningblock_block", args=[1]).replace("/1/", f"/{partner_id}/")
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x"}).status_code == 404


@pytest.mark.parametrize("typed,stored", [("12,50", D("12.50")), ("1.299,00", D("1299.00")), ("12.50", D("12.50"))])
def test_a_charge_typed_with_a_decimal_comma_is_read_as_a_german_amount(invoices, client, typed, stored):
    """Finance types amounts as Germans do; the hand entry of a charge read "12,50" as no number."""
    from billing.models import Charge

    finance_client(client)
    partner = invoices[0].partner
    response = client.post(
        reverse("admin:billing_charge_add"),
        {
            "partner": partner.pk,
            "kind": "return_fee",
            "amount": typed,
            "description": "Rücklastschriftgebühr",
            "reason": "Bank hat nachbelastet",
            "token": f"t-{typed}",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Charge.objects.get().amount == stored


@pytest.mark.parametrize("typed", ["RE 2026 000001", "re2026000001", " re-2026-000001 "])
def test_assign_reads_the_number_as_the_bank_wrote_it(invoices, client, typed):
    """Finance copies the number from the remittance text shown in the list; it was refused
    ("Eine Rechnung RE 2026 000001 gibt es nicht")."""
    bank_statement_import(content=statement08(entry08("W-1", "50.00", "CRDT", "Rechnung 4711")), file_name="a.xml")
    finance_client(client)
    response = client.post(
        reverse("admin:billing_bankentry_assign", args=[BankEntry.objects.get().pk]),
        {"invoice_number": typed, "amount": "50,00"},
    )
    assert response.status_code == 302
    assert state("RE-2026-000001").paid_amount == D("50.00")


def test_the_command_refuses_a_huge_file_without_reading_it_whole(invoices, tmp_path, monkeypatch):
    """``import_bank_statement`` given the wrong path (a 200 MB file here, /dev/zero in the worst
    case) read all of it into memory before the size check."""
    import tracemalloc

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from billing import camt

    monkeypatch.setattr(camt, "MAX_BYTES", 1000)
    huge = tmp_path / "backup.bin"
    with huge.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: no disk, 200 MB to read
    tracemalloc.start()
    try:
        with pytest.raises(CommandError, match="größer als 50 MB"):
            call_command("import_bank_statement", str(huge))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
    assert nothing_written()


@pytest.mark.django_db(transaction=True)
def test_two_finance_users_assign_one_credit_at_once_book_it_once(invoices):
    """Two finance users click "zuordnen" on the same waiting credit at the same moment."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL's row locks")
    from billing.services.bank import bank_entry_assign

    bank_statement_import(content=statement08(entry08("W-1", "50.00", "CRDT", "Rechnung 4711")), file_name="a.xml")
    entry = BankEntry.objects.get()
    start = threading.Barrier(2)
    outcomes = []

    def run(number):
        from django.db import connection as own

        try:
            start.wait()
            bank_entry_assign(entry=entry, invoice=state(number))
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001 - a PortalError is the expected refusal
            outcomes.append(getattr(exc, "message", repr(exc)))
        finally:
            own.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("RE-2026-000001", "RE-2026-000002")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and any("schon zugeordnet" in o for o in outcomes), outcomes
    assert Payment.objects.filter(bank_entry=entry).count() == 1
    assert sum(p.amount for p in Payment.objects.filter(bank_entry=entry)) == D("50.00")
