"""``export_invoices``: the month's stored PDFs and index.csv; bad arguments → German message, exit 2."""

import csv
import io
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing import services
from billing.tests.factories import make_order, make_partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(modules, clock):
    clock.set(date(2026, 10, 31))
    october = services.order_confirm(order=make_order(make_partner(company="Oktober GmbH"), ("DHCP", "purchase", 0)))
    clock.set(date(2026, 11, 21))
    # Intercom 169,00 € − 20 % = 135,20 €; 19 % = 25,688 → 25,69 €; gross 160,89 €.
    invoice = services.order_confirm(order=make_order(make_partner(), ("INTERCOM", "purchase", 0)))
    note = services.credit_note_issue(invoice=invoice, reason="Storno")
    return october, invoice, note


def test_export_writes_the_months_pdfs_and_index(issued, tmp_path):
    _october, invoice, note = issued
    out = tmp_path / "export"
    call_command("export_invoices", month="2026-11", out=str(out), stdout=io.StringIO())
    assert sorted(p.name for p in out.iterdir()) == ["GS-2026-000001.pdf", "RE-2026-000002.pdf", "index.csv"]
    invoice.refresh_from_db()  # the export rendered and stored it (the issue's on_commit did not run)
    with invoice.pdf.open("rb") as stored:
        assert (out / "RE-2026-000002.pdf").read_bytes() == stored.read()
    rows = list(csv.reader((out / "index.csv").read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rows == [
        ["Nummer", "Art", "Datum", "Partner", "Netto", "USt", "Brutto", "Zahlungsart"],
        [
            "GS-2026-000001",
            "Stornorechnung",
            "21.11.2026",
            "Muster Kommunikation GmbH",
            "135,20",
            "25,69",
            "160,89",
            "Überweisung",
        ],
        [
            "RE-2026-000002",
            "Rechnung",
            "21.11.2026",
            "Muster Kommunikation GmbH",
            "135,20",
            "25,69",
            "160,89",
            "Überweisung",
        ],
    ]


@pytest.mark.parametrize("month", ["2026-13", "11/2026", "", "2026-1", "0000-05", "٢٠٢٦-١١", "2026-11\n2026-12"])
def test_bad_month_is_refused_with_exit_2_and_writes_nothing(issued, tmp_path, month):
    out = tmp_path / "export"
    with pytest.raises(CommandError, match="JJJJ-MM") as refused:
        call_command("export_invoices", month=month, out=str(out))
    assert refused.value.returncode == 2 and not out.exists()


def test_non_empty_folder_is_refused(issued, tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    (out / "old.txt").write_text("x")
    with pytest.raises(CommandError, match="nicht leer") as refused:
        call_command("export_invoices", month="2026-11", out=str(out))
    assert refused.value.returncode == 2 and sorted(p.name for p in out.iterdir()) == ["old.txt"]


def test_command_line_exit_code_is_2(issued, tmp_path, capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(
            ["manage.py", "export_invoices", "--month", "2026-00", "--out", str(tmp_path / "x")]
        ).execute()
    assert exited.value.code == 2
    assert "Bitte den Monat als JJJJ-MM angeben" in capsys.readouterr().err


def test_a_missing_or_changed_pdf_stops_the_export_with_a_german_list(issued, tmp_path):
    from pathlib import Path

    _october, invoice, note = issued
    out = tmp_path / "export"
    call_command("export_invoices", month="2026-11", out=str(out), stdout=io.StringIO())  # renders and stores both
    invoice.refresh_from_db()
    note.refresh_from_db()
    Path(invoice.pdf.path).unlink()
    Path(note.pdf.path).write_bytes(b"%PDF-1.7 changed")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("export_invoices", month="2026-11", out=str(tmp_path / "again"), stderr=err)
    assert exit_info.value.code == 1
    assert err.getvalue().splitlines() == [
        "Nichts exportiert – diese Belege sind nicht wie ausgestellt vorhanden:",
        "GS-2026-000001: PDF-Datei wurde verändert (Prüfsumme stimmt nicht)",
        "RE-2026-000002: PDF-Datei fehlt (invoices/2026/RE-2026-000002.pdf)",
    ]
    assert not (tmp_path / "again").exists()
