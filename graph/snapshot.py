"""A columnar copy of the platform data a bulk load wrote, usable while the graph has not changed since.

A bulk load computes the whole graph in DuckDB before the importer writes it
(``ingest/shape.py``); from the same tables it writes what detection reads
(one Parquet file per frame of ``detection.frames.PlatformFrames``) into
``<RINGSCOPE_HOME>/snapshot``. The manifest records the graph's
``state_mark`` taken after the load's last write. Detection reads the files
instead of the graph only while the mark is unchanged: any commit since
(an incremental load, a sanction, anyone's write through another tool), a
reset or a new import makes the snapshot stale, and it is never read again
(the next bulk load replaces it; ``reset`` deletes it). One kind of commit
does not: a detection run's own bookkeeping (its run record, lock, clusters,
scores, observation room) changes no platform data, so a run that read the
snapshot and whose writes were the only commits since ``renew``s it
(``graph/commits.py`` tells those commits apart).

Only the tool's own local server has one: against a server the tool does not
manage, every read goes to the graph.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ringscope.graph import commits
from ringscope.graph.database import Graph
from ringscope.graph.model import BOOKKEEPING_LABELS, BOOKKEEPING_PROPERTIES, BOOKKEEPING_TYPES
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
    _write_manifest(target, {"format": FORMAT, "mark": mark, "rows": rows})
    return Snapshot(target, mark, rows)


def _write_manifest(target: Path, data: dict) -> None:
    """Write the manifest whole or not at all (a reader never sees half of one)."""
    manifest = target / MANIFEST
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, manifest)


# Names that exist already commit nothing (measured on 5.26: the bookmark stays).
CREATE_NAMES = """
CALL { UNWIND $labels AS name CALL db.createLabel(name) }
CALL { UNWIND $types AS name CALL db.createRelationshipType(name) }
CALL { UNWIND $properties AS name CALL db.createProperty(name) }
"""


def create_bookkeeping_names(graph: Graph) -> None:
    """Create the names detection's bookkeeping writes (``model.BOOKKEEPING_*``), before the snapshot's mark
    is taken: see ``renew``."""
    graph.execute(CREATE_NAMES, labels=list(BOOKKEEPING_LABELS), types=list(BOOKKEEPING_TYPES),
                  properties=list(BOOKKEEPING_PROPERTIES))


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


@dataclass(frozen=True)
class Renewal:
    """Whether ``renew`` made the snapshot current again, and if not, why."""

    renewed: bool
    why_not: str = ""


def renew(graph: Graph, snapshot: Snapshot, own: commits.OwnCommits) -> Renewal:
    """Make ``snapshot`` current again when every commit since its mark is one of ``own`` (writes that change
    no platform data: the caller's promise). Anything else (someone else's commit, a write whose commit could
    not be named, a rebuilt store, a snapshot replaced meanwhile) leaves it as it is, and says so.
    One short read; O(commits since the mark)."""
    now = graph.state_mark()
    then_created, _, then_bookmark = snapshot.mark.partition("|")
    now_created, _, now_bookmark = now.partition("|")
    since, latest = commits.position(then_bookmark), commits.position(now_bookmark)
    if then_created != now_created or since is None or latest is None:
        return Renewal(False, "the store was rebuilt, or its bookmarks are of a format not known here")
    if not own.cover(since, latest):
        others = own.others(since, latest)
        if others is None:
            return Renewal(False, "the store was rebuilt")
        shown = ", ".join(map(str, others[:5])) + (" ..." if len(others) > 5 else "")
        return Renewal(False, f"{len(others)} of the {latest.transaction - since.transaction} commits since were "
                              f"not this run's ({shown or 'none'}); {own.unknown} of its writes could not be named")
    manifest = snapshot.folder / MANIFEST
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return Renewal(False, "its manifest is gone")
    if data.get("mark") != snapshot.mark:
        return Renewal(False, "a new bulk load replaced it")
    _write_manifest(snapshot.folder, {**data, "mark": now})
    return Renewal(True)
