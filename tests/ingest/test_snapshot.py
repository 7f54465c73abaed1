"""The bulk load's detection snapshot holds exactly what detection reads from the graph it built.

Every frame is compared with the one ``read_platform`` reads from the freshly
imported graph (rows as multisets, with their dtypes), and the detectors' findings
from each are compared too, on the simulated platform and on a dataset full of
duplicates, stubs, kept columns and sanctions in every state. The snapshot is used
only while nothing has been written since the load.
"""

from __future__ import annotations

import contextvars
from dataclasses import fields

import pandas as pd
import pytest

from ringscope.detection.config import load_detection_policy
from ringscope.common.errors import RingscopeError
from ringscope.detection import pipeline
from ringscope.detection.pipeline import account_risks, run_all
from ringscope.detection.reader import read_platform, read_snapshot
from ringscope.detection.lock import RunInProgress
from ringscope.detection.run import detect
from ringscope.graph import snapshot as detection_snapshot
from ringscope.graph.admin import reset
from ringscope.ingest.load import IngestOptions
from ringscope.ingest.modes import load_dataset
from tests.ingest.datasets import tricky_dataset, write_table

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


def bulk_load(graph, directory, tmp_path, **options):
    reset(graph)
    mode, _ = load_dataset(graph, directory, IngestOptions(rejects_dir=tmp_path / "rej", mode="bulk", **options))
    assert mode == "bulk"
    snapshot = detection_snapshot.current(graph)
    assert snapshot is not None, "a bulk load leaves a current snapshot"
    return snapshot


def rows_sorted(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order; a list value (a note's topics) as a tuple, so that it sorts and compares item by item."""
    df = df.assign(**{c: df[c].map(lambda v: tuple(v) if isinstance(v, list) else v)
                      for c in df.columns if df[c].dtype == object and df[c].map(lambda v: isinstance(v, list)).any()})
    return df.sort_values(list(df.columns), kind="mergesort", na_position="last").reset_index(drop=True)


def assert_same_frames(from_graph, from_snapshot):
    for f in fields(from_graph):
        a, b = getattr(from_graph, f.name), getattr(from_snapshot, f.name)
        assert list(a.columns) == list(b.columns), f.name
        assert dict(a.dtypes) == dict(b.dtypes), f.name
        pd.testing.assert_frame_equal(rows_sorted(a), rows_sorted(b), check_dtype=True, obj=f.name)


def findings(frames, policy):
    """What a run would store: every cluster with its members' scores and reasons, every account's risk."""
    results = run_all(frames, policy)
    clusters = sorted((r.name, c.key, round(c.score, 9), tuple(map(str, c.reasons)),
                       tuple((m, round(c.member_score(m), 9)) for m in c.members))
                      for r in results for c in r.findings)
    risks = {a: (round(r.score, 9), r.cluster_key, r.detectors, r.reasons)
             for a, r in account_risks(results, policy, frames).items()}
    return clusters, risks


def test_the_snapshot_of_the_simulated_platform_is_what_detection_reads_from_the_graph(graph, tmp_path):
    from ringscope.simulate.platform import simulate

    simulate(tmp_path / "sim", accounts=10_000, seed=11)
    snapshot = bulk_load(graph, tmp_path / "sim", tmp_path)
    from_graph, from_snapshot = read_platform(graph), read_snapshot(snapshot)
    assert from_graph.sizes() == from_snapshot.sizes() == snapshot.rows
    assert_same_frames(from_graph, from_snapshot)
    policy = load_detection_policy()
    clusters, risks = findings(from_snapshot, policy)
    assert clusters and risks, "the simulated platform's farms are found"
    assert findings(from_graph, policy) == (clusters, risks)
    # Two runs storing clusters, scores, changes and the observation room: every name their bookkeeping uses
    # was created by the load (graph/model.BOOKKEEPING_*), so each keeps the snapshot current.
    for _ in range(2):
        lines: list[str] = []
        detect(graph, policy, log=lines.append)
        assert any("snapshot stays current" in line for line in lines), [x for x in lines if "snapshot" in x]
    assert graph.read("MATCH (r:DetectionRun) RETURN count(*) AS n")[0]["n"] == 2
    assert graph.read("MATCH (r:DetectionRun {read_from: 'snapshot'}) RETURN sum(r.flagged) AS n")[0]["n"] > 0


def test_the_snapshot_of_a_tricky_dataset_is_what_detection_reads_from_the_graph(graph, tmp_path):
    directory = tricky_dataset(tmp_path / "ds")
    # An input column named like ringscope's own sanction state is refused, so every imported sanction is read.
    write_table(directory, "sanctions", [
        {"sanction_id": "s-revoked", "target_type": "account", "target_id": "a1", "action": "ban",
         "reason": "", "issued_at": "2025-02-01", "state": "revoked"}], fmt="jsonl")
    snapshot = bulk_load(graph, directory, tmp_path, keep_unknown=True)
    from_graph, from_snapshot = read_platform(graph), read_snapshot(snapshot)
    assert from_graph.sizes() == from_snapshot.sizes()
    assert dict(zip(from_snapshot.sanctions.sanction_id, from_snapshot.sanctions.target_id)) == {
        "s-account": "account-x", "s-device": "device-x", "s-brand": "brand-x", "s-intermediary": "intermediary-x",
        "s-note": "note-x", "s-revoked": "a1"}, "each sanction names its target's own key"
    assert from_snapshot.accounts.stub.any(), "stub accounts are in the frame, as in the graph"
    assert_same_frames(from_graph, from_snapshot)


def test_detect_reads_the_snapshot_while_only_detection_runs_wrote_since_the_load(graph, tmp_path):
    snapshot = bulk_load(graph, tricky_dataset(tmp_path / "ds"), tmp_path)
    policy = load_detection_policy()
    lines: list[str] = []
    first = detect(graph, policy, log=lines.append)
    assert any(line.startswith("read ") and "snapshot" in line for line in lines), lines
    assert any("snapshot stays current" in line for line in lines), lines
    # The run's own records were the only commits: the snapshot is current again, and it still holds exactly
    # what the graph holds (a run writes no platform data).
    renewed = detection_snapshot.current(graph)
    assert renewed is not None and renewed.mark != snapshot.mark
    assert_same_frames(read_platform(graph), read_snapshot(renewed))
    lines.clear()
    second = detect(graph, policy, log=lines.append)
    assert any(line.startswith("read ") and "snapshot" in line for line in lines), lines
    assert (second.clusters, second.flagged, second.scored) == (first.clusters, first.flagged, first.scored)
    assert [r["read_from"] for r in graph.read(
        "MATCH (r:DetectionRun) RETURN r.read_from AS read_from ORDER BY r.started_at")] == ["snapshot", "snapshot"]
    # Any other write makes it stale (here a sanction-like change to an account, from outside any run).
    graph.write("MATCH (a:Account) WITH a LIMIT 1 SET a.bio = 'changed after the load'")
    assert detection_snapshot.current(graph) is None
    lines.clear()
    detect(graph, policy, log=lines.append)
    assert any(line.startswith("read ") and "from the graph" in line for line in lines), lines
    assert detection_snapshot.current(graph) is None, "a run that read the graph does not make a snapshot current"
    assert snapshot.folder.exists()
    reset(graph)
    assert not snapshot.folder.exists(), "reset deletes the snapshot of the store it emptied"


def test_a_write_by_someone_else_during_a_run_leaves_the_snapshot_stale(graph, tmp_path):
    """Someone's commit while a run works, even followed by a write of theirs that changes nothing (whose
    bookmark is the latest commit's), is told apart from the run's own."""
    bulk_load(graph, tricky_dataset(tmp_path / "ds"), tmp_path)

    def someone_else() -> None:  # in a context of its own, as another thread or process would be
        graph.write("MATCH (a:Account) WITH a ORDER BY a.account_id LIMIT 1 SET a.bio = 'written during a run'")
        graph.write("MATCH (a:Account) WITH a ORDER BY a.account_id LIMIT 1 SET a.bio = 'written during a run'")

    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if line.startswith("read "):
            contextvars.Context().run(someone_else)

    detect(graph, load_detection_policy(), log=log)
    assert any("snapshot is stale now" in line for line in lines), lines
    assert detection_snapshot.current(graph) is None


def test_read_graph_ignores_a_current_snapshot(graph, tmp_path):
    bulk_load(graph, tricky_dataset(tmp_path / "ds"), tmp_path)
    lines: list[str] = []
    detect(graph, load_detection_policy(), log=lines.append, read="graph")
    assert any(line.startswith("read ") and "from the graph" in line for line in lines), lines


def test_a_run_refused_for_memory_or_a_held_lock_leaves_the_snapshot_current(graph, tmp_path, monkeypatch):
    bulk_load(graph, tricky_dataset(tmp_path / "ds"), tmp_path)
    policy = load_detection_policy()
    # Too little memory for even one detector: refused after reading the snapshot, before any write.
    monkeypatch.setattr(pipeline, "available_memory", lambda: 1)
    with pytest.raises(RingscopeError, match="not enough memory to detect"):
        detect(graph, policy)
    assert detection_snapshot.current(graph) is not None, "the refused run wrote nothing"
    assert not graph.read("MATCH (r:DetectionRun) RETURN r.run_id AS run_id")
    monkeypatch.undo()
    # Another run holds the lock (set here through the driver, which also makes the snapshot stale, so
    # the check is on what the refusal itself writes: nothing).
    graph.write("MERGE (l:DetectionLock {name: 'detect'}) "
                "SET l.run_id = 'run-other', l.expires_at = datetime() + duration({minutes: 5})")
    mark = graph.state_mark()
    with pytest.raises(RunInProgress, match="run-other is still running"):
        detect(graph, policy)
    assert graph.state_mark() == mark, "a run refused by the lock writes nothing"


def test_after_a_refusal_the_next_run_reads_the_snapshot(graph, tmp_path, monkeypatch):
    bulk_load(graph, tricky_dataset(tmp_path / "ds"), tmp_path)
    monkeypatch.setattr(pipeline, "available_memory", lambda: 1)
    with pytest.raises(RingscopeError):
        detect(graph, load_detection_policy())
    monkeypatch.undo()
    lines: list[str] = []
    detect(graph, load_detection_policy(), log=lines.append)
    assert any(line.startswith("read ") and "snapshot" in line for line in lines), lines
