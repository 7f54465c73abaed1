"""Writing streams of Arrow tables as CSV, JSON Lines or Parquet, byte-for-byte reproducibly.

A kind of record arrives as a stream of tables (slices of the file) and is
written as it comes, so no file is held in memory whole; how the stream is
sliced never changes the bytes.

- CSV: pyarrow's writer (UTF-8, header row, `true`/`false`, empty for null).
- gzip: one standard gzip member (mtime 0, no file name, so the same table
  always gives the same bytes) compressed at level 1 in fixed-size blocks on two
  threads, as pigz does: each block is deflated independently and sync-flushed,
  so the blocks concatenate into one valid deflate stream. Several times faster
  than Arrow's own gzip stream, which compresses at level 9 on one thread.
- JSON Lines: one object per line with every column present (null when
  missing), built column-wise with Arrow compute rather than row by row.
- Parquet: a folder per kind, ``stem/part-00000.parquet``, ``part-00001.parquet``
  ..., each part of ``part_rows`` rows (the last fewer) in row groups of ``ROW_GROUP_ROWS``
  (the layout Spark and other engines read as one dataset, and ``ringscope
  ingest`` as one file of that kind); zstd-compressed, string timestamps as in
  the other formats.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

FORMATS = ("csv", "csv.gz", "jsonl", "jsonl.gz", "parquet")
BATCH_ROWS = 500_000


def normalise_format(fmt: str) -> str:
    fmt = fmt.strip().lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


GZIP_BLOCK = 4 << 20
GZIP_LEVEL = 1
GZIP_THREADS = 2


def _deflate_block(block: bytes, last: bool) -> bytes:
    deflate = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
    return deflate.compress(block) + deflate.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class BlockGzipWriter:
    """A write-only file object producing one gzip member, deflated block-wise on a thread pool."""

    HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\xff"  # deflate, no name, mtime 0, fastest, OS unknown

    def __init__(self, raw, pool: ThreadPoolExecutor):
        self.raw, self.pool = raw, pool
        self.pending: list = []
        self.buffer = bytearray()
        self.crc = 0
        self.size = 0
        self.closed = False
        raw.write(self.HEADER)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        self.crc = zlib.crc32(view, self.crc)
        self.size += view.nbytes
        self.buffer += view
        while len(self.buffer) >= GZIP_BLOCK:
            block = bytes(self.buffer[:GZIP_BLOCK])
            del self.buffer[:GZIP_BLOCK]
            self.pending.append(self.pool.submit(_deflate_block, block, False))
            self._drain(GZIP_THREADS * 2)
        return view.nbytes

    def _drain(self, keep: int) -> None:
        while len(self.pending) > keep:
            self.raw.write(self.pending.pop(0).result())

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.closed:
            return
        self.pending.append(self.pool.submit(_deflate_block, bytes(self.buffer), True))
        self._drain(0)
        self.raw.write(struct.pack("<II", self.crc & 0xFFFFFFFF, self.size & 0xFFFFFFFF))
        self.closed = True


@contextlib.contextmanager
def open_sink(path: Path, compressed: bool):
    with open(path, "wb") as raw:
        if not compressed:
            yield raw
            return
        with ThreadPoolExecutor(GZIP_THREADS) as pool:
            sink = BlockGzipWriter(raw, pool)
            yield sink
            sink.close()


ROW_GROUP_ROWS = 250_000


def write_kind(tables: Iterator[pa.Table], out_dir: Path, stem: str, fmt: str,
               part_rows: int) -> tuple[str, int, int]:
    """Write one kind of record from a stream of tables (at least one, maybe empty, fixing the columns).

    `stem.fmt` in out_dir, or for Parquet the folder `stem/` of part files of `part_rows` rows.
    Returns (file or folder name, rows written, part files: 0 for a single file).
    """
    out_dir = Path(out_dir)
    if fmt == "parquet":
        rows, parts = write_parts(tables, out_dir / stem, part_rows)
        return stem, rows, parts
    path = out_dir / f"{stem}.{fmt}"
    rows = 0
    with open_sink(path, fmt.endswith(".gz")) as sink:
        writer = None
        for table in tables:
            if fmt.startswith("csv"):
                if writer is None:
                    writer = pa_csv.CSVWriter(sink, table.schema, write_options=pa_csv.WriteOptions(batch_size=65536))
                writer.write_table(table)
            else:
                for start in range(0, table.num_rows, BATCH_ROWS):
                    sink.write(jsonl_bytes(table.slice(start, BATCH_ROWS)))
            rows += table.num_rows
        if writer is not None:
            writer.close()
    return path.name, rows, 0


def write_parts(tables: Iterator[pa.Table], folder: Path, part_rows: int) -> tuple[int, int]:
    """Parquet part files part-00000.parquet, ... in folder: (rows, parts); one empty part if there are no rows.

    Every part but the last has `part_rows` rows (rounded up to whole row groups of
    ROW_GROUP_ROWS, or of part_rows if fewer).
    """
    group_rows = min(ROW_GROUP_ROWS, part_rows)
    folder.mkdir(parents=True, exist_ok=True)
    schema, writer = None, None
    rows = parts = in_part = 0
    held: list[pa.Table] = []

    def group(table: pa.Table) -> None:
        nonlocal writer, parts, in_part
        if writer is None or in_part >= part_rows:
            if writer is not None:
                writer.close()
            writer = pq.ParquetWriter(folder / f"part-{parts:05d}.parquet", schema, compression="zstd")
            parts, in_part = parts + 1, 0
        writer.write_table(table, row_group_size=group_rows)
        in_part += table.num_rows

    for table in tables:
        schema = schema or table.schema
        held.append(table.cast(schema))
        rows += table.num_rows
        waiting = sum(t.num_rows for t in held)
        if waiting >= group_rows:
            joined = pa.concat_tables(held)
            whole = waiting - waiting % group_rows
            for start in range(0, whole, group_rows):
                group(joined.slice(start, group_rows))
            held = [joined.slice(whole)]
    rest = pa.concat_tables(held) if held else schema.empty_table()
    if rest.num_rows or writer is None:
        group(rest)
    writer.close()
    return rows, parts


_NEEDS_ESCAPE = r'[\\"\x00-\x1f]'


def _json_strings(values: pa.Array) -> pa.Array:
    """Quoted JSON strings; the rare values with quotes, backslashes or control characters go through json.dumps."""
    quoted = pc.binary_join_element_wise('"', values, '"', "")
    special = pc.fill_null(pc.match_substring_regex(values, _NEEDS_ESCAPE), False)
    if not pc.any(special).as_py():
        return quoted
    rows = np.flatnonzero(special.to_numpy(zero_copy_only=False))
    escaped = [json.dumps(v, ensure_ascii=False) for v in values.take(pa.array(rows)).to_pylist()]
    return pc.replace_with_mask(quoted, special, pa.array(escaped, type=pa.string()))


def json_values(column: pa.Array) -> pa.Array:
    """Each value of a column as JSON text (`null` for nulls)."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = _json_strings(column)
    elif pa.types.is_boolean(kind):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        text = column.cast(pa.string())
    else:  # pragma: no cover - the simulator writes only the kinds above
        raise TypeError(f"no JSON encoding for {kind}")
    return pc.fill_null(text, "null")


def jsonl_bytes(table: pa.Table) -> pa.Buffer | bytes:
    """The table as JSON Lines (UTF-8, one object per row, columns in order)."""
    if table.num_rows == 0:
        return b""
    parts: list = []
    for i, name in enumerate(table.column_names):
        parts.append(("{" if i == 0 else ",") + json.dumps(name) + ":")
        parts.append(json_values(table.column(i).combine_chunks()))
    parts.append("}\n")
    lines = pc.binary_join_element_wise(*parts, "")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=4 * lines.offset)
    return lines.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
