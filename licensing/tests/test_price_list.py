"""The price list PDF as a partner reads it (issue 21): two A4 pages, a matrix of user tiers ×
terms for the modules, the articles without tier or term in their own tables, every footnote on
the page of its marker, no rule IDs, and in English no German of the product's own strings.

The catalog is the one ``make run`` loads: the seed 001 price list plus the sample prices of the
PBX Call Assist 5, COMtrexx, Teams Integration and AURORA articles. Prices by hand from seed 001
(RULES CAT-3, CAT-4, CAT-6) and licensing/data/sample_prices_demo.csv.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.urls import reverse
from pypdf import PdfReader

from licensing.models import Product
from vendorportal.parties.tests.factories import PartnerUserFactory

RULE_ID = re.compile(r"\b(?:GEN|CAT|LIC|SYS|SWP|ORD|SUB|INV|SUP)-\d+\b")


@pytest.fixture(autouse=True)
def _today(clock):
    clock.set(date(2026, 11, 21))


@pytest.fixture
def full_catalog(db):
    from demo.loader import SAMPLE_PRICE_LIST
    from licensing.services.catalog import SEED_PRICE_LIST
    from licensing.tests.catalog_cache import catalog_load_cached

    catalog_load_cached(price_lists=[SEED_PRICE_LIST, SAMPLE_PRICE_LIST])


def _pages(client, language: str) -> list[str]:
    membership = PartnerUserFactory(role="member", partner__language=language)
    client.force_login(membership.user)  # the login takes its partner's language
    response = client.get(reverse("portal:price_list_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages]


def test_the_german_price_list_is_two_pages_of_matrices(client, full_catalog):
    pages = _pages(client, "de")
    assert len(pages) == 2
    first, second = pages
    assert "Stand 21.11.2026" in first
    # Page 1, one row per tier: purchase, then the monthly price for 1, 12, 24 and 36 months.
    # CAT-3's example: Call Recording, 81-150 users, 24 months → 179,00 €/month; bought 4.800,00 €.
    assert "81-150 4.800,00 € — 235,37 € 179,00 € 142,98 €" in first
    assert "Active Directory Synchronisation ADSYNC 1-20 199,00 € — 16,58 € 8,29 € 7,00 €" in first
    assert ">250 17.000,00 € — 833,62 € 633,97 € 506,38 €" in first  # Insight Analytics
    # Flat modules have one row for every tier; Teams Presence Sync: no purchase, 1 month 7,50 €
    # per started 5 users (CAT-4); Teams Integration a sample price of 49,00 € a month.
    assert "Rufnummernsignalisierung CLIP alle 249,00 € — 12,21 € 9,29 € 7,42 €" in first
    assert "Teams Presence Sync TEAMSPRESENCE je 5 Benutzer4 — 7,50 € 7,40 € 7,30 € 7,00 €" in first
    assert "TEAMSINT alle — 49,00 €* — — —" in first
    # Page 2: service plans (CAT-6), Call Assist packs and Softwarepflege (sample prices), COMtrexx.
    assert "Service-Plan Premium SP-PREMIUM — 828,00 €" in second
    assert "Service-Plan Enterprise SP-ENTERPRISE — 1.548,00 €" in second
    assert "Service-Plan Basic SP-BASIC 348,00 € —" in second
    assert "15-Benutzer-Paket 94377 399,00 €*" in second
    assert "36 Monate 94380 30,00 €*" in second
    assert "je Tag (Erweiterung)8 94381 0,04 €*" in second
    assert "CTX-ACT 249,00 €*" in second


def test_every_footnote_is_on_the_page_of_its_marker(client, full_catalog):
    first, second = _pages(client, "de")
    on_first = {
        "Benutzerstaffel1": "1 Benutzerstaffel: die in der Anlage installierten Benutzerlizenzen",
        "Kauf2": "2 Kauf: einmaliger Preis je Serverlizenz",
        "pro Monat3": "3 Abo: Preis pro Monat je Serverlizenz. Die Mindestlaufzeit beginnt am Ersten",
        "je 5 Benutzer4": "4 Preis je angefangene 5 Benutzer, unabhängig von der Benutzerstaffel: 12 "
        "Benutzer sind 3 Blöcke, im Abo über 1 Monat also 3 × 7,50 €.",
        "49,00 €*": "* Beispielpreis: noch nicht vom Hersteller bestätigt.",
    }
    on_second = {
        "Service-Plan5": "5 Service-Pläne Premium und Enterprise werden jährlich im Voraus abgerechnet "
        "und sind mit 3 Monaten Frist",
        "Paket6": "6 Die erste Bestellung für ein System umfasst mindestens 5 Benutzer",
        "Laufzeit7": "7 Softwarepflege gilt für alle Benutzer eines Systems",
        "(Erweiterung)8": "8 Tagessatz für Benutzer, die während einer laufenden Softwarepflege "
        "hinzukommen: die Resttage der Laufzeit je Benutzer, abzüglich 21 Tage Gutschrift",
        "(Business/Advanced)9": "9 Die Systemaktivierung brauchen nur COMtrexx Business und Advanced",
        "29,00 €*": "* Beispielpreis: noch nicht vom Hersteller bestätigt.",
    }
    for page, notes, other in ((first, on_first, second), (second, on_second, first)):
        for marker, note in notes.items():
            assert marker in page, marker
            assert note in page, note
            if not note.startswith("*"):  # a numbered note is on its page only
                assert note not in other, note


def test_no_rule_ids_in_either_language(client, full_catalog):
    for language in ("de", "en"):
        client.logout()
        text = " ".join(_pages(client, language))
        assert not RULE_ID.findall(text), language


def test_the_english_price_list_has_english_formats_and_no_german(client, full_catalog, settings):
    from vendorportal.tests.test_english import german_words

    pages = _pages(client, "en")
    assert len(pages) == 2
    first, second = pages
    assert "Page 1 of 2" in first and "Page 2 of 2" in second and "as of 21 Nov 2026" in first
    assert "81-150 €4,800.00 — €235.37 €179.00 €142.98" in first
    assert "Teams Presence Sync TEAMSPRESENCE per 5 users4 — €7.50 €7.40 €7.30 €7.00" in first
    assert "3 × €7.50 on a 1-month subscription" in first
    assert "Service-Plan Enterprise SP-ENTERPRISE — €1,548.00" in second
    assert "15-user pack 94377 €399.00*" in second
    # German of the product's own strings; product names and the vendor's letterhead are data.
    vendor = " ".join(str(value) for value in settings.VENDOR.values())
    data = " ".join(Product.objects.values_list("name", flat=True)) + " " + vendor
    data_words = {w.lower() for w in re.findall(r"[\wÄÖÜäöüß-]+", data)}
    german = german_words()
    found = {
        word.lower()
        for word in re.findall(r"[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß-]{3,}", " ".join(pages))
        if word.lower() in german and word.lower() not in data_words
    }
    assert not found, {word: german[word] for word in found}


def test_each_language_keeps_its_cached_file(client, full_catalog, settings, monkeypatch):
    """A German and an English reader alternating do not render the list anew each time."""
    from vendorportal import pdf

    renders = []
    render = pdf._html_pdf
    monkeypatch.setattr(pdf, "_html_pdf", lambda html, **kw: renders.append(1) or render(html, **kw))
    german = _pages(client, "de")
    client.logout()
    english = _pages(client, "en")
    client.logout()
    assert _pages(client, "de") == german
    client.logout()
    assert _pages(client, "en") == english
    assert len(renders) == 2


def test_the_download_is_named_in_the_readers_language(client, full_catalog):
    for language, name in (("de", "Preisliste-2026-11-21.pdf"), ("en", "price-list-2026-11-21.pdf")):
        membership = PartnerUserFactory(role="member", partner__language=language)
        client.force_login(membership.user)
        response = client.get(reverse("portal:price_list_pdf"))
        assert f'filename="{name}"' in response["Content-Disposition"]
        articles = client.get(reverse("portal:articles_csv"))
        stem = "Artikeldaten" if language == "de" else "article-data"
        assert f'filename="{stem}-2026-11-21.csv"' in articles["Content-Disposition"]
