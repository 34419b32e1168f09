"""Finance's scheduled reports (issue 10): the monthly invoice journal with the month's SEPA
files and the weekly open items with ageing buckets, each e-mailed once per period.

Amounts worked out by hand (partner conditions −20 % on every order here):

- German invoice, 03.11.2026: Intercom 169,00 € − 20 % = 135,20 € net; 19 % = 25,688 → 25,69 €;
  gross 160,89 €; transfer.
- Austrian reverse-charge invoice, 05.11.2026: 135,20 € net, 0,00 € VAT, 135,20 € gross; transfer.
- Credit note for all of the German invoice, 10.11.2026: 135,20 / 25,69 / 160,89 € — negative in
  the journal; credit notes are paid by transfer.
- Direct-debit invoice, 21.11.2026: Blacklist PRO subscription 12,21 € − 20 % = 9,768 → 9,77 € a
  month; signed on the 21st the order bills the first partial month (SUB-2): 10 of 30 days →
  9,77 × 10/30 = 3,2566… → 3,26 € net; 19 % = 0,6194 → 0,62 €; gross 3,88 €, collected on the day
  it announced: 21.11. + 14 days = Sat 05.12.2026 → Mon 07.12.2026 (file written 25.11.2026).

Journal 11/2026: net 135,20 + 135,20 + 3,26 − 135,20 = 138,46 €; VAT 25,69 + 0 + 0,62 − 25,69 =
0,62 €; gross 160,89 + 135,20 + 3,88 − 160,89 = 139,08 €. 19 %: three documents, 3,26 / 0,62 /
3,88 €; reverse charge: one, 135,20 / 0,00 / 135,20 €. Intercom: three lines, 135,20 €; Blacklist
PRO: one line, 3,26 €. Transfer: three documents, 135,20 / 0,00 / 135,20 €; direct debit: one,
3,26 / 0,62 / 3,88 €. Invoices 3 (gross 299,97 €), credit notes 1 (gross −160,89 €).
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from pypdf import PdfReader

from billing import finance, services
from billing.models import FinanceReport, SepaBatch
from billing.tasks import finance_journal_monthly, finance_open_items_weekly
from billing.tests.factories import make_order, make_partner
from vendorportal.models import JobRun, OutboxMessage

pytestmark = pytest.mark.django_db
D = Decimal


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def stored_text(report: FinanceReport) -> str:
    with report.pdf.open("rb") as stored:
        return pdf_text(stored.read())


def german():
    return make_partner()


def austrian():
    return make_partner(
        company="Alpen Telefonie GmbH", country="AT", vat_id="ATU13585627", city="Wien", postal_code="1010"
    )


def debtor():
    partner = make_partner(company="Lastschrift GmbH")
    services.sepa_mandate_create(
        partner=partner, iban="DE89370400440532013000", reference="MUSTER-0001", signed_on=date(2025, 3, 10)
    )
    return partner


@pytest.fixture
def november(modules, clock, settings, send_outbox):
    settings.FINANCE_EMAILS = ["buchhaltung@vendor.example", "steuerberatung@vendor.example"]
    clock.set(date(2026, 10, 30))
    october = services.order_confirm(order=make_order(make_partner(company="Oktober GmbH"), ("DHCP", "purchase", 0)))
    clock.set(date(2026, 11, 3))
    domestic = services.order_confirm(order=make_order(german(), ("INTERCOM", "purchase", 0)))
    clock.set(date(2026, 11, 5))
    reverse = services.order_confirm(order=make_order(austrian(), ("INTERCOM", "purchase", 0)))
    clock.set(date(2026, 11, 10))
    note = services.credit_note_issue(invoice=domestic, reason="Doppelt bestellt")
    clock.set(date(2026, 11, 21))
    debit = services.order_confirm(order=make_order(debtor(), ("BLACKLIST", "subscription", 12)))
    clock.set(date(2026, 11, 25))
    batch = services.sepa_export(through=date(2026, 12, 7))  # announced for Mon 07.12.2026
    assert (domestic.gross_total, reverse.gross_total, note.gross_total, debit.gross_total) == (
        D("160.89"),
        D("135.20"),
        D("160.89"),
        D("3.88"),
    )
    assert (reverse.vat_category, debit.payment_means, batch.total) == ("AE", "direct_debit", D("3.88"))
    clock.set(date(2026, 12, 1))
    send_outbox()  # the documents' own e-mails, so the tests see the reports' only
    mail.outbox.clear()
    return {"october": october, "domestic": domestic, "reverse": reverse, "note": note, "debit": debit, "batch": batch}


def test_journal_totals_per_rate_product_and_means(november):
    journal = finance.journal_data(year=2026, month=11)
    assert [row.invoice.number for row in journal.rows] == [
        "RE-2026-000002",
        "RE-2026-000003",
        "GS-2026-000001",
        "RE-2026-000004",
    ]
    assert (journal.totals.net, journal.totals.vat, journal.totals.gross) == (D("138.46"), D("0.62"), D("139.08"))
    assert (journal.invoices.count, journal.invoices.gross) == (3, D("299.97"))
    assert (journal.credit_notes.count, journal.credit_notes.gross) == (1, D("-160.89"))
    by_vat = {label: (s.count, s.net, s.vat, s.gross) for label, s in journal.by_vat.items()}
    assert by_vat == {
        "19 % USt.": (3, D("3.26"), D("0.62"), D("3.88")),
        "Reverse Charge (EU, 0 %)": (1, D("135.20"), D("0.00"), D("135.20")),
    }
    assert [(p.article, p.lines, p.net) for p in journal.by_product] == [
        ("BLACKLIST", 1, D("3.26")),
        ("INTERCOM", 3, D("135.20")),
    ]
    by_means = {label: (s.count, s.net, s.vat, s.gross) for label, s in journal.by_means.items()}
    assert by_means == {
        "Überweisung": (3, D("135.20"), D("0.00"), D("135.20")),
        "SEPA-Lastschrift": (1, D("3.26"), D("0.62"), D("3.88")),
    }
    assert journal.sepa_batches == [november["batch"]]


def test_monthly_job_mails_the_journal_pdf_with_the_sepa_file_once(november, send_outbox):
    finance_journal_monthly.run(on="2026-12-01")
    finance_journal_monthly.run(on="2026-12-01")  # a re-run, e.g. a retried task: no second e-mail
    report = FinanceReport.objects.get()
    assert (report.kind, report.period, report.document_count, report.gross_total) == (
        "journal",
        "2026-11",
        4,
        D("139.08"),
    )
    assert OutboxMessage.objects.filter(kind="finance-journal").count() == 1
    assert send_outbox() == 1
    finance_journal_monthly.run(on="2026-12-02")  # a catch-up run later: still one e-mail
    assert send_outbox() == 0 and len(mail.outbox) == 1

    email = mail.outbox[0]
    assert email.to == ["buchhaltung@vendor.example", "steuerberatung@vendor.example"]
    assert email.subject == "Rechnungsausgangsbuch 11/2026"
    assert "Summe netto 138,46 €, USt. 0,62 €, brutto 139,08 €" in email.body
    (pdf_name, pdf, pdf_type), (xml_name, xml, xml_type), *datev_files = email.attachments
    # The DATEV files for the tax adviser come last (issue 18, billing/tests/test_datev.py).
    assert [name for name, _content, _type in datev_files] == [
        "EXTF_Buchungsstapel_2026-11.csv",
        "EXTF_Debitoren_2026-11.csv",
    ]
    assert (pdf_name, pdf_type) == ("rechnungsausgangsbuch-2026-11.pdf", "application/pdf")
    batch = november["batch"]
    assert (xml_name, xml_type) == (batch.filename, "application/xml")
    assert xml == batch.xml.encode("utf-8") and b"<EndToEndId>RE-2026-000004</EndToEndId>" in xml

    text = pdf_text(pdf)
    assert "Rechnungsausgangsbuch 11/2026" in text
    assert "01.11.2026 – 30.11.2026" in text
    assert "RE-2026-000001" not in text  # October's invoice
    for expected in (
        "RE-2026-000002",
        "03.11.2026",
        "Muster Kommunikation GmbH",
        "Alpen Telefonie GmbH",
        "-160,89 €",  # the credit note counts negative
        "zu RE-2026-000002",
        "138,46 €",
        "139,08 €",
        "299,97 €",
        "Reverse Charge (EU, 0 %)",
        "19 % USt.",
        "SEPA-Lastschrift",
        "Überweisung",
        "INTERCOM",
        "BLACKLIST",
        batch.filename,
        "07.12.2026",
    ):
        assert expected in text, expected
    runs = JobRun.objects.filter(name="finance-journal").order_by("pk")
    assert runs.count() == 3 and all(run.ok for run in runs)
    assert "besteht bereits: keine zweite E-Mail" in runs.last().summary


def test_journal_of_a_month_without_documents_says_so(db, clock, send_outbox):
    clock.set(date(2026, 2, 1))
    report, created = finance.finance_journal_send(year=2026, month=1, today=date(2026, 2, 1))
    assert created and report.document_count == 0 and report.gross_total == D("0.00")
    text = stored_text(report)
    assert "keine Rechnungen und Rechnungskorrekturen" in text
    assert "keine SEPA-Lastschriftdateien" in text
    assert send_outbox() == 1 and len(mail.outbox[0].attachments) == 1


def test_a_batch_of_another_month_is_not_attached(november):
    # The November file (written 25.11.2026) belongs to November only.
    assert finance.sepa_batches_of_month(2026, 12) == []
    assert finance.sepa_batches_of_month(2026, 10) == []
    assert finance.sepa_batches_of_month(2026, 11) == [november["batch"]]


def test_resend_attaches_the_same_bytes(november, send_outbox):
    from vendorportal.outbox import outbox_resend

    finance_journal_monthly.run(on="2026-12-01")
    send_outbox()
    outbox_resend(message=OutboxMessage.objects.get(kind="finance-journal"))
    send_outbox()
    first, second = mail.outbox
    assert first.attachments == second.attachments


@pytest.mark.parametrize(
    "days, bucket",
    [(-7, "not_due"), (0, "not_due"), (1, "1_30"), (30, "1_30"), (31, "31_60"), (60, "31_60"), (61, "61_90")]
    + [(90, "61_90"), (91, "over_90"), (400, "over_90")],
)
def test_ageing_buckets(days, bucket):
    assert finance.ageing_bucket(days) == bucket


def test_previous_month_and_week():
    assert finance.previous_month(date(2027, 1, 1)) == (2026, 12)
    assert finance.previous_month(date(2026, 3, 31)) == (2026, 2)
    assert finance.report_week(date(2026, 11, 23)) == "2026-W48"
    assert finance.report_week(date(2027, 1, 1)) == "2026-W53"


@pytest.fixture
def open_items(modules, clock, send_outbox):
    """On Monday 21.12.2026 (gross 160,89 € each for Intercom at Muster; due 14 days after issue):

    - RE-1 01.08., due 15.08.: 128 days overdue → > 90 Tage, 160,89 €.
    - RE-2 10.09., due 24.09., 60,89 € paid: 88 days → 61–90 Tage, 100,00 € open.
    - RE-3 05.11. (Alpen, reverse charge), due 19.11.: 32 days → 31–60 Tage, 135,20 €.
    - RE-4 21.11. (Lastschrift GmbH), collected 05.12.: 16 days → 1–30 Tage, 3,88 € (first partial month, SUB-2).
    - RE-5 01.12. (Alpen) fully credited: cancelled, not listed.
    - RE-6 14.12., due 28.12.: not due, 160,89 €.
    Muster 421,78 €, Alpen 135,20 €, Lastschrift 3,88 €; total 560,86 € in 5 invoices.
    """
    muster, alpen = german(), austrian()
    clock.set(date(2026, 8, 1))
    services.order_confirm(order=make_order(muster, ("INTERCOM", "purchase", 0)))
    clock.set(date(2026, 9, 10))
    partly = services.order_confirm(order=make_order(muster, ("INTERCOM", "purchase", 0)))
    clock.set(date(2026, 9, 20))
    services.payment_record(invoice=partly, amount="60.89", paid_on=date(2026, 9, 20))
    clock.set(date(2026, 11, 5))
    services.order_confirm(order=make_order(alpen, ("INTERCOM", "purchase", 0)))
    clock.set(date(2026, 11, 21))
    services.order_confirm(order=make_order(debtor(), ("BLACKLIST", "subscription", 12)))
    clock.set(date(2026, 12, 1))
    cancelled = services.order_confirm(order=make_order(alpen, ("INTERCOM", "purchase", 0)))
    services.credit_note_issue(invoice=cancelled, reason="Storno")
    clock.set(date(2026, 12, 14))
    services.order_confirm(order=make_order(muster, ("INTERCOM", "purchase", 0)))
    clock.set(date(2026, 12, 21))
    send_outbox()
    mail.outbox.clear()


def test_open_items_per_partner_and_bucket(open_items):
    data = finance.open_items_data(on=date(2026, 12, 21))
    assert data.count == 5 and data.total == D("560.86")
    assert data.buckets == {
        "not_due": D("160.89"),
        "1_30": D("3.88"),
        "31_60": D("135.20"),
        "61_90": D("100.00"),
        "over_90": D("160.89"),
    }
    by_partner = {
        p.name: (p.total, [(i.invoice.number, i.days, i.bucket, i.open_amount) for i in p.items]) for p in data.partners
    }
    assert by_partner == {
        "Alpen Telefonie GmbH": (D("135.20"), [("RE-2026-000003", 32, "31_60", D("135.20"))]),
        # Due (collected) on 07.12.2026, the announced day: 14 days before the report.
        "Lastschrift GmbH": (D("3.88"), [("RE-2026-000004", 14, "1_30", D("3.88"))]),
        "Muster Kommunikation GmbH": (
            D("421.78"),
            [
                ("RE-2026-000001", 128, "over_90", D("160.89")),
                ("RE-2026-000002", 88, "61_90", D("100.00")),
                ("RE-2026-000006", -7, "not_due", D("160.89")),
            ],
        ),
    }


def test_weekly_job_mails_the_open_items_pdf_once(open_items, send_outbox, settings):
    settings.FINANCE_EMAILS = ["buchhaltung@vendor.example"]
    finance_open_items_weekly.run(on="2026-12-21")
    finance_open_items_weekly.run(on="2026-12-23")  # same ISO week: nothing new
    assert send_outbox() == 1
    finance_open_items_weekly.run(on="2026-12-21")
    assert send_outbox() == 0 and len(mail.outbox) == 1
    report = FinanceReport.objects.get()
    assert (report.period, report.report_date, report.document_count, report.gross_total) == (
        "2026-W52",
        date(2026, 12, 21),
        5,
        D("560.86"),
    )
    email = mail.outbox[0]
    assert email.subject == "Offene Posten zum 21.12.2026"
    assert [name for name, _content, _type in email.attachments] == ["offene-posten-2026-W52.pdf"]
    text = pdf_text(email.attachments[0][1])
    for expected in (
        "Offene Posten zum 21.12.2026",
        "5 offene Rechnungen",
        "560,86 €",
        "421,78 €",
        "nicht fällig",
        "1–30 Tage",
        "31–60 Tage",
        "61–90 Tage",
        "> 90 Tage",
        "RE-2026-000001",
        "15.08.2026",
        "128",
        "60,89 €",
        "100,00 €",
    ):
        assert expected in text, expected
    assert "RE-2026-000005" not in text  # fully credited


def test_two_runs_racing_store_one_report(open_items, send_outbox):
    # The second run got past the "already there?" check before the first one committed:
    # its insert loses on the unique (kind, period); it returns the winner's row and
    # leaves neither a second e-mail nor its own file behind.
    first, created = finance.finance_open_items_send(on=date(2026, 12, 21))
    assert created
    pdf = b"%PDF-1.7 loser"
    second, created = finance._store(
        kind=FinanceReport.OPEN_ITEMS,
        period="2026-W52",
        report_date=date(2026, 12, 21),
        pdf=pdf,
        count=5,
        gross=D("560.86"),
        batches=[],
        mail_kind=finance.OPEN_ITEMS_KIND,
        mail=("x", "y"),
    )
    assert (second.pk, created) == (first.pk, False)
    assert OutboxMessage.objects.count() >= 1 and OutboxMessage.objects.filter(kind="finance-open-items").count() == 1
    folder = Path(first.pdf.path).parent
    assert [p.name for p in folder.iterdir()] == [Path(first.pdf.name).name]


def run_command(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("finance_report", *args, stdout=out)
    except CommandError as refused:
        return refused.returncode, str(refused)
    return 0, out.getvalue()


def test_command_sends_a_month_once(november):
    code, out = run_command("--journal", "2026-11")
    assert code == 0 and "Rechnungsausgangsbuch 2026-11: 4 Belege, 139,08 €; E-Mail an" in out
    code, out = run_command("--journal", "2026-11")
    assert code == 0 and "wurde bereits gesendet, keine zweite E-Mail" in out
    assert OutboxMessage.objects.filter(kind="finance-journal").count() == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (("--journal", "2026-12"), "noch nicht abgeschlossen"),
        (("--journal", "2026-13"), "JJJJ-MM"),
        (("--journal", "11/2026"), "JJJJ-MM"),
        (("--journal", "0000-05"), "JJJJ-MM"),
        (("--journal", "٢٠٢٦-١١"), "JJJJ-MM"),
        (("--open-items", "21.12.2026"), "JJJJ-MM-TT"),
        (("--open-items", "2026-12-02"), "in der Zukunft"),
        ((), "genau eines"),
        (("--journal", "2026-11", "--open-items", "2026-11-30"), "genau eines"),
    ],
)
def test_command_refuses_bad_arguments_with_exit_2(november, args, message):
    code, out = run_command(*args)
    assert code == 2 and message in out
    assert not FinanceReport.objects.exists() and not SepaBatch.objects.exclude(pk=november["batch"].pk).exists()


def test_beat_runs_the_reports_from_settings(settings):
    from vendorportal.celery import app

    schedule = app.conf.beat_schedule
    assert schedule["finance-journal-monthly"]["task"] == "billing.tasks.finance_journal_monthly"
    assert schedule["finance-open-items-weekly"]["task"] == "billing.tasks.finance_open_items_weekly"
    assert schedule is settings.CELERY_BEAT_SCHEDULE or schedule == settings.CELERY_BEAT_SCHEDULE


def as_group(client, name):
    from django.contrib.auth.models import Group

    from vendorportal.parties.tests.factories import UserFactory

    user = UserFactory(username=f"staff-{name}", is_staff=True)
    user.groups.add(Group.objects.get(name=name))
    client.force_login(user)
    return client


@pytest.mark.parametrize("group, status", [("finance", 200), ("sales", 403), ("support", 403)])
def test_finance_reads_the_stored_reports_nobody_changes_them(client, november, group, status):
    from django.urls import reverse

    report, _created = finance.finance_journal_send(year=2026, month=11, today=date(2026, 12, 1))
    as_group(client, group)
    listing = client.get(reverse("admin:billing_financereport_changelist"))
    assert listing.status_code == status
    if status == 200:
        assert (
            "rechnungsausgangsbuch-2026-11.pdf" in listing.content.decode() and "139,08 €" in listing.content.decode()
        )
    assert client.get(reverse("admin:billing_financereport_add")).status_code == 403
    change = reverse("admin:billing_financereport_change", args=[report.pk])
    assert client.post(change, {"period": "2026-12"}).status_code == 403
    assert client.post(reverse("admin:billing_financereport_delete", args=[report.pk])).status_code == 403
    report.refresh_from_db()
    assert report.period == "2026-11"
