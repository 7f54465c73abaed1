"""``ringscope detect``: one stored detection run, never overlapping another.

A run takes the detection lock (``detection/lock.py``: renewed by a heartbeat
while the run works; a run whose process is gone frees it at once on its own
machine, after ``LOCK_TTL_MINUTES`` elsewhere, and is then marked failed), records itself as ``running`` (visible to the app and
``ringscope runs``), reads the graph, runs the detectors, stores its clusters
and per-account scores, compares its clusters with the previous run's (kept
in the graph, so the app's first visit after a run reads them instead of
computing them), updates the observation room (``watch/``: escalations, releases, new stays; once per run),
and only then marks itself ``completed``. A failed
run is marked ``failed`` and its partial results removed; "latest" always
means the latest *completed* run, so the previous results stay in force.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterator, Protocol

from ringscope.common.version import code_version
from ringscope.detection import as_of as time_frames
from ringscope.detection.as_of import TimeFrame
from ringscope.detection.config import DetectionPolicy
from ringscope.detection.findings import ClusterFinding
from ringscope.detection.history import store_changes
from ringscope.detection.lock import LOCK_TTL_MINUTES, DetectionLock, Holder, refuse_if_held
from ringscope.detection.frames import PlatformFrames
from ringscope.detection.pipeline import (DetectorResult, account_risks, flagged_ids, planned_workers, run_all,
                                        validate_params)
from ringscope.detection.reader import data_watermark, read_platform, read_snapshot
from ringscope.detection.scoring import AccountRisk
from ringscope.graph import commits
from ringscope.graph import snapshot as detection_snapshot
from ringscope.graph.database import Graph
from ringscope.common.errors import SettingError
from ringscope.watch.service import update_room

WRITE_BATCH = 2_000
READ_CHOICES = ("auto", "graph")
AS_OF_ON_SPARK = ("--as-of is not yet supported with --engine spark (the local engine cuts what it reads to the "
                  "time; detect --engine local --as-of ...)")


CREATE_RUN = """
CREATE (r:DetectionRun {run_id: $run_id, status: 'running', started_at: datetime(),
        policy: $policy, code_version: $code_version, flag_threshold: $flag_threshold, read_from: $read_from,
        as_of: $as_of, window_days: $window_days})
"""
STAGE = "MATCH (r:DetectionRun {run_id: $run_id}) SET r.stage = $stage"
# The detectors whose findings an earlier run kept and this one read back (``detect --resume``), and when made.
KEPT_FINDINGS = "MATCH (r:DetectionRun {run_id: $run_id}) SET r.kept_findings = $kept"
WRITE_CLUSTERS = """
MATCH (r:DetectionRun {run_id: $run_id})
UNWIND $clusters AS c
CREATE (k:Cluster {cluster_id: c.cluster_id, run_id: $run_id, detector: c.detector, key: c.key,
                   score: c.score, size: c.size, reasons: c.reasons, evidence: c.evidence})
CREATE (r)-[:FOUND]->(k)
WITH k, c
UNWIND c.members AS m
MATCH (a:Account {account_id: m.account_id})
CREATE (k)-[:HAS_MEMBER {score: m.score}]->(a)
"""
# The rest of a large cluster's members, after the transaction that created it (``cluster_writes``).
WRITE_MORE_MEMBERS = """
MATCH (k:Cluster {run_id: $run_id, cluster_id: $cluster_id})
UNWIND $members AS m
MATCH (a:Account {account_id: m.account_id})
CREATE (k)-[:HAS_MEMBER {score: m.score}]->(a)
"""
# The most HAS_MEMBER relationships one transaction creates. A transaction's changes are held in the server's
# heap until it commits: 200 clusters in one, as before, held up to 516,656 members at 10 M accounts (copied_notes'
# largest cluster alone 102,898) and a 1 GB heap died of it (benchmarks/results/spark_detection.md, 2026-12-06).
MEMBERS_PER_TRANSACTION = 20_000
CLUSTERS_PER_TRANSACTION = 200

# An engine detects over its own data (the Spark engine: the platform's lake), so the graph need not hold
# every account it names (after `ingest --subgraph` it holds only what investigators open): those are
# created as stubs, as a load creates the target of a dangling reference, so the run's HAS_MEMBER and
# SCORED relationships are all stored; a later load of the accounts fills them (``ingest --subgraph``).
WRITE_STUB_ACCOUNTS = """
UNWIND $account_ids AS account_id
MERGE (a:Account {account_id: account_id})
ON CREATE SET a.stub = true
"""
WRITE_SCORES = """
MATCH (r:DetectionRun {run_id: $run_id})
UNWIND $scores AS s
MATCH (a:Account {account_id: s.account_id})
CREATE (r)-[:SCORED {score: s.score, cluster_id: s.cluster_id, detectors: s.detectors, reasons: s.reasons}]->(a)
"""
COMPLETE_RUN = """
MATCH (r:DetectionRun {run_id: $run_id})
SET r.status = 'completed', r.finished_at = datetime(), r.stage = null,
    r.watermark = $watermark, r.durations = $durations, r.clusters = $clusters, r.flagged = $flagged,
    r.scored = $scored
"""
# What detectors rated besides accounts (``DetectorResult.ratings``: trending_heat's entries), as JSON on the run.
WRITE_RATINGS = "MATCH (r:DetectionRun {run_id: $run_id}) SET r.ratings = $ratings"
RUN_IS_RUNNING = "MATCH (r:DetectionRun {run_id: $run_id, status: 'running'}) RETURN r.run_id AS run_id"
# The stage stays: where a failed run stopped.
FAIL_RUN = """
MATCH (r:DetectionRun {run_id: $run_id})
SET r.status = 'failed', r.finished_at = datetime(), r.error = $error
"""
DELETE_PARTIAL = """
MATCH (:DetectionRun {run_id: $run_id})-[:FOUND]->(k:Cluster)
CALL (k) { DETACH DELETE k } IN TRANSACTIONS OF 1000 ROWS
"""
DELETE_PARTIAL_SCORES = """
MATCH (:DetectionRun {run_id: $run_id})-[s:SCORED]->()
CALL (s) { DELETE s } IN TRANSACTIONS OF 10000 ROWS
"""


@dataclass
class RunSummary:
    run_id: str
    clusters: int
    flagged: int
    scored: int
    durations: dict[str, float] = field(default_factory=dict)


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"run-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"



def cluster_id(run_id: str, finding: ClusterFinding) -> str:
    return f"{run_id}:{finding.key}"


def _cluster_rows(run_id: str, results: list[DetectorResult]) -> list[dict]:
    rows = []
    seen = set()
    for result in results:
        for finding in result.findings:
            cid = cluster_id(run_id, finding)
            if cid in seen:  # the same members found twice by one detector
                continue
            seen.add(cid)
            rows.append({
                "cluster_id": cid, "detector": finding.detector, "key": finding.key,
                "score": float(finding.score), "size": len(finding.members),
                "reasons": [r.text for r in finding.reasons],
                "evidence": json.dumps([[{"kind": e.kind, "ids": list(e.ids)} for e in r.evidence]
                                        for r in finding.reasons], ensure_ascii=False),
                "members": [{"account_id": a, "score": float(finding.member_score(a))} for a in finding.members],
            })
    return rows


def _ratings(run_id: str, results: list[DetectorResult]) -> dict[str, list[dict]]:
    """Each detector's ratings (those with any), the cluster keys they name turned into the run's cluster ids."""
    return {r.name: [{**x, "clusters": [f"{run_id}:{k}" for k in x.get("clusters", ())]} for x in r.ratings]
            for r in results if r.ratings}


def _score_rows(run_id: str, risks: dict[str, AccountRisk]) -> list[dict]:
    return [{"account_id": r.account_id, "score": r.score, "cluster_id": f"{run_id}:{r.cluster_key}",
             "detectors": list(r.detectors), "reasons": list(r.reasons)} for r in risks.values()]


def _write_stub_accounts(graph: Graph, account_ids: list[str]) -> int:
    """Make every one of ``account_ids`` an Account node, a stub where the graph had none; how many stubs
    were made. O(ids), in batches of ``WRITE_BATCH``."""
    made = 0
    for start in range(0, len(account_ids), WRITE_BATCH):
        made += graph.execute(WRITE_STUB_ACCOUNTS, account_ids=account_ids[start:start + WRITE_BATCH]).nodes_created
    return made


def cluster_writes(clusters: list[dict], max_members: int = MEMBERS_PER_TRANSACTION,
                   max_clusters: int = CLUSTERS_PER_TRANSACTION) -> Iterator[tuple[str, dict]]:
    """The transactions that store ``clusters`` (``_cluster_rows``), in order: ``("clusters", {"clusters":
    rows})`` with at most ``max_clusters`` clusters and ``max_members`` members in all (a larger cluster with
    its first ``max_members``), each followed by ``("members", {"cluster_id": ..., "members": chunk})`` for
    the rest of its large clusters' members, ``max_members`` at a time: no transaction creates more than
    ``max_members`` HAS_MEMBER relationships, and a cluster exists before its later members are added. Every
    member is written once. O(members)."""
    batch: list[dict] = []
    held = 0
    for row in clusters:
        first = min(len(row["members"]), max_members)
        if batch and (len(batch) >= max_clusters or held + first > max_members):
            yield from _flushed(batch, max_members)
            batch, held = [], 0
        batch.append(row)
        held += first
    if batch:
        yield from _flushed(batch, max_members)


def _flushed(batch: list[dict], max_members: int) -> Iterator[tuple[str, dict]]:
    yield "clusters", {"clusters": [{**row, "members": row["members"][:max_members]} for row in batch]}
    for row in batch:
        for start in range(max_members, len(row["members"]), max_members):
            yield "members", {"cluster_id": row["cluster_id"], "members": row["members"][start:start + max_members]}


def _write_clusters(graph: Graph, clusters: list[dict], run_id: str) -> None:
    for kind, params in cluster_writes(clusters, MEMBERS_PER_TRANSACTION, CLUSTERS_PER_TRANSACTION):
        graph.write(WRITE_CLUSTERS if kind == "clusters" else WRITE_MORE_MEMBERS, run_id=run_id, **params)


def _write_batches(graph: Graph, cypher: str, key: str, rows: list[dict], run_id: str, size: int) -> None:
    for start in range(0, len(rows), size):
        graph.write(cypher, run_id=run_id, **{key: rows[start:start + size]})


class Engine(Protocol):
    """Where a run's detectors run, when not in this process over frames read here: the Spark engine
    (``ringscope.spark.engine.SparkEngine``). The run is stored the same way whichever ran it."""

    @property
    def name(self) -> str: ...      # recorded as the run's ``read_from``

    def check(self, policy: DetectionPolicy) -> None: ...  # raises, before any write, for what it cannot run

    def run(self, policy: DetectionPolicy, on_done: Callable[[DetectorResult], None] | None = None,
            log: Callable[[str], None] = lambda line: None
            ) -> tuple[list[DetectorResult], PlatformFrames]: ...  # the findings, and the frames the risks read


@dataclass
class _Input:
    """What a run detects on, and where it came from."""

    frames: PlatformFrames
    watermark: dict
    seconds: float
    workers: int | None  # planned already (``planned_workers``), or None: ``run_all`` plans


def detect(graph: Graph, policy: DetectionPolicy, log: Callable[[str], None] = lambda s: None,
           read: str = "auto", engine: Engine | None = None, time_frame: TimeFrame | None = None) -> RunSummary:
    """One complete detection run over the whole graph; returns its summary.

    ``read="auto"`` reads the bulk load's snapshot when nothing has been written since the load, the graph
    otherwise; ``"graph"`` always reads the graph. From the snapshot, the frames are read and the memory
    plan made before the run's first write (the lock, the run record): any write makes the snapshot stale,
    so a run refused there (another run holds the lock, or it would not fit in memory) leaves it current
    for the next try. Reading the graph is done inside the run, so that the run shows as ``running``.

    With an ``engine``, the detectors run there over its own data (``read`` does not apply) and the run
    is stored here as any other.

    With a ``time_frame`` (``ringscope detect --as-of TIME [--window DAYS]``), the frames read are cut to what had
    happened by its time (``detection/as_of.py``), the run records the time and window (``as_of``,
    ``window_days``) and the observation room follows it at that time, not the wall clock's."""
    if read not in READ_CHOICES:
        raise ValueError(f"read must be one of {READ_CHOICES}, not {read!r}")
    validate_params(policy)  # a bad setting fails before any run is recorded
    if engine is not None and time_frame is not None:
        raise SettingError(AS_OF_ON_SPARK)
    if engine is not None:
        engine.check(policy)
    refuse_if_held(graph)
    snapshot = detection_snapshot.current(graph) if read == "auto" and engine is None else None
    prepared = None
    if snapshot:
        started = time.monotonic()
        watermark = data_watermark(graph)
        frames = read_snapshot(snapshot)
        if time_frame is not None:
            frames, watermark = _cut(frames, time_frame, log)
        prepared = _Input(frames, watermark, time.monotonic() - started, planned_workers(frames, policy))
    run_id = new_run_id()
    with commits.recording() as own:
        with DetectionLock(graph, run_id) as lock:
            if lock.taken.abandoned is not None:
                _abandon(graph, lock.taken.abandoned, run_id, log)
            graph.write(CREATE_RUN, run_id=run_id, policy=policy.model_dump_json(), code_version=code_version(),
                        flag_threshold=policy.flag_threshold,
                        read_from=engine.name if engine else "snapshot" if snapshot else "graph",
                        as_of=time_frame.as_of if time_frame else None,
                        window_days=time_frame.window_days if time_frame else None)
            try:
                summary = (_work_on(engine, graph, policy, run_id, log) if engine is not None
                           else _work(graph, policy, run_id, log, prepared, time_frame))
            except BaseException as exc:
                _fail(graph, run_id, exc)
                raise
    if snapshot is not None:
        _keep_snapshot(graph, snapshot, own, log)
    return summary


def _keep_snapshot(graph: Graph, snapshot: detection_snapshot.Snapshot, own: commits.OwnCommits,
                   log: Callable[[str], None]) -> None:
    """A run from the snapshot writes no platform data (the stubs of ``_store`` are for an engine's findings
    only), so when its writes were the only commits, the next run may read the snapshot too (instead of
    the whole graph: ~13 s against ~110 s at 1 M accounts)."""
    renewal = detection_snapshot.renew(graph, snapshot, own)
    if renewal.renewed:
        log("the bulk load's snapshot stays current: this run's own records were the only writes since")
    else:
        log(f"the bulk load's snapshot is stale now ({renewal.why_not}): the next run reads the graph")


def _cut(frames: PlatformFrames, time_frame: TimeFrame, log: Callable[[str], None]) -> tuple[PlatformFrames, dict]:
    """The frames as of the run's time (``detection/as_of.py``) and the watermark of what it sees."""
    frames, left = time_frames.cut(frames, time_frame)
    log(f"{time_frame.describe()}: {left.describe()}")
    return frames, time_frames.watermark(frames, time_frame)


def _work(graph: Graph, policy: DetectionPolicy, run_id: str, log: Callable[[str], None],
          prepared: _Input | None, time_frame: TimeFrame | None = None) -> RunSummary:
    durations: dict[str, float] = {}
    if prepared is None:
        started = time.monotonic()
        graph.write(STAGE, run_id=run_id, stage="reading the graph")
        watermark = data_watermark(graph)
        frames = read_platform(graph)
        if time_frame is not None:
            frames, watermark = _cut(frames, time_frame, log)
        prepared = _Input(frames, watermark, time.monotonic() - started, None)
        source = "from the graph"
    else:
        source = "from the bulk load's snapshot (nothing written since the load)"
    frames, watermark = prepared.frames, prepared.watermark
    durations["read"] = prepared.seconds
    log(f"read {', '.join(f'{k} {v:,}' for k, v in frames.sizes().items())} in {durations['read']:.1f} s "
        + source)

    results = run_all(frames, policy, on_done=_progress(graph, run_id, log, durations), workers=prepared.workers)
    return _store(graph, policy, run_id, log, durations, results, frames, watermark,
                  as_of=time_frame.as_of if time_frame else None)


def _work_on(engine: Engine, graph: Graph, policy: DetectionPolicy, run_id: str,
             log: Callable[[str], None]) -> RunSummary:
    durations: dict[str, float] = {}
    graph.write(STAGE, run_id=run_id, stage=f"running on {engine.name}")
    watermark = data_watermark(graph)
    log(f"running the detectors on {engine.name}")
    results, frames = engine.run(policy, on_done=_progress(graph, run_id, log, durations), log=log)
    kept = [f"{r.name} {r.kept_from}" for r in results if r.kept_from]
    if kept:
        graph.write(KEPT_FINDINGS, run_id=run_id, kept=kept)
    return _store(graph, policy, run_id, log, durations, results, frames, watermark, accounts_may_be_missing=True)


def _progress(graph: Graph, run_id: str, log: Callable[[str], None],
              durations: dict[str, float]) -> Callable[[DetectorResult], None]:
    def done(result: DetectorResult) -> None:
        durations[result.name] = result.seconds
        if result.kept_from:
            log(f"{result.name}: {len(result.findings)} clusters kept by an earlier run over the same files, "
                f"settings and code (made {result.kept_from} in {result.seconds:.1f} s): not run again")
        else:
            log(f"{result.name}: {len(result.findings)} clusters in {result.seconds:.1f} s")
        graph.write(STAGE, run_id=run_id, stage=f"ran {result.name}")
    return done


def _store(graph: Graph, policy: DetectionPolicy, run_id: str, log: Callable[[str], None],
           durations: dict[str, float], results: list[DetectorResult], frames: PlatformFrames,
           watermark: dict, accounts_may_be_missing: bool = False, as_of: datetime | None = None) -> RunSummary:
    """The account risks, the run's clusters and scores, the comparison with the previous run, and the
    run marked completed. ``accounts_may_be_missing``: the findings come from data other than the graph
    (an engine's), so accounts the graph lacks are first created as stubs."""
    risks = account_risks(results, policy, frames)
    started = time.monotonic()
    graph.write(STAGE, run_id=run_id, stage="storing results")
    clusters = _cluster_rows(run_id, results)
    if accounts_may_be_missing:
        named = sorted({m["account_id"] for c in clusters for m in c["members"]} | set(risks))
        stubs = _write_stub_accounts(graph, named)
        if stubs:
            log(f"{stubs:,} of the {len(named):,} accounts the run names are not in the graph: stored as stubs "
                f"(`ringscope ingest --subgraph {run_id} --source ...` loads them and their neighbourhoods)")
    _write_clusters(graph, clusters, run_id)
    _write_batches(graph, WRITE_SCORES, "scores", _score_rows(run_id, risks), run_id, WRITE_BATCH)
    ratings = _ratings(run_id, results)
    if ratings:
        graph.write(WRITE_RATINGS, run_id=run_id, ratings=json.dumps(ratings, ensure_ascii=False))
    durations["store"] = time.monotonic() - started
    # What the app shows first (changes since the previous run) is computed now, not on the first visit.
    started = time.monotonic()
    graph.write(STAGE, run_id=run_id, stage="comparing with the previous run")
    compared = store_changes(graph, run_id)
    durations["compare"] = time.monotonic() - started
    log(f"compared with {compared.previous_run or 'no previous run'}: "
        f"{', '.join(f'{k} {v}' for k, v in sorted(compared.counts.items())) or 'no clusters'} "
        f"in {durations['compare']:.1f} s")
    # The observation room follows the run's risks (escalate, release, extend, place), once per run, in the
    # transaction that marks the run completed: a run is completed exactly when the room has followed it.
    started = time.monotonic()
    graph.write(STAGE, run_id=run_id, stage="updating the observation room")
    flagged = len(flagged_ids(risks, policy))

    def complete(tx) -> None:
        durations["watch"] = time.monotonic() - started
        tx.execute(COMPLETE_RUN, run_id=run_id, watermark=json.dumps(watermark, default=str),
                   durations=json.dumps({k: round(v, 3) for k, v in durations.items()}),
                   clusters=len(clusters), flagged=flagged, scored=len(risks))

    room = update_room(graph, run_id, policy.watch, policy.flag_threshold, also=complete, as_of=as_of)
    durations["watch"] = time.monotonic() - started
    if room.skipped:
        log(f"observation room: not changed: {room.skipped}")
    else:
        log(f"observation room: {', '.join(f'{k} {v}' for k, v in sorted(room.counts.items())) or 'no change'} "
            f"in {durations['watch']:.1f} s")
    return RunSummary(run_id, len(clusters), flagged, len(risks), durations)


def _abandon(graph: Graph, held: Holder, run_id: str, log: Callable[[str], None]) -> None:
    """Mark the run that held the lock before ``run_id`` failed, its partial results removed, if it still shows
    as running: its process ended without finishing it (``DetectionLock.taken``)."""
    if not graph.read(RUN_IS_RUNNING, run_id=held.run_id):
        return
    why = ("its process is gone (killed by the system or a user, or its machine stopped)" if not held.expired
           else f"its lock expired: no heartbeat for {LOCK_TTL_MINUTES} minutes (its process ended or lost the "
                f"database)")
    _mark_failed(graph, held.run_id,
                 f"ended without finishing: {why}; marked failed and its partial results removed by {run_id}")
    log(f"run {held.describe()} ended without finishing ({why}): marked failed, its partial results removed")


def _mark_failed(graph: Graph, run_id: str, error: str) -> None:
    """Run ``run_id`` marked failed with ``error``, its partial clusters and scores removed."""
    # CALL {...} IN TRANSACTIONS: each needs an implicit transaction of its own.
    graph.run_auto_commit(DELETE_PARTIAL, run_id=run_id)
    graph.run_auto_commit(DELETE_PARTIAL_SCORES, run_id=run_id)
    graph.write(FAIL_RUN, run_id=run_id, error=error[:2000])


def _fail(graph: Graph, run_id: str, exc: BaseException) -> None:
    try:
        _mark_failed(graph, run_id, f"{type(exc).__name__}: {exc}")
    except Exception:
        pass  # the database itself may be what failed; the run stays 'running' until someone looks
