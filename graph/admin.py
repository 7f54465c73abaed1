"""Whole-database operations."""

from __future__ import annotations

from ringscope.graph.database import Graph
from ringscope.graph.schema import LATEST, WRITE_VERSION

# Batched so a large graph is emptied without one huge transaction.
DELETE_ALL = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
COUNT_NODES = "MATCH (n) RETURN count(n) AS count"


def reset(graph: Graph) -> None:
    """Delete every node and relationship; the schema (constraints, indexes) stays."""
    # CALL {...} IN TRANSACTIONS needs an implicit (auto-commit) transaction.
    graph.run_auto_commit(DELETE_ALL)
    # The schema step records its version on a node; put it back.
    graph.write(WRITE_VERSION, version=LATEST)


def node_count(graph: Graph) -> int:
    return graph.read(COUNT_NODES)[0]["count"]
