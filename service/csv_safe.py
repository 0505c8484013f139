"""Spreadsheet-safe CSV cells: the export's defence against CSV (formula) injection.

A logged request carries text its end users wrote, and a spreadsheet opening the CSV runs a cell that begins with
`=`, `+`, `-` or `@` as a formula (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`, `@SUM(...)`), as it may a cell that
begins with a tab or a carriage return. OWASP's advice is to prefix such a cell with a single quote: spreadsheets
then show it as text, and do not display the quote.

The prefix must not change the data for the loader, which reads the same files back
(`loaders.sources.csv_source`, which cannot import this module): it drops one leading `'` when the next character
is one of these or another `'`. So a cell that already begins with `'` gets the prefix too, and the two rules are
exact inverses: every value exports and loads back unchanged.
"""

from __future__ import annotations

QUOTE = "'"
FORMULA_STARTS = frozenset("=+-@\t\r")
# The first characters after which the loader drops a leading quote: a formula start, or the quote itself.
PREFIXED_STARTS = FORMULA_STARTS | {QUOTE}


def spreadsheet_safe(text: str) -> str:
    """`text` as a cell no spreadsheet runs as a formula, and that the loader reads back as `text`."""
    return QUOTE + text if text[:1] in PREFIXED_STARTS else text
