"""DATEV export for the tax adviser (issue 18): the month's invoices, corrections and payments
as a "DATEV-Format" EXTF Buchungsstapel (category 21, format version 13), and the debtors'
master data (EXTF category 16, Debitoren/Kreditoren, format version 5).

File layout (DATEV's ASCII import of "DATEV-Format" files, header version 700):

- line 1, the header: ``"EXTF";700;21;"Buchungsstapel";13;<created YYYYMMDDHHMMSSfff>;;"RE";
  <exported by>;"";<Beraternummer>;<Mandantennummer>;<fiscal year start YYYYMMDD>;
  <account length>;<from YYYYMMDD>;<to YYYYMMDD>;<name>;"";1;0;0;"EUR";;"";;;"03";;;"";""``
  (31 fields; Buchungstyp 1 = Finanzbuchführung, not locked (Festschreibung 0) so the
  adviser can still correct, SKR03);
- line 2, the column names of the format, in DATEV's order (all 125 of version 13);
- one line per booking. Text fields are quoted (a quote inside doubled), amounts are
  positive with a decimal comma and no thousands separator, the Soll/Haben-Kennzeichen says
  the side of ``Konto``. Windows-1252, CRLF, ``;``.

The bookings (one per document; an invoice has one VAT treatment, GEN-2):

=================  =======  ======  =====================  ======================================
document           Umsatz   S/H     Konto                  Gegenkonto
=================  =======  ======  =====================  ======================================
invoice            gross    S       partner's debtor       revenue account of its tax case
correction         gross    H       partner's debtor       revenue account of its tax case
payment            amount   H       partner's debtor       bank account
returned debit     amount   S       partner's debtor       bank account (the payment taken back)
=================  =======  ======  =====================  ======================================

Revenue accounts are SKR03 defaults (settings ``DATEV_ACCOUNTS``): 8400 "Erlöse 19 % USt"
(an automatic account: DATEV computes the VAT from the gross, so no BU-Schlüssel), 8336
services to EU businesses under reverse charge (with the buyer's VAT ID in "EU-Land u. UStID"
for the recapitulative statement), 8338 services not taxable in Germany (non-EU); a "Rechnung
über Nebenforderungen" (charges: damages, issue 18) goes to 2742, never to revenue. The tax
adviser confirms them (docs/finance.md). A partner's debtor account is 10000 + its id
(stable, 10000–69999 with account length 4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import rules
from billing.exceptions import BillingInputError
from billing.models import Invoice, Payment
from vendorportal.periods import month_end

ENCODING = "cp1252"
NEWLINE = "\r\n"
HEADER_VERSION = 700
BOOKINGS_CATEGORY, BOOKINGS_NAME, BOOKINGS_VERSION = 21, "Buchungsstapel", 13
DEBTORS_CATEGORY, DEBTORS_NAME, DEBTORS_VERSION = 16, "Debitoren/Kreditoren", 5
DEBTOR_FIRST, DEBTOR_LAST = 10000, 69999  # debtor accounts with account length 4 (SKR03)
TEXT_MAX = 60  # Buchungstext
DOCUMENT_FIELD_MAX = 36  # Belegfeld 1

TAX_CASE_DOMESTIC = "domestic"  # 19 % German VAT
TAX_CASE_EU_REVERSE_CHARGE = "eu_reverse_charge"
TAX_CASE_NOT_TAXABLE = "not_taxable"  # outside the EU
TAX_CASES = {
    rules.VAT_CODE_STANDARD: TAX_CASE_DOMESTIC,
    rules.VAT_CODE_REVERSE_CHARGE: TAX_CASE_EU_REVERSE_CHARGE,
    rules.VAT_CODE_NOT_SUBJECT: TAX_CASE_NOT_TAXABLE,
}

_BELEGINFO = [f"Beleginfo - {kind} {n}" for n in range(1, 9) for kind in ("Art", "Inhalt")]
_ZUSATZ = [name for n in range(1, 21) for name in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")]
#: The 125 columns of Buchungsstapel format version 13, in DATEV's order.
BOOKING_COLUMNS = [
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *_BELEGINFO,
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    *_ZUSATZ,
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Mitgliedstaat (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Mitgliedstaat u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
]
#: The leading columns of Debitoren/Kreditoren format version 5 that the portal fills (DATEV
#: reads the columns by their position; the remaining ones of the format stay empty).
DEBTOR_COLUMNS = [
    "Konto",
    "Name (Adressatentyp Unternehmen)",
    "Unternehmensgegenstand",
    "Name (Adressatentyp natürl. Person)",
    "Vorname (Adressatentyp natürl. Person)",
    "Name (Adressatentyp keine Angabe)",
    "Adressatentyp",
    "Kurzbezeichnung",
    "EU-Land",
    "EU-UStID",
    "Anrede",
    "Titel/Akad. Grad",
    "Adelstitel",
    "Namensvorsatz",
    "Adressart",
    "Straße",
    "Postfach",
    "Postleitzahl",
    "Ort",
    "Land",
    "Versandzusatz",
    "Adresszusatz",
    "Abweichende Anrede",
    "Abw. Zustellbezeichnung 1",
    "Abw. Zustellbezeichnung 2",
    "Kennz. Korrespondenzadresse",
    "Adresse Gültig von",
    "Adresse Gültig bis",
    "Telefon",
    "Bemerkung (Telefon)",
    "Telefon GL",
    "Bemerkung (Telefon GL)",
    "E-Mail",
]
_COLUMN = {name: i for i, name in enumerate(BOOKING_COLUMNS)}


class Text(str):
    """A value written quoted (DATEV text fields)."""


# --- small pure helpers (DATEV's value formats) ----------------------------------------------


def debtor_account(partner_id: int) -> int:
    """The partner's debtor account: 10000 + its id, stable for ever (10000–69999)."""
    account = DEBTOR_FIRST + partner_id
    if not DEBTOR_FIRST <= account <= DEBTOR_LAST:
        raise BillingInputError(
            _("Für Partner %(id)s gibt es kein Debitorenkonto zwischen 10000 und 69999.") % {"id": partner_id}
        )
    return account


def amount_text(value: Decimal) -> str:
    """DATEV amount: positive, two decimals, decimal comma, no thousands separator."""
    return f"{abs(value):.2f}".replace(".", ",")


def day_month(day: date) -> str:
    """Belegdatum as DATEV wants it within the header's date range: DDMM."""
    return day.strftime("%d%m")


def full_date(day: date | None) -> str:
    return day.strftime("%d%m%Y") if day else ""


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _field(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Text):
        return _quoted(value)
    return str(value)


def _line(values) -> str:
    return ";".join(_field(v) for v in values)


# Line breaks, tabs and other control characters in a name or address would split a record in
# DATEV's import (a quoted field may not span lines there): each becomes one space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _fit(text: str, width: int) -> Text:
    # Windows-1252 is what DATEV reads: characters it lacks become "?" rather than failing.
    text = _CONTROL.sub(" ", text)
    return Text(text.encode(ENCODING, "replace").decode(ENCODING)[:width])


# --- what is booked -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    amount: Decimal
    side: str  # "S" or "H", the side of ``account``
    account: int
    contra_account: int
    document_date: date
    document_number: str
    text: str
    service_date: date | None = None
    eu_vat_id: str = ""
    mandate_reference: str = ""

    def values(self) -> list:
        row: list = [""] * len(BOOKING_COLUMNS)
        row[_COLUMN["Umsatz (ohne Soll/Haben-Kz)"]] = amount_text(self.amount)
        row[_COLUMN["Soll/Haben-Kennzeichen"]] = Text(self.side)
        row[_COLUMN["WKZ Umsatz"]] = Text("EUR")
        row[_COLUMN["Konto"]] = self.account
        row[_COLUMN["Gegenkonto (ohne BU-Schlüssel)"]] = self.contra_account
        row[_COLUMN["Belegdatum"]] = day_month(self.document_date)
        row[_COLUMN["Belegfeld 1"]] = _fit(self.document_number, DOCUMENT_FIELD_MAX)
        row[_COLUMN["Buchungstext"]] = _fit(self.text, TEXT_MAX)
        row[_COLUMN["EU-Land u. UStID (Bestimmung)"]] = Text(self.eu_vat_id) if self.eu_vat_id else ""
        row[_COLUMN["SEPA-Mandatsreferenz"]] = Text(self.mandate_reference) if self.mandate_reference else ""
        row[_COLUMN["Festschreibung"]] = 0
        row[_COLUMN["Leistungsdatum"]] = full_date(self.service_date)
        return row


def accounts() -> dict[str, int]:
    """The accounts of settings ``DATEV_ACCOUNTS`` (SKR03 defaults)."""
    return {key: int(value) for key, value in settings.DATEV_ACCOUNTS.items()}


def revenue_account(vat_category: str, chart: dict[str, int]) -> int:
    """The revenue account (Gegenkonto) of a document's tax case (GEN-2)."""
    return chart[TAX_CASES[vat_category]]


def _bills_charges(doc: Invoice) -> bool:
    """A "Rechnung über Nebenforderungen" or a correction of one (issue 18): damages, booked on
    the charges account, not on revenue."""
    if doc.is_credit_note and doc.credited_invoice_id:
        return doc.credited_invoice.charges_only
    return doc.charges_only


def month_closed(month: date, today: date) -> bool:
    """A month can be exported once it is over (its last day lies before today)."""
    return month_end(month) < today


def bookings_of_month(month: date) -> list[Booking]:
    """Every invoice and correction issued in ``month``, every payment recorded for a day of it
    and every payment a returned debit took back in it, by date and document number — 4 queries
    whatever the month's size."""
    first, last = month.replace(day=1), month_end(month)
    chart = accounts()
    documents = list(
        Invoice.objects.filter(issue_date__range=(first, last))
        .select_related("credited_invoice")
        .order_by("issue_date", "number")
    )
    service_end = _service_dates([d.pk for d in documents])
    bookings: list[tuple[date, int, str, Booking]] = []
    for doc in documents:
        correction = doc.is_credit_note
        text = (
            _("Korrektur %(number)s zu %(invoice)s") % {"number": doc.number, "invoice": doc.credited_invoice.number}
            if correction and doc.credited_invoice_id
            else f"{doc.number} {doc.buyer_name}"
        )
        booking = Booking(
            amount=doc.gross_total,
            side="H" if correction else "S",
            account=debtor_account(doc.partner_id),
            contra_account=chart["charges"] if _bills_charges(doc) else revenue_account(doc.vat_category, chart),
            document_date=doc.issue_date,
            document_number=doc.number,
            text=text,
            service_date=service_end.get(doc.pk) or doc.issue_date,
            eu_vat_id=doc.buyer_vat_id.replace(" ", "").upper()
            if doc.vat_category == rules.VAT_CODE_REVERSE_CHARGE
            else "",
            mandate_reference=doc.mandate_reference if doc.payment_means == rules.DIRECT_DEBIT else "",
        )
        bookings.append((doc.issue_date, 0, doc.number, booking))
    payments = (
        Payment.objects.filter(paid_on__range=(first, last))
        .select_related("invoice")
        .order_by("paid_on", "invoice__number", "pk")
    )
    for payment in payments:
        invoice = payment.invoice
        booking = Booking(
            amount=payment.amount,
            side="H",
            account=debtor_account(invoice.partner_id),
            contra_account=chart["bank"],
            document_date=payment.paid_on,
            document_number=invoice.number,
            text=_("Zahlung %(number)s %(buyer)s") % {"number": invoice.number, "buyer": invoice.buyer_name},
        )
        bookings.append((payment.paid_on, 1, invoice.number, booking))
    # A returned direct debit takes its payment back (issue 18): the debtor owes again (Soll),
    # the money left the bank, on the day the return was booked.
    reversed_payments = (
        Payment.objects.filter(reversed_on__range=(first, last))
        .select_related("invoice")
        .order_by("reversed_on", "invoice__number", "pk")
    )
    for payment in reversed_payments:
        invoice = payment.invoice
        booking = Booking(
            amount=payment.amount,
            side="S",
            account=debtor_account(invoice.partner_id),
            contra_account=chart["bank"],
            document_date=payment.reversed_on,
            document_number=invoice.number,
            text=_("Rücklastschrift %(number)s %(buyer)s") % {"number": invoice.number, "buyer": invoice.buyer_name},
        )
        bookings.append((payment.reversed_on, 2, invoice.number, booking))
    bookings.sort(key=lambda item: item[:3])
    return [b for *_key, b in bookings]


def _service_dates(document_ids: list[int]) -> dict[int, date]:
    """The last day of service per document (its lines' latest period end), one query."""
    from django.db.models import Max

    from billing.models import InvoiceLine

    rows = (
        InvoiceLine.objects.filter(invoice_id__in=document_ids, period_end__isnull=False)
        .values("invoice_id")
        .annotate(last=Max("period_end"))
    )
    return {row["invoice_id"]: row["last"] for row in rows}


# --- the files ---------------------------------------------------------------------------------


def _header(*, category: int, name: str, version: int, month: date, created: datetime, title: str, by: str) -> list:
    first, last = month.replace(day=1), month_end(month)
    fiscal_start = date(first.year, settings.DATEV_FISCAL_YEAR_START_MONTH, 1)
    if fiscal_start > first:
        fiscal_start = fiscal_start.replace(year=first.year - 1)
    local = timezone.localtime(created)
    stamp = local.strftime("%Y%m%d%H%M%S") + f"{local.microsecond // 1000:03d}"
    bookings = category == BOOKINGS_CATEGORY
    return [
        Text("EXTF"),
        HEADER_VERSION,
        category,
        Text(name),
        version,
        stamp,
        "",
        Text("RE"),
        _fit(by, 25),
        Text(""),
        settings.DATEV_CONSULTANT_NUMBER,
        settings.DATEV_CLIENT_NUMBER,
        fiscal_start.strftime("%Y%m%d"),
        settings.DATEV_ACCOUNT_LENGTH,
        first.strftime("%Y%m%d") if bookings else "",
        last.strftime("%Y%m%d") if bookings else "",
        _fit(title, 30) if bookings else Text(""),
        Text(""),
        1 if bookings else "",
        0 if bookings else "",
        0 if bookings else "",
        Text("EUR") if bookings else Text(""),
        "",
        Text(""),
        "",
        "",
        Text("03"),
        "",
        "",
        Text(""),
        Text(""),
    ]


def _file(lines: list[str]) -> bytes:
    return (NEWLINE.join(lines) + NEWLINE).encode(ENCODING, "replace")


def buchungsstapel(*, month: date, created: datetime, by: str = "") -> tuple[bytes, list[Booking]]:
    """The Buchungsstapel of ``month`` as bytes (Windows-1252), and its bookings."""
    bookings = bookings_of_month(month)
    title = _("Rechnungsausgang %(month)s") % {"month": month.strftime("%m/%Y")}
    header = _header(
        category=BOOKINGS_CATEGORY,
        name=BOOKINGS_NAME,
        version=BOOKINGS_VERSION,
        month=month,
        created=created,
        title=title,
        by=by,
    )
    lines = [_line(header), ";".join(BOOKING_COLUMNS)] + [_line(b.values()) for b in bookings]
    return _file(lines), bookings


def debitoren(*, month: date, created: datetime, by: str = "") -> bytes:
    """The master data of every partner booked in ``month`` (EXTF Debitoren/Kreditoren)."""
    from vendorportal.parties.models import Partner

    partner_ids = (
        set(
            Invoice.objects.filter(issue_date__range=(month.replace(day=1), month_end(month))).values_list(
                "partner_id", flat=True
            )
        )
        | set(
            Payment.objects.filter(paid_on__range=(month.replace(day=1), month_end(month))).values_list(
                "invoice__partner_id", flat=True
            )
        )
        | set(
            Payment.objects.filter(reversed_on__range=(month.replace(day=1), month_end(month))).values_list(
                "invoice__partner_id", flat=True
            )
        )
    )
    header = _header(
        category=DEBTORS_CATEGORY,
        name=DEBTORS_NAME,
        version=DEBTORS_VERSION,
        month=month,
        created=created,
        title="",
        by=by,
    )
    lines = [_line(header), ";".join(DEBTOR_COLUMNS)]
    for partner in Partner.objects.filter(pk__in=partner_ids).order_by("pk"):
        vat_id = (partner.vat_id or "").replace(" ", "").upper()
        country = (partner.country or "DE").upper()
        row: list = [""] * len(DEBTOR_COLUMNS)
        row[0] = debtor_account(partner.pk)
        row[1] = _fit(partner.company, 50)
        row[6] = 2  # Adressatentyp: Unternehmen
        row[7] = _fit(partner.company, 15)
        if vat_id[:2].isalpha() and country != "DE":
            row[8], row[9] = Text(vat_id[:2]), Text(vat_id[2:])
        row[14] = Text("STR")  # Adressart: Straße
        row[15] = _fit(partner.street or "", 36)
        row[17] = _fit(partner.postal_code or "", 10)
        row[18] = _fit(partner.city or "", 30)
        row[19] = Text(country[:2])
        row[32] = _fit(partner.invoice_email or "", 60)
        lines.append(_line(row))
    return _file(lines)


@dataclass(frozen=True)
class DatevExport:
    month: date
    bookings: bytes
    debtors: bytes
    rows: list[Booking]

    @property
    def debit_total(self) -> Decimal:
        return sum((b.amount for b in self.rows if b.side == "S"), Decimal("0.00"))

    @property
    def credit_total(self) -> Decimal:
        return sum((b.amount for b in self.rows if b.side == "H"), Decimal("0.00"))


def datev_export(*, month: date, today: date, created: datetime, by: str = "") -> DatevExport:
    """Both DATEV files of a month that is over; a month not over yet is refused (the tax
    adviser books closed months: a later invoice would be missing)."""
    month = month.replace(day=1)
    if not month_closed(month, today):
        raise BillingInputError(
            _("Der Monat %(month)s ist noch nicht abgeschlossen; den DATEV-Export gibt es ab dem Folgemonat.")
            % {"month": month.strftime("%m/%Y")}
        )
    bookings, rows = buchungsstapel(month=month, created=created, by=by)
    return DatevExport(month, bookings, debitoren(month=month, created=created, by=by), rows)
