"""Knowledge base (SUP-8): Markdown rendered and then sanitised, and the seed 000 FAQ loader."""

from __future__ import annotations

import json
from pathlib import Path

import markdown
import nh3
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe

from support.models import Article, Tag

FAQ_FILE = Path(__file__).resolve().parent / "data" / "faq_seed000.json"
ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "u", "code", "pre", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> SafeString:
    """Markdown → HTML, then nh3 keeps only harmless tags and attributes: a ``<script>``,
    an ``onclick`` or a ``javascript:`` link written into an article never reaches a page."""
    html = markdown.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


@transaction.atomic
def faq_load(path: Path = FAQ_FILE) -> int:
    """Load the FAQ of seed 000 as public articles; idempotent by slug (staff edits of an
    article already loaded are kept). Returns how many articles were created."""
    data = json.loads(path.read_text(encoding="utf-8"))
    created = 0
    for item in data["articles"]:
        article, was_created = Article.objects.get_or_create(
            slug=item["slug"],
            defaults={
                "title": item["title"],
                "body": item["body"],
                "visibility": Article.PUBLIC,
                "source": "Seed 000 (FAQ)",
            },
        )
        if was_created:
            created += 1
            article.tags.set([Tag.objects.get_or_create(name=name)[0] for name in item["tags"]])
    return created
