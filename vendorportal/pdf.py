"""The one PDF service (STYLE 7): documents are templates under ``templates/documents/``
rendered with WeasyPrint.

One ``FontConfiguration`` per process: a new one per document leaks ≈0.27 MB each.
Fonts come from the system (Debian's DejaVu, installed by ``make run``); nothing is
downloaded at run time — a document that references a remote URL fails loudly.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.template.loader import render_to_string

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


def render_pdf(template_name: str, context: dict, *, attachments=None, **write_options) -> bytes:
    """Render ``templates/documents/<template_name>`` to PDF bytes.

    ``attachments``: ``weasyprint.Attachment`` objects — each may be used for one
    render only, so build them fresh per call. ``write_options`` go to WeasyPrint's
    ``write_pdf``, e.g. ``pdf_variant="pdf/a-3b"`` for invoices (INV-4).
    """
    from weasyprint import HTML

    html = render_to_string(template_name, {"vendor": document_vendor(), **context})
    document = HTML(string=html, base_url=str(settings.BASE_DIR / "templates"), url_fetcher=_no_network_fetcher)
    return document.write_pdf(font_config=_font_config(), attachments=attachments or None, **write_options)
