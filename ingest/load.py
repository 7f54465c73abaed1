"""``ringscope ingest DIR``: load a dataset in the input format into the graph.

For each file, in ``LOAD_ORDER``: read and validate rows on a reader thread
while ``--writers`` threads (default 2) write the batches before it, one
transaction per batch. Two writers keep Neo4j busy on both cores of a small
machine; when two batches lock the same nodes in opposite orders Neo4j
reports a deadlock and the driver runs the losing transaction again (its work
function is pure). ``--writers 1`` writes serially.

Each batch commits together with a checkpoint (rows done) keyed by the file's
path, size and modification time, so a load killed half-way resumes where it
stopped when the same command runs again. With several writers a batch may
commit before an earlier one, so the checkpoint it carries is only what was
known committed when it was sent (``_Writers``), and it never decreases. Every
write is idempotent (MERGE, or CREATE of keys found new in the same
transaction), so even without checkpoints (``--restart``) a second load
changes nothing.

Hostile input stays contained: only regular files in the directory are read
(symbolic links, pipes and devices are reported and skipped, and a link's
target is never opened or named); lines and values are capped (``Limits``) and
a batch holds at most ``BATCH_BYTES`` of rows as well as ``batch_size`` rows,
so memory stays bounded; and a file that fails for any reason fails alone,
with a message naming it, while the other files still load.
"""

from __future__ import annotations

import csv
from contextlib import contextmanager
import hashlib
import os
import queue
import stat
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timezone, tzinfo
from pathlib import Path
from typing import Any, Callable, Iterator

from ringscope.common.errors import ConstraintViolation, DatabaseError, DatabaseUnavailable
from ringscope.graph.database import Graph
from ringscope.ingest.readers import DataFile, FileFormatError, Row, Table, classify, classify_folder, printable
from ringscope.ingest.spec import EVALUATION_ONLY, KEEP_OF_LONG_LINE, LOAD_ORDER, SPECS, Limits
from ringscope.ingest.validate import Rejected, Validator, shown
from ringscope.ingest.writers import CHECKPOINT_CYPHER, COMMENT_REPLIES, READ_CHECKPOINT, WRITERS, BatchOutcome, Writer, write_batch

DEFAULT_BATCH = 10_000
# A batch also ends once its rows reach this many bytes of input, so a file of long rows
# never makes a transaction (or the reader's queue) hold gigabytes.
BATCH_BYTES = 32 << 20


@dataclass
class FileResult:
    """What happened to one file: the summary line of ``ringscope ingest``."""

    path: Path
    stem: str
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    stubs: int = 0
    resumed: int = 0  # rows already loaded by an earlier, interrupted run
    retries: int = 0  # batches written again after the database rolled them back (deadlocks between writers)
    seconds: float = 0.0
    # Where the time went: reading and validating (reader thread), waiting in
    # the driver for writes, and what Neo4j itself reported for them.
    read_seconds: float = 0.0
    write_seconds: float = 0.0
    server_seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    rejects_file: Path | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def line(self) -> str:
        name = printable(self.path.name) + ("/" if self.path.is_dir() else "")
        if self.error:
            return f"{name}: FAILED: {self.error}"
        rate = self.loaded / self.seconds if self.seconds > 0 else 0.0
        text = (f"{name}: read {self.read}, loaded {self.loaded}, rejected {self.rejected}, "
                f"stubs {self.stubs}, {self.seconds:.1f} s ({rate:,.0f} rows/s)")
        if self.resumed:
            text += f", {self.resumed} already loaded before (resumed)"
        if self.retries:
            text += f", {self.retries} batch attempt(s) rolled back and written again (deadlocks between writers)"
        if self.rejects_file:
            text += f"; rejects in {self.rejects_file}"
        return text


@dataclass
class IngestOptions:
    tz: tzinfo = timezone.utc
    keep_unknown: bool = False
    batch_size: int = DEFAULT_BATCH
    rejects_dir: Path | None = None  # default: <cwd>/rejects/<dataset name>
    restart: bool = False  # ignore checkpoints of earlier runs
    writers: int = 2  # transactions of one file in flight at once (incremental path)
    progress: bool | None = None  # None: only when stderr is a terminal
    mode: str = "auto"  # bulk | incremental | auto (bulk into an empty local database)
    bulk_memory: str = "4g"  # memory the bulk path's shaping (DuckDB) and Neo4j's importer may use
    keep_staging: bool = False  # keep the bulk path's staged files (RINGSCOPE_HOME/bulk) for inspection
    limits: Limits = field(default_factory=Limits)  # caps on a line and a value


@dataclass
class IngestReport:
    files: list[FileResult]
    skipped: list[str]  # "name: why" for files that are not loaded

    @property
    def failed(self) -> bool:
        return any(f.failed for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.loaded for f in self.files)


def discover(directory: Path) -> tuple[list[DataFile], list[str]]:
    """The dataset's data files in load order, and the files skipped with why.

    A folder named by a kind (``comments/``) is one file of that kind made of part files.
    """
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: not a directory")
    found: list[DataFile] = []
    skipped: list[str] = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue
        name = printable(path.name)
        try:
            mode = path.lstat().st_mode  # the entry itself: a link is never followed
        except OSError as exc:
            skipped.append(f"{name}: cannot be read ({exc.strerror or exc})")
            continue
        if stat.S_ISLNK(mode):
            skipped.append(f"{name}: a symbolic link; not followed")
            continue
        if stat.S_ISDIR(mode):
            if path.name in SPECS:
                data, others = classify_folder(path)
                found.append(data)
                skipped.extend(others)
            elif path.name in EVALUATION_ONLY:
                skipped.append(f"{name}/: {EVALUATION_ONLY[path.name]}")
            else:
                skipped.append(f"{name}/: a folder, not a kind of record "
                               f"(a folder of part files is named by its kind: {', '.join(LOAD_ORDER)})")
            continue
        if not stat.S_ISREG(mode):
            skipped.append(f"{name}: not a regular file (a pipe, socket or device)")
            continue
        data = classify(path)
        if data is None:
            skipped.append(f"{name}: not a data file (expected .csv, .jsonl or .parquet, optionally .gz)")
        elif data.stem in EVALUATION_ONLY:
            skipped.append(f"{name}: {EVALUATION_ONLY[data.stem]}")
        elif data.stem not in SPECS:
            skipped.append(f"{name}: unknown kind of file {shown(data.stem)} "
                           f"(known: {', '.join(LOAD_ORDER)})")
        else:
            found.append(data)
    found.sort(key=lambda d: (LOAD_ORDER.index(d.stem), d.path.name))
    return found, skipped


def ingest(graph: Graph, directory: Path, options: IngestOptions | None = None,
           on_file: Callable[[FileResult], None] | None = None) -> IngestReport:
    """Load every data file in ``directory``; one file failing does not stop the others."""
    options = options or IngestOptions()
    files, skipped = discover(directory)
    rejects_dir = options.rejects_dir or Path.cwd() / "rejects" / directory.resolve().name
    if not any(f.stem == "accounts" for f in files):
        skipped.append("accounts: missing; every file but accounts is optional, "
                       "so accounts referenced elsewhere will be stubs")
    results = []
    for data in files:
        result = load_file(graph, data, options, rejects_dir)
        results.append(result)
        if on_file:
            on_file(result)
    return IngestReport(results, skipped)


def checkpoint_key(data: DataFile) -> str:
    """The file's identity: path, size and modification time (of every part, for a folder of part files)."""
    idents = []
    for path in (data.path,) if data.parts is None else data.parts:
        stat = path.stat()
        idents.append(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(idents).encode()).hexdigest()


class BatchRefused(Exception):
    """The database refused a batch: a value the validator should have rejected, or a statement over the
    time limit. The file stops there (what came before stays loaded); the message names the lines."""


def load_file(graph: Graph, data: DataFile, options: IngestOptions, rejects_dir: Path) -> FileResult:
    started = time.monotonic()
    result = FileResult(data.path, data.stem)
    try:
        _load(graph, data, options, rejects_dir, result)
    except (FileFormatError, BatchRefused) as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"{printable(data.path)}: {exc.strerror or exc}"
    except DatabaseUnavailable:
        raise  # every other file would fail the same way; the command says so once
    except Exception as exc:  # noqa: BLE001 -- the last line of defence: this file fails alone, with its name
        result.error = (f"{printable(data.path)}: stopped after {result.read:,} rows by an unexpected error "
                        f"({type(exc).__name__}: {shown(str(exc), 200)}); the rows before it are loaded, "
                        "and running the command again resumes")
    result.seconds = time.monotonic() - started
    return result


def _load(graph: Graph, data: DataFile, options: IngestOptions, rejects_dir: Path, result: FileResult) -> None:
    writer = WRITERS[data.stem]
    key = checkpoint_key(data)
    done = 0 if options.restart else _rows_done(graph, key)
    replies: list[dict[str, Any]] = []
    with validated_batches(data, options, rejects_dir, result) as batches:
        with _Progress(printable(data.path.name), options.progress) as progress, \
                _Writers(graph, writer, options.writers, result, key, str(data.path)) as writers:
            for batch in _prefetch(batches):
                if data.stem == "comments":
                    replies.extend({"comment_id": r["comment_id"], "reply_to": r["reply_to"]}
                                   for r in batch.rows if r.get("reply_to") is not None)
                end = result.loaded + len(batch.rows)
                if end <= done:
                    result.resumed += len(batch.rows)
                else:
                    writers.submit(batch.rows, result.loaded, end,
                                   f"{printable(data.path)}: lines {batch.first:,}-{batch.last:,}")
                result.loaded = end
                progress.update(len(batch.rows))
    if replies:
        _write_replies(graph, replies, key + ":replies", options, result)


@contextmanager
def validated_batches(data: DataFile, options: IngestOptions, rejects_dir: Path,
                      result: FileResult) -> Iterator[Iterator[_Batch]]:
    """The valid rows of ``data`` in batches, its rejects written and counted into ``result``, its
    notes (unknown and unusable columns) added: the rules both paths (``load``, ``bulk``) apply."""
    with opened_for_validation(data, options, rejects_dir, result) as (table, validator, rejects):
        yield _validated_batches(table, validator, rejects, result, options.batch_size)


@contextmanager
def opened_for_validation(data: DataFile, options: IngestOptions, rejects_dir: Path,
                          result: FileResult) -> Iterator[tuple[Table, Validator, "_Rejects"]]:
    """``data`` open, its ``Validator`` and its rejects file: a file without a required column refused
    (``FileFormatError``), its notes (unknown and unusable columns) added to ``result``; on leaving, the
    rejects file recorded if it holds any."""
    spec = SPECS[data.stem]
    with Table(data, options.limits) as table, \
            _Rejects(rejects_dir, data, options.limits.max_line_bytes) as rejects:
        validator = Validator(spec, table.columns, options.tz, options.keep_unknown, options.limits)
        if validator.missing_required and not table.rejects_only:
            raise FileFormatError(
                f"{printable(data.path)}: required column(s) {', '.join(validator.missing_required)} missing; "
                f"found columns: {', '.join(map(_column, table.columns)) or '(none)'}"
            )
        usable = [name for name in validator.unknown if name not in validator.unusable]
        if usable:
            verb = "kept as properties" if options.keep_unknown else "dropped (use --keep-unknown-columns to keep)"
            result.notes.append(f"unknown column(s) {', '.join(map(_column, usable))} {verb}")
        if validator.unusable:
            result.notes.append("column(s) " + ", ".join(f"{_column(name)} ({why})"
                                                         for name, why in validator.unusable.items())
                                + " dropped, whatever the options")
        yield table, validator, rejects
        result.rejects_file = rejects.path if rejects.count else None


def _column(name: str) -> str:
    """A column name for a message: as it is, or quoted with escapes if empty, odd or long."""
    return name if name and name.isprintable() and len(name) <= 60 else shown(name)


def split_by_identity(rows: list[dict[str, Any]], identity: tuple[str, ...], count: int) -> list[list[dict[str, Any]]]:
    """``rows`` in ``count`` parts, rows with the same values in the ``identity`` columns in the same part, each
    part in the order of ``rows``. O(len(rows))."""
    parts: list[list[dict[str, Any]]] = [[] for _ in range(count)]
    for row in rows:
        parts[hash(tuple(row.get(c) for c in identity)) % count].append(row)
    return parts


class _Writers:
    """The batches of one file written by ``count`` threads, at most ``count`` batches in flight.

    Each batch is split by the rows' identity (``Writer.identity``: an entity's key, a link's two ends) into
    one part per thread, and each thread writes its parts in the order they came, one transaction each: rows
    about the same entity or link always go to the same thread, in file order, so the last row of a repeated
    key wins as with one writer. Parts about different entities commit in any order.

    The checkpoint a part commits says how many rows are done if it commits: the first row of the oldest
    batch still in flight (its own batch included, whose other parts may yet fail), and ``CHECKPOINT_CYPHER``
    keeps the larger value, so a resumed load never skips a row whose transaction did not commit; once
    every part has committed, the file's checkpoint is its end. The first error stops the file: no batch is
    sent after it, the parts in flight finish, and it is raised here.
    """

    def __init__(self, graph: Graph, writer: Writer, count: int, result: FileResult, key: str, file: str):
        self.graph, self.writer, self.result, self.key, self.file = graph, writer, result, key, file
        self.count = max(1, count)
        # One single-thread executor per stream: a stream's parts run in the order they were sent.
        self.streams = [ThreadPoolExecutor(1, thread_name_prefix=f"ingest-writer-{i}")
                        for i in range(self.count)] if self.count > 1 else []
        self.in_flight: dict[int, list[Future]] = {}  # first row of a batch -> the writes of its parts
        self.end = 0  # rows sent
        self.checkpointed = 0  # the largest checkpoint sent

    def submit(self, rows: list[dict[str, Any]], start: int, end: int, where: str) -> None:
        self._collect(block=len(self.in_flight) >= self.count)
        rows_done = min([start, *self.in_flight]) if self.streams else end
        checkpoint = {"key": self.key, "file": self.file, "rows_done": rows_done}
        self.end, self.checkpointed = end, max(self.checkpointed, rows_done)
        if not self.streams:
            self._add(_write(self.graph, self.writer, rows, checkpoint, where))
            return
        parts = split_by_identity(rows, self.writer.identity, len(self.streams))
        self.in_flight[start] = [stream.submit(_write, self.graph, self.writer, part, checkpoint, where)
                                 for stream, part in zip(self.streams, parts) if part]

    def _collect(self, block: bool) -> None:
        """Count the batches whose parts all finished into the file's result; with ``block``, wait for the
        oldest batch first."""
        if block and self.in_flight:
            wait(self.in_flight[min(self.in_flight)])
        for start, futures in sorted(self.in_flight.items()):
            if all(f.done() for f in futures):
                del self.in_flight[start]
                for future in futures:
                    self._add(future.result())  # a failed part raises here

    def _add(self, written: "_Written") -> None:
        written.count_into(self.result)

    def __enter__(self) -> "_Writers":
        return self

    def __exit__(self, kind, error, trace) -> None:
        if not self.streams:
            return
        try:
            wait([f for futures in self.in_flight.values() for f in futures])
            if error is None:
                self._collect(block=False)
                if self.end > self.checkpointed:  # every part committed: the file is done
                    self.graph.write(CHECKPOINT_CYPHER, key=self.key, file=self.file, rows_done=self.end)
            else:  # the first error is the one reported; the writes in flight have finished either way
                for futures in self.in_flight.values():
                    for future in futures:
                        if not future.exception():
                            self._add(future.result())
        finally:
            for stream in self.streams:
                stream.shutdown(wait=True)


@dataclass
class _Written:
    outcome: BatchOutcome
    seconds: float  # wall time of the write, retries included
    retries: int = 0  # attempts the database rolled back (deadlocks, a key another writer made)

    def count_into(self, result: FileResult) -> None:
        result.write_seconds += self.seconds
        result.server_seconds += self.outcome.server_ms / 1000
        result.stubs += self.outcome.stubs
        result.retries += self.retries


def _write(graph: Graph, writer: Writer, rows: list[dict[str, Any]], checkpoint: dict[str, Any],
           where: str) -> _Written:
    started = time.monotonic()
    attempts = 0

    def attempt(tx, merge_only: bool) -> BatchOutcome:
        nonlocal attempts
        attempts += 1  # the driver calls again after a transient error (a deadlock between writers)
        return write_batch(tx, writer, rows, checkpoint, merge_only=merge_only)

    try:
        try:
            outcome = graph.write_transaction(lambda tx: attempt(tx, False))
        except ConstraintViolation:
            # Another writer created one of the batch's new keys between our read and our CREATE:
            # the batch rolled back whole, and MERGE writes it whatever exists by now.
            outcome = graph.write_transaction(lambda tx: attempt(tx, True))
    except DatabaseUnavailable:
        raise
    except DatabaseError as exc:
        raise BatchRefused(f"{where}: the database refused the batch ({shown(str(exc), 300)}); "
                           "the rows before it are loaded") from None
    except (OverflowError, UnicodeError, TypeError, ValueError) as exc:  # the driver could not send a value
        raise BatchRefused(f"{where}: a value could not be sent to the database ({type(exc).__name__}: "
                           f"{shown(str(exc), 200)}); the rows before it are loaded") from None
    return _Written(outcome, time.monotonic() - started, attempts - 1)


def _write_replies(graph: Graph, replies: list[dict[str, Any]], key: str, options: IngestOptions,
                   result: FileResult) -> None:
    done = 0 if options.restart else _rows_done(graph, key)
    size = options.batch_size
    for start in range(0, len(replies), size):
        end = min(start + size, len(replies))
        if end > done:
            _write(graph, COMMENT_REPLIES, replies[start:end],
                   {"key": key, "file": "comments:replies", "rows_done": end},
                   f"{printable(result.path)}: replies {start + 1:,}-{end:,}").count_into(result)


def _rows_done(graph: Graph, key: str) -> int:
    return graph.read(READ_CHECKPOINT, key=key)[0]["rows_done"] or 0


@dataclass
class _Batch:
    rows: list[dict[str, Any]] = field(default_factory=list)
    first: int = 0  # the lines the rows came from, for messages
    last: int = 0
    size: int = 0  # bytes of input


def checked_rows(table: Table, validator: Validator) -> Iterator[tuple[Row, dict[str, Any] | None, str]]:
    """Each row of ``table`` with its typed values, or ``None`` and the reason it is rejected: the rules
    of the input format applied, without the database (what a bulk path would share)."""
    for row in table:
        if row.error:  # the reader could not make values of it
            yield row, None, row.error
            continue
        try:
            values = validator.convert(row.values)
        except Rejected as why:
            yield row, None, str(why)
            continue
        yield row, values, ""


def _validated_batches(table: Table, validator: Validator, rejects: "_Rejects",
                       result: FileResult, size: int) -> Iterator[_Batch]:
    batch = _Batch()
    clock = time.thread_time  # CPU time of the reader thread: parsing and validating
    started = clock()
    for row, values, why in checked_rows(table, validator):
        result.read += 1
        if values is None:
            result.rejected += 1
            rejects.add(row.where, why, row.raw)
            continue
        batch.rows.append(values)
        batch.first = batch.first or row.line
        batch.last = row.line
        batch.size += len(row.raw)
        if len(batch.rows) >= size or batch.size >= BATCH_BYTES:
            result.read_seconds += clock() - started
            yield batch
            started = clock()
            batch = _Batch()
    result.read_seconds += clock() - started
    if batch.rows:
        yield batch


_END = object()


def _prefetch(batches: Iterator[_Batch], depth: int = 2) -> Iterator[_Batch]:
    """Run the reader one or two batches ahead on a thread; re-raise its errors here."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        slots.put(batch, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(_END)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(exc)

    thread = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


class _Rejects:
    """``<stem>.rejects.csv``: line, reason, and the row exactly as it was (a row longer than the line cap:
    its beginning, and the reason says so). Rewritten per run."""

    def __init__(self, directory: Path, data: DataFile, max_raw: int):
        self.path = directory / f"{data.path.name}.rejects.csv"
        self.count = 0
        self._handle = None
        self._writer = None
        self._directory = directory
        self._max_raw = max_raw

    def add(self, line: int | str, reason: str, raw: str) -> None:
        if self._writer is None:
            self._directory.mkdir(parents=True, exist_ok=True)
            # Never through a link someone left at the rejects file's name.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o666)
            self._handle = open(fd, "w", encoding="utf-8", errors="backslashreplace", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "reason", "raw"])
        if len(raw) > self._max_raw:  # a Parquet row is shown as JSON, which no line cap bounds
            reason += f" (the raw column keeps only its first {KEEP_OF_LONG_LINE:,} of {len(raw):,} characters)"
            raw = raw[:KEEP_OF_LONG_LINE]
        self._writer.writerow([line, reason, raw])
        self.count += 1

    def __enter__(self) -> "_Rejects":
        # A re-run rewrites the file; an old one from a run with rejects must not linger.
        self.path.unlink(missing_ok=True)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle:
            self._handle.close()


class _Progress:
    """A tqdm bar with rows/s on stderr, shown only on a terminal unless asked for."""

    def __init__(self, name: str, enabled: bool | None):
        self.bar = None
        if enabled is None:
            enabled = sys.stderr.isatty()
        if enabled:
            from tqdm import tqdm
            self.bar = tqdm(desc=name, unit=" rows", unit_scale=True, file=sys.stderr, leave=False)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
