"""Bank statements (issue 18): a camt.053 file written by hand settles the invoices its credits
name. Three invoices of 160,89 € each (Intercom 169,00 € − 20 % = 135,20 € + 19 % = 160,89 €),
RE-2026-000001…000003; the statement of 01.12.2026 has three credits — 100,00 € for
RE-2026-000001 (partial), 321,78 € for RE-2026-000002 and RE 2026 000003 (2 × 160,89 €), 50,00 €
naming no invoice — and a returned direct debit (MD06) and a bank fee."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing import rules, services
from billing.camt import CamtRefused, statement_parse
from billing.models import BankEntry, BankStatement, Invoice, Payment
from billing.services.bank import bank_entry_assign, bank_statement_import
from billing.tests.factories import make_order, make_partner

pytestmark = pytest.mark.django_db
D = Decimal
NS08 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
NS02 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def entry08(ref, amount, direction, text="", e2e="NOTPROVIDED", name="Muster Kommunikation GmbH", extra=""):
    role = "Dbtr" if direction == "CRDT" else "Cdtr"
    return f"""
    <Ntry>
      <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{direction}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
      <BookgDt><Dt>2026-12-01</Dt></BookgDt><ValDt><Dt>2026-12-01</Dt></ValDt>
      <AcctSvcrRef>{ref}</AcctSvcrRef>
      <NtryDtls><TxDtls>
        <Refs><EndToEndId>{e2e}</EndToEndId></Refs>
        <RltdPties><{role}><Pty><Nm>{name}</Nm></Pty></{role}>
          <{role}Acct><Id><IBAN>DE02120300000000202051</IBAN></Id></{role}Acct></RltdPties>
        <RmtInf><Ustrd>{text}</Ustrd></RmtInf>{extra}
      </TxDtls></NtryDtls>
    </Ntry>"""


def statement08(*entries, stmt_id="2026-12-01-001"):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{NS08}"><BkToCstmrStmt>
  <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-12-01T20:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>{stmt_id}</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
  {"".join(entries)}
  </Stmt>
</BkToCstmrStmt></Document>""".encode()


RETURN = """<RtrInf><Rsn><Cd>MD06</Cd></Rsn></RtrInf><Chrgs><Rcrd><Amt Ccy="EUR">3.00</Amt></Rcrd></Chrgs>"""


@pytest.fixture
def invoices(modules, clock):
    clock.set(date(2026, 11, 21))
    made = [
        services.order_confirm(order=make_order(make_partner(company=f"Partner {n} GmbH"), ("INTERCOM", "purchase", 0)))
        for n in range(3)
    ]
    assert [i.number for i in made] == ["RE-2026-000001", "RE-2026-000002", "RE-2026-000003"]
    assert {i.gross_total for i in made} == {D("160.89")}
    clock.set(date(2026, 12, 2))
    return made


def the_file():
    return statement08(
        entry08("REF-1", "100.00", "CRDT", "Rechnung RE-2026-000001 Teilzahlung"),
        entry08("REF-2", "321.78", "CRDT", "RE-2026-000002, RE 2026 000003"),
        entry08("REF-3", "50.00", "CRDT", "Rechnung 4711 vom Oktober"),
        entry08("REF-4", "160.89", "DBIT", "Lastschrift", e2e="RE-2026-000001", extra=RETURN),
        entry08("REF-5", "2.50", "DBIT", "Kontoführung", name="Bank"),
    )


def state(number):
    return Invoice.objects.get(number=number)


def test_rules_find_invoice_numbers_and_split_credits():
    assert rules.invoice_numbers_in("RE-2026-000002, re 2026 000003 und RE2026000002") == [
        "RE-2026-000002",
        "RE-2026-000003",
    ]
    assert rules.invoice_numbers_in("Rechnung 4711, GS-2026-000001") == []
    a = rules.allocate_credit(D("120.00"), [("RE-1", D("100.00")), ("RE-2", D("50.00"))])
    assert (a.paid, a.rest, a.partial) == ({"RE-1": D("100.00"), "RE-2": D("20.00")}, D("0.00"), ("RE-2",))
    b = rules.allocate_credit(D("160.00"), [("RE-1", D("100.00")), ("RE-2", D("50.00"))])
    assert (b.paid, b.rest, b.partial) == ({"RE-1": D("100.00"), "RE-2": D("50.00")}, D("10.00"), ())


def test_statement_settles_named_invoices_and_keeps_the_rest_waiting(invoices):
    result = bank_statement_import(content=the_file(), file_name="auszug.xml")
    assert (result.new_entries, result.known_entries, result.payments) == (5, 0, 3)
    entries = {e.reference: e for e in BankEntry.objects.all()}
    assert {ref: e.state for ref, e in entries.items()} == {
        "REF-1": "partial",
        "REF-2": "matched",
        "REF-3": "unmatched",
        "REF-4": "unmatched",  # a return of a debit never collected (no SEPA item): waits for finance
        "REF-5": "ignored",
    }
    # 160,89 − 100,00 = 60,89 still open on RE-2026-000001; the other two are paid.
    one = state("RE-2026-000001")
    assert (one.paid_amount, one.state) == (D("100.00"), "open")
    assert [(state(n).paid_amount, state(n).state) for n in ("RE-2026-000002", "RE-2026-000003")] == [
        (D("160.89"), "paid"),
        (D("160.89"), "paid"),
    ]
    # Payments are recorded like manual ones, on the booking day, and point to their entry.
    pay = Payment.objects.get(invoice=one)
    assert (pay.paid_on, pay.bank_entry.reference) == (date(2026, 12, 1), "REF-1")
    assert entries["REF-3"].rest == D("50.00") and "Keine offene Rechnung" in entries["REF-3"].note
    assert (entries["REF-4"].return_reason, entries["REF-4"].charges) == ("MD06", D("3.00"))
    assert "keine eigene Lastschrift gefunden" in entries["REF-4"].note  # booked returns: test_returns.py
    assert "3 Zahlungen gebucht, 2 warten auf Zuordnung" in result.summary()


def test_the_same_statement_twice_changes_nothing(invoices):
    bank_statement_import(content=the_file(), file_name="auszug.xml")
    again = bank_statement_import(content=the_file(), file_name="auszug-kopie.xml")
    assert (again.new_entries, again.known_entries, again.payments) == (0, 5, 0)
    assert (BankStatement.objects.count(), BankEntry.objects.count(), Payment.objects.count()) == (1, 5, 3)


def test_overpayment_is_flagged_and_finance_assigns_the_unmatched_credit(invoices):
    bank_statement_import(
        content=statement08(
            entry08("REF-9", "170.89", "CRDT", "RE-2026-000002"), entry08("REF-3", "50.00", "CRDT", "Rechnung 4711")
        ),
        file_name="a.xml",
    )
    over = BankEntry.objects.get(reference="REF-9")
    # 170,89 on a due of 160,89: the invoice is paid, 10,00 € wait for finance.
    assert (over.state, over.rest, state("RE-2026-000002").state) == ("overpaid", D("10.00"), "paid")
    unmatched = BankEntry.objects.get(reference="REF-3")
    with pytest.raises(Exception, match="Zuordenbar sind noch 50,00"):
        bank_entry_assign(entry=unmatched, invoice=state("RE-2026-000001"), amount=D("60.00"))
    bank_entry_assign(entry=unmatched, invoice=state("RE-2026-000001"))
    unmatched.refresh_from_db()
    # 160,89 − 50,00 = 110,89 still open.
    assert (unmatched.state, unmatched.rest) == ("assigned", D("0.00"))
    assert state("RE-2026-000001").paid_amount == D("50.00")
    with pytest.raises(Exception, match="schon zugeordnet"):
        bank_entry_assign(entry=unmatched, invoice=state("RE-2026-000003"))


@pytest.mark.parametrize(
    "content,message",
    [
        (b"<Document><BkToCstmrStmt>", "kein lesbares XML"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"/>', "kein Kontoauszug im Format camt.053"),
        (statement08(entry08("", "10.00", "CRDT", "RE-2026-000001")), "keine Referenz der Bank"),
        (statement08(entry08("R1", "10,00", "CRDT", "RE-2026-000001")), "Ungültiger Betrag"),
        (statement08(entry08("R1", "-1.00", "CRDT", "RE-2026-000001")), "Ungültiger Betrag"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document>&x;</Document>',
            "kein",
        ),
    ],
)
def test_a_malformed_file_is_refused_whole_and_writes_nothing(invoices, content, message):
    good_first = entry08("REF-1", "100.00", "CRDT", "RE-2026-000001")
    if content.startswith(b"<?xml") and b"Ntry" in content:
        content = content.replace(b"<Ntry>", good_first.encode() + b"<Ntry>", 1)  # a good entry before the bad one
    with pytest.raises(CamtRefused, match=message):
        bank_statement_import(content=content, file_name="kaputt.xml")
    assert (BankStatement.objects.count(), BankEntry.objects.count(), Payment.objects.count()) == (0, 0, 0)


def test_camt_053_001_02_is_read_too(invoices):
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{NS02}"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-12-01T20:00:00</CreDtTm></GrpHdr>
<Stmt><Id>A-02</Id><Acct><Id><IBAN>DE89 3704 0044 0532 0130 00</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">160.89</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-11-30</Dt></BookgDt><ValDt><Dt>2026-11-30</Dt></ValDt><AcctSvcrRef>V2-1</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
<RltdPties><Dbtr><Nm>Partner 2 GmbH</Nm></Dbtr></RltdPties><RmtInf><Ustrd>RE-2026-000003</Ustrd></RmtInf>
</TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>""".encode()
    (parsed,) = statement_parse(content)
    assert (parsed.version, parsed.iban, parsed.entries[0].transactions[0].party_name) == (
        "02",
        "DE89370400440532013000",
        "Partner 2 GmbH",
    )
    bank_statement_import(content=content, file_name="v2.xml")
    assert (state("RE-2026-000003").state, Payment.objects.get().paid_on) == ("paid", date(2026, 11, 30))


def test_command(invoices, tmp_path):
    path = tmp_path / "auszug.xml"
    path.write_bytes(the_file())
    out = io.StringIO()
    call_command("import_bank_statement", str(path), stdout=out)
    assert "5 neue Umsätze (0 schon bekannt), 3 Zahlungen gebucht" in out.getvalue()
    (tmp_path / "kaputt.xml").write_bytes(b"<nope")
    with pytest.raises(CommandError, match="kein lesbares XML") as refused:
        call_command("import_bank_statement", str(tmp_path / "kaputt.xml"))
    assert refused.value.returncode == 2
    with pytest.raises(CommandError, match="kann nicht gelesen werden"):
        call_command("import_bank_statement", str(tmp_path / "fehlt.xml"))


@pytest.mark.parametrize("group_name,allowed", [("finance", True), ("sales", False), ("support", False)])
def test_admin_upload_and_assign_per_staff_group(invoices, client, group_name, allowed):
    from django.contrib.auth.models import Group
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from licensing.tests.factories import UserFactory

    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    upload = reverse("admin:billing_bankstatement_upload")
    if not allowed:
        assert client.get(upload).status_code == 403
        assert client.post(upload, {"file": SimpleUploadedFile("a.xml", the_file())}).status_code == 403
        assert BankEntry.objects.count() == 0
        return
    page = client.post(upload, {"file": SimpleUploadedFile("kaputt.xml", b"<x")}).content.decode()
    assert "kein lesbares XML" in page and BankEntry.objects.count() == 0
    response = client.post(upload, {"file": SimpleUploadedFile("a.xml", the_file())}, follow=True)
    page = response.content.decode()
    assert "5 neue Umsätze" in page and "Rechnung 4711 vom Oktober" in page  # the waiting list
    waiting = BankEntry.objects.get(reference="REF-3")
    assert (
        "Einer Rechnung zuordnen"
        in client.get(reverse("admin:billing_bankentry_change", args=[waiting.pk])).content.decode()
    )
    assign = reverse("admin:billing_bankentry_assign", args=[waiting.pk])
    assert "gibt es nicht" in client.post(assign, {"invoice_number": "RE-2026-999999"}).content.decode()
    client.post(assign, {"invoice_number": "re-2026-000001", "amount": ""})
    waiting.refresh_from_db()
    assert (waiting.state, state("RE-2026-000001").paid_amount) == ("assigned", D("150.00"))


@pytest.mark.parametrize("group_name", ["sales", "support"])
def test_assign_needs_the_payment_right(invoices, client, group_name):
    from django.contrib.auth.models import Group
    from django.urls import reverse

    from licensing.tests.factories import UserFactory

    bank_statement_import(content=the_file(), file_name="a.xml")
    waiting = BankEntry.objects.get(reference="REF-3")
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    url = reverse("admin:billing_bankentry_assign", args=[waiting.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"invoice_number": "RE-2026-000001"}).status_code == 403
    assert BankEntry.objects.get(pk=waiting.pk).state == "unmatched"
    assert Payment.objects.count() == 3  # only the statement's own three
