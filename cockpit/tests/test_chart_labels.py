"""The charts' axis labels as a reader sees them (visual review): counts tick in whole numbers,
long category names do not run into each other, the partner's renewals legend in English."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from cockpit import charts
from cockpit.selectors._common import Series

SVG = "{http://www.w3.org/2000/svg}"
STATES = [
    "läuft bald ab",
    "abgelaufen (bis 3 Monate, ohne Säumniszuschlag)",
    "abgelaufen (mit Säumniszuschlag)",
    "abgelaufen, nicht mehr online verlängerbar",
]


def axes(series: Series, kind: str, unit: str = "") -> dict[str, list[tuple[str, str | None]]]:
    """Each axis ("x", "y") → its label texts with their rotation."""
    root = ElementTree.fromstring(charts.render_html(charts.build(series, kind=kind, unit=unit), "t"))
    found = {}
    for group in root.iter(f"{SVG}g"):
        classes = (group.get("class") or "").split()
        if classes[:1] == ["axis"]:
            found[classes[1]] = [(t.text, t.get("transform")) for t in group.iter(f"{SVG}text")]
    return found


def test_a_count_of_at_most_one_ticks_0_and_1_not_0_0_0_1_1_1():
    # Before: pygal ticked 0, 0.2 … 1 and the count formatter printed "0, 0, 0, 1, 1, 1".
    series = Series(["12/2026", "01/2027", "02/2027"], {"Softwarepflege": [0, 0, 1], "Service-Pläne": [0, 0, 0]})
    assert [text for text, _ in axes(series, "stacked")["y"]] == ["0", "1"]


@pytest.mark.parametrize(
    ("values", "ticks"),
    [
        ([0, 0, 0], ["0", "1"]),  # nothing: still a readable axis
        ([3, 1, 0], ["0", "1", "2", "3"]),
        ([7, 2, 0], ["0", "2", "4", "6", "8"]),  # no 1,4 or 2,8 for counts
        ([1234, 17, 0], ["0", "250", "500", "750", "1.000", "1.250"]),  # German grouping
    ],
)
def test_count_ticks_are_whole_numbers_in_german_format(values, ticks):
    series = Series(["a", "b", "c"], {"Tickets": values})
    assert [text for text, _ in axes(series, "bar")["y"]] == ticks


def test_stacked_counts_tick_up_to_the_stack():
    series = Series(["a", "b"], {"Kauf": [2, 0], "Abo": [2, 1]})  # 2 + 2 = 4
    assert [text for text, _ in axes(series, "stacked")["y"]] == ["0", "1", "2", "3", "4"]


def test_money_keeps_its_euro_ticks():
    series = Series(["a", "b"], {"Umsatz": [0, 140]}, money=True)
    assert all(text.endswith(" €") for text, _ in axes(series, "bar")["y"])


def test_few_long_category_names_are_slanted_and_twelve_months_too():
    long_names = axes(Series(STATES, {"Systeme": [1, 1, 0, 0]}), "bar")["x"]
    assert all(rotation for _text, rotation in long_names)
    months = axes(Series([f"{m:02d}/2026" for m in range(1, 13)], {"n": [1] * 12}), "bar")["x"]
    assert all(rotation for _text, rotation in months)
    short = axes(Series(["neu", "Ende"], {"n": [1, 2]}), "bar")["x"]
    assert not any(rotation for _text, rotation in short)


def test_the_softwarepflege_states_chart_lists_the_states_on_the_left():
    from cockpit.panels import CHARTS_BY_KEY

    spec = CHARTS_BY_KEY["softwarepflege"]
    assert spec.kind == "hbar"
    labels = axes(Series(STATES, {"Systeme": [1, 1, 0, 0]}), spec.kind)
    assert [text for text, _ in labels["y"]] == STATES  # horizontal bars: the names on the y axis
    assert [text for text, _ in labels["x"]] == ["0", "1"]


def test_an_empty_chart_says_no_data_in_the_pages_language():
    from django.utils import translation

    empty = Series(["a", "b"], {"Umsatz": [None, None]}, money=True)
    with translation.override("de"):
        assert "keine Daten" in charts.cached_html(empty, kind="hbar", unit="money", label="Top-Partner")
    with translation.override("en"):  # the same title and numbers: not the German drawing from the cache
        html = charts.cached_html(empty, kind="hbar", unit="money", label="Top-Partner")
    assert "no data" in html and "keine Daten" not in html
