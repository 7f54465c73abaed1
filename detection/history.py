"""What changed since the previous completed run: the stored runs' clusters compared (``compare``).

A run compares itself with the previous completed run when it completes
(``store_changes``, called by ``detection.run``) and keeps the result in the
graph: each of its clusters carries ``change``, ``previous_cluster``,
``previous_size`` and ``jaccard``; each cluster of the previous run that has
no successor carries ``dissolved_in``; the run itself ``compared_with`` and
``change_counts``. Reading the changes of a run (``changes``) is then a read
of one run's clusters, whatever the graph's size; comparing live (reading
both runs' memberships and matching them) took 2.2 s at 100k accounts and
grows with the memberships, which an investigator's first visit to the
overview used to pay. Runs stored before this existed are compared live.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

from ringscope.detection.compare import CHANGE_ORDER, ClusterChange, compare_clusters
from ringscope.graph.database import Graph
from ringscope.queries.detection import cluster_members, previous_run

STORE_CLUSTER_CHANGES = """
UNWIND $changes AS c
MATCH (k:Cluster {cluster_id: c.current_id})
SET k.change = c.change, k.previous_cluster = c.previous_id, k.previous_size = c.previous_size,
    k.jaccard = c.jaccard
"""
STORE_DISSOLVED = """
UNWIND $cluster_ids AS id
MATCH (k:Cluster {cluster_id: id})
SET k.dissolved_in = $run_id
"""
STORE_RUN_CHANGES = """
MATCH (r:DetectionRun {run_id: $run_id})
SET r.compared_with = $previous, r.change_counts = $counts
"""
STORED_RUN_CHANGES = """
MATCH (r:DetectionRun {run_id: $run_id}) WHERE r.change_counts IS NOT NULL
RETURN r.compared_with AS previous, r.change_counts AS counts
"""
# Both sides of one run's changes: its own clusters, and the previous run's clusters it dissolved.
STORED_CHANGES = """
CALL () {
  MATCH (k:Cluster {run_id: $run_id}) WHERE k.change IN $kinds
  RETURN k.change AS change, k.previous_cluster AS previous_id, k.cluster_id AS current_id,
         k.previous_size AS previous_size, k.size AS current_size, k.jaccard AS jaccard
  UNION ALL
  MATCH (k:Cluster {run_id: $previous}) WHERE 'dissolved' IN $kinds AND k.dissolved_in = $run_id
  RETURN 'dissolved' AS change, k.cluster_id AS previous_id, null AS current_id,
         k.size AS previous_size, 0 AS current_size, 0.0 AS jaccard
}
RETURN change, previous_id, current_id, previous_size, current_size, jaccard
"""

KINDS = tuple(CHANGE_ORDER)


@dataclass(frozen=True)
class Changes:
    previous_run: str | None
    counts: dict[str, int]  # change kind -> clusters
    changes: list[ClusterChange] = field(default_factory=list)


def compare_live(graph: Graph, run_id: str) -> tuple[str | None, list[ClusterChange]]:
    """Read both runs' memberships and match their clusters (what ``store_changes`` keeps).

    O(memberships of the two runs) to read and match; see ``compare.compare_clusters``.
    """
    before = previous_run(graph, run_id)
    previous = cluster_members(graph, before) if before else {}
    return before, compare_clusters(previous, cluster_members(graph, run_id))


def store_changes(graph: Graph, run_id: str, batch: int = 2000) -> Changes:
    """Compare ``run_id`` with the previous completed run and keep the result on the clusters and the run."""
    before, items = compare_live(graph, run_id)
    current = [asdict(c) for c in items if c.current_id is not None]
    for start in range(0, len(current), batch):
        graph.write(STORE_CLUSTER_CHANGES, changes=current[start:start + batch])
    dissolved = [c.previous_id for c in items if c.change == "dissolved"]
    for start in range(0, len(dissolved), batch):
        graph.write(STORE_DISSOLVED, cluster_ids=dissolved[start:start + batch], run_id=run_id)
    counts = dict(Counter(c.change for c in items))
    graph.write(STORE_RUN_CHANGES, run_id=run_id, previous=before, counts=json.dumps(counts, sort_keys=True))
    return Changes(before, counts, items)


def _stored(graph: Graph, run_id: str, kinds: tuple[str, ...]) -> Changes | None:
    rows = graph.read(STORED_RUN_CHANGES, run_id=run_id)
    if not rows:
        return None
    previous, counts = rows[0]["previous"], json.loads(rows[0]["counts"])
    items = [ClusterChange(r["change"], r["previous_id"], r["current_id"], r["previous_size"], r["current_size"],
                           r["jaccard"])
             for r in graph.read(STORED_CHANGES, run_id=run_id, previous=previous, kinds=list(kinds))]
    return Changes(previous, counts, sorted(items, key=ClusterChange.sort_key))


def changes(graph: Graph, run_id: str, kinds: tuple[str, ...] = KINDS) -> Changes:
    """What changed since the previous completed run, counted by kind; the changes of ``kinds`` listed.

    Read from what the run stored when it completed (one index lookup and a scan of one run's
    clusters); a run stored before runs kept their changes is compared live.
    """
    stored = _stored(graph, run_id, kinds)
    if stored is not None:
        return stored
    previous, items = compare_live(graph, run_id)
    return Changes(previous, dict(Counter(c.change for c in items)), [c for c in items if c.change in kinds])


def changes_since_previous(graph: Graph, run_id: str) -> tuple[str | None, list[ClusterChange]]:
    """The previous completed run and how this run's clusters relate to its clusters."""
    result = changes(graph, run_id)
    return result.previous_run, result.changes
