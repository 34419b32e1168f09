"""DATEV export (issue 18): a November 2026 with a German, a reverse-charge and a non-EU
invoice, a correction and two payments, booked as the tax adviser imports it. Every amount
is worked out by hand: Intercom 169,00 € list − 20 % partner conditions = 135,20 € net;
German 19 % VAT 25,69 € → 160,89 € gross; reverse charge and non-EU 0 % → 135,20 €."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from billing import datev, services
from billing.finance import finance_journal_send, finance_report_attachments, journal_data
from billing.models import FinanceReport
from billing.tests.factories import make_order, make_partner
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db
D = Decimal
COL = {name: i for i, name in enumerate(datev.BOOKING_COLUMNS)}


@pytest.fixture
def november(modules, clock, settings):
    settings.DATEV_CONSULTANT_NUMBER = 29098
    settings.DATEV_CLIENT_NUMBER = 55003
    settings.DATEV_RECIPIENTS = ["kanzlei@steuer.test"]
    clock.set(date(2026, 11, 21))
    german = make_partner(company="Muster Kommunikation GmbH")
    austrian = make_partner(company="Wien Telefonie GmbH", country="AT", vat_id="ATU13585627", city="Wien")
    swiss = make_partner(company="Zürich Voice AG", country="CH", vat_id="CHE-116.281.710", city="Zürich")
    invoices = [
        services.order_confirm(order=make_order(partner, ("INTERCOM", "purchase", 0)))
        for partner in (german, austrian, swiss)
    ]
    clock.set(date(2026, 11, 23))
    correction = services.credit_note_issue(invoice=invoices[0], reason="Doppelt bestellt")
    clock.set(date(2026, 11, 26))
    services.payment_record(invoice=invoices[1], amount=D("135.20"), paid_on=date(2026, 11, 25))
    services.payment_record(invoice=invoices[2], amount=D("35.20"), paid_on=date(2026, 11, 26))
    clock.set(date(2026, 12, 2))
    return {"partners": (german, austrian, swiss), "invoices": invoices, "correction": correction}


def rows_of(content: bytes) -> list[list[str]]:
    text = content.decode("cp1252")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return [line.split(";") for line in text.split("\r\n")[:-1]]


def test_buchungsstapel_rows_accounts_keys_and_sums(november):
    german, austrian, swiss = november["partners"]
    export = datev.datev_export(
        month=date(2026, 11, 1), today=date(2026, 12, 2), created=timezone.make_aware(datetime(2026, 12, 2, 7, 30))
    )
    header, columns, *rows = rows_of(export.bookings)
    # Header: EXTF, version 700, category 21 "Buchungsstapel" format 13, created 02.12.2026
    # 07:30 Berlin, consultant 29098, client 55003, fiscal year from 01.01.2026, accounts of
    # 4 digits, 01.11.–30.11.2026, Fibu (1), not locked, EUR, SKR03.
    assert header[:6] == ['"EXTF"', "700", "21", '"Buchungsstapel"', "13", "20261202073000000"]
    assert header[10:17] == ["29098", "55003", "20260101", "4", "20261101", "20261130", '"Rechnungsausgang 11/2026"']
    assert (header[18], header[20], header[21], header[26]) == ("1", "0", '"EUR"', '"03"')
    assert len(header) == 31
    assert len(columns) == 125 and columns[:2] == ["Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen"]
    assert all(len(row) == 125 for row in rows)

    def row(amount, side, account, contra, day, number):
        return (amount, side, account, contra, day, number)

    got = [
        (
            r[COL["Umsatz (ohne Soll/Haben-Kz)"]],
            r[COL["Soll/Haben-Kennzeichen"]],
            r[COL["Konto"]],
            r[COL["Gegenkonto (ohne BU-Schlüssel)"]],
            r[COL["Belegdatum"]],
            r[COL["Belegfeld 1"]],
        )
        for r in rows
    ]
    de, at, ch = (str(10000 + p.pk) for p in (german, austrian, swiss))
    assert got == [
        row("160,89", '"S"', de, "8400", "2111", '"RE-2026-000001"'),
        row("135,20", '"S"', at, "8336", "2111", '"RE-2026-000002"'),
        row("135,20", '"S"', ch, "8338", "2111", '"RE-2026-000003"'),
        row("160,89", '"H"', de, "8400", "2311", '"GS-2026-000001"'),
        row("135,20", '"H"', at, "1200", "2511", '"RE-2026-000002"'),
        row("35,20", '"H"', ch, "1200", "2611", '"RE-2026-000003"'),
    ]
    # Reverse charge: the buyer's VAT ID for the recapitulative statement; nowhere else.
    assert [r[COL["EU-Land u. UStID (Bestimmung)"]] for r in rows] == ["", '"ATU13585627"', "", "", "", ""]
    # 8400 is an automatic account (DATEV computes the 19 %): no BU-Schlüssel anywhere.
    assert {r[COL["BU-Schlüssel"]] for r in rows} == {""}
    assert rows[0][COL["Buchungstext"]] == '"RE-2026-000001 Muster Kommunikation GmbH"'
    assert rows[3][COL["Buchungstext"]] == '"Korrektur GS-2026-000001 zu RE-2026-000001"'
    assert rows[4][COL["Buchungstext"]] == '"Zahlung RE-2026-000002 Wien Telefonie GmbH"'
    assert rows[0][COL["Leistungsdatum"]] == "21112026"
    # Soll: 160,89 + 135,20 + 135,20 = 431,29; Haben: 160,89 + 135,20 + 35,20 = 331,29.
    assert (export.debit_total, export.credit_total) == (D("431.29"), D("331.29"))


def test_invoice_totals_equal_the_months_journal(november):
    export = datev.datev_export(month=date(2026, 11, 1), today=date(2026, 12, 2), created=timezone.now())
    journal = journal_data(year=2026, month=11)
    documents = [b for b in export.rows if b.contra_account != 1200]
    signed = sum((b.amount if b.side == "S" else -b.amount for b in documents), D("0"))
    # Journal gross: 160,89 + 135,20 + 135,20 − 160,89 = 270,40.
    assert signed == journal.totals.gross == D("270.40")


def test_debtors_master_data(november):
    german, austrian, swiss = november["partners"]
    content = datev.debitoren(month=date(2026, 11, 1), created=timezone.now())
    header, columns, *rows = rows_of(content)
    assert header[:5] == ['"EXTF"', "700", "16", '"Debitoren/Kreditoren"', "5"]
    assert columns[:2] == ["Konto", "Name (Adressatentyp Unternehmen)"]
    by_account = {r[0]: r for r in rows}
    assert set(by_account) == {str(10000 + p.pk) for p in (german, austrian, swiss)}
    vienna = by_account[str(10000 + austrian.pk)]
    assert (vienna[1], vienna[8], vienna[9], vienna[18], vienna[19]) == (
        '"Wien Telefonie GmbH"',
        '"AT"',
        '"U13585627"',
        '"Wien"',
        '"AT"',
    )
    # Windows-1252 keeps the umlaut of Zürich.
    assert '"Zürich Voice AG"' in content.decode("cp1252")


def test_a_month_not_over_is_refused(november):
    with pytest.raises(Exception, match="Der Monat 12/2026 ist noch nicht abgeschlossen"):
        datev.datev_export(month=date(2026, 12, 1), today=date(2026, 12, 2), created=timezone.now())


def test_command_writes_both_files_and_refuses_bad_input(november, tmp_path):
    out = io.StringIO()
    call_command("datev_export", "--month", "2026-11", "--out", str(tmp_path / "stapel.csv"), stdout=out)
    assert "6 Buchungen (Soll 431,29 €, Haben 331,29 €)" in out.getvalue()
    assert (tmp_path / "stapel.csv").read_bytes().startswith(b'"EXTF";700;21;')
    assert (tmp_path / "EXTF_Debitoren_2026-11.csv").read_bytes().startswith(b'"EXTF";700;16;')
    for args, message in [
        (["--month", "2026-13"], "Bitte den Monat als JJJJ-MM angeben"),
        (["--month", "11/2026"], "Bitte den Monat als JJJJ-MM angeben"),
        (["--month", "٢٠٢٦-١١"], "Bitte den Monat als JJJJ-MM angeben"),  # Arabic-Indic digits
        (["--month", "2026-11\n2026-12"], "Bitte den Monat als JJJJ-MM angeben"),
        (["--month", "2026-12"], "noch nicht abgeschlossen"),
    ]:
        with pytest.raises(CommandError, match=message) as refused:
            call_command("datev_export", *args, "--out", str(tmp_path / "x.csv"))
        assert refused.value.returncode == 2
    with pytest.raises(CommandError, match="Den Ordner .* gibt es nicht"):
        call_command("datev_export", "--month", "2026-11", "--out", str(tmp_path / "nope" / "x.csv"))
    assert not (tmp_path / "x.csv").exists()


def test_journal_mail_carries_the_datev_files_to_the_tax_adviser(november, settings):
    report, created = finance_journal_send(year=2026, month=11, today=date(2026, 12, 2))
    assert created
    message = OutboxMessage.objects.get(document_id=report.pk, kind="finance-journal")
    assert "kanzlei@steuer.test" in message.recipients and settings.FINANCE_EMAILS[0] in message.recipients
    names = [name for name, _content, _type in finance_report_attachments(message)]
    assert names[0] == "rechnungsausgangsbuch-2026-11.pdf"
    assert names[-2:] == ["EXTF_Buchungsstapel_2026-11.csv", "EXTF_Debitoren_2026-11.csv"]
    # Made once: a resend attaches the same bytes even after another payment of November.
    first = finance_report_attachments(message)[-2][1]
    services.payment_record(invoice=november["invoices"][2], amount=D("1.00"), paid_on=date(2026, 11, 30))
    assert FinanceReport.objects.get(pk=report.pk).datev_bookings.read() == first


@pytest.mark.parametrize("group_name,allowed", [("finance", True), ("sales", False), ("support", False)])
def test_admin_datev_download_per_staff_group(november, client, group_name, allowed):
    import zipfile

    from django.contrib.auth.models import Group
    from django.urls import reverse

    from licensing.tests.factories import UserFactory

    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    url = reverse("admin:billing_financereport_datev")
    if not allowed:
        assert client.get(url).status_code == 403
        assert client.post(url, {"month": "2026-11"}).status_code == 403
        return
    page = client.get(url).content.decode()
    assert 'value="2026-11"' in page  # the last closed month is offered
    assert "DATEV-Export" in client.get(reverse("admin:billing_financereport_changelist")).content.decode()
    assert "noch nicht abgeschlossen" in client.post(url, {"month": "2026-12"}).content.decode()
    assert "Bitte den Monat als JJJJ-MM angeben" in client.post(url, {"month": "99999-1"}).content.decode()
    assert "Bitte den Monat als JJJJ-MM angeben" in client.post(url, {"month": "٢٠٢٦-١١"}).content.decode()
    response = client.post(url, {"month": "2026-11"})
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["EXTF_Buchungsstapel_2026-11.csv", "EXTF_Debitoren_2026-11.csv"]
    assert archive.read("EXTF_Buchungsstapel_2026-11.csv").count(b"\r\n") == 8  # header, columns, 6 bookings
