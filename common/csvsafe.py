"""CSV that a spreadsheet cannot mistake for formulas ("CSV injection", OWASP; ASVS 5.0 requirement 1.2.10).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage
return or NUL is written with a single quote in front (``'=HYPERLINK(...)``):
Excel, LibreOffice and Google Sheets then show it as text. Numbers are
written as they are, so a numeric column keeps ``-3.5`` as a number; text is
quoted even when it looks like a number (a nickname ``-1`` stays text). Every
text cell from outside the tool goes through ``safe_cell`` (comment texts,
nicknames, reasons, ids), which is why the rule is on the writer, not on
each column. JSON and GraphML files keep the exact text.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def safe_cell(value: Any) -> Any:
    """A value for a CSV cell: None as empty, text that would start a formula behind a single quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A header and rows as UTF-8 CSV (``\\n`` line ends), every cell through ``safe_cell``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue().encode("utf-8")
