"""Read one data file as a stream of rows, keeping each row's line and raw text.

CSV (UTF-8, header), JSON Lines and Parquet; CSV and JSON Lines may be gzipped.
The raw text goes to the rejects file unchanged when a row fails validation.
A file that is not what its name says raises ``FileFormatError`` naming it.

Reading is bounded. CSV and JSON Lines are read in chunks of bytes and cut into
lines (a CSV record: its physical lines, quoted newlines included) without ever
holding one longer than ``Limits.max_line_bytes``: such a line becomes a
rejected row carrying its first ``KEEP_OF_LONG_LINE`` bytes, and the rest of it
is skipped as it streams past. Each line is decoded on its own, so a byte that
is not UTF-8, a JSON line nested too deeply or with a 5,000-digit number, a CSV
record the csv module refuses -- each rejects that row only. A row the reader
cannot turn into values carries an ``error``, which becomes the reject reason.
Files are opened without following symbolic links, and only regular files are
read (also inside a folder of part files).

A folder of part files (``comments/part-00000.parquet``, ``part-00001.parquet``
..., as Spark and ``ringscope simulate --format parquet`` write them) reads as
one file: its parts one after another, in name order, all of one format and
with the same columns.
"""

from __future__ import annotations

import csv
import errno
import gzip
import io
import json
import os
import re
import stat
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator

from ringscope.ingest.spec import KEEP_OF_LONG_LINE, LINE_SETTING, SUFFIXES, Limits
from ringscope.ingest.validate import shown

# Records are cut before the csv module sees them (at most max_line_bytes), so its own field
# limit only has to stay out of the way.
csv.field_size_limit(min(sys.maxsize, 1 << 30))

CHUNK = 1 << 16  # bytes read at a time
BLOCK = 1 << 22  # bytes of plain CSV records handed to a columnar parser at a time
PARQUET_BATCH = 20_000  # rows of a Parquet file read at a time


class FileFormatError(Exception):
    """The file cannot be read as the format its name says (or lacks a column)."""


def printable(path: Path | str) -> str:
    """A file name for a message: as it is, or quoted with escapes if it holds control characters."""
    text = str(path)
    return text if text.isprintable() else shown(text, 200)


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
        mode = child.lstat().st_mode  # the entry itself: a link in the folder is never followed
        if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            what = "a symbolic link; not followed" if stat.S_ISLNK(mode) else "not a regular file"
            skipped.append(f"{printable(path.name)}/{printable(child.name)}: {what}")
            continue
        data = None if stat.S_ISDIR(mode) else classify(child)
        if data is None:
            skipped.append(f"{path.name}/{child.name}: not a part file (expected .csv, .jsonl or .parquet, optionally .gz)")
        else:
            parts.append(data)
    return DataFile(path, path.name, parts[0].fmt if parts else "", tuple(p.path for p in parts)), skipped


@dataclass
class Row:
    line: int  # 1-based line in the file (CSV: the record's first line; Parquet: row number)
    raw: str  # the row as it stood in the file (an over-long line: its beginning)
    values: dict[str, Any]
    error: str = ""  # why the reader could not make it into values (then it is rejected with that reason)
    part: str = ""  # in a folder of part files: the part's name

    @property
    def where(self) -> int | str:
        """The line, or in a folder of part files "part-00003.parquet:17"."""
        return f"{self.part}:{self.line}" if self.part else self.line


class Table:
    """An open data file: its columns and an iterator over its rows."""

    def __init__(self, data: DataFile, limits: Limits | None = None):
        self.data = data
        self.limits = limits or Limits()
        self.columns: list[str] = []
        # JSON Lines whose every line was rejected before an object could be read: there are no columns to
        # check, only rejects to keep (they say why each line could not be read).
        self.rejects_only = False
        self._rows: Iterator[Row] = iter(())
        self._handles: list[IO[bytes]] = []
        self._part: Table | None = None
        self._header_bytes = self._header_lines = 0  # CSV: the bytes and lines up to the header's end
        self._parquet = None  # Parquet: the open file
        if data.parts is not None:
            self._open_parts()
            return
        opener = {"csv": self._open_csv, "jsonl": self._open_jsonl, "parquet": self._open_parquet}
        try:
            opener[data.fmt]()
        except FileFormatError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            if exc.errno == errno.ELOOP:
                raise FileFormatError(f"{self._name()}: a symbolic link; not followed") from None
            raise FileFormatError(f"{self._name()}: cannot be read as {self._what()}: "
                                  f"{exc.strerror or exc}") from None
        except (EOFError, zlib.error, ValueError, csv.Error) as exc:
            self.close()
            raise FileFormatError(f"{self._name()}: cannot be read as {self._what()}: {exc}") from None

    def _name(self) -> str:
        return printable(self.data.path)

    def _what(self) -> str:
        gz = " (gzip)" if self.data.path.name.endswith(".gz") else ""
        return {"csv": "CSV", "jsonl": "JSON Lines", "parquet": "Parquet"}[self.data.fmt] + gz

    def _file(self) -> IO[bytes]:
        """The file itself, never what a symbolic link points to, and only a regular file."""
        fd = os.open(self.data.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        handle = os.fdopen(fd, "rb")
        self._handles.append(handle)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileFormatError(f"{self._name()}: not a regular file; skipped")
        return handle

    def _bytes(self) -> IO[bytes]:
        handle = self._file()
        if self.data.path.name.endswith(".gz"):
            handle = gzip.GzipFile(fileobj=handle, mode="rb")
            self._handles.append(handle)
        return handle

    def _lines(self, csv_quotes: bool) -> Iterator[_Line]:
        return _split(self._bytes(), self.limits.max_line_bytes, csv_quotes)

    # ------------------------------------------------------------------------- CSV

    def _open_csv(self) -> None:
        lines = self._lines(csv_quotes=True)
        for first in lines:
            self._header_bytes += first.size  # what csv_blocks skips: blank lines and the header
            self._header_lines = first.number + first.lines - 1
            if first.over:
                raise FileFormatError(f"{self._name()}: the header is over {self.limits.max_line_bytes:,} bytes "
                                      f"({LINE_SETTING})")
            text = first.data.decode("utf-8")
            if not text.strip():
                continue
            header = next(csv.reader([text.removeprefix("\ufeff")]), [])
            break
        else:
            raise FileFormatError(f"{self._name()}: empty file, expected a CSV header row")
        if len(set(header)) != len(header):
            dupes = sorted({h for h in header if header.count(h) > 1})
            raise FileFormatError(f"{self._name()}: duplicate column(s) {', '.join(map(shown, dupes))} in the header")
        self.columns = header
        self._rows = self._csv_rows(lines, header)

    def _csv_rows(self, lines: Iterator[_Line], header: list[str]) -> Iterator[Row]:
        number = 1
        record_row = _CsvRecords(header)
        try:
            for record in lines:
                number = record.number
                row = record_row(record, self.limits.max_line_bytes)
                if row is not None:
                    yield row
        except (OSError, EOFError, zlib.error) as exc:
            raise FileFormatError(f"{self._name()}: unreadable after line {number}: {exc}") from None

    def blocks(self, block_bytes: int = BLOCK) -> Iterator["PlainBlock | ParquetBatch | Row"]:
        """The rows in runs a columnar checker can take whole: ``csv_blocks`` for CSV, batches (``ParquetBatch``)
        for Parquet (in a folder of parts, each part's). JSON Lines has no such runs (``ValueError``)."""
        if self.data.parts is not None:
            yield from self._part_blocks(block_bytes)
        elif self.data.fmt == "csv":
            yield from self.csv_blocks(block_bytes)
        elif self.data.fmt == "parquet":
            yield from self._parquet_batches()
        else:
            raise ValueError(f"{self.data.fmt} files are read row by row")

    def _parquet_batches(self) -> Iterator["ParquetBatch"]:
        import pyarrow.lib

        number = 0
        try:
            for batch in self._parquet.iter_batches(batch_size=PARQUET_BATCH):
                yield ParquetBatch(number + 1, batch)
                number += batch.num_rows
        except (OSError, pyarrow.lib.ArrowException) as exc:
            raise FileFormatError(f"{self._name()}: unreadable after row {number}: {exc}") from None

    def csv_blocks(self, block_bytes: int = BLOCK) -> Iterator["PlainBlock | Row"]:
        """The rows of a CSV file as runs of plain records (``PlainBlock``, for a columnar parser) and,
        where a run is not plain, single ``Row`` objects exactly as iterating the table gives them.

        A block is plain when every record in it is one physical line ending in LF or CRLF, no line is
        blank or over the line cap, and every field is either unquoted without quotes or quoted with
        only doubled quotes inside and no line break: records on which any CSV parser agrees with the
        csv module. Anything else (a quoted line break, a stray quote, an over-long line, ...) is read
        record by record by the same code as ``__iter__``, so rows, line numbers and reasons are the
        same either way. Memory stays within the line cap plus two blocks.
        """
        if self.data.fmt != "csv" or self.data.parts is not None:
            raise ValueError("csv_blocks reads one CSV file; blocks() reads any table")
        stream = self._bytes()
        _skip(stream, self._header_bytes)
        cap = self.limits.max_line_bytes
        record_row = _CsvRecords(self.columns)
        number = self._header_lines + 1
        carry = b""
        try:
            while True:
                data = stream.read(block_bytes)
                if not data:
                    break
                data = carry + data
                cut = data.rfind(b"\n") + 1
                if cut == 0 and len(data) <= cap + block_bytes:
                    carry = data  # no line end yet: read on
                    continue
                if cut == 0:  # no line end within the cap: the rest of the file record by record
                    yield from self._records_from(io.BytesIO(data), stream, number, record_row)
                    return
                block, carry = data[:cut], data[cut:]
                if _plain_block(block, cap):
                    lines = block.count(b"\n")
                    yield PlainBlock(number, block, lines, self.columns)
                    number += lines
                    continue
                # Record by record; a record still open at the block's end (a quoted line break
                # across the cut) is carried into the next block, up to a bound.
                used = lines_used = 0
                for record in _split(io.BytesIO(block), cap, True):
                    if record.open:
                        break
                    used += record.size
                    lines_used += record.lines
                    record.number += number - 1
                    row = record_row(record, cap)
                    if row is not None:
                        yield row
                number += lines_used
                carry = block[used:] + carry
                if len(carry) > cap + block_bytes:  # one record longer than the cap: stream the rest
                    yield from self._records_from(io.BytesIO(carry), stream, number, record_row)
                    return
            if carry:
                yield from self._records_from(io.BytesIO(carry), None, number, record_row)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileFormatError(f"{self._name()}: unreadable after line {number}: {exc}") from None

    def _records_from(self, head: IO[bytes], rest: IO[bytes] | None, number: int,
                      record_row: "_CsvRecords") -> Iterator[Row]:
        """Rows of ``head`` then ``rest`` read record by record, numbered from ``number``."""
        for record in _split(_Chain(head, rest), self.limits.max_line_bytes, True):
            record.number += number - 1
            row = record_row(record, self.limits.max_line_bytes)
            if row is not None:
                yield row

    def _part_blocks(self, block_bytes: int) -> Iterator["PlainBlock | ParquetBatch | Row"]:
        for name, part in self._each_part():
            for item in part.blocks(block_bytes):
                item.part = name
                yield item

    # ------------------------------------------------------------------------- JSON Lines

    def _open_jsonl(self) -> None:
        lines = self._lines(csv_quotes=False)
        early: list[Row] = []  # lines rejected before the first object, kept in order
        for line in lines:
            row, syntax = _json_row(line, self.limits.max_line_bytes)
            if row is None:
                continue
            if not row.error:
                self.columns = list(row.values)
                self._rows = self._jsonl_rows(early + [row], lines)
                return
            if syntax:
                # The first line that can be read decides whether the file is JSON Lines at all.
                raise FileFormatError(f"{self._name()}: line {line.number} is {syntax}; expected JSON Lines")
            early.append(row)
        self.rejects_only = bool(early)
        self._rows = iter(early)

    def _jsonl_rows(self, first: list[Row], lines: Iterator[_Line]) -> Iterator[Row]:
        yield from first
        number = first[-1].line
        try:
            for line in lines:
                number = line.number
                row, _ = _json_row(line, self.limits.max_line_bytes)
                if row is not None:
                    yield row
        except (OSError, EOFError, zlib.error) as exc:
            raise FileFormatError(f"{self._name()}: unreadable after line {number}: {exc}") from None

    # ------------------------------------------------------------------------- Parquet

    def _open_parquet(self) -> None:
        import pyarrow.lib
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self._file())
        except (pyarrow.lib.ArrowInvalid, pyarrow.lib.ArrowException) as exc:
            raise FileFormatError(f"{self._name()}: not a Parquet file ({exc})") from None
        self.columns = list(parquet.schema_arrow.names)
        self._parquet = parquet
        self._rows = self._parquet_rows(parquet)

    def _parquet_rows(self, parquet) -> Iterator[Row]:
        import pyarrow.lib

        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH):
                try:
                    rows = [(values, "") for values in batch.to_pylist()]
                except (OverflowError, ValueError, pyarrow.lib.ArrowException):
                    rows = [_parquet_row(batch, i) for i in range(batch.num_rows)]
                for values, error in rows:
                    number += 1
                    yield Row(number, _dumps(values), {} if error else values, error)
        except (OSError, pyarrow.lib.ArrowException) as exc:
            raise FileFormatError(f"{self._name()}: unreadable after row {number}: {exc}") from None

    def _open_parts(self) -> None:
        parts = self.data.parts
        if not parts:
            raise FileFormatError(f"{self.data.path}: a folder with no part files in it "
                                  "(expected part files such as part-00000.parquet)")
        self._part = Table(self._part_file(parts[0]), self.limits)
        self.columns = self._part.columns
        self.rejects_only = self._part.rejects_only
        self._rows = self._part_rows()

    def _part_file(self, path: Path) -> DataFile:
        data = classify(path)
        if data is None or data.fmt != self.data.fmt:
            found = data.fmt if data else "not a data file"
            raise FileFormatError(f"{path}: a {found} part in a folder of {self.data.fmt} parts")
        return DataFile(path, self.data.stem, data.fmt)

    def _part_rows(self) -> Iterator[Row]:
        for name, part in self._each_part():
            for row in part:
                row.part = name
                yield row

    def _each_part(self) -> Iterator[tuple[str, "Table"]]:
        """Each part file open in turn (the first was opened with the folder), with its name; a part whose
        columns differ from the first's raises ``FileFormatError``."""
        first = self.data.parts[0]
        for path in self.data.parts:
            if path != first:
                self._part.close()
                self._part = Table(self._part_file(path), self.limits)
                if self._part.columns != self.columns:
                    raise FileFormatError(f"{path}: columns {', '.join(self._part.columns) or '(none)'} differ from "
                                          f"those of {first.name} ({', '.join(self.columns)})")
            yield path.name, self._part

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def close(self) -> None:
        for handle in reversed(self._handles):
            handle.close()
        self._handles = []
        if self._part is not None:
            self._part.close()
            self._part = None

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ----------------------------------------------------------------------------- lines and records

class _Unfinished(Exception):
    """The csv module asked for more of a record the splitter says is whole (it ends inside quotes)."""


class _Feed:
    """What the one csv reader of a file reads: the record it is given, and nothing more."""

    __slots__ = ("text",)

    def __init__(self) -> None:
        self.text: str | None = None

    def __iter__(self) -> "_Feed":
        return self

    def __next__(self) -> str:
        text, self.text = self.text, None
        if text is None:
            raise _Unfinished
        return text


class _Line:
    """One line of a file (a CSV record: all its physical lines), or the beginning of an over-long one."""

    __slots__ = ("number", "lines", "data", "size", "over", "open")

    def __init__(self, number: int, lines: int, data: bytes, size: int, over: bool, open: bool = False):
        self.number = number  # its first physical line
        self.lines = lines  # physical lines it spans
        self.data = data  # the line, or its first KEEP_OF_LONG_LINE bytes when over
        self.size = size  # its length in bytes
        self.over = over  # longer than the cap: ``data`` is only its beginning
        self.open = open  # the stream ended before the record did (inside a quoted field, or no line end)

    def too_long(self, cap: int) -> Row:
        what = "line" if self.lines <= 1 else f"record spans {self.lines:,} lines (an unclosed quote?) and"
        reason = (f"{what} is {self.size:,} bytes, over the cap of {cap:,} ({LINE_SETTING}); "
                  f"the raw column keeps only its first {min(self.size, KEEP_OF_LONG_LINE):,} bytes")
        return Row(self.number, self.data.decode("utf-8", "replace").rstrip("\r\n"), {}, reason)


# The CSV parser's states (excel dialect: ',' separates, '"' quotes, a doubled '"' is a quote), as far
# as they decide where a record ends: a line break ends it unless it is inside a quoted field.
_START, _FIELD, _QUOTED, _QUOTE = range(4)
_QUOTE_BYTE, _COMMA_BYTE = ord('"'), ord(",")
# A whole line of plain and properly quoted fields (what CSV writers make): no scan needed, it ends
# its record. Possessive quantifiers, so a line of many quotes cannot make the match backtrack.
_FIELD_RE = rb'(?:"(?:[^"]++|"")*+"|[^,"\r\n]*+)'
_PLAIN_RECORD = re.compile(_FIELD_RE + rb"(?:," + _FIELD_RE + rb")*+(?:\r\n|\r|\n)")


def _scan(data: bytes, state: int) -> int:
    """The csv module's state after reading ``data`` from ``state`` (its non-strict rules: a quote
    opens a quoted field only at the field's start; after a closing quote the rest is plain text)."""
    if state in (_START, _FIELD) and b'"' not in data:
        return _START if data.endswith(b",") else (_FIELD if data else state)
    pos, end = 0, len(data)
    while pos < end:
        if state == _QUOTED:
            found = data.find(b'"', pos)
            if found < 0:
                return _QUOTED
            pos, state = found + 1, _QUOTE
        elif state == _QUOTE:
            byte = data[pos]
            state = _QUOTED if byte == _QUOTE_BYTE else _START if byte == _COMMA_BYTE else _FIELD
            pos += 1
        elif state == _START:
            if data[pos] == _QUOTE_BYTE:
                state, pos = _QUOTED, pos + 1
            else:
                state = _FIELD
        else:
            found = data.find(b",", pos)
            if found < 0:
                return _FIELD
            pos, state = found + 1, _START
    return state


_EOL = (b"\n", b"\r")


def _split(stream: IO[bytes], cap: int, csv_quotes: bool) -> Iterator[_Line]:
    """Lines of ``stream`` (ending in \\n, \\r\\n or \\r), read CHUNK bytes at a time; with ``csv_quotes`` a
    line break inside a quoted field does not end the record. Memory stays within cap + CHUNK."""
    number, lines, size, over, state = 1, 0, 0, False, _START
    parts: list[bytes] = []
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        while chunk.endswith(b"\r"):  # a \r\n split between two chunks stays one line break
            more = stream.read(1)
            chunk += more
            if more != b"\r":
                break
        for piece in chunk.splitlines(keepends=True):
            if not size and piece.endswith(_EOL) and len(piece) <= cap and (
                    not csv_quotes or b'"' not in piece or _PLAIN_RECORD.fullmatch(piece)):
                yield _Line(number, 1, piece, len(piece), False)  # the common case: a whole, plain line
                number += 1
                continue
            size += len(piece)
            if not over:
                if size > cap:
                    over = True
                    parts = [(b"".join(parts) + piece)[:KEEP_OF_LONG_LINE]]
                else:
                    parts.append(piece)
            elif len(parts[0]) < KEEP_OF_LONG_LINE:  # its first KEEP_OF_LONG_LINE bytes, however the reads fell
                parts[0] = (parts[0] + piece)[:KEEP_OF_LONG_LINE]
            if csv_quotes:
                state = _scan(piece, state)
            if piece.endswith(_EOL):
                lines += 1
                if state != _QUOTED:
                    yield _Line(number, lines, b"".join(parts), size, over)
                    number += lines
                    lines, size, over, state, parts = 0, 0, False, _START, []
    if size:
        yield _Line(number, lines + 1, b"".join(parts), size, over, open=True)


class _CsvRecords:
    """One CSV record (a ``_Line``) to its ``Row``, or None for a blank line: what iterating a table does
    to each record, with one csv reader fed one whole record at a time."""

    def __init__(self, header: list[str]):
        self.header, self.width = header, len(header)
        self.feed = _Feed()
        self.parse = csv.reader(self.feed)

    def __call__(self, record: _Line, cap: int) -> Row | None:
        number = record.number
        if record.over:
            return record.too_long(cap)
        text, bad = _decode(record.data)
        raw = text.rstrip("\r\n")
        if bad:
            return Row(number, raw, {}, bad)
        self.feed.text = text
        try:
            values = next(self.parse)
        except _Unfinished:
            return Row(number, raw, {}, "the file ends inside a quoted field (an unclosed quote)")
        except csv.Error as exc:
            return Row(number, raw, {}, f"not a valid CSV record ({exc})")
        if not values:
            return None  # blank line
        if len(values) != self.width:
            # Keep the row as a reject rather than guess which value is which.
            return Row(number, raw, {}, f"has {len(values)} values, header has {self.width}")
        return Row(number, raw, dict(zip(self.header, values)))


class PlainBlock:
    """Whole CSV records, one physical line each, none blank or over the cap, every field plain or
    properly quoted without a line break (see ``Table.csv_blocks``): ``data`` holds ``lines`` of them,
    the first at line ``first_line`` of the file."""

    __slots__ = ("first_line", "data", "lines", "header", "part")

    def __init__(self, first_line: int, data: bytes, lines: int, header: list[str]):
        self.first_line, self.data, self.lines, self.header = first_line, data, lines, header
        self.part = ""  # in a folder of part files: the part's name

    def rows(self, indices: list[int]) -> list[Row]:
        """The records at ``indices`` (0-based, ascending) as the row reader makes them."""
        if not indices:
            return []
        starts = [0]
        find, data = self.data.find, self.data
        position = 0
        for _ in range(indices[-1] + 1):
            position = find(b"\n", position) + 1
            starts.append(position)
        record_row = _CsvRecords(self.header)
        out = []
        for i in indices:
            piece = data[starts[i]:starts[i + 1]]
            row = record_row(_Line(self.first_line + i, 1, piece, len(piece), False), len(piece) + 1)
            row.part = self.part
            out.append(row)
        return out


class ParquetBatch:
    """Rows of a Parquet file as Arrow read them: ``batch``, the first at row ``first_line``."""

    __slots__ = ("first_line", "batch", "lines", "part")

    def __init__(self, first_line: int, batch):
        self.first_line, self.batch, self.lines = first_line, batch, batch.num_rows
        self.part = ""

    def rows(self, indices: list[int]) -> list[Row]:
        """The rows at ``indices`` as iterating the table makes them (a row Python cannot hold whole: the
        values it can read, and why it is rejected)."""
        import pyarrow.lib

        out = []
        for i in indices:
            try:
                values, error = self.batch.slice(i, 1).to_pylist()[0], ""
            except (OverflowError, ValueError, pyarrow.lib.ArrowException):
                values, error = _parquet_row(self.batch, i)
            row = Row(self.first_line + i, _dumps(values), {} if error else values, error)
            row.part = self.part
            out.append(row)
        return out


_PLAIN_FIELD = rb'(?:"(?:[^"\r\n]++|"")*+"|[^,"\r\n]*+)'
# Records that are each one non-blank line (a blank line would match an empty field: ``_plain_block``
# looks for those apart) ending in \n or \r\n.
_PLAIN_RECORDS = re.compile(rb"(?:" + _PLAIN_FIELD + rb"(?:," + _PLAIN_FIELD + rb")*+\r?\n)*+")
_BOM = b"\xef\xbb\xbf"


def _plain_block(block: bytes, cap: int) -> bool:
    """Whether every record of ``block`` (whole lines) is plain in ``PlainBlock``'s sense."""
    if block.startswith((b"\n", b"\r\n", _BOM)) or b"\n\n" in block or b"\n\r\n" in block:
        return False  # a blank line (the csv module skips it), or a BOM a columnar parser would drop
    if len(block) > cap and _longest_line(block) > cap:
        return False
    return _PLAIN_RECORDS.fullmatch(block) is not None


def _longest_line(block: bytes) -> int:
    import numpy as np

    ends = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
    return int(max(ends[0] + 1, np.diff(ends).max(initial=0)))


class _Chain(io.RawIOBase):
    """``head`` then ``rest`` as one stream of bytes (``rest`` may be None)."""

    def __init__(self, head: IO[bytes], rest: IO[bytes] | None):
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.head.read(size)
        if (not data or size < 0) and self.rest is not None:
            data += self.rest.read(size)
        return data


def _skip(stream: IO[bytes], size: int) -> None:
    while size > 0:
        data = stream.read(min(size, CHUNK))
        if not data:
            return
        size -= len(data)


def _decode(data: bytes) -> tuple[str, str | None]:
    """The text of a line, and why it is rejected if it is not UTF-8 (the text then shows bad bytes as \\xNN)."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return (data.decode("utf-8", "backslashreplace"),
                f"not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}; shown as \\x{data[exc.start]:02x})")


def _json_row(line: _Line, cap: int) -> tuple[Row | None, str]:
    """A JSON Lines row or a reject (None for a blank line), and what is wrong if the line is not a JSON
    object at all (what makes a first line say the file is not JSON Lines)."""
    if line.over:
        return line.too_long(cap), ""
    text, bad = _decode(line.data)
    raw = text.rstrip("\r\n")
    if bad:
        return Row(line.number, raw, {}, bad), ""
    if not text.strip():
        return None, ""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return Row(line.number, raw, {}, f"not valid JSON ({exc.msg})"), f"not JSON ({exc.msg})"
    except RecursionError:
        return Row(line.number, raw, {}, "JSON nested too deeply to read"), ""
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        return Row(line.number, raw, {}, f"JSON that cannot be read ({exc})"), ""
    if not isinstance(value, dict):
        return Row(line.number, raw, {}, "not a JSON object"), "not a JSON object"
    return Row(line.number, raw, value), ""


def _parquet_row(batch, i: int) -> tuple[dict[str, Any], str]:
    """One row of a batch Python cannot hold whole (a timestamp beyond year 9999, ...): the values it
    can read, and the reason for the first it cannot."""
    values: dict[str, Any] = {}
    error = ""
    for name, column in zip(batch.schema.names, batch.columns):
        try:
            values[name] = column.slice(i, 1).to_pylist()[0]
        except (OverflowError, ValueError) as exc:
            values[name] = "<unreadable>"
            error = error or f"{name} cannot be read ({exc})"
    return values, error


def _dumps(values: dict[str, Any]) -> str:
    """A Parquet row as its raw text: JSON."""
    try:
        return json.dumps(values, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return "<a row that cannot be shown as JSON>"
