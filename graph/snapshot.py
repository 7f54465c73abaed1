"""A columnar copy of the platform data a bulk load wrote, usable while the graph has not changed since.

A bulk load computes the whole graph in DuckDB before the importer writes it
(``ingest/shape.py``); from the same tables it writes what detection reads
(one Parquet file per frame of ``detection.frames.PlatformFrames``) into
``<RINGSCOPE_HOME>/snapshot``. The manifest records the graph's
``state_mark`` taken after the load's last write. Detection reads the files
instead of the graph only while the mark is unchanged: any commit since
(an incremental load, a sanction, a detection run, anyone's write through
another tool), a reset or a new import makes the snapshot stale, and it is
never read again (the next bulk load replaces it; ``reset`` deletes it).

Only the tool's own local server has one: against a server the tool does not
manage, every read goes to the graph.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ringscope.graph.database import Graph
from ringscope.graph.server import local
from ringscope.graph.settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class Snapshot:
    folder: Path
    mark: str  # the graph's state_mark when the snapshot was made current
    rows: dict[str, int]  # frame -> rows

    def path(self, frame: str) -> Path:
        return self.folder / f"{frame}.parquet"


def folder(settings: Settings) -> Path:
    return local.snapshot_dir(settings.local)


def install(settings: Settings, staged: Path, mark: str, rows: dict[str, int]) -> Snapshot:
    """Make ``staged`` (a folder of ``<frame>.parquet``) the snapshot of the graph as ``mark`` identifies it.
    The manifest is written last, so a folder without one (an interrupted install) is never read."""
    target = folder(settings)
    discard(settings)
    staged.rename(target)  # same file system (both under the tool's home): a rename, not a copy
    manifest = target / MANIFEST
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps({"format": FORMAT, "mark": mark, "rows": rows}, indent=2))
    os.replace(tmp, manifest)
    return Snapshot(target, mark, rows)


def discard(settings: Settings) -> None:
    """Delete the snapshot (if any): the store it describes is gone or about to be replaced."""
    shutil.rmtree(folder(settings), ignore_errors=True)


def current(graph: Graph) -> Snapshot | None:
    """The snapshot, if the graph is still exactly what it describes; else ``None``. One short read."""
    if not graph.settings.uses_local_server:
        return None
    manifest = folder(graph.settings) / MANIFEST
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    if data.get("format") != FORMAT or data.get("mark") != graph.state_mark():
        return None
    snapshot = Snapshot(manifest.parent, data["mark"], dict(data.get("rows", {})))
    if not all(snapshot.path(frame).is_file() for frame in snapshot.rows):
        return None
    return snapshot
