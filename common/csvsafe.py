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


class SafeWriter:
    """``csv.writer`` with ``\\n`` line ends whose every cell goes through ``safe_cell``.

    Python's writer quotes a field holding ``\\n`` (the line terminator) but not one holding a bare
    ``\\r``, which spreadsheets and ``csv.reader`` then take for a line end: such a row is written
    with every field quoted, so a carriage return in a nickname cannot split a record.
    """

    def __init__(self, stream: Any):
        self._minimal = csv.writer(stream, lineterminator="\n")
        self._quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[Any]) -> None:
        cells = [safe_cell(v) for v in row]
        carriage = any(isinstance(c, str) and "\r" in c for c in cells)
        (self._quoted if carriage else self._minimal).writerow(cells)


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A header and rows as UTF-8 CSV (``\\n`` line ends), every cell through ``safe_cell``."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")
