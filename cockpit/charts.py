"""Charts as SVG rendered on the server with pygal (issue 20): no JavaScript, no CDN, German
number and date formats, legible at 1280 px and in print.

pygal writes an inline ``<script>`` (its tooltip config) and an inline ``<style>`` into every
SVG. The admin's Content-Security-Policy (``script-src 'self'; style-src 'self'``) blocks both
when the SVG sits in an HTML page, so :func:`render_html` removes them and the page links the
one stylesheet :file:`cockpit/static/cockpit/charts.css` — pygal's own CSS for :data:`STYLE`,
written by :func:`stylesheet` with the per-chart ``#chart-<uuid>`` prefix replaced by
``svg.pygal-chart`` (a test keeps the file equal to what pygal writes). No ``js`` files are
configured either, so nothing is loaded from pygal's CDN. In PDFs (WeasyPrint, no CSP)
:func:`render_document` keeps the inline style and drops only the script.

Values reach pygal as floats: drawing needs no cents. Every label and value text comes from
the German formatters below, which round to the displayed precision.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import lru_cache

import pygal
from django.utils.translation import get_language, gettext
from lxml import etree
from pygal.style import Style

from cockpit.selectors._common import Series
from vendorportal.money import format_eur

SVG_NS = "http://www.w3.org/2000/svg"
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#333333",
    foreground_strong="#111111",
    foreground_subtle="#d0d0d0",
    opacity="0.9",
    opacity_hover="1",
    transition="0s",
    # Colour-blind safe (Okabe–Ito), distinct in grey print too.
    colors=("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"),
    font_family="DejaVu Sans, Helvetica, Arial, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    value_label_font_size=12,
    tooltip_font_size=12,
    title_font_size=16,
    legend_font_size=13,
    no_data_font_size=16,
)
WIDTH, HEIGHT = 760, 340


def format_number_de(value, decimals: int = 0) -> str:
    """``1234.5`` → ``"1.234,5"`` (German grouping and decimal comma)."""
    if value is None:
        return "–"
    text = f"{Decimal(str(value)):,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_percent_de(value) -> str:
    return "–" if value is None else f"{format_number_de(value, 1)} %"


def _formatter(kind: str):
    if kind == "money":
        return lambda v: "–" if v is None else format_eur(Decimal(str(v)))
    if kind == "percent":
        return format_percent_de
    if kind == "decimal":
        return lambda v: format_number_de(v, 1)
    return lambda v: format_number_de(v, 0)


def _values(values) -> list:
    return [None if v is None else float(v) for v in values]


def _count_ticks(series: Series, stacked: bool) -> list[int]:
    """Whole-number value ticks for a chart of counts: pygal's own ticks for a maximum of 1 are
    0, 0.2, … 1, which the count formatter prints as "0, 0, 0, 1, 1, 1"."""
    columns = [[v for v in values if v is not None] for values in zip(*series.series.values(), strict=True)]
    top = max((sum(c) if stacked else max(c, default=0) for c in columns), default=0)
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500) if top <= 5 * s) if top <= 2500 else 0
    if not step:
        return []  # large counts: pygal's ticks are whole numbers already
    return list(range(0, max(math.ceil(top / step), 1) * step + 1, step))


def _rotate_x_labels(labels: list) -> bool:
    """Slanted x labels when they would run into each other side by side (≈ 8 px a character)."""
    longest = max((len(str(label)) for label in labels), default=0)
    return len(labels) > 6 or longest * 8 > (WIDTH - 120) / max(len(labels), 1)


def build(series: Series, *, kind: str = "bar", title: str = "", unit: str = "") -> pygal.graph.graph.Graph:
    """A pygal chart of ``series``: ``kind`` = "bar", "stacked" (stacked bars), "line" or
    "hbar"; ``unit`` = "money", "percent", "decimal" or "" (counts) — money by default for a
    money series."""
    unit = unit or ("money" if series.money else "")
    chart_class = {
        "bar": pygal.Bar,
        "stacked": pygal.StackedBar,
        "line": pygal.Line,
        "hbar": pygal.HorizontalBar,
    }[kind]
    chart = chart_class(
        style=STYLE,
        width=WIDTH,
        height=HEIGHT,
        title=title or None,
        js=[],  # no script from pygal's CDN
        value_formatter=_formatter(unit),
        show_legend=len(series.series) > 1,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(len(series.series), 4) or 1,
        x_label_rotation=35 if kind != "hbar" and _rotate_x_labels(series.labels) else 0,
        truncate_label=-1,
        truncate_legend=-1,
        print_values=False,
        include_x_axis=True,
        min_scale=4,
        max_scale=8,
        margin=12,
        spacing=8,
        no_data_text=gettext("keine Daten"),  # the page's language (was German on English pages)
        show_minor_x_labels=True,
        dots_size=4,
        stroke_style={"width": 3},
    )
    chart.x_labels = series.labels
    if unit == "" and series.series:
        ticks = _count_ticks(series, stacked=kind == "stacked")
        if ticks:
            chart.y_labels = ticks
    for name, values in series.series.items():
        chart.add(name, _values(values))
    return chart


def _tree(chart, label: str):
    """pygal's SVG without its script and without the tooltip overlay only that script shows
    (it carries the one ``style`` attribute pygal writes); titled ``label``."""
    root = chart.render_tree()
    for node in list(root.iter(f"{{{SVG_NS}}}script", "script")):
        node.getparent().remove(node)
    for node in list(root.iter(f"{{{SVG_NS}}}g", "g")):
        if "tooltip-overlay" in (node.get("class") or "").split():
            node.getparent().remove(node)
    for node in root.iter(f"{{{SVG_NS}}}title", "title"):
        if node.getparent() is root.find(f"{{{SVG_NS}}}defs") or node.text == "Pygal":
            node.text = label
    for node in root.iter():
        if isinstance(node.tag, str) and "style" in node.attrib:
            del node.attrib["style"]  # CSP style-src 'self' refuses style attributes
    for comment in root.xpath("//comment()"):
        comment.getparent().remove(comment)
    return root


def render_html(chart, label: str) -> str:
    """The SVG for an HTML page under the CSP: no script, no inline style (charts.css styles it)."""
    root = _tree(chart, label)
    for node in list(root.iter(f"{{{SVG_NS}}}style", "style")):
        node.getparent().remove(node)
    root.set("role", "img")
    root.set("aria-label", label)
    return etree.tostring(root, encoding="unicode")


@lru_cache(maxsize=256)
def _cached_html(labels: tuple, series: tuple, money: bool, kind: str, unit: str, label: str, language: str) -> str:
    # ``language`` only keys the cache: the chart's own texts ("keine Daten") are in it.
    return render_html(build(Series(list(labels), {k: list(v) for k, v in series}, money), kind=kind, unit=unit), label)


def cached_html(series: Series, *, kind: str, unit: str, label: str) -> str:
    """:func:`render_html` of :func:`build`, remembered per process for the same numbers: pygal
    spends ~12 ms of CPU per chart, the cockpit shows up to 11, and between two visits the
    figures mostly have not changed. Keyed by every value drawn and the language, so new numbers
    draw anew."""
    key = tuple((name, tuple(values)) for name, values in series.series.items())
    return _cached_html(tuple(series.labels), key, series.money, kind, unit, label, get_language() or "de")


def render_document(chart, label: str = "") -> str:
    """The SVG with pygal's inline style, for PDFs (WeasyPrint applies no CSP)."""
    root = _tree(chart, label)
    if label:
        root.set("aria-label", label)
    return etree.tostring(root, encoding="unicode")


def stylesheet() -> str:
    """pygal's CSS for :data:`STYLE` with the chart prefix made generic (see the module docstring)."""
    sample = build(Series(labels=["a"], series={str(n): [1] for n in range(len(STYLE.colors))}))
    root = sample.render_tree()
    css = "\n".join(node.text or "" for node in root.iter(f"{{{SVG_NS}}}style", "style"))
    prefix = "#" + root.get("id")
    css = css.replace(prefix, "svg.pygal-chart")
    return re.sub(r"[ \t]+\n", "\n", css).strip() + "\n"


if __name__ == "__main__":  # python -m cockpit.charts > cockpit/static/cockpit/charts.css
    import django

    django.setup()
    print(stylesheet(), end="")
