"""Text cells of CSV files that staff open in a spreadsheet.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel
and LibreOffice as a formula (OWASP "CSV injection"): a partner whose company name is
``=HYPERLINK("https://…";"klick")`` would put a working link — or worse — into finance's sheet.
Such a cell gets a leading apostrophe, which the spreadsheet shows as text. Only free text
(names, labels) goes through here; numbers are written by their own formatting.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
