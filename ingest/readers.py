"""Read one data file as a stream of rows, keeping each row's line and raw text.

CSV (UTF-8, header), JSON Lines and Parquet; CSV and JSON Lines may be gzipped.
The raw text goes to the rejects file unchanged when a row fails validation.
A file that is not what its name says raises ``FileFormatError`` naming it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ringscope.ingest.spec import SUFFIXES

csv.field_size_limit(min(sys.maxsize, 1 << 30))


class FileFormatError(Exception):
    """The file cannot be read as the format its name says (or lacks a column)."""


@dataclass(frozen=True)
class DataFile:
    path: Path
    stem: str  # the kind of record, e.g. "accounts"
    fmt: str  # csv | jsonl | parquet


def classify(path: Path) -> DataFile | None:
    """``accounts.csv.gz`` -> DataFile(stem="accounts", fmt="csv"); None if not a data file."""
    name = path.name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return DataFile(path, name[: -len(suffix)], SUFFIXES[suffix])
    return None


@dataclass
class Row:
    line: int  # 1-based line in the file (CSV: the record's first line; Parquet: row number)
    raw: str  # the row as it stood in the file
    values: dict[str, Any]


class Table:
    """An open data file: its columns and an iterator over its rows."""

    def __init__(self, data: DataFile):
        self.data = data
        self.columns: list[str] = []
        self._rows: Iterator[Row] = iter(())
        self._handle = None
        opener = {"csv": self._open_csv, "jsonl": self._open_jsonl, "parquet": self._open_parquet}
        try:
            opener[data.fmt]()
        except FileFormatError:
            self.close()
            raise
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as exc:
            self.close()
            raise FileFormatError(f"{data.path}: cannot be read as {self._what()}: {exc}") from None

    def _what(self) -> str:
        gz = " (gzip)" if self.data.path.name.endswith(".gz") else ""
        return {"csv": "CSV", "jsonl": "JSON Lines", "parquet": "Parquet"}[self.data.fmt] + gz

    def _text(self) -> io.TextIOBase:
        path = self.data.path
        if path.name.endswith(".gz"):
            return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
        return open(path, encoding="utf-8", newline="")

    def _open_csv(self) -> None:
        self._handle = self._text()
        tap = _LineTap(self._handle)
        reader = csv.reader(tap)
        try:
            header = next(reader)
        except StopIteration:
            raise FileFormatError(f"{self.data.path}: empty file, expected a CSV header row") from None
        header = [h.lstrip("\ufeff") if i == 0 else h for i, h in enumerate(header)]
        if len(set(header)) != len(header):
            dupes = sorted({h for h in header if header.count(h) > 1})
            raise FileFormatError(f"{self.data.path}: duplicate column(s) {', '.join(dupes)} in the header")
        self.columns = header
        tap.take()
        self._rows = self._csv_rows(reader, tap, header)

    def _csv_rows(self, reader, tap: "_LineTap", header: list[str]) -> Iterator[Row]:
        width = len(header)
        line = 2
        try:
            for record in reader:
                raw = tap.take()
                start = line
                line += raw.count("\n") or 1
                if not record:
                    continue  # blank line
                if len(record) != width:
                    # Keep the row as a reject rather than guess which value is which.
                    yield Row(start, raw.rstrip("\r\n"), {"__error__": f"has {len(record)} values, header has {width}"})
                    continue
                yield Row(start, raw.rstrip("\r\n"), dict(zip(header, record)))
        except (csv.Error, UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
            raise FileFormatError(f"{self.data.path}: unreadable at line {line}: {exc}") from None

    def _open_jsonl(self) -> None:
        self._handle = self._text()
        first = None
        lines = enumerate(self._handle, start=1)
        for number, text in lines:
            if text.strip():
                try:
                    first = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise FileFormatError(f"{self.data.path}: line {number} is not JSON ({exc.msg}); "
                                          "expected JSON Lines") from None
                if not isinstance(first, dict):
                    raise FileFormatError(f"{self.data.path}: line {number} is not a JSON object")
                break
        if first is None:
            self.columns = []
            return
        self.columns = list(first)
        self._rows = self._jsonl_rows(number, text, first, lines)

    def _jsonl_rows(self, number, text, first, lines) -> Iterator[Row]:
        yield Row(number, text.rstrip("\r\n"), first)
        try:
            for number, text in lines:
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield Row(number, text.rstrip("\r\n"), {"__error__": f"not valid JSON ({exc.msg})"})
                    continue
                if not isinstance(value, dict):
                    yield Row(number, text.rstrip("\r\n"), {"__error__": "not a JSON object"})
                    continue
                yield Row(number, text.rstrip("\r\n"), value)
        except (UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
            raise FileFormatError(f"{self.data.path}: unreadable after line {number}: {exc}") from None

    def _open_parquet(self) -> None:
        import pyarrow.lib
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self.data.path)
        except (pyarrow.lib.ArrowInvalid, pyarrow.lib.ArrowException) as exc:
            raise FileFormatError(f"{self.data.path}: not a Parquet file ({exc})") from None
        self.columns = list(parquet.schema_arrow.names)
        self._rows = self._parquet_rows(parquet)

    def _parquet_rows(self, parquet) -> Iterator[Row]:
        number = 0
        for batch in parquet.iter_batches(batch_size=20_000):
            for values in batch.to_pylist():
                number += 1
                yield Row(number, json.dumps(values, ensure_ascii=False, default=str), values)

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _LineTap:
    """Feeds lines to csv.reader and remembers them, so each record's raw text is known."""

    __slots__ = ("_lines", "_seen")

    def __init__(self, handle):
        self._lines = iter(handle)
        self._seen: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._seen.append(line)
        return line

    def take(self) -> str:
        text = "".join(self._seen)
        self._seen.clear()
        return text
