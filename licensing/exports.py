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
