"""The overview page's reads: the latest run, its clusters ranked by risk, runs in progress."""

from __future__ import annotations

from dataclasses import dataclass

from ringscope.graph.database import Graph
from ringscope.queries.detection import RUN_INFO_ROWS, RunInfo, shown

LATEST_RUN = """
MATCH (r:DetectionRun {status: 'completed'})
WITH r ORDER BY r.started_at DESC LIMIT 1
RETURN r.run_id AS run_id, r.status AS status, toString(r.started_at) AS started_at,
       toString(r.finished_at) AS finished_at, r.stage AS stage, r.clusters AS clusters,
       r.flagged AS flagged, r.error AS error, r.flag_threshold AS threshold, r.scored AS scored
"""
RUNS_IN_PROGRESS = "MATCH (r:DetectionRun {status: 'running'})" + RUN_INFO_ROWS
TOP_CLUSTERS = """
MATCH (k:Cluster {run_id: $run_id})
RETURN k.cluster_id AS cluster_id, k.detector AS detector, k.score AS score, k.size AS size,
       k.reasons[0] AS reason
ORDER BY k.score DESC, k.size DESC, k.cluster_id LIMIT $limit
"""
DETECTOR_COUNTS = """
MATCH (k:Cluster {run_id: $run_id})
RETURN k.detector AS detector, count(*) AS clusters, sum(k.size) AS memberships
ORDER BY clusters DESC
"""


@dataclass(frozen=True)
class LatestRun:
    run_id: str
    started_at: str
    finished_at: str | None
    clusters: int
    flagged: int
    scored: int
    threshold: float


@dataclass(frozen=True)
class RankedCluster:
    cluster_id: str
    detector: str
    score: float
    size: int
    reason: str | None


def latest_run(graph: Graph) -> LatestRun | None:
    rows = graph.read(LATEST_RUN)
    if not rows:
        return None
    r = rows[0]
    return LatestRun(r["run_id"], r["started_at"], r["finished_at"], r["clusters"] or 0, r["flagged"] or 0,
                     r["scored"] or 0, r["threshold"] if r["threshold"] is not None else 0.5)


def runs_in_progress(graph: Graph, limit: int = 10) -> list[RunInfo]:
    """Runs that say ``running``: those still at work, and stalled ones (``queries.detection.SHOWN_STATUS``)."""
    return [shown(RunInfo(**r)) for r in graph.read(RUNS_IN_PROGRESS, limit=limit)]


def top_clusters(graph: Graph, run_id: str, limit: int = 50) -> list[RankedCluster]:
    return [RankedCluster(**r) for r in graph.read(TOP_CLUSTERS, run_id=run_id, limit=limit)]


def detector_counts(graph: Graph, run_id: str) -> dict[str, int]:
    return {r["detector"]: r["clusters"] for r in graph.read(DETECTOR_COUNTS, run_id=run_id)}
