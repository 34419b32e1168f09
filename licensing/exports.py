"""The article data export (CAT-7): one column layout for the command and the portal download."""

from __future__ import annotations

from licensing.selectors.catalog import ArticleRow

ARTICLE_COLUMNS = ["article", "name", "kind", "tier", "term_months", "price_net", "unit", "valid_from", "sample_price"]


def article_csv_row(row: ArticleRow) -> list[str]:
    """One CSV row; point as decimal separator and ISO dates, for an ERP to import."""
    return [
        row.article,
        row.name,
        row.kind,
        row.tier,
        "" if row.term_months is None else str(row.term_months),
        f"{row.price_net:.2f}",
        row.unit,
        row.valid_from.isoformat(),
        "1" if row.sample else "",
    ]


def price_list_context(rows: list[ArticleRow], *, on) -> dict:
    """What ``documents/price_list.html`` shows: one block per article, its prices as text
    (STYLE 7: formatted here, not in the template)."""
    from django.utils.translation import gettext as _

    from licensing.models import Price
    from vendorportal.formats import format_date_de
    from vendorportal.money import format_eur

    units = dict(Price.UNIT_CHOICES)
    articles: dict[str, dict] = {}
    for row in rows:
        block = articles.setdefault(row.article, {"article": row.article, "name": row.name, "prices": []})
        if row.kind == Price.PURCHASE:
            variant = _("Kauf")
        else:
            variant = _("Abo, Mindestlaufzeit %(months)s Monate") % {"months": row.term_months}
            if row.term_months == 1:
                variant = _("Abo, Mindestlaufzeit 1 Monat")
        block["prices"].append(
            {
                "variant": variant,
                "tier": row.tier or "—",
                "price": format_eur(row.price_net) + ("*" if row.sample else ""),
                "unit": str(units.get(row.unit, row.unit)),
            }
        )
    return {
        "date": format_date_de(on),
        "articles": list(articles.values()),
        "sample": any(r.sample for r in rows),
        "valid_from": format_date_de(max(r.valid_from for r in rows)) if rows else "",
    }
