"""Which path loads a dataset: the offline importer into an empty local store, or transactional writes.

``auto`` (the default) takes the bulk path exactly when it can: the tool's own
server and an empty database. Against a server the tool does not manage it
is always incremental. Both paths apply the same rules and build the same
graph (``tests/ingest/test_bulk.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ringscope.graph.database import Graph
from ringscope.graph.server import local
from ringscope.graph.settings import Settings
from ringscope.ingest import bulk, load
from ringscope.ingest.load import FileResult, IngestOptions, IngestReport
from ringscope.ingest.shape import BulkNotPossible

MODES = ("auto", "bulk", "incremental")


def recover_interrupted_bulk(settings: Settings, log: Callable[[str], None] = lambda text: None) -> bool:
    """An import that died half-way leaves a half-written store: empty it before anything connects."""
    marker = settings.local.home / "bulk" / "IMPORTING"
    if not settings.uses_local_server or not marker.exists():
        return False
    log("the last bulk load stopped during the import; emptying the half-built store so it can run again")
    local.wipe_store(settings.local, log=log)
    return True


def chosen_mode(graph: Graph, options: IngestOptions) -> str:
    if options.mode != "auto":
        return options.mode
    if graph.settings.uses_local_server and bulk.database_is_empty(graph):
        return "bulk"
    return "incremental"


def load_dataset(graph: Graph, directory: Path, options: IngestOptions,
                 on_file: Callable[[FileResult], None] | None = None,
                 log: Callable[[str], None] = lambda text: None) -> tuple[str, IngestReport]:
    """Load ``directory`` by the path ``options.mode`` asks for (or ``auto`` picks); (path taken, report)."""
    mode = chosen_mode(graph, options)
    if mode == "bulk":
        try:
            return "bulk", bulk.bulk_ingest(graph, directory, options, on_file=on_file, log=log)
        except BulkNotPossible as exc:
            if options.mode == "bulk":
                raise
            log(f"not bulk-loading: {exc}; loading with transactional writes instead")
    return "incremental", load.ingest(graph, directory, options, on_file=on_file)
