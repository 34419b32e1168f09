"""Finance's scheduled PDF e-mails (issue 10): the monthly invoice journal
(Rechnungsausgangsbuch) with the month's SEPA files, and the weekly open items
(Offene Posten) with ageing buckets.

One module for the area, in three parts like licensing's maintenance job: the pure
ageing rule, the reads that gather a report's figures (one query per kind of row, not
per invoice), and the service that renders, stores and e-mails a report once per
period.

Once per period: a report is a :class:`~billing.models.FinanceReport` row, unique per
(kind, period), written in the transaction that writes its outbox e-mail (dedup key
``finance-journal:2026-11`` / ``finance-open-items:2026-W48``). A re-run finds the row
and writes nothing; two runs at once both render, one insert wins, the other deletes
its file and returns the winner's row. The PDF is rendered before that transaction: on
SQLite a write transaction locks the database, and WeasyPrint inside it would stall
every other writer.

Signs: credit notes count negative in every total of the journal (they reduce revenue
and VAT); the open items list invoices only, each with what is still due (gross less
credit notes less payments).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing import datev, rules
from billing.exceptions import FinanceReportRefused
from billing.models import DunningNotice, FinanceReport, Invoice, InvoiceLine, SepaBatch
from licensing.models import Product
from vendorportal import clock
from vendorportal.documents import document_bytes, sha256_hex
from vendorportal.formats import format_date
from vendorportal.jobs import recorded_job
from vendorportal.models import OutboxMessage
from vendorportal.money import ZERO, format_eur
from vendorportal.outbox import outbox_enqueue
from vendorportal.pdf import render_pdf

DOCUMENT_LANGUAGE = "de"
JOURNAL_KIND = "finance-journal"
OPEN_ITEMS_KIND = "finance-open-items"
JOURNAL_JOB_NAME = "finance-journal"
OPEN_ITEMS_JOB_NAME = "finance-open-items"

# --- The ageing rule (pure) -------------------------------------------------------------

NOT_DUE = "not_due"
AGEING_BUCKETS = (NOT_DUE, "1_30", "31_60", "61_90", "over_90")
AGEING_LABELS = {
    NOT_DUE: "nicht fällig",
    "1_30": "1–30 Tage",
    "31_60": "31–60 Tage",
    "61_90": "61–90 Tage",
    "over_90": "> 90 Tage",
}


def days_overdue(due_date: date, on: date) -> int:
    """Days past the due date on ``on``: 0 on the due date itself, negative before it."""
    return (on - due_date).days


def ageing_bucket(days: int) -> str:
    """Ageing bucket of an item ``days`` overdue: not due (≤ 0), 1–30, 31–60, 61–90, > 90."""
    if days <= 0:
        return NOT_DUE
    if days <= 30:
        return "1_30"
    if days <= 60:
        return "31_60"
    if days <= 90:
        return "61_90"
    return "over_90"


def previous_month(today: date) -> tuple[int, int]:
    """The month before ``today``'s: what the job on the 1st reports."""
    first = today.replace(day=1) - timedelta(days=1)
    return first.year, first.month


def report_week(on: date) -> str:
    """ISO week of ``on``: ``2026-W48`` (the week of Monday 23.11.2026)."""
    year, week, _weekday = on.isocalendar()
    return f"{year}-W{week:02d}"


def month_end(year: int, month: int) -> date:
    return (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


# --- Reads -------------------------------------------------------------------------------


@dataclass
class Sums:
    count: int = 0
    net: Decimal = ZERO
    vat: Decimal = ZERO
    gross: Decimal = ZERO

    def add(self, net: Decimal, vat: Decimal, gross: Decimal) -> None:
        self.count += 1
        self.net += net
        self.vat += vat
        self.gross += gross


@dataclass
class JournalRow:
    invoice: Invoice
    sign: int  # -1 for credit notes
    vat_label: str

    @property
    def net(self) -> Decimal:
        return self.sign * self.invoice.net_total

    @property
    def vat(self) -> Decimal:
        return self.sign * self.invoice.vat_total

    @property
    def gross(self) -> Decimal:
        return self.sign * self.invoice.gross_total


@dataclass
class ProductSum:
    article: str
    name: str
    lines: int = 0
    net: Decimal = ZERO


@dataclass
class Journal:
    year: int
    month: int
    rows: list[JournalRow]
    totals: Sums
    invoices: Sums
    credit_notes: Sums
    by_vat: dict[str, Sums]
    by_product: list[ProductSum]
    by_means: dict[str, Sums]
    sepa_batches: list[SepaBatch]


def vat_label(category: str, percent: Decimal, *, damages: bool = False) -> str:
    """How the journal names a VAT treatment: "19 % USt.", reverse charge, not taxable — a
    third-country sale or, on a "Rechnung über Nebenforderungen" (``damages``), damages."""
    if category == rules.VAT_CODE_REVERSE_CHARGE:
        return _("Reverse Charge (EU, 0 %)")
    if category == rules.VAT_CODE_NOT_SUBJECT and damages:
        return _("nicht steuerbar (Schadensersatz, 0 %)")
    if category == rules.VAT_CODE_NOT_SUBJECT:
        return _("nicht steuerbar (Drittland, 0 %)")
    return _("%(percent)s %% USt.") % {"percent": f"{percent.normalize():f}".replace(".", ",")}


def _month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The month in Europe/Berlin as aware datetimes [start, end)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(date(year, month, 1), time.min, tzinfo=zone)
    end = datetime.combine(month_end(year, month) + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def sepa_batches_of_month(year: int, month: int) -> list[SepaBatch]:
    """The direct-debit files written in that month (Berlin time), oldest first."""
    start, end = _month_bounds(year, month)
    return list(SepaBatch.objects.filter(created_at__gte=start, created_at__lt=end).order_by("created_at", "pk"))


def journal_data(*, year: int, month: int) -> Journal:
    """Every invoice and correction issued in the month, by date and number, with the
    totals per VAT treatment, per product (article) and per payment means."""
    documents = list(
        Invoice.objects.filter(issue_date__year=year, issue_date__month=month)
        .select_related("credited_invoice")
        .order_by("issue_date", "number")
    )
    lines = (
        InvoiceLine.objects.filter(invoice__in=[d.pk for d in documents])
        .select_related("order_line__product")
        .order_by("invoice_id", "position")
    )
    percent_of: dict[int, Decimal] = {}
    products: dict[str, ProductSum] = {}
    kind_of = {d.pk: d.kind for d in documents}
    lines = list(lines)
    # A subscription's line has no order line; its description names one subscription and one
    # installation, which read as the whole article's name in the sums: the catalogue's name.
    catalogue = dict(
        Product.objects.filter(article__in={line.article for line in lines if not line.order_line_id}).values_list(
            "article", "name"
        )
    )
    for line in lines:
        percent_of.setdefault(line.invoice_id, line.vat_percent)
        sign = -1 if kind_of[line.invoice_id] == Invoice.CREDIT_NOTE else 1
        if line.order_line_id:
            name = line.order_line.product.name
        else:
            name = catalogue.get(line.article, line.description)
        product = products.setdefault(line.article, ProductSum(article=line.article, name=name))
        product.lines += 1
        product.net += sign * line.net_total

    rows, totals, invoices, credit_notes = [], Sums(), Sums(), Sums()
    by_vat: dict[str, Sums] = defaultdict(Sums)
    by_means: dict[str, Sums] = defaultdict(Sums)
    for doc in documents:
        label = vat_label(doc.vat_category, percent_of.get(doc.pk, ZERO), damages=doc.charges_only)
        row = JournalRow(invoice=doc, sign=-1 if doc.is_credit_note else 1, vat_label=label)
        rows.append(row)
        totals.add(row.net, row.vat, row.gross)
        (credit_notes if doc.is_credit_note else invoices).add(row.net, row.vat, row.gross)
        by_vat[label].add(row.net, row.vat, row.gross)
        by_means[doc.get_payment_means_display()].add(row.net, row.vat, row.gross)
    return Journal(
        year=year,
        month=month,
        rows=rows,
        totals=totals,
        invoices=invoices,
        credit_notes=credit_notes,
        by_vat=dict(by_vat),
        by_product=sorted(products.values(), key=lambda p: p.article),
        by_means=dict(by_means),
        sepa_batches=sepa_batches_of_month(year, month),
    )


@dataclass
class OpenItem:
    invoice: Invoice
    credited: Decimal
    open_amount: Decimal
    due: date
    days: int
    bucket: str
    # The highest dunning level on ``on`` (issue 18) and its fee + interest — claimed apart, on
    # the next invoice, so never part of ``open_amount`` or the totals.
    dunning: object = None


@dataclass
class PartnerItems:
    name: str
    items: list[OpenItem] = field(default_factory=list)
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(AGEING_BUCKETS, ZERO))

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


@dataclass
class OpenItems:
    on: date
    partners: list[PartnerItems]
    buckets: dict[str, Decimal]
    count: int

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


def open_items_data(*, on: date) -> OpenItems:
    """Open and overdue invoices issued by ``on`` with what is still due, per partner (by
    name) and ageing bucket on ``on``; an invoice without due date (prepayment) is due on
    its issue date. Two queries: the invoices and their credit notes' sums."""
    invoices = list(
        Invoice.objects.filter(kind=Invoice.INVOICE, state__in=[Invoice.OPEN, Invoice.OVERDUE], issue_date__lte=on)
        .select_related("partner")
        .order_by("number")
    )
    credited = dict(
        Invoice.objects.filter(kind=Invoice.CREDIT_NOTE, credited_invoice__in=[i.pk for i in invoices])
        .values_list("credited_invoice")
        .annotate(gross=Sum("gross_total"))
        .values_list("credited_invoice", "gross")
    )
    dunning: dict[int, object] = {}
    for notice in DunningNotice.objects.filter(invoice__in=[i.pk for i in invoices], issued_on__lte=on).order_by(
        "level"
    ):
        dunning[notice.invoice_id] = notice  # the highest level wins
    partners: dict[int, PartnerItems] = {}
    buckets = dict.fromkeys(AGEING_BUCKETS, ZERO)
    count = 0
    for invoice in invoices:
        credit = credited.get(invoice.pk) or ZERO
        open_amount = invoice.gross_total - credit - invoice.paid_amount
        if open_amount <= 0:
            continue
        due = invoice.due_date or invoice.issue_date
        days = days_overdue(due, on)
        item = OpenItem(
            invoice=invoice,
            credited=credit,
            open_amount=open_amount,
            due=due,
            days=days,
            bucket=ageing_bucket(days),
            dunning=dunning.get(invoice.pk),
        )
        group = partners.setdefault(invoice.partner_id, PartnerItems(name=invoice.partner.company))
        group.items.append(item)
        group.buckets[item.bucket] += open_amount
        buckets[item.bucket] += open_amount
        count += 1
    ordered = sorted(partners.values(), key=lambda p: p.name.casefold())
    return OpenItems(on=on, partners=ordered, buckets=buckets, count=count)


# --- Display values (the templates only lay them out, STYLE 7) ---------------------------


def _sums(sums: Sums) -> dict:
    return {
        "count": sums.count,
        "net": format_eur(sums.net),
        "vat": format_eur(sums.vat),
        "gross": format_eur(sums.gross),
    }


def month_label(year: int, month: int) -> str:
    return f"{month:02d}/{year}"


def journal_context(journal: Journal) -> dict:
    return {
        "month": month_label(journal.year, journal.month),
        "first": format_date(date(journal.year, journal.month, 1)),
        "last": format_date(month_end(journal.year, journal.month)),
        "rows": [
            {
                "number": row.invoice.number,
                "kind": row.invoice.document_title,  # Rechnung / Rechnungskorrektur / Stornorechnung (INV-1)
                "date": format_date(row.invoice.issue_date),
                "partner": row.invoice.buyer_name,
                "vat_label": row.vat_label,
                "net": format_eur(row.net),
                "vat": format_eur(row.vat),
                "gross": format_eur(row.gross),
                "means": row.invoice.get_payment_means_display(),
                "credited": row.invoice.credited_invoice.number if row.invoice.credited_invoice_id else "",
            }
            for row in journal.rows
        ],
        "totals": _sums(journal.totals),
        "invoices": _sums(journal.invoices),
        "credit_notes": _sums(journal.credit_notes),
        "by_vat": [{"label": label, **_sums(sums)} for label, sums in sorted(journal.by_vat.items())],
        "by_product": [
            {"article": p.article, "name": p.name, "lines": p.lines, "net": format_eur(p.net)}
            for p in journal.by_product
        ],
        "by_means": [{"label": label, **_sums(sums)} for label, sums in sorted(journal.by_means.items())],
        "sepa": [
            {
                "filename": batch.filename,
                "collection_date": format_date(batch.collection_date),
                "count": batch.count,
                "total": format_eur(batch.total),
            }
            for batch in journal.sepa_batches
        ],
    }


def _buckets(buckets: dict[str, Decimal]) -> list[str]:
    return [format_eur(buckets[b]) for b in AGEING_BUCKETS]


def _dunning_text(notice) -> str:
    if notice is None:
        return ""
    text = f"{notice.title} {format_date(notice.issued_on)}"
    if notice.claim:
        text += " (+ " + format_eur(notice.claim) + " " + _("gesondert") + ")"
    return text


def open_items_context(data: OpenItems) -> dict:
    return {
        "on": format_date(data.on),
        "bucket_labels": [AGEING_LABELS[b] for b in AGEING_BUCKETS],
        "count": data.count,
        "buckets": _buckets(data.buckets),
        "total": format_eur(data.total),
        "partners": [
            {
                "name": group.name,
                "buckets": _buckets(group.buckets),
                "total": format_eur(group.total),
                "items": [
                    {
                        "number": item.invoice.number,
                        "date": format_date(item.invoice.issue_date),
                        "due": format_date(item.due),
                        "days": item.days if item.days > 0 else "",
                        "bucket": AGEING_LABELS[item.bucket],
                        "means": item.invoice.get_payment_means_display(),
                        "gross": format_eur(item.invoice.gross_total),
                        "reduced": format_eur(item.credited + item.invoice.paid_amount),
                        "open": format_eur(item.open_amount),
                        "dunning": _dunning_text(item.dunning),
                    }
                    for item in group.items
                ],
            }
            for group in data.partners
        ],
    }


# Further sections of the journal written by other apps, registered in their ``AppConfig.ready``
# (the cockpit adds the revenue chart and the month's MRR movement, issue 20): each is called
# with ``year``, ``month`` and ``today`` and returns HTML for the PDF (German, from a template),
# so billing depends on no app above it.
JOURNAL_SECTIONS: list = []


def journal_section_add(render) -> None:
    if render not in JOURNAL_SECTIONS:
        JOURNAL_SECTIONS.append(render)


def journal_sections(*, year: int, month: int, today: date) -> list[str]:
    return [render(year=year, month=month, today=today) for render in JOURNAL_SECTIONS]


# --- Service: render, store, e-mail once per period --------------------------------------


def _store(
    *,
    kind: str,
    period: str,
    report_date: date,
    pdf: bytes,
    count: int,
    gross: Decimal,
    batches,
    mail_kind,
    mail,
    recipients=None,
    extra_files: dict | None = None,
) -> tuple[FinanceReport, bool]:
    report = FinanceReport(
        kind=kind,
        period=period,
        report_date=report_date,
        document_count=count,
        gross_total=gross,
        created_at=clock.now(),
    )
    # The files first (the row points to them); removed again if the row is not written.
    report.pdf.save(report.filename, ContentFile(pdf), save=False)
    report.pdf_sha256 = sha256_hex(pdf)  # GoBD: the file proves itself later
    for name, (filename, content) in (extra_files or {}).items():
        getattr(report, name).save(filename, ContentFile(content), save=False)
    stored = [report.pdf] + [getattr(report, name) for name in extra_files or {}]
    try:
        with transaction.atomic():
            report.save()
            report.sepa_batches.set(batches)
            subject, body = mail
            outbox_enqueue(
                kind=mail_kind,
                dedup_key=f"{mail_kind}:{period}",
                recipients=recipients or list(settings.FINANCE_EMAILS),
                subject=subject,
                body=body,
                document=report,
                from_email=settings.DEFAULT_FROM_EMAIL,
            )
    except IntegrityError:
        for file in stored:
            file.delete(save=False)
        existing = FinanceReport.objects.filter(kind=kind, period=period).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        for file in stored:
            file.delete(save=False)
        raise
    return report, True


def _journal_mail(journal: Journal) -> tuple[str, str]:
    month = month_label(journal.year, journal.month)
    lines = [
        _("Im Anhang das Rechnungsausgangsbuch %(month)s als PDF.") % {"month": month},
        _(
            "Für die Steuerberatung liegen der DATEV-Buchungsstapel und die Debitoren-Stammdaten bei "
            "(EXTF, Windows-1252)."
        ),
        "",
        _("Rechnungen: %(count)s, brutto %(gross)s")
        % {"count": journal.invoices.count, "gross": format_eur(journal.invoices.gross)},
        _("Rechnungskorrekturen und Stornorechnungen: %(count)s, brutto %(gross)s")
        % {"count": journal.credit_notes.count, "gross": format_eur(journal.credit_notes.gross)},
        _("Summe netto %(net)s, USt. %(vat)s, brutto %(gross)s")
        % {
            "net": format_eur(journal.totals.net),
            "vat": format_eur(journal.totals.vat),
            "gross": format_eur(journal.totals.gross),
        },
        "",
    ]
    if journal.sepa_batches:
        lines.append(_("Angehängte SEPA-Lastschriftdateien:"))
        lines += [
            f"- {b.filename} ({format_date(b.collection_date)}, {format_eur(b.total)})" for b in journal.sepa_batches
        ]
    else:
        lines.append(_("In diesem Monat wurden keine SEPA-Lastschriftdateien erstellt."))
    return _("Rechnungsausgangsbuch %(month)s") % {"month": month}, "\n".join(lines)


def finance_journal_send(*, year: int, month: int, today: date) -> tuple[FinanceReport, bool]:
    """The invoice journal of a month that is over, stored and e-mailed to
    ``settings.FINANCE_EMAILS`` with the month's SEPA files, once: ``(report, created)``;
    a re-run returns the stored report and writes no second e-mail."""
    if month_end(year, month) >= today:
        raise FinanceReportRefused(
            _("Der Monat %(month)s ist noch nicht abgeschlossen; das Rechnungsausgangsbuch gibt es ab dem Folgemonat.")
            % {"month": month_label(year, month)},
            code="month_not_over",
        )
    period = f"{year}-{month:02d}"
    with recorded_job(JOURNAL_JOB_NAME) as run:
        existing = FinanceReport.objects.filter(kind=FinanceReport.JOURNAL, period=period).first()
        if existing is not None:
            run.summary = f"Rechnungsausgangsbuch {period} besteht bereits: keine zweite E-Mail"
            return existing, False
        journal = journal_data(year=year, month=month)
        with translation.override(DOCUMENT_LANGUAGE):
            sections = journal_sections(year=year, month=month, today=today)
            pdf = render_pdf(
                "documents/finance_journal.html", {"journal": journal_context(journal), "sections": sections}
            )
            mail = _journal_mail(journal)
            bookings, booked = datev.buchungsstapel(month=date(year, month, 1), created=clock.now())
            debtors = datev.debitoren(month=date(year, month, 1), created=clock.now())
        recipients = list(dict.fromkeys([*settings.FINANCE_EMAILS, *settings.DATEV_RECIPIENTS]))
        report, created = _store(
            kind=FinanceReport.JOURNAL,
            period=period,
            report_date=today,
            pdf=pdf,
            count=len(journal.rows),
            gross=journal.totals.gross,
            batches=journal.sepa_batches,
            mail_kind=JOURNAL_KIND,
            mail=mail,
            recipients=recipients,
            # The DATEV files for the tax adviser, when the month booked anything (issue 18).
            extra_files={
                "datev_bookings": (datev_filename("Buchungsstapel", period), bookings),
                "datev_debtors": (datev_filename("Debitoren", period), debtors),
            }
            if booked
            else None,
        )
        run.summary = (
            f"Rechnungsausgangsbuch {period}: "
            + ngettext("%(n)s Beleg", "%(n)s Belege", len(journal.rows)) % {"n": len(journal.rows)}
            + f", brutto {format_eur(journal.totals.gross)}, "
            + ngettext("%(n)s SEPA-Datei", "%(n)s SEPA-Dateien", len(journal.sepa_batches))
            % {"n": len(journal.sepa_batches)}
            + "; "
            + (
                f"E-Mail an {', '.join(settings.FINANCE_EMAILS)} zum Versand eingeplant"
                if created
                else "von einem anderen Lauf geschrieben: keine zweite E-Mail"
            )
        )
    return report, created


def _open_items_mail(data: OpenItems) -> tuple[str, str]:
    on = format_date(data.on)
    lines = [
        _("Im Anhang die offenen Posten zum %(on)s als PDF.") % {"on": on},
        "",
        _("Offene Rechnungen: %(count)s, offen %(total)s") % {"count": data.count, "total": format_eur(data.total)},
    ]
    lines += [f"- {AGEING_LABELS[b]}: {format_eur(data.buckets[b])}" for b in AGEING_BUCKETS]
    return _("Offene Posten zum %(on)s") % {"on": on}, "\n".join(lines)


def finance_open_items_send(*, on: date) -> tuple[FinanceReport, bool]:
    """The open items on ``on``, stored and e-mailed to ``settings.FINANCE_EMAILS`` once
    per ISO week: ``(report, created)``."""
    period = report_week(on)
    with recorded_job(OPEN_ITEMS_JOB_NAME) as run:
        existing = FinanceReport.objects.filter(kind=FinanceReport.OPEN_ITEMS, period=period).first()
        if existing is not None:
            run.summary = f"Offene Posten der Woche {period} bestehen bereits: keine zweite E-Mail"
            return existing, False
        data = open_items_data(on=on)
        with translation.override(DOCUMENT_LANGUAGE):
            pdf = render_pdf("documents/finance_open_items.html", {"report": open_items_context(data)})
            mail = _open_items_mail(data)
        report, created = _store(
            kind=FinanceReport.OPEN_ITEMS,
            period=period,
            report_date=on,
            pdf=pdf,
            count=data.count,
            gross=data.total,
            batches=[],
            mail_kind=OPEN_ITEMS_KIND,
            mail=mail,
        )
        run.summary = (
            f"Offene Posten {period} zum {format_date(on)}: {data.count} Rechnungen, offen {format_eur(data.total)}; "
            + (
                "E-Mail zum Versand eingeplant"
                if created
                else "von einem anderen Lauf geschrieben: keine zweite E-Mail"
            )
        )
    return report, created


def finance_report_attachments(message: OutboxMessage) -> list[tuple[str, bytes, str]]:
    """Outbox hook: the stored PDF and, for the journal, the SEPA files it went out with."""
    report = FinanceReport.objects.filter(pk=message.document_id).first()
    if report is None:
        raise FinanceReportRefused(_("Den Finanzbericht zu dieser E-Mail gibt es nicht mehr."), code="report_missing")
    files = [(report.filename, document_bytes(report), "application/pdf")]
    for batch in report.sepa_batches.order_by("created_at", "pk"):
        files.append((batch.filename, batch.xml.encode("utf-8"), "application/xml"))
    for kind, datev_file in (("Buchungsstapel", report.datev_bookings), ("Debitoren", report.datev_debtors)):
        if datev_file:
            with datev_file.open("rb") as stored:
                files.append((datev_filename(kind, report.period), stored.read(), "text/csv"))
    return files


def datev_filename(kind: str, period: str) -> str:
    """``EXTF_Buchungsstapel_2026-11.csv``: DATEV's import recognises EXTF files by the prefix."""
    return f"EXTF_{kind}_{period}.csv"
