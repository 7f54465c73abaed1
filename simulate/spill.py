"""Scratch files for the platform's events while it is generated and written.

A platform of ten million accounts has some 80 million comments, likes and
follows; in memory, with their texts, they would need tens of GiB. Instead
they go, in the order they are generated, to Arrow IPC files in a scratch
folder, one file per bucket of a key (a time range, or a range of accounts),
and come back one bucket at a time. A bucket keeps its rows in the order they
were added, so a stable sort inside each bucket, bucket after bucket, orders
rows exactly as one sort of everything would.

``EventLog`` is the accumulator the generators append to (as to
``world.Chunks``): it counts rows across the whole run, holds at most
``flush_rows`` of them, and hands the rest to its ``Spill``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from ringscope.simulate.world import Chunks, release_memory


class Spill:
    """Rows on disk, bucketed by ``key``: bucket b holds edges[b-1] <= key < edges[b]."""

    def __init__(self, directory: Path, name: str, schema: pa.Schema, key: str, edges: np.ndarray):
        self.directory, self.name, self.schema, self.key = Path(directory), name, schema, key
        self.edges = np.asarray(edges, dtype=np.int64)
        self.rows = np.zeros(self.edges.size + 1, dtype=np.int64)
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self.directory.mkdir(parents=True, exist_ok=True)

    @property
    def buckets(self) -> range:
        return range(self.rows.size)

    def _path(self, bucket: int) -> Path:
        return self.directory / f"{self.name}-{bucket:04d}.arrow"

    def add(self, columns: dict) -> None:
        """Append rows (aligned numpy or Arrow columns, cast to the schema), each to its bucket, in order."""
        table = pa.table(columns).select(self.schema.names).cast(self.schema)
        if table.num_rows == 0:
            return
        bucket = np.searchsorted(self.edges, table.column(self.key).to_numpy(), side="right")
        order = np.argsort(bucket, kind="stable")
        counts = np.bincount(bucket, minlength=self.rows.size)
        start = 0
        for b in np.flatnonzero(counts):
            rows = table.take(pa.array(order[start:start + counts[b]]))
            start += counts[b]
            if b not in self._writers:
                self._writers[b] = pa.ipc.new_file(str(self._path(b)), self.schema)
            self._writers[b].write_table(rows)
            self.rows[b] += rows.num_rows

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def read(self, bucket: int, columns: list[str] | None = None) -> pa.Table:
        """One bucket's rows in the order they were added (memory-mapped: only the columns used are read)."""
        if self.rows[bucket] == 0:
            empty = self.schema.empty_table()
            return empty if columns is None else empty.select(columns)
        table = pa.ipc.open_file(pa.memory_map(str(self._path(bucket)))).read_all()
        return table if columns is None else table.select(columns)

    def remove(self, bucket: int) -> None:
        self._path(bucket).unlink(missing_ok=True)


class EventLog:
    """Generated rows of one kind: numbered across the run, held in memory up to ``flush_rows``, then spilled.

    With ``numbered``, each row carries its number in the run (column ``gen``), which
    other rows may refer to (a reply names the comment it answers).
    """

    def __init__(self, spill: Spill, flush_rows: int):
        self.spill, self.flush_rows = spill, flush_rows
        self.numbered = "gen" in spill.schema.names
        self.chunks = Chunks(*[name for name in spill.schema.names if name != "gen"])
        self.n = 0

    def add(self, **columns) -> int:
        """Append aligned columns; returns the run-wide number of the first new row."""
        base = self.n
        self.chunks.add(**columns)
        self.n = base + len(next(iter(columns.values())))
        if self.chunks.n >= self.flush_rows:
            self.flush()
        return base

    def flush(self) -> None:
        held = self.chunks.n
        if held == 0:
            return
        columns = self.chunks.frozen(release=True)
        if self.numbered:
            columns = {"gen": np.arange(self.n - held, self.n, dtype=np.int64), **columns}
        step = max(1, self.flush_rows // 4)  # the spill copies what it is given a few times: in slices
        for start in range(0, held, step):
            self.spill.add({name: values[start:start + step] for name, values in columns.items()})
        del columns
        release_memory()

    def close(self) -> Spill:
        self.flush()
        self.spill.close()
        return self.spill


def park(directory: Path, name: str, columns: dict[str, pa.Array], bucket_rows: int) -> Spill:
    """Columns not needed until the files are written (texts), moved to scratch files, by row (`gen`)."""
    n = len(next(iter(columns.values())))
    schema = pa.schema([("gen", pa.int64())] + [(key, value.type) for key, value in columns.items()])
    spill = Spill(directory, name, schema, "gen", np.arange(bucket_rows, n, bucket_rows))
    for start in range(0, n, bucket_rows):
        stop = min(start + bucket_rows, n)
        spill.add({"gen": np.arange(start, stop), **{key: value.slice(start, stop - start)
                                                     for key, value in columns.items()}})
    spill.close()
    return spill


def in_order(spill: Spill, order: np.ndarray, rows: int) -> Spill:
    """The rows of a spill keyed by row number (`gen`), re-bucketed in the given order, `rows` a bucket.

    order[i] is the number of the i-th row; bucket b of the result holds rows b*rows ..
    (b+1)*rows - 1 of that order (``ordered_slice`` reads one in order). So no more than
    a bucket of rows is ever in memory, whatever the order.
    """
    position = np.empty(order.size, np.int64)
    position[order] = np.arange(order.size)
    schema = pa.schema([("position", pa.int64())] + [field for field in spill.schema if field.name != "gen"])
    ordered = Spill(spill.directory, spill.name + "-ordered", schema, "position", np.arange(rows, order.size, rows))
    for b in spill.buckets:
        part = spill.read(b)
        ordered.add({"position": position[part.column("gen").to_numpy()],
                     **{name: part.column(name) for name in schema.names[1:]}})
        spill.remove(b)
        del part
    ordered.close()
    return ordered


def ordered_slice(ordered: Spill, bucket: int, columns: list[str] | None = None) -> pa.Table:
    """One bucket of ``in_order``'s result, its rows in order (only `columns`, if given)."""
    part = ordered.read(bucket, None if columns is None else ["position", *columns])
    return part.take(pa.array(np.argsort(part.column("position").to_numpy()))).drop_columns(["position"])
