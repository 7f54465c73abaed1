"""Plain-statement baseline: ringscope's graph written with the simplest Cypher Neo4j takes (issue #10).

    python -m benchmarks.plain_statements DIR [--batch 10000] [--writers 1] [--bulk-memory 4g] [--staging DIR]

What Neo4j does on this machine with plain ``UNWIND $rows AS r CREATE ...``
statements, to set ringscope's incremental rows/s against. Against the Neo4j
the environment points at (``RINGSCOPE_HOME``/``RINGSCOPE_BOLT_PORT`` for the
local server, or ``NEO4J_URI``), which must be **empty** (exit 2 otherwise):

1. **Shape** DIR exactly as ``ringscope ingest --mode bulk`` does (its own
   functions: ``bulk.validate_all`` into staged Parquet in a temporary folder,
   then ``shape.build_import_files``), so the graph written is exactly the one
   Neo4j's importer would build: the same nodes, stubs, identifier nodes,
   relationships and properties.
2. **Schema**: the migrations ``ringscope`` applies (``graph.schema.ensure_schema``)
   are in place before anything is written, as for an incremental load (so every
   write also maintains the unique constraints, the indexes and the fulltext index).
3. **Write** the importer's node CSV files, one label after another, with
   ``UNWIND $rows AS r CREATE (n:Label) SET n = r.p, n.<datetime> = datetime(r.tN)``,
   then its relationship CSV files with ``UNWIND $rows AS r MATCH (a:L1 {key: r.s})
   MATCH (b:L2 {key: r.e}) CREATE (a)-[x:T]->(b) SET x.<datetime> = datetime(r.tN)``:
   ``--batch`` rows per managed write transaction, every value a parameter. Values
   are typed as the importer's header says (``long``, ``boolean``, ``double``,
   strings; ``datetime`` is the importer's own text, ``2024-01-02T03:04:05.000Z[UTC]``,
   parsed by Cypher's ``datetime()``, which gives the value the importer stores); an
   empty field is no property, ``""`` an empty string, as for the importer. With
   ``--writers N`` > 1 the batches of one file go out on N threads at once;
   relationships of one type can then deadlock on shared nodes, and the driver
   retries the transaction (the retries are counted and printed).

No ``MERGE``, no stub statements, no checkpoints: CREATE into an empty graph is the
least work a transactional load can ask of Neo4j. Printed: the shaping time, a line
per node file and relationship file, the writes alone, and the total line

    total: N rows (nodes + relationships) in S s (R rows/s); dataset rows read: M (M/S rows/s)

where S is the whole command (shaping included) and M the dataset rows read, the
figure ``ringscope ingest`` counts (its "rows/s" are dataset rows, not entities),
so the two are comparable. ``benchmarks/platform_scale.py --baseline`` runs this
command as a step and reads the total line.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

STARTED = time.monotonic()  # the whole command is timed: the imports below (pyarrow, DuckDB, the driver) too

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ringscope.common.errors import RingscopeError
from ringscope.graph.database import Graph, Transaction, close_all, connect
from ringscope.graph.schema import LATEST, current_version, ensure_schema
from ringscope.graph.settings import load_settings, parse_size
from ringscope.ingest import bulk, shape
from ringscope.ingest.load import IngestOptions, discover
from ringscope.ingest.spec import limits_from_env

EXIT_NOT_EMPTY = 2
_INT_TYPES = {"long", "int", "short", "byte"}
_FLOAT_TYPES = {"double", "float"}
_STRING_TYPES = {"string", "char", "datetime", "ID", "START_ID", "END_ID", "LABEL", "TYPE"}


# --- the importer's CSV files ------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One column of an importer header such as ``account_id:ID(Account)``, ``followers:long``, ``:LABEL``."""

    header: str  # the field as written
    name: str  # the property name ('' for :LABEL, :TYPE, :START_ID, :END_ID)
    kind: str  # string, long, boolean, double, datetime, ID, LABEL, TYPE, START_ID, END_ID ...
    group: str = ""  # the ID space of ID/START_ID/END_ID

    @classmethod
    def parse(cls, header: str) -> "Column":
        name, colon, kind = header.rpartition(":")
        if not colon:
            name, kind = header, "string"
        group = ""
        if "(" in kind and kind.endswith(")"):
            kind, group = kind[:-1].split("(", 1)
        if kind not in _INT_TYPES | _FLOAT_TYPES | _STRING_TYPES | {"boolean"}:
            raise SystemExit(f"an importer column of a type this baseline does not write: {header!r}")
        return cls(header, name, kind, group)

    @property
    def arrow_type(self) -> pa.DataType:
        if self.kind in _INT_TYPES:
            return pa.int64()
        if self.kind in _FLOAT_TYPES:
            return pa.float64()
        if self.kind == "boolean":
            return pa.bool_()
        return pa.string()


def header_of(path: Path) -> list[Column]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [Column.parse(h) for h in next(csv.reader(handle))]


def read_batches(path: Path, columns: list[Column], batch: int) -> Iterator[pa.Table]:
    """The file's rows, typed as its header says, ``batch`` rows at a time (the last one shorter).

    As the importer reads them: an empty field is null (no property), a quoted ``""`` an empty
    string; quotes are doubled; values may hold newlines (the bulk path imports with
    ``--multiline-fields=true``)."""
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=16 << 20),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c.header: c.arrow_type for c in columns}, null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=False,
            true_values=["true"], false_values=["false"]))
    pending: pa.Table | None = None
    for record_batch in reader:
        table = pa.Table.from_batches([record_batch])
        pending = table if pending is None else pa.concat_tables([pending, table])
        while pending.num_rows >= batch:
            yield pending.slice(0, batch)
            pending = pending.slice(batch)
    if pending is not None and pending.num_rows:
        yield pending


def _name(identifier: str) -> str:
    """A label, type or property name as a Cypher identifier (names come from the importer's header,
    which ringscope's shaping wrote; quoted all the same)."""
    return "`" + identifier.replace("`", "``") + "`"


def _array(table: pa.Table, header: str) -> pa.Array:
    return table.column(header).combine_chunks()


def _rows(table: pa.Table, props: list[Column], times: list[Column], ends: tuple[Column, ...] = ()) -> list[dict]:
    """The parameter rows: ``p`` (a map of the plain properties), ``t0``.. (the datetime texts), and for
    relationships ``s``/``e`` (the ids of the two ends)."""
    arrays, names = [], []
    for key, column in zip(("s", "e"), ends):
        arrays.append(_array(table, column.header))
        names.append(key)
    if props:
        arrays.append(pa.StructArray.from_arrays([_array(table, c.header) for c in props],
                                                 names=[c.name for c in props]))
        names.append("p")
    for i, column in enumerate(times):
        arrays.append(_array(table, column.header))
        names.append(f"t{i}")
    return pa.Table.from_arrays(arrays, names=names).to_pylist()


def _sets(variable: str, props: list[Column], times: list[Column]) -> str:
    sets = [f"{variable} = r.p"] if props else []
    sets += [f"{variable}.{_name(c.name)} = datetime(r.t{i})" for i, c in enumerate(times)]
    return f" SET {', '.join(sets)}" if sets else ""


def node_statement(label: str, props: list[Column], times: list[Column]) -> str:
    return f"UNWIND $rows AS r CREATE (n:{_name(label)})" + _sets("n", props, times)


def relationship_statement(start: tuple[str, str], end: tuple[str, str], rel_type: str,
                           props: list[Column], times: list[Column]) -> str:
    (start_label, start_key), (end_label, end_key) = start, end
    return (f"UNWIND $rows AS r MATCH (a:{_name(start_label)} {{{_name(start_key)}: r.s}}) "
            f"MATCH (b:{_name(end_label)} {{{_name(end_key)}: r.e}}) "
            f"CREATE (a)-[x:{_name(rel_type)}]->(b)" + _sets("x", props, times))


def _split(table: pa.Table, header: str) -> Iterator[tuple[str, pa.Table]]:
    """The rows by the value of a ``:LABEL``/``:TYPE`` column (one value per file in ringscope's files)."""
    values = pc.unique(_array(table, header)).to_pylist()
    if len(values) == 1:
        yield values[0], table
        return
    for value in values:
        yield value, table.filter(pc.equal(table.column(header), value))


# --- writing -----------------------------------------------------------------------------------------

@dataclass
class Written:
    """What one file's statements did."""

    what: str  # "nodes Account", "relationships LIKED (Account->Note)"
    rows: int = 0
    created: int = 0  # nodes or relationships Neo4j reports created
    batches: int = 0
    retries: int = 0  # attempts of a batch beyond the first (the driver retrying a transient error)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def line(self, writers: int) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        text = f"{self.what}: {self.rows:,} rows in {self.seconds:,.1f} s ({rate:,.0f} rows/s)"
        if writers > 1 or self.retries:
            text += f", {self.retries:,} retries"
        if self.created != self.rows:
            text += f"; WARNING: Neo4j created {self.created:,}"
        return text


class Sender:
    """Batches out to ``writers`` threads, one managed write transaction each, at most a few in flight."""

    def __init__(self, graph: Graph, writers: int):
        self.graph = graph
        self.pool = ThreadPoolExecutor(writers, thread_name_prefix="writer")
        self.slots = threading.Semaphore(writers + 1)  # one batch read ahead of the writers
        self.pending: set[Future] = set()

    def submit(self, cypher: str, rows: list[dict], result: Written, nodes: bool) -> None:
        self.slots.acquire()
        future = self.pool.submit(self._send, cypher, rows, result, nodes)
        future.add_done_callback(lambda _: self.slots.release())
        self.pending.add(future)
        failed = [f for f in self.pending if f.done() and f.exception() is not None]
        if failed:
            failed[0].result()  # raises: stop at the first failed batch
        self.pending = {f for f in self.pending if not f.done()}

    def _send(self, cypher: str, rows: list[dict], result: Written, nodes: bool) -> None:
        attempts = 0

        def work(tx: Transaction):
            nonlocal attempts
            attempts += 1
            return tx.execute(cypher, rows=rows)

        counters = self.graph.write_transaction(work)
        with result.lock:
            result.batches += 1
            result.retries += attempts - 1
            result.created += counters.nodes_created if nodes else counters.relationships_created

    def drain(self) -> None:
        done, _ = wait(self.pending, return_when=FIRST_EXCEPTION)
        self.pending = set()
        for future in done:
            future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def write_nodes(sender: Sender, path: Path, batch: int) -> tuple[Written, str, tuple[str, str]]:
    """One node file; (what was written, its ID space, (label, key property))."""
    columns = header_of(path)
    id_column = next(c for c in columns if c.kind == "ID")
    label_column = next(c for c in columns if c.kind == "LABEL")
    props = [id_column] + [c for c in columns if c.name and c.kind not in ("ID", "datetime")]
    times = [c for c in columns if c.kind == "datetime"]
    label = id_column.group or path.stem
    result = Written(f"nodes {label}")
    started = time.monotonic()
    for table in read_batches(path, columns, batch):
        for value, part in _split(table, label_column.header):
            label = value  # one label (no ';') in the files ringscope shapes
            sender.submit(node_statement(value, props, times), _rows(part, props, times), result, nodes=True)
            result.rows += part.num_rows
    sender.drain()
    result.seconds = time.monotonic() - started
    result.what = f"nodes {label}"
    return result, id_column.group, (label, id_column.name)


def write_relationships(sender: Sender, path: Path, batch: int, id_spaces: dict[str, tuple[str, str]]) -> Written:
    columns = header_of(path)
    start = next(c for c in columns if c.kind == "START_ID")
    end = next(c for c in columns if c.kind == "END_ID")
    type_column = next(c for c in columns if c.kind == "TYPE")
    props = [c for c in columns if c.name and c.kind != "datetime"]
    times = [c for c in columns if c.kind == "datetime"]
    start_node, end_node = id_spaces[start.group], id_spaces[end.group]
    result = Written(f"relationships {path.stem} ({start_node[0]}->{end_node[0]})")
    started = time.monotonic()
    rel_type = ""
    for table in read_batches(path, columns, batch):
        for rel_type, part in _split(table, type_column.header):
            sender.submit(relationship_statement(start_node, end_node, rel_type, props, times),
                          _rows(part, props, times, (start, end)), result, nodes=False)
            result.rows += part.num_rows
    sender.drain()
    result.seconds = time.monotonic() - started
    result.what = f"relationships {rel_type or path.stem} ({start_node[0]}->{end_node[0]})"
    return result


# --- the command -------------------------------------------------------------------------------------

@dataclass
class Shaped:
    files: shape.ImportFiles
    rows_read: int
    rejected: int
    failed: list[str]
    skipped: list[str]
    validate_s: float
    shape_s: float
    nodes: int
    relationships: int


def shape_dataset(directory: Path, staging: Path, memory: str) -> Shaped:
    """Validate and shape ``directory`` with the bulk path's own functions (``ingest/bulk.py``)."""
    options = IngestOptions(progress=False, bulk_memory=memory, limits=limits_from_env(),
                            rejects_dir=staging / "rejects")
    files, skipped = discover(directory)
    (staging / "validated").mkdir(parents=True)
    started = time.monotonic()
    validated = bulk.validate_all(files, options, options.rejects_dir, staging / "validated")
    validate_s = time.monotonic() - started
    started = time.monotonic()
    # Keys in named id spaces: the baseline MERGEs nothing, it matches the ends of each relationship by key.
    built = shape.build_import_files([s for _, s in validated if s is not None], staging, memory=memory,
                                     ids="string")
    shape_s = time.monotonic() - started
    results = [r for r, _ in validated]
    return Shaped(built.files, sum(r.read for r in results), sum(r.rejected for r in results),
                  [r.line() for r in results if r.failed], skipped, validate_s, shape_s,
                  sum(built.nodes.values()), sum(built.relationships.values()))


def main(argv: list[str] | None = None) -> int:
    started = STARTED if __name__ == "__main__" else time.monotonic()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="dataset directory, as for `ringscope ingest`")
    parser.add_argument("--batch", type=int, default=10_000, help="rows per transaction (default 10000)")
    parser.add_argument("--writers", type=int, default=1, help="threads sending one file's batches (default 1)")
    parser.add_argument("--bulk-memory", default=os.environ.get("RINGSCOPE_BULK_MEMORY", "4g"),
                        help="memory the shaping (DuckDB) may use (default 4g, or RINGSCOPE_BULK_MEMORY)")
    parser.add_argument("--staging", type=Path, default=None,
                        help="folder for the temporary staged and shaped files (default: the system's temp)")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.writers < 1:
        parser.error("--batch and --writers must be at least 1")
    if not args.dir.is_dir():
        parser.error(f"{args.dir}: no such dataset directory")
    parse_size("--bulk-memory", args.bulk_memory)

    settings = load_settings()
    try:
        graph = connect(settings)
        if not bulk.database_is_empty(graph):
            print(f"plain_statements: the database at {settings.describe()} is not empty. The baseline CREATEs "
                  "the whole graph into an empty database; empty it first (`ringscope reset --yes`) or point "
                  "RINGSCOPE_HOME/RINGSCOPE_BOLT_PORT at another server.", file=sys.stderr)
            return EXIT_NOT_EMPTY
        with tempfile.TemporaryDirectory(prefix="plain-statements-", dir=args.staging) as staging:
            shaped = shape_dataset(args.dir, Path(staging), args.bulk_memory)
            for skipped in shaped.skipped:
                print(f"skipped {skipped}")
            for failed in shaped.failed:
                print(f"validation: {failed}")
            print(f"shaping: {shaped.validate_s + shaped.shape_s:,.1f} s (validate {shaped.validate_s:,.1f} s, "
                  f"shape {shaped.shape_s:,.1f} s): {shaped.rows_read:,} dataset rows read, {shaped.rejected:,} "
                  f"rejected -> {shaped.nodes:,} nodes, {shaped.relationships:,} relationships", flush=True)

            schema_started = time.monotonic()
            applied = ensure_schema(graph.driver, graph.database)
            version = current_version(graph.driver, graph.database)
            if version < LATEST:
                raise RingscopeError(f"the schema is at version {version}, not {LATEST}")
            print(f"schema: version {version} in place before writing (constraints and indexes; applied now: "
                  f"{applied or 'none, connecting applied them'}) {time.monotonic() - schema_started:,.1f} s",
                  flush=True)

            writes_started = time.monotonic()
            sender = Sender(graph, args.writers)
            written: list[Written] = []
            id_spaces: dict[str, tuple[str, str]] = {}
            try:
                for path in shaped.files.nodes:
                    result, group, node = write_nodes(sender, path, args.batch)
                    id_spaces[group] = node
                    written.append(result)
                    print(result.line(args.writers), flush=True)
                for path in shaped.files.relationships:
                    result = write_relationships(sender, path, args.batch, id_spaces)
                    written.append(result)
                    print(result.line(args.writers), flush=True)
            finally:
                sender.close()
            writes_s = time.monotonic() - writes_started
    except RingscopeError as exc:
        print(f"plain_statements: {exc}", file=sys.stderr)
        return 1
    finally:
        close_all()

    total_s = time.monotonic() - started
    rows = sum(w.rows for w in written)
    node_rows = sum(w.rows for w in written if w.what.startswith("nodes"))
    retries = sum(w.retries for w in written)
    read = shaped.rows_read
    print(f"writes: {node_rows:,} nodes + {rows - node_rows:,} relationships = {rows:,} rows in {writes_s:,.1f} s "
          f"({rows / writes_s:,.0f} rows/s; {read / writes_s:,.0f} dataset rows/s); batch {args.batch:,}, "
          f"writers {args.writers}, {retries:,} retries")
    print(f"total: {rows:,} rows (nodes + relationships) in {total_s:,.1f} s ({rows / total_s:,.0f} rows/s); "
          f"dataset rows read: {read:,} ({read / total_s:,.0f} rows/s)", flush=True)
    mismatched = [w.what for w in written if w.created != w.rows]
    if mismatched:
        print(f"plain_statements: Neo4j created fewer entities than rows sent for: {', '.join(mismatched)}",
              file=sys.stderr)
    return 1 if shaped.failed or mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
