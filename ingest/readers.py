"""Read one data file as a stream of rows, keeping each row's line and raw text.

CSV (UTF-8, header), JSON Lines and Parquet; CSV and JSON Lines may be gzipped.
The raw text goes to the rejects file unchanged when a row fails validation.
A file that is not what its name says raises ``FileFormatError`` naming it.

A folder of part files (``comments/part-00000.parquet``, ``part-00001.parquet``
..., as Spark and ``ringscope simulate --format parquet`` write them) reads as
one file: its parts one after another, in name order, all of one format and
with the same columns.
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
    parts: tuple[Path, ...] | None = None  # a folder of part files: the parts in order (maybe none); None for a file


def classify(path: Path) -> DataFile | None:
    """``accounts.csv.gz`` -> DataFile(stem="accounts", fmt="csv"); None if not a data file."""
    name = path.name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return DataFile(path, name[: -len(suffix)], SUFFIXES[suffix])
    return None


def classify_folder(path: Path) -> tuple[DataFile, list[str]]:
    """A folder read as one file of the kind it is named by: ``comments/`` -> DataFile(stem="comments", parts=...).

    Its parts are the data files in it, in name order; names starting with ``_`` or ``.``
    are left alone (``_SUCCESS``, ``.part-00000.parquet.crc``: what Spark and Hadoop leave
    beside the parts). Anything else in it is returned as "folder/name: why", to report.
    """
    parts: list[DataFile] = []
    skipped: list[str] = []
    for child in sorted(path.iterdir()):
        if child.name.startswith(("_", ".")):
            continue
        data = None if child.is_dir() else classify(child)
        if data is None:
            skipped.append(f"{path.name}/{child.name}: not a part file (expected .csv, .jsonl or .parquet, optionally .gz)")
        else:
            parts.append(data)
    return DataFile(path, path.name, parts[0].fmt if parts else "", tuple(p.path for p in parts)), skipped


@dataclass
class Row:
    line: int  # 1-based line in the file (CSV: the record's first line; Parquet: row number)
    raw: str  # the row as it stood in the file
    values: dict[str, Any]
    part: str = ""  # in a folder of part files: the part's name

    @property
    def where(self) -> int | str:
        """The line, or in a folder of part files "part-00003.parquet:17"."""
        return f"{self.part}:{self.line}" if self.part else self.line


class Table:
    """An open data file: its columns and an iterator over its rows."""

    def __init__(self, data: DataFile):
        self.data = data
        self.columns: list[str] = []
        self._rows: Iterator[Row] = iter(())
        self._handle = None
        self._part: Table | None = None
        if data.parts is not None:
            self._open_parts()
            return
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

    def _open_parts(self) -> None:
        parts = self.data.parts
        if not parts:
            raise FileFormatError(f"{self.data.path}: a folder with no part files in it "
                                  "(expected part files such as part-00000.parquet)")
        self._part = Table(self._part_file(parts[0]))
        self.columns = self._part.columns
        self._rows = self._part_rows()

    def _part_file(self, path: Path) -> DataFile:
        data = classify(path)
        if data is None or data.fmt != self.data.fmt:
            found = data.fmt if data else "not a data file"
            raise FileFormatError(f"{path}: a {found} part in a folder of {self.data.fmt} parts")
        return DataFile(path, self.data.stem, data.fmt)

    def _part_rows(self) -> Iterator[Row]:
        first = self.data.parts[0]
        for path in self.data.parts:
            if path != first:
                self._part.close()
                self._part = Table(self._part_file(path))
                if self._part.columns != self.columns:
                    raise FileFormatError(f"{path}: columns {', '.join(self._part.columns) or '(none)'} differ from "
                                          f"those of {first.name} ({', '.join(self.columns)})")
            for row in self._part:
                row.part = path.name
                yield row

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._part is not None:
            self._part.close()
            self._part = None

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
