"""``python manage.py export_invoices --month YYYY-MM --out DIR`` — the month's hand-over to
the tax adviser: every invoice and correction issued in that month as ``DIR/<number>.pdf``
(the stored file, byte for byte) and ``DIR/index.csv``.

index.csv (decision): UTF-8 with BOM, ``;`` as separator, German decimal comma and dates
as ``TT.MM.JJJJ`` — what German spreadsheet and accounting software open as they are.
Columns: Nummer; Art; Datum; Partner; Netto; USt; Brutto; Zahlungsart. Corrections have
positive amounts and the kind "Rechnungskorrektur" or "Stornorechnung" (INV-1).

Bad arguments (a month that is not ``YYYY-MM``, an output path that is a file or a folder
that already holds files) end with a German message and exit code 2; nothing is written then.
A document whose PDF is not rendered yet is rendered and stored first; one whose stored file
is missing or changed stops the export (exit 1, a German list, nothing written).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from billing import selectors
from billing.services import invoice_pdf_ensure
from vendorportal.csvsafe import text_cell
from vendorportal.documents import DocumentChanged, document_bytes
from vendorportal.formats import format_date_de
from vendorportal.periods import parse_month


def _amount(value) -> str:
    return f"{value:.2f}".replace(".", ",")


class Command(BaseCommand):
    help = "Rechnungen und Rechnungskorrekturen eines Monats als PDF mit index.csv exportieren (für den Steuerberater)."

    def add_arguments(self, parser):
        parser.add_argument("--month", default="", help="Monat als JJJJ-MM, z. B. 2026-11")
        parser.add_argument("--out", default="", help="Zielordner (neu oder leer)")

    def _fail(self, message: str):
        raise CommandError(message, returncode=2)

    def handle(self, *args, month: str, out: str, **options):
        first = parse_month(month)
        if first is None:
            self._fail("Bitte den Monat als JJJJ-MM angeben, z. B. --month 2026-11.")
        if not out:
            self._fail("Bitte den Zielordner angeben: --out ORDNER.")
        year, number = first.year, first.month
        target = Path(out)
        if target.exists() and not target.is_dir():
            self._fail(f"{target} ist eine Datei, kein Ordner.")
        if target.is_dir() and any(target.iterdir()):
            self._fail(f"Der Ordner {target} ist nicht leer; bitte einen neuen oder leeren Ordner angeben.")
        # A document whose PDF is not rendered yet (issued moments ago) is rendered and stored
        # now; the export copies the stored files, the same bytes every download returns.
        documents = [invoice_pdf_ensure(doc) for doc in selectors.invoices_issued_in(year, number)]

        rows = io.StringIO()
        writer = csv.writer(rows, delimiter=";", lineterminator="\r\n")
        writer.writerow(["Nummer", "Art", "Datum", "Partner", "Netto", "USt", "Brutto", "Zahlungsart"])
        for doc in documents:
            writer.writerow(
                [
                    doc.number,
                    doc.document_title,
                    format_date_de(doc.issue_date),
                    text_cell(doc.buyer_name),  # a partner's name is no formula in the sheet
                    _amount(doc.net_total),
                    _amount(doc.vat_total),
                    _amount(doc.gross_total),
                    doc.get_payment_means_display(),
                ]
            )
        # Every PDF read and checked against its SHA-256 before anything is written: the tax
        # adviser gets the documents as issued, or nothing and a list of what is wrong (GoBD).
        contents, problems = {}, []
        for doc in documents:
            try:
                contents[doc.number] = document_bytes(doc)
            except FileNotFoundError:
                problems.append(
                    _("%(number)s: PDF-Datei fehlt (%(name)s)") % {"number": doc.number, "name": doc.pdf.name}
                )
            except DocumentChanged:
                problems.append(
                    _("%(number)s: PDF-Datei wurde verändert (Prüfsumme stimmt nicht)") % {"number": doc.number}
                )
        if problems:
            self.stderr.write(
                "\n".join([_("Nichts exportiert – diese Belege sind nicht wie ausgestellt vorhanden:"), *problems])
            )
            raise SystemExit(1)
        target.mkdir(parents=True, exist_ok=True)
        for doc_number, content in contents.items():
            (target / f"{doc_number}.pdf").write_bytes(content)
        (target / "index.csv").write_text(rows.getvalue(), encoding="utf-8-sig")
        self.stdout.write(f"{len(documents)} Belege für {number:02d}/{year} nach {target} exportiert.")
