"""The one PDF service (STYLE 7): documents are templates under ``templates/documents/``
rendered with WeasyPrint.

One ``FontConfiguration`` per process: a new one per document leaks ≈0.27 MB each.

After its first document a process freezes what it holds (``gc.freeze``): fonts, templates,
schemas and modules live as long as the process, and the garbage collector's full passes then
no longer walk them — ≈13 % of an invoice's CPU time (130 → 113 ms), and less memory touched
when two worker processes render side by side (issue 17).

A document many people download unchanged (the portal's price list) is rendered once per
version and served from a file afterwards (:func:`render_pdf_cached`).
Fonts come from the system (Debian's DejaVu, installed by ``make run``); nothing is
downloaded at run time — a document that references a remote URL fails loudly.
"""

from __future__ import annotations

import gc
import hashlib
import os
import threading
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

_local = threading.local()


def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    config = getattr(_local, "font_config", None)
    if config is None:
        config = _local.font_config = FontConfiguration()
    return config


def _no_network_fetcher(url: str, *args, **kwargs):
    """WeasyPrint URL fetcher that refuses everything but local files and data URLs."""
    from weasyprint.urls import default_url_fetcher

    if url.startswith(("file:", "data:")):
        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"Documents must not load {url!r}: no network at render time.")


def document_vendor() -> dict:
    """The vendor as every document shows it (letterhead and the legal footer of § 14 Abs. 4
    UStG / § 35a GmbHG): ``settings.VENDOR`` with the IBAN printed in groups of four."""
    vendor = dict(settings.VENDOR)
    iban = vendor.get("iban", "").replace(" ", "")
    vendor["iban_grouped"] = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    vendor.setdefault("managing_directors", [])
    return vendor


def _document_html(template_name: str, context: dict) -> str:
    return render_to_string(template_name, {"vendor": document_vendor(), **context})


_frozen = False  # this process froze its long-lived objects after its first document


def _freeze_long_lived_objects() -> None:
    """Once per process, after the first render: collect, then move every object there is into
    the collector's permanent generation. What the first document loaded (fonts, the XSD,
    templates, WeasyPrint's style sheets) stays for the process's life; full collections, which
    every document's many short-lived boxes trigger, then walk only what came after. Objects
    still free normally when their last reference goes (reference counting is untouched)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def _html_pdf(html: str, *, attachments=None, **write_options) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, base_url=str(settings.BASE_DIR / "templates"), url_fetcher=_no_network_fetcher)
    pdf = document.write_pdf(font_config=_font_config(), attachments=attachments or None, **write_options)
    _freeze_long_lived_objects()
    return pdf


def render_pdf(template_name: str, context: dict, *, attachments=None, **write_options) -> bytes:
    """Render ``templates/documents/<template_name>`` to PDF bytes.

    ``attachments``: ``weasyprint.Attachment`` objects — each may be used for one
    render only, so build them fresh per call. ``write_options`` go to WeasyPrint's
    ``write_pdf``, e.g. ``pdf_variant="pdf/a-3b"`` for invoices (INV-4).
    """
    return _html_pdf(_document_html(template_name, context), attachments=attachments, **write_options)


def render_pdf_cached(template_name: str, context: dict, *, folder: str | Path) -> bytes:
    """The PDF of a document many people download unchanged, rendered once per *version* and
    served from a file in ``folder`` afterwards (issue 17: the price list took 1.5 s a request).

    The version is the SHA-256 of the document's HTML, which holds everything the PDF shows —
    the data, the date it states, the template, the letterhead, the language: a changed price
    is a new version and renders anew; the same HTML is never rendered twice, also after a
    restart. The file is written whole under a temporary name and renamed (two processes
    rendering the same version at once leave one complete file); older versions in the same
    language are removed — the German and the English price list are both current and kept.
    Template rendering costs milliseconds, WeasyPrint the second this saves.
    """
    html = _document_html(template_name, context)
    folder = Path(folder)
    language = translation.get_language() or settings.LANGUAGE_CODE
    path = folder / f"{language}-{hashlib.sha256(html.encode()).hexdigest()}.pdf"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    pdf = _html_pdf(html)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp"
    temporary.write_bytes(pdf)
    os.replace(temporary, path)
    for older in folder.glob("*.pdf"):
        # this language's older versions, and files named before the language prefix
        if older != path and (older.name.startswith(f"{language}-") or "-" not in older.stem):
            older.unlink(missing_ok=True)
    return pdf
