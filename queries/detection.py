"""Reading detection runs: the runs, what a run flagged, its clusters, and run-to-run changes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ringscope.graph.database import Graph
from ringscope.common.errors import RingscopeError

# A run shows as ``stalled`` while it says ``running`` but no longer holds the detection lock (its process was
# killed or lost the database; ``detection/lock.py``): the next ``detect`` marks it failed and removes what it
# wrote. A live run renews its lock every minute.
SHOWN_STATUS = """
CASE WHEN r.status = 'running'
          AND NOT coalesce(lock.run_id = r.run_id AND lock.expires_at > datetime(), false)
     THEN 'stalled' ELSE r.status END"""
# The newest ``$limit`` of the runs ``r`` matched before it, as ``RunInfo`` rows with the status shown.
RUN_INFO_ROWS = f"""
OPTIONAL MATCH (lock:DetectionLock {{name: 'detect'}})
RETURN r.run_id AS run_id, {SHOWN_STATUS} AS status, toString(r.started_at) AS started_at,
       toString(r.finished_at) AS finished_at, r.stage AS stage, r.clusters AS clusters,
       r.flagged AS flagged, r.error AS error, toString(r.as_of) AS as_of, r.window_days AS window_days
ORDER BY r.started_at DESC LIMIT $limit
"""
RUNS = "MATCH (r:DetectionRun)" + RUN_INFO_ROWS
LATEST_COMPLETED = """
MATCH (r:DetectionRun {status: 'completed'})
RETURN r.run_id AS run_id ORDER BY r.started_at DESC LIMIT 1
"""
PREVIOUS_COMPLETED = """
MATCH (cur:DetectionRun {run_id: $run_id})
MATCH (r:DetectionRun {status: 'completed'}) WHERE r.started_at < cur.started_at
RETURN r.run_id AS run_id ORDER BY r.started_at DESC LIMIT 1
"""
RUN_STATUS = "MATCH (r:DetectionRun {run_id: $run_id}) RETURN r.status AS status"
FLAGGED = """
MATCH (r:DetectionRun {run_id: $run_id})-[s:SCORED]->(a:Account)
WHERE s.score >= r.flag_threshold
RETURN a.account_id AS account_id, s.score AS score, s.cluster_id AS cluster_id,
       s.detectors AS detectors, s.reasons AS reasons
ORDER BY s.score DESC, a.account_id
"""
MEMBER_IDS_OF_RUN = """
MATCH (:DetectionRun {run_id: $run_id})-[:FOUND]->(:Cluster)-[:HAS_MEMBER]->(a:Account)
RETURN DISTINCT a.account_id AS account_id
"""
FLAGGED_IDS_OF_RUN = """
MATCH (r:DetectionRun {run_id: $run_id})-[s:SCORED]->(a:Account)
WHERE s.score >= r.flag_threshold
RETURN a.account_id AS account_id
"""
MEMBERS_PER_CLUSTER_OF_RUN = """
MATCH (:DetectionRun {run_id: $run_id})-[:FOUND]->(k:Cluster)-[:HAS_MEMBER]->(a:Account)
RETURN k.cluster_id AS cluster_id, collect(a.account_id) AS members
"""


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    status: str
    started_at: str
    finished_at: str | None
    stage: str | None
    clusters: int | None
    flagged: int | None
    error: str | None
    as_of: str | None = None        # ``detect --as-of``: the time the run saw the platform at
    window_days: int | None = None  # ``detect --window``: the days of activity before it


@dataclass(frozen=True)
class FlaggedAccount:
    account_id: str
    score: float
    cluster_id: str
    detectors: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RunAccounts:
    """The accounts a run names: the members of its clusters, and those it flagged (nearly always members
    too; the union is what an investigation of the run starts from)."""

    run_id: str
    members: frozenset[str]
    flagged: frozenset[str]

    @property
    def all(self) -> frozenset[str]:
        return self.members | self.flagged


STALLED = ("stalled: its lock lapsed (the process is gone or lost the database); "
           "the next `ringscope detect` marks it failed and removes what it wrote")


def shown(info: RunInfo) -> RunInfo:
    """A stalled run with the reason as its error (it has none of its own yet)."""
    return replace(info, error=info.error or STALLED) if info.status == "stalled" else info


def runs(graph: Graph, limit: int = 20) -> list[RunInfo]:
    """The latest runs, newest first: running, stalled, completed or failed."""
    return [shown(RunInfo(**r)) for r in graph.read(RUNS, limit=limit)]


def resolve_run(graph: Graph, run: str) -> str:
    """``latest`` -> the latest completed run id; otherwise check the run exists and completed."""
    if run == "latest":
        rows = graph.read(LATEST_COMPLETED)
        if not rows:
            raise RingscopeError("no completed detection run yet: run `ringscope detect` first")
        return rows[0]["run_id"]
    rows = graph.read(RUN_STATUS, run_id=run)
    if not rows:
        raise RingscopeError(f"no detection run {run!r} (see `ringscope runs`)")
    if rows[0]["status"] != "completed":
        raise RingscopeError(f"detection run {run} is {rows[0]['status']}, not completed")
    return run


def flagged(graph: Graph, run_id: str) -> list[FlaggedAccount]:
    return [FlaggedAccount(r["account_id"], r["score"], r["cluster_id"], tuple(r["detectors"]),
                           tuple(r["reasons"])) for r in graph.read(FLAGGED, run_id=run_id)]


def run_accounts(graph: Graph, run_id: str) -> RunAccounts:
    """The member and flagged accounts of ``run_id`` (resolved already: ``resolve_run``). O(members)."""
    return RunAccounts(run_id, frozenset(r["account_id"] for r in graph.read(MEMBER_IDS_OF_RUN, run_id=run_id)),
                       frozenset(r["account_id"] for r in graph.read(FLAGGED_IDS_OF_RUN, run_id=run_id)))


def cluster_members(graph: Graph, run_id: str) -> dict[str, frozenset[str]]:
    return {r["cluster_id"]: frozenset(r["members"]) for r in graph.read(MEMBERS_PER_CLUSTER_OF_RUN, run_id=run_id)}


def previous_run(graph: Graph, run_id: str) -> str | None:
    rows = graph.read(PREVIOUS_COMPLETED, run_id=run_id)
    return rows[0]["run_id"] if rows else None

