"""Whole-database operations: how much the graph holds, and emptying it."""

from __future__ import annotations

from dataclasses import dataclass

from ringscope.graph import snapshot
from ringscope.graph.database import Graph
from ringscope.graph.schema import LATEST, WRITE_VERSION, ensure_schema
from ringscope.graph.server import local

# Batched so a large graph is emptied without one huge transaction.
DELETE_ALL = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
COUNT_NODES = "MATCH (n) RETURN count(n) AS count"
# Both answered from the count store, in constant time.
SIZE = "CALL () { MATCH (n) RETURN count(n) AS nodes } CALL () { MATCH ()-[r]->() RETURN count(r) AS rels } " \
       "RETURN nodes, rels"

# Below this many nodes and relationships, deleting in place (well under a second for the test graphs)
# beats restarting the JVM (~15-30 s); above it the local server's store is swapped for an empty one.
IN_PLACE_LIMIT = 200_000


@dataclass(frozen=True)
class ResetOutcome:
    how: str  # "in place" (batched DETACH DELETE) | "new store" (the local server's store replaced)
    nodes: int  # what the graph held before
    relationships: int


def reset(graph: Graph, log=lambda text: None) -> ResetOutcome:
    """Delete every node and relationship; the schema (constraints, indexes) stays or is made again.

    On the tool's own server a large graph is emptied by replacing its store (stop, delete, start:
    seconds instead of the 10+ minutes a batched delete of a million-account graph takes); the
    process's drivers keep working because the local server runs without bookmarks (see
    ``Graph._bookmarks``). A server the tool does not manage is emptied in place, in batches.
    """
    size = graph.read(SIZE)[0]
    nodes, rels = size["nodes"], size["rels"]
    if graph.settings.uses_local_server and nodes + rels > IN_PLACE_LIMIT:
        local.wipe_store(graph.settings.local, log=log)
        ensure_schema(graph.driver, graph.database)
        how = "new store"
    else:
        # CALL {...} IN TRANSACTIONS needs an implicit (auto-commit) transaction.
        graph.run_auto_commit(DELETE_ALL)
        if graph.settings.uses_local_server:
            snapshot.discard(graph.settings)  # stale already (the store changed); free its disk
        how = "in place"
    # The schema step records its version on a node; put it back.
    graph.write(WRITE_VERSION, version=LATEST)
    return ResetOutcome(how, nodes, rels)


def node_count(graph: Graph) -> int:
    return graph.read(COUNT_NODES)[0]["count"]
