"""What the database holds: a count per node label and per relationship type."""

from __future__ import annotations

from dataclasses import dataclass

from ringscope.graph.database import Graph

# The tool's own bookkeeping, not platform data.
INTERNAL_LABELS = frozenset({"RingscopeSchema", "IngestCheckpoint", "DetectionLock", "AuditHead",
                             "CommitStamp"})

LIST_LABELS = "CALL db.labels() YIELD label RETURN label ORDER BY label"
LIST_TYPES = "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType AS type ORDER BY type"
# Counts come from Neo4j's count store, which the planner uses only for a
# literal label or type: a dynamic `$($label)` scans every node (measured:
# AllNodesScan). So the name is written into the query, but it comes from
# the database's own catalogue (db.labels()), never from a user, and is
# quoted as an identifier.
COUNT_LABEL = "MATCH (n:{label}) RETURN count(n) AS count"
COUNT_TYPE = "MATCH ()-[r:{type}]->() RETURN count(r) AS count"


def quoted(name: str) -> str:
    """A catalogue name as a Cypher identifier: `name`, with backticks doubled."""
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class KindCount:
    kind: str  # a node label (CamelCase) or relationship type (UPPER_SNAKE)
    count: int
    is_node: bool


def graph_stats(graph: Graph, include_internal: bool = False) -> list[KindCount]:
    """Counts of every label and relationship type present (count > 0)."""
    out = []
    for record in graph.read(LIST_LABELS):
        label = record["label"]
        if label in INTERNAL_LABELS and not include_internal:
            continue
        count = graph.read(COUNT_LABEL.format(label=quoted(label)))[0]["count"]
        if count:
            out.append(KindCount(label, count, True))
    for record in graph.read(LIST_TYPES):
        count = graph.read(COUNT_TYPE.format(type=quoted(record["type"])))[0]["count"]
        if count:
            out.append(KindCount(record["type"], count, False))
    return out
