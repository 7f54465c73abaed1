"""``ringscope ingest DIR``: load a dataset in the input format into the graph.

For each file, in ``LOAD_ORDER``: read and validate rows on a reader thread
while the main thread writes the previous batch, one transaction per batch.
Writes are serial, so no two of our transactions ever lock the same nodes
(no deadlocks); the reader keeps the second core busy.

Each batch commits together with a checkpoint (rows done) keyed by the file's
path, size and modification time, so a load killed half-way resumes where it
stopped when the same command runs again. Every write is an idempotent MERGE,
so even without checkpoints (``--restart``) a second load changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timezone, tzinfo
from pathlib import Path
from typing import Any, Callable, Iterator

from ringscope.graph.database import Graph
from ringscope.ingest.readers import DataFile, FileFormatError, Table, classify, classify_folder
from ringscope.ingest.spec import LOAD_ORDER, SPECS
from ringscope.ingest.validate import Rejected, Validator
from ringscope.ingest.writers import COMMENT_REPLIES, READ_CHECKPOINT, WRITERS, Writer, write_batch

DEFAULT_BATCH = 10_000


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
        name = self.path.name + ("/" if self.path.is_dir() else "")
        if self.error:
            return f"{name}: FAILED: {self.error}"
        rate = self.loaded / self.seconds if self.seconds > 0 else 0.0
        text = (f"{name}: read {self.read}, loaded {self.loaded}, rejected {self.rejected}, "
                f"stubs {self.stubs}, {self.seconds:.1f} s ({rate:,.0f} rows/s)")
        if self.resumed:
            text += f", {self.resumed} already loaded before (resumed)"
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
    progress: bool | None = None  # None: only when stderr is a terminal


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
        if path.is_dir():
            if path.name in SPECS:
                data, others = classify_folder(path)
                found.append(data)
                skipped.extend(others)
            else:
                skipped.append(f"{path.name}/: a folder, not a kind of record "
                               f"(a folder of part files is named by its kind: {', '.join(LOAD_ORDER)})")
            continue
        data = classify(path)
        if data is None:
            skipped.append(f"{path.name}: not a data file (expected .csv, .jsonl or .parquet, optionally .gz)")
        elif data.stem not in SPECS:
            skipped.append(f"{path.name}: unknown kind of file {data.stem!r} "
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


def load_file(graph: Graph, data: DataFile, options: IngestOptions, rejects_dir: Path) -> FileResult:
    started = time.monotonic()
    result = FileResult(data.path, data.stem)
    try:
        _load(graph, data, options, rejects_dir, result)
    except FileFormatError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"{data.path}: {exc.strerror or exc}"
    result.seconds = time.monotonic() - started
    return result


def _load(graph: Graph, data: DataFile, options: IngestOptions, rejects_dir: Path, result: FileResult) -> None:
    spec = SPECS[data.stem]
    writer = WRITERS[data.stem]
    key = checkpoint_key(data)
    done = 0 if options.restart else _rows_done(graph, key)
    replies: list[dict[str, Any]] = []
    with Table(data) as table, _Rejects(rejects_dir, data, table.columns) as rejects:
        validator = Validator(spec, table.columns, options.tz, options.keep_unknown)
        if validator.missing_required:
            raise FileFormatError(
                f"{data.path}: required column(s) {', '.join(validator.missing_required)} missing; "
                f"found columns: {', '.join(table.columns) or '(none)'}"
            )
        if validator.unknown:
            verb = "kept as properties" if options.keep_unknown else "dropped (use --keep-unknown-columns to keep)"
            result.notes.append(f"unknown column(s) {', '.join(validator.unknown)} {verb}")
        batches = _validated_batches(table, validator, rejects, result, options.batch_size)
        with _Progress(data.path.name, options.progress) as progress:
            for batch in _prefetch(batches):
                if data.stem == "comments":
                    replies.extend({"comment_id": r["comment_id"], "reply_to": r["reply_to"]}
                                   for r in batch if r.get("reply_to") is not None)
                end = result.loaded + len(batch)
                if end <= done:
                    result.resumed += len(batch)
                else:
                    _write(graph, writer, batch, {"key": key, "file": str(data.path), "rows_done": end}, result)
                result.loaded = end
                progress.update(len(batch))
        result.rejects_file = rejects.path if rejects.count else None
    if replies:
        _write_replies(graph, replies, key + ":replies", options, result)


def _write(graph: Graph, writer: Writer, rows: list[dict[str, Any]], checkpoint: dict[str, Any],
           result: FileResult) -> None:
    started = time.monotonic()
    outcome = graph.write_transaction(lambda tx: write_batch(tx, writer, rows, checkpoint))
    result.write_seconds += time.monotonic() - started
    result.server_seconds += outcome.server_ms / 1000
    result.stubs += outcome.stubs


def _write_replies(graph: Graph, replies: list[dict[str, Any]], key: str, options: IngestOptions,
                   result: FileResult) -> None:
    done = 0 if options.restart else _rows_done(graph, key)
    size = options.batch_size
    for start in range(0, len(replies), size):
        end = min(start + size, len(replies))
        if end > done:
            _write(graph, COMMENT_REPLIES, replies[start:end],
                   {"key": key, "file": "comments:replies", "rows_done": end}, result)


def _rows_done(graph: Graph, key: str) -> int:
    return graph.read(READ_CHECKPOINT, key=key)[0]["rows_done"] or 0


def _validated_batches(table: Table, validator: Validator, rejects: "_Rejects",
                       result: FileResult, size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    clock = time.thread_time  # CPU time of the reader thread: parsing and validating
    started = clock()
    for row in table:
        result.read += 1
        try:
            batch.append(validator.convert(row.values))
        except Rejected as why:
            result.rejected += 1
            rejects.add(row.where, str(why), row.raw)
            continue
        if len(batch) >= size:
            result.read_seconds += clock() - started
            yield batch
            started = clock()
            batch = []
    result.read_seconds += clock() - started
    if batch:
        yield batch


_END = object()


def _prefetch(batches: Iterator[list[dict[str, Any]]], depth: int = 2) -> Iterator[list[dict[str, Any]]]:
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
    """``<stem>.rejects.csv``: line, reason, and the row exactly as it was. Rewritten per run."""

    def __init__(self, directory: Path, data: DataFile, columns: list[str]):
        self.path = directory / f"{data.path.name}.rejects.csv"
        self.count = 0
        self._handle = None
        self._writer = None
        self._directory = directory

    def add(self, line: int | str, reason: str, raw: str) -> None:
        if self._writer is None:
            self._directory.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "reason", "raw"])
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
