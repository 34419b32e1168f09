"""The finance reports as printed (visual review): a table's sum once, after its last row; a
system's row of the Softwarepflege report never split over two pages; damages not called a
third-country sale; a subscription's sum named by its product, not by one subscription."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pypdf
import pytest
from django.utils import translation

from billing.finance import journal_context, journal_data, vat_label
from billing.models import Invoice, InvoiceLine
from billing.tests.factories import make_partner
from vendorportal.pdf import render_pdf

pytestmark = pytest.mark.django_db
D = Decimal


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def issue(partner, number, day, net, *, charges_only=False, category="S"):
    vat = (net * D("0.19")).quantize(D("0.01")) if category == "S" else D("0.00")
    return Invoice.objects.create(
        kind="invoice", number=number, issue_date=day, issued_at=datetime(day.year, day.month, day.day, 9, 0).astimezone(),
        partner=partner, buyer_name=partner.company, buyer_country="DE", email="r@example.test", vat_category=category,
        net_total=net, vat_total=vat, gross_total=net + vat, charges_only=charges_only,
    )  # fmt: skip


def test_damages_are_not_subject_to_vat_but_no_third_country_sale():
    assert vat_label("O", D("0")) == "nicht steuerbar (Drittland, 0 %)"
    assert vat_label("O", D("0"), damages=True) == "nicht steuerbar (Schadensersatz, 0 %)"
    with translation.override("en"):
        assert vat_label("O", D("0"), damages=True) == "not taxable (damages, 0 %)"


def test_journal_prints_its_sum_once_after_the_last_row_and_names_products(catalog):
    partner = make_partner()
    # 60 invoices of 10,00 € net: net 600,00 €, VAT 60 × 1,90 € = 114,00 €, gross 714,00 €.
    for n in range(1, 61):
        issue(partner, f"RE-2026-{n:06d}", date(2026, 11, 1 + n % 28), D("10.00"))
    charges = issue(partner, "RE-2026-000061", date(2026, 11, 30), D("40.00"), charges_only=True, category="O")
    first = Invoice.objects.get(number="RE-2026-000001")
    for position, (invoice, text) in enumerate(
        [
            (first, "Call Recording (Staffel 1-20 Benutzer), Abo ABO-2026-000001 – Bäckerei Huber, Zentrale"),
            (charges, "Mahnpauschale (§ 288 Abs. 5 BGB) zu RE-2026-000009"),
        ],
        start=1,
    ):
        article = "CALLREC" if invoice is first else "NF-MAHN"
        InvoiceLine.objects.create(
            invoice=invoice, position=position, article=article, description=text, quantity=1, unit="MON",
            unit_price=invoice.net_total, net_total=invoice.net_total, vat_category=invoice.vat_category,
            vat_percent=D("19.00") if invoice is first else D("0.00"),
        )  # fmt: skip
    journal = journal_data(year=2026, month=11)
    with translation.override("de"):
        pdf = render_pdf("documents/finance_journal.html", {"journal": journal_context(journal), "sections": []})
    texts = pages(pdf)
    assert len(texts) >= 2
    # Before: the footer repeated on every page, "Summe (61)" under page 1's rows.
    sums = [n for n, text in enumerate(texts) if "Summe (61) 640,00 € 114,00 € 754,00 €" in text]
    assert len(sums) == 1 and "RE-2026-000061" in texts[sums[0]]
    whole = "\n".join(texts)
    assert "nicht steuerbar (Schadensersatz, 0 %)" in whole and "Drittland" not in whole
    assert "CALLREC Call Recording 1 10,00 €" in whole  # the catalogue's name, not the subscription's line


def test_softwarepflege_report_keeps_each_system_on_one_page():
    def row(n):
        return SimpleNamespace(
            serial=f"1AE{n:07d}", name=f"COMtrexx Flex Filiale {n}", model="COMtrexx Flex", customer=f"Kunde {n} GmbH",
            users=5, coverage_end="26.10.2026", state="abgelaufen (bis 3 Monate, ohne Säumniszuschlag)",
            surcharge_days=None, renewal="60,00 €", renewal_note="",
        )  # fmt: skip

    groups = [
        SimpleNamespace(partner=f"Partner {g}", email="p@example.test", renewal_total="600,00 €", expiring=[],
                        lapsed=[row(g * 100 + n) for n in range(10)])
        for g in range(6)
    ]  # fmt: skip
    report = SimpleNamespace(
        today="06.12.2026", expiring_until="04.02.2027", expiring_count=0, lapsed_since="06.12.2023",
        lapsed_count=60, renewal_total="3.600,00 €", sample_prices=False, unpriced=0, groups=groups,
    )  # fmt: skip
    with translation.override("de"):
        texts = pages(render_pdf("documents/swp_report.html", {"report": report}))
    assert len(texts) >= 3
    for group in groups:
        for system in group.lapsed:
            (page,) = [t.replace("\n", " ") for t in texts if system.serial in t]  # before: split off
            assert system.customer in page and system.name in page and system.state in page
