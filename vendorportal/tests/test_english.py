"""English everywhere (issue 21): an English-speaking partner sees no German.

The crawl logs in as the administrator of a partner whose language is English and opens
every page of the ``portal`` namespace — the pages without arguments as they are, the pages
with arguments with an object of its own made by the tenant-isolation walker's entries
(``<app>/tests/portal_isolation.py``), which also issue its orders, invoices, corrections,
delivery notes, confirmations and mandates. Every document rendered meanwhile (the HTML that
goes to WeasyPrint) and every e-mail the outbox holds for the partner are read too.

German is recognised by the product's own German: the words of the msgids in
``locale/en/LC_MESSAGES/django.po`` that occur in no English translation. A string added
later and not translated yet brings its words into that list, and a page showing it fails
the test, naming the string (``scripts/i18n_missing`` lists what is left to translate).
Data is excepted: words of the rows in the database (names, addresses, subjects) do not
count, and neither do the German labels an invoice keeps on purpose (marked ``lang="de"``,
docs/i18n.md).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import reverse

from support.services import support_staff_emails
from vendorportal.models import OutboxMessage, UserLanguage
from vendorportal.parties.tests.factories import PartnerUserFactory
from vendorportal.portal.testing import isolation_cases, isolation_exemptions, load_isolation_entries
from vendorportal.portal.tests.test_isolation import PORTAL_URLS

load_isolation_entries()

PO_FILE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
WORD = re.compile(r"[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß-]{3,}")
# Names and terms that are the same in English (products, standards, the vendor's terms).
NOT_GERMAN = {
    "starface",
    "auerswald",
    "comtrexx",
    "sepa",
    "iban",
    "factur-x",
    "zugferd",
    "datev",
    "softwarepflege",  # the product's name for maintenance; the English text glosses it
}
# Pages that need what a crawl cannot give: a POST-only action, a password-reset token.
SKIP = {"portal:logout"}


def _words(text: str) -> set[str]:
    return {w.lower().strip("-") for w in WORD.findall(text)}


def german_words() -> dict[str, str]:
    """German word → one msgid it comes from (for the failure message)."""
    catalog = polib.pofile(str(PO_FILE))
    english: set[str] = set()
    for entry in catalog:
        if entry.msgstr:
            english |= _words(entry.msgstr)
        for text in entry.msgstr_plural.values():
            english |= _words(text)
    german: dict[str, str] = {}
    for entry in catalog:
        if entry.obsolete:
            continue
        for word in _words(entry.msgid) | _words(entry.msgid_plural or ""):
            if word not in english and word not in NOT_GERMAN and not re.search(r"\d", word):
                german.setdefault(word, entry.msgid)
    return german


class _Text(HTMLParser):
    """The visible text of a page, without scripts, styles and ``lang="de"`` elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # lang="de" marks the German an English invoice keeps on purpose — on an element inside
        # the page; a whole page or document declared German is no excuse.
        german_part = attrs.get("lang") == "de" and tag not in ("html", "body")
        if self._skip or tag in ("script", "style") or german_part:
            if tag not in ("br", "img", "input", "meta", "link", "hr"):
                self._skip.append(tag)
            return
        for name in ("title", "placeholder", "aria-label", "alt"):
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


# Columns the product writes itself (from msgids) are not data: e-mails, job summaries,
# confirmations, invoice line texts and terms. Their words must be English like the pages.
PRODUCT_TEXT = {
    "outboxmessage": None,  # None: every column
    "jobrun": None,
    "confirmation": None,
    "invoice": {"payment_terms", "vat_note"},
    "invoiceline": {"description"},
    "license": {"state_reason"},
}


def data_words() -> set[str]:
    """Words of every text column of every row: names, addresses, subjects — data, not UI."""
    words: set[str] = set()
    for model in apps.get_models():
        name = model._meta.model_name.removeprefix("historical")
        skip = PRODUCT_TEXT.get(name, set())
        if skip is None:
            continue
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField)) and f.attname not in skip
        ]
        if not fields:
            continue
        for row in model._base_manager.values_list(*fields):
            for value in row:
                if value:
                    words |= _words(str(value))
    return words


@pytest.fixture
def rendered_documents(monkeypatch):
    """The HTML of every document rendered to PDF during the test."""
    import vendorportal.pdf

    seen: list[tuple[str, str]] = []
    real = vendorportal.pdf.render_to_string

    def recording(template_name, context=None, *args, **kwargs):
        html = real(template_name, context, *args, **kwargs)
        seen.append((template_name, html))
        return html

    monkeypatch.setattr(vendorportal.pdf, "render_to_string", recording)
    return seen


@pytest.mark.django_db
def test_an_english_partner_sees_no_german(client, rendered_documents):
    german = german_words()
    assert len(german) > 500, "the German word list comes from the .po file's msgids"

    from licensing.services.catalog import catalog_load

    catalog_load()  # the price list, article data and the products the orders need
    membership = PartnerUserFactory(role="admin")
    partner = membership.partner
    partner.language = "en"
    partner.save(update_fields=["language"])
    UserLanguage.objects.create(user=membership.user, language="en")
    client.force_login(membership.user)

    cases, exempt = isolation_cases(), isolation_exemptions()
    texts: list[tuple[str, str]] = []
    for name, has_args in sorted(PORTAL_URLS.items()):
        if name in SKIP or name in exempt:
            continue
        if has_args:
            if name not in cases:
                continue
            url = reverse(name, kwargs=cases[name].make(partner))
        else:
            url = reverse(name)
        response = client.get(url)
        if response.status_code in (301, 302, 405):
            continue
        assert response.status_code == 200, f"{name} {url}: {response.status_code}"
        if response["Content-Type"].startswith("text/html"):
            texts.append((f"page {name}", visible_text(response.content.decode())))
    assert len(texts) > 40, "the crawl reached the portal's pages"

    for template_name, html in rendered_documents:
        texts.append((f"document {template_name}", visible_text(html)))
    kinds = {t for t, _ in rendered_documents}
    assert {"documents/invoice.html", "documents/delivery_note.html"} <= kinds, kinds

    from vendorportal.outbox import registered_kind

    # E-mails to the partner; the vendor's internal mail (support staff, finance) stays German.
    internal = {a.lower() for a in support_staff_emails()} | {
        a.lower() for a in [*settings.FINANCE_EMAILS, settings.FINANCE_EMAIL, settings.SUPPORT_EMAIL]
    }
    for message in OutboxMessage.objects.all():
        if {r.lower() for r in message.recipients} <= internal:
            continue
        subject, body = message.subject, message.body
        if not (subject and body) and registered_kind(message.kind).compose:
            from django.utils.module_loading import import_string

            subject, body = import_string(registered_kind(message.kind).compose)(message)
        texts.append((f"e-mail {message.kind}", f"{subject}\n{body}"))

    # Data, and the language names, each shown in its own language ("Deutsch", "English").
    data = (
        data_words()
        | _words(" ".join(name for _code, name in settings.LANGUAGES))
        | _words(" ".join(str(value) for value in settings.VENDOR.values()))  # the letterhead: names, e-mail
    )
    found: dict[str, set[str]] = {}
    for where, text in texts:
        for word in _words(text) - data:
            if word in german:
                found.setdefault(where, set()).add(word)
    assert not found, "German on English pages and documents:\n" + "\n".join(
        f"  {where}: " + ", ".join(f"{w!r} (from msgid {german[w]!r})" for w in sorted(words))
        for where, words in sorted(found.items())
    )


def test_german_words_come_from_the_msgids():
    german = german_words()
    # Distinctive German of the product, and no English word that a translation uses.
    assert {"rechnung", "lieferschein", "kündigung"} <= set(german)
    assert not {"invoice", "delivery", "partner"} & set(german)
