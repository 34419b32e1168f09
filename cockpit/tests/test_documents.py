"""The finance journal PDF with the cockpit's revenue chart and MRR movement (issue 20)."""

import io
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from billing import finance
from billing.models import SubscriptionPriceChange
from billing.tests.factories import make_partner, make_subscription
from cockpit.documents import journal_section
from vendorportal.pdf import render_pdf

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def subscriptions(catalog):
    partner = make_partner()
    a = make_subscription(partner, monthly_price="44.75", signed_on=date(2026, 9, 10), term_start=date(2026, 10, 1))
    SubscriptionPriceChange.objects.create(
        subscription=a, effective_from=date(2026, 11, 1), tier="41-80", monthly_price=Decimal("59.00")
    )
    make_subscription(partner, monthly_price="22.50", signed_on=date(2026, 11, 20), term_start=date(2026, 12, 1))


def test_journal_section_has_the_charts_and_the_movement(subscriptions):
    html = journal_section(year=2026, month=11, today=date(2026, 12, 1))
    assert "MRR-Bewegung 11/2026" in html
    # 31.10.: 44,75; new 22,50; expansion 14,25; end 81,50
    for text in ("44,75 €", "22,50 €", "14,25 €", "81,50 €"):
        assert text in html
    start = html.index("<svg", html.index('id="journal-mrr-chart"'))
    chart = ElementTree.fromstring(html[start : html.index("</svg>", start) + 6])
    assert len([r for r in chart.iter(f"{SVG}rect") if "rect" in r.get("class", "").split()]) == 6
    assert not list(chart.iter(f"{SVG}script"))
    assert list(chart.iter(f"{SVG}style"))  # in a PDF the chart keeps its own style


def test_journal_pdf_renders_with_the_section(subscriptions):
    journal = finance.journal_data(year=2026, month=11)
    sections = finance.journal_sections(year=2026, month=11, today=date(2026, 12, 1))
    assert len(sections) == 1  # registered by the cockpit app
    pdf = render_pdf(
        "documents/finance_journal.html", {"journal": finance.journal_context(journal), "sections": sections}
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "MRR-Bewegung 11/2026" in text and "14,25 €" in text and "Umsatz netto je Monat" in text
