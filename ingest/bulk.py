"""``ringscope ingest DIR --mode bulk``: build an empty local database with Neo4j's offline importer.

The same files, the same rules, the same graph as the transactional path
(``load.py``), orders of magnitude faster for a first load:

1. **Validate** every file exactly as ``load.py`` does (the same readers,
   ``Validator``, rejects files and summary counts) and stage the valid rows
   as Parquet, each with its position in the load (file, row). Files are
   validated on two processes when the dataset is large (``validate_all``).
2. **Shape** the graph from the staged rows with DuckDB, replaying what the
   transactional writers' ``MERGE``/``SET`` statements would leave
   (``shape.py``): one node per key (properties: the last non-empty value of
   each column, in load order; the statements' explicit ``SET``\\ s: the last
   row's value), one relationship per endpoint pair (properties from its last
   row), stubs for ids referenced but never defined (counted against the file
   that referenced them first, as the transactional path counts them), and
   the identifier nodes (IP, Phone, PhoneSegment). Out of core: DuckDB spills
   to the staging folder, so 10 M accounts fit in bounded memory.
3. **Import**: stop the local server, run ``neo4j-admin database import full``
   (``graph.server.local.import_store``) over the node and relationship CSV
   files, start the server, run the schema step (constraints and indexes are
   built on the loaded data; Community's importer takes no schema), and write
   the same load checkpoints the transactional path writes, so running the
   same command again changes nothing.

Only the tool's own server, and only while its database is empty (``auto``
mode picks this path exactly then). An interrupted bulk load leaves a marker
in the staging folder: the next run empties the store and loads again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.parquet as pq

from ringscope.graph.database import Graph
from ringscope.graph import snapshot as detection_snapshot
from ringscope.graph.schema import TEXT_INDEX, ensure_schema
from ringscope.graph.server import local
from ringscope.ingest import columnar, shape
from ringscope.ingest.load import (FileResult, IngestOptions, IngestReport, _Progress, _validated_batches,
                                   checked_rows, checkpoint_key, discover, opened_for_validation)
from ringscope.ingest.readers import BLOCK, DataFile, FileFormatError, ParquetBatch, PlainBlock, Table, printable
from ringscope.ingest.shape import BulkNotPossible
from ringscope.ingest.spec import SPECS
from ringscope.ingest.validate import Validator


CHECKPOINT_ROWS = 10_000
VALIDATE_WORKERS = min(2, os.cpu_count() or 1)
PARALLEL_FROM_BYTES = 32 * 2**20  # input on disk below which one process is quicker than starting two


@dataclass
class BulkReport(IngestReport):
    """``IngestReport`` plus where the time went and what the importer made."""

    seconds: dict[str, float] = field(default_factory=dict)  # validate, shape, import, schema
    imported: str = ""  # the importer's own summary
    staging: Path | None = None


def database_is_empty(graph: Graph) -> bool:
    """Nothing but the schema marker: no data, no checkpoint of a started load."""
    return graph.read("MATCH (n) WHERE NOT n:RingscopeSchema RETURN count(n) > 0 AS any")[0]["any"] is False


def bulk_ingest(graph: Graph, directory: Path, options: IngestOptions | None = None,
                on_file: Callable[[FileResult], None] | None = None,
                log: Callable[[str], None] = lambda text: None) -> BulkReport:
    options = options or IngestOptions()
    settings = graph.settings
    if not settings.uses_local_server:
        raise BulkNotPossible("the bulk path builds the local server's store; against a server the tool does "
                              "not manage (NEO4J_URI) use --mode incremental")
    staging = settings.local.home / "bulk"
    interrupted = (staging / "IMPORTING").exists()
    if not interrupted and not database_is_empty(graph):
        raise BulkNotPossible("the database is not empty: a bulk load builds a new store. Load on top of it with "
                              "--mode incremental, or empty it first with `ringscope reset --yes`")
    if interrupted:
        log("an earlier bulk load was interrupted during the import: loading again into an empty store")
    shutil.rmtree(staging, ignore_errors=True)
    detection_snapshot.discard(settings)  # describes the store this load replaces
    (staging / "validated").mkdir(parents=True)
    os.chmod(staging, 0o700)

    files, skipped = discover(directory)
    if not any(f.stem == "accounts" for f in files):
        skipped.append("accounts: missing; every file but accounts is optional, "
                       "so accounts referenced elsewhere will be stubs")
    rejects_dir = options.rejects_dir or Path.cwd() / "rejects" / directory.resolve().name
    report = BulkReport(files=[], skipped=skipped, staging=staging)

    started = time.monotonic()
    staged: list[shape.StagedFile] = []
    for result, stage in validate_all(files, options, rejects_dir, staging / "validated", log):
        report.files.append(result)
        if stage is not None:
            staged.append(stage)
    report.seconds["validate"] = time.monotonic() - started

    started = time.monotonic()
    built = shape.build_import_files(staged, staging, memory=options.bulk_memory, log=log,
                                     frames=staging / "frames")
    for result in report.files:
        result.stubs = built.stubs_by_file.get(str(result.path), 0)
    report.seconds["shape"] = time.monotonic() - started - built.frames_seconds
    report.seconds["snapshot"] = built.frames_seconds
    if not options.keep_staging:
        # The importer reads only the shaped files: give their disk to the store it is about to write
        # (at 10 M accounts the staged rows and DuckDB's tables are ~10 GB beside 18 GB of shaped files).
        for path in (staging / "validated", *shape.scratch(staging)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    started = time.monotonic()
    (staging / "IMPORTING").write_text("a bulk import started; if this file remains, it did not finish\n")
    if not any(built.nodes.values()):
        # Every row rejected (or no rows at all): the importer refuses to run without a node file, and the
        # store it would build is the empty one already there.
        report.imported = "nothing to import: no valid rows; the database stays empty"
        log(report.imported)
    else:
        try:
            report.imported = local.import_store(settings.local, built.files, off_heap=options.bulk_memory,
                                                 log=log)
        except BaseException:
            # The store is half-written: leave an empty, running database rather than one that fails to open.
            local.wipe_store(settings.local, log=log)
            (staging / "IMPORTING").unlink(missing_ok=True)
            ensure_schema(graph.driver, graph.database)
            raise
    report.seconds["import"] = time.monotonic() - started

    started = time.monotonic()
    # The text index populates after this returns: the graph and every other index are ready first.
    ensure_schema(graph.driver, graph.database, background=(TEXT_INDEX,))
    log("the text search index is being built in the background; search by id works meanwhile")
    _write_checkpoints(graph, report.files, staged)
    (staging / "IMPORTING").unlink()
    detection_snapshot.create_bookkeeping_names(graph)
    # The load's last write is done: the snapshot describes the graph exactly as it now stands.
    detection_snapshot.install(settings, staging / "frames", graph.state_mark(), built.frames or {})
    report.seconds["schema"] = time.monotonic() - started
    if not options.keep_staging:
        shutil.rmtree(staging, ignore_errors=True)
        report.staging = None

    # A file's time: its own validation, plus its share (by rows) of shaping, importing and the schema step.
    shared = sum(v for k, v in report.seconds.items() if k != "validate")
    total_rows = sum(r.loaded for r in report.files) or 1
    for result in report.files:
        result.seconds = result.read_seconds + shared * result.loaded / total_rows
        if on_file:
            on_file(result)
    return report


def validate_all(files: list[DataFile], options: IngestOptions, rejects_dir: Path, folder: Path,
                 log: Callable[[str], None] = lambda text: None) -> list[tuple[FileResult, "shape.StagedFile | None"]]:
    """Every file validated and staged, in ``files``' order; on ``VALIDATE_WORKERS`` processes when the
    dataset is large enough to repay starting them.

    Files are independent here (each has its own staged folder, rejects file and result; the order of
    the load is the file's position, not the order the work finishes in), and parsing and validating
    is CPU-bound Python, so a second process halves the time on two cores. Biggest files first, so
    the two finish together. Progress bars are off in the workers (two would garble one terminal);
    a line is logged as each file is done.

    Each file is one ``python -m ringscope.ingest.validate_worker`` process, not a multiprocessing
    pool: a pool's children re-run the parent's ``__main__`` (spawn, forkserver), which in an app,
    a notebook or a test runner is not ours to re-run, or copy its threads' locks (fork).
    """
    sizes = [_size(data) for data in files]
    workers = min(VALIDATE_WORKERS, len(files))
    if workers < 2 or sum(sizes) < PARALLEL_FROM_BYTES:
        return [_validate(data, order, options, rejects_dir, folder) for order, data in enumerate(files)]
    quiet = dataclasses.replace(options, progress=False)
    done: dict[int, tuple[FileResult, "shape.StagedFile | None"]] = {}
    with ThreadPoolExecutor(workers) as pool:
        pending = {pool.submit(_validate_in_a_process, files[order], order, quiet, rejects_dir, folder): order
                   for order in sorted(range(len(files)), key=lambda i: -sizes[i])}
        for future in as_completed(pending):
            order = pending[future]
            done[order] = future.result()  # BulkNotPossible and the like are raised here, as in one process
            result = done[order][0]
            log(f"validated {printable(result.path.name)}: {result.read:,} rows read, {result.rejected:,} rejected")
    return [done[order] for order in range(len(files))]


def _validate_in_a_process(data: DataFile, order: int, options: IngestOptions, rejects_dir: Path,
                           folder: Path) -> tuple[FileResult, "shape.StagedFile | None"]:
    """``_validate`` in a child process of its own; its exception, if any, is raised here."""
    with tempfile.TemporaryDirectory(prefix="validate-", dir=folder) as scratch:
        job, answer = Path(scratch) / "job.pickle", Path(scratch) / "answer.pickle"
        job.write_bytes(pickle.dumps((data, order, options, rejects_dir, folder)))
        done = subprocess.run([sys.executable, "-m", "ringscope.ingest.validate_worker", str(job), str(answer)],
                              capture_output=True, text=True)
        if done.returncode != 0 or not answer.exists():
            raise RuntimeError(f"validating {printable(data.path)} in a child process failed "
                               f"(exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        ok, value = pickle.loads(answer.read_bytes())
    if not ok:
        raise value
    return value


def _size(data: DataFile) -> int:
    try:
        return sum(p.stat().st_size for p in ((data.path,) if data.parts is None else data.parts))
    except OSError:
        return 0  # reported when the file is read


def _validate(data: DataFile, order: int, options: IngestOptions, rejects_dir: Path,
              folder: Path) -> tuple[FileResult, "shape.StagedFile | None"]:
    """Validate one file as the transactional path does and stage its valid rows as Parquet."""
    started = time.monotonic()
    result = FileResult(data.path, data.stem)
    spec = SPECS[data.stem]
    target = folder / f"{order:03d}-{data.stem}"
    try:
        with opened_for_validation(data, options, rejects_dir, result) as (table, validator, rejects):
            writer = _StageWriter(target, spec, data.stem)
            with _Progress(printable(data.path.name), options.progress) as progress:
                if data.fmt in ("csv", "parquet") and not validator.kept and not table.rejects_only:
                    _stage_columnar(table, validator, rejects, result, writer, progress)
                else:
                    for batch in _validated_batches(table, validator, rejects, result, options.batch_size):
                        writer.write(batch.rows, first_row=result.loaded)
                        result.loaded += len(batch.rows)
                        progress.update(len(batch.rows))
            writer.close()
    except FileFormatError as exc:
        result.error = str(exc)
        result.seconds = time.monotonic() - started
        return result, None
    except OSError as exc:
        result.error = f"{printable(data.path)}: {exc.strerror or exc}"
        result.seconds = time.monotonic() - started
        return result, None
    result.read_seconds = time.monotonic() - started
    return result, shape.StagedFile(order, data.stem, str(data.path), checkpoint_key(data), target,
                                    writer.extra_types, result.loaded, writer.replies)


def _stage_columnar(table: Table, validator: Validator, rejects, result: FileResult, writer: "_StageWriter",
                    progress: _Progress, block_bytes: int = BLOCK) -> None:
    """A CSV or Parquet file's valid rows staged block by block: plain CSV blocks and Parquet batches through
    ``columnar`` (the rows it cannot vouch for, and every CSV row outside plain blocks, through the row
    rules), in file order, with the same rows, rejects and counts as the row path."""
    checks = columnar.ColumnarChecks(validator)
    loose: list[dict[str, Any]] = []  # valid rows from outside plain blocks, staged in batches

    def flush_loose() -> None:
        if loose:
            writer.write(loose, first_row=result.loaded)
            result.loaded += len(loose)
            loose.clear()

    for item in table.blocks(block_bytes):
        if isinstance(item, (PlainBlock, ParquetBatch)):
            flush_loose()
            fast, others = columnar.validated_block(checks, item)
            kept, indices = [], []
            for row, values, why in checked_rows(others, validator):
                if values is None:
                    rejects.add(row.where, why, row.raw)
                else:
                    kept.append(values)
                    indices.append(row.line - item.first_line)
            pieces = [t for t in (fast, columnar.staged_rows(validator.spec, kept, indices) if kept else None)
                      if t is not None and t.num_rows]
            staged = None if not pieces else pieces[0] if len(pieces) == 1 else \
                pa.concat_tables(pieces).sort_by("_i")
            valid = staged.num_rows if staged is not None else 0
            result.read += item.lines
            result.rejected += item.lines - valid
            progress.update(valid)
            if valid:
                writer.write_table(staged.drop_columns(["_i"]), first_row=result.loaded)
                result.loaded += valid
            continue
        for row, values, why in checked_rows([item], validator):
            result.read += 1
            if values is None:
                result.rejected += 1
                rejects.add(row.where, why, row.raw)
            else:
                loose.append(values)
        if len(loose) >= 20_000:
            flush_loose()
    flush_loose()


class _StageWriter:
    """Valid rows of one file as Parquet parts: the spec's columns typed, kept unknown columns as
    ``x_<name>``, and ``_row`` (the row's position among the file's valid rows)."""

    def __init__(self, folder: Path, spec, stem: str):
        self.folder, self.spec, self.stem = folder, spec, stem
        self.parts = 0
        self.extra_types: dict[str, str] = {}  # kept unknown column -> arrow type name
        self.replies = 0
        folder.mkdir(parents=True)

    def write_table(self, table: pa.Table, first_row: int) -> None:
        """Rows already typed as ``shape.arrow_column`` types them, the spec's columns in order (no extras)."""
        columns = {"_row": pa.array(range(first_row, first_row + table.num_rows), pa.int64())}
        for column in self.spec.columns:
            columns[column.name] = table.column(column.name)
        if self.stem == "comments":
            self.replies += table.num_rows - table.column("reply_to").null_count
        pq.write_table(pa.table(columns), self.folder / f"part-{self.parts:05d}.parquet", compression="zstd")
        self.parts += 1

    def write(self, rows: list[dict[str, Any]], first_row: int) -> None:
        columns: dict[str, pa.Array] = {"_row": pa.array(range(first_row, first_row + len(rows)), pa.int64())}
        for column in self.spec.columns:
            values = [r.get(column.name) for r in rows]
            columns[column.name] = shape.arrow_column(column.kind, values)
        extras = sorted({k for r in rows for k in (r.get("extra") or {})})
        for name in extras:
            values = [(r.get("extra") or {}).get(name) for r in rows]
            array = shape.extra_column(name, values)
            known = self.extra_types.setdefault(name, str(array.type))
            if known != str(array.type):
                raise BulkNotPossible(f"{self.stem}: the kept unknown column {name!r} holds values of more than one "
                                      f"type ({known}, {array.type}); load this dataset with --mode incremental")
            columns[f"x_{name}"] = array
        if self.stem == "comments":
            self.replies += sum(1 for r in rows if r.get("reply_to") is not None)
        pq.write_table(pa.table(columns), self.folder / f"part-{self.parts:05d}.parquet", compression="zstd")
        self.parts += 1

    def close(self) -> None:
        if self.parts == 0:  # an empty file still has a (typed, empty) table, so the shaping SQL can read it
            self.write([], first_row=0)


CHECKPOINTS = """
UNWIND $rows AS r
MERGE (c:IngestCheckpoint {key: r.key})
SET c.file = r.file, c.rows_done = r.rows_done
"""


def _write_checkpoints(graph: Graph, results: list[FileResult], staged: list["shape.StagedFile"]) -> None:
    """The checkpoints the transactional path leaves: a re-run of the same dataset skips every batch."""
    rows = []
    for stage in staged:
        if stage.rows:
            rows.append({"key": stage.checkpoint, "file": stage.path, "rows_done": stage.rows})
        if stage.replies:
            rows.append({"key": stage.checkpoint + ":replies", "file": "comments:replies",
                         "rows_done": stage.replies})
    for start in range(0, len(rows), CHECKPOINT_ROWS):
        graph.write(CHECKPOINTS, rows=rows[start:start + CHECKPOINT_ROWS])


def report_json(report: BulkReport) -> str:
    return json.dumps({"seconds": report.seconds, "files": [r.line() for r in report.files]}, indent=2)
