"""What changed since the previous completed run: the stored runs' clusters compared (``compare``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ringscope.detection.compare import ClusterChange, compare_clusters
from ringscope.graph.database import Graph
from ringscope.queries.detection import cluster_members, previous_run


@dataclass(frozen=True)
class Changes:
    previous_run: str | None
    counts: dict[str, int]  # change kind -> clusters
    changes: list[ClusterChange] = field(default_factory=list)


def changes_since_previous(graph: Graph, run_id: str) -> tuple[str | None, list[ClusterChange]]:
    """The previous completed run and how this run's clusters relate to its clusters."""
    before = previous_run(graph, run_id)
    previous = cluster_members(graph, before) if before else {}
    return before, compare_clusters(previous, cluster_members(graph, run_id))


def changes(graph: Graph, run_id: str) -> Changes:
    """What changed since the previous completed run (clusters matched by member overlap), counted by kind."""
    previous, items = changes_since_previous(graph, run_id)
    return Changes(previous, dict(Counter(c.change for c in items)), items)
