"""Detection runs against the real Neo4j: stored runs, flagged output, locking, failure, comparison."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from dataclasses import replace

import pytest

import ringscope.commands.cli as cli
import ringscope.detection.pipeline as pipeline
from ringscope.detection.config import load_detection_policy
from ringscope.detection.lock import Holder, RunInProgress, stat_start
from ringscope.detection.run import detect
from ringscope.ingest.load import IngestOptions, ingest
from ringscope.detection.history import changes_since_previous
from ringscope.queries.detection import flagged, resolve_run, runs
from ringscope.simulate.platform import simulate

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def platform_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sim") / "platform"
    simulate(directory, accounts=3000, seed=11, fmt="csv.gz")
    return directory


@pytest.fixture(scope="module")
def loaded(session_graph, platform_dir, tmp_path_factory):
    """One platform for the module; the tests add runs and use their own ids for locks."""
    from ringscope.graph.admin import reset

    reset(session_graph)
    report = ingest(session_graph, platform_dir,
                    IngestOptions(rejects_dir=tmp_path_factory.mktemp("rejects")))
    assert not report.failed
    return session_graph


def labels(platform_dir) -> dict[str, bool]:
    import pandas as pd

    frame = pd.read_csv(platform_dir / "labels.csv.gz", dtype=str)
    return dict(zip(frame["account_id"], frame["is_fake"].str.lower() == "true"))


def test_detectors_in_two_processes_find_what_one_process_finds(loaded, monkeypatch):
    from ringscope.detection.pipeline import run_all
    from ringscope.detection.reader import read_platform

    frames, policy = read_platform(loaded), load_detection_policy()
    one = run_all(frames, policy, workers=1)
    seen = []
    two = run_all(frames, policy, on_done=lambda r: seen.append(r.name), workers=2)
    assert [r.name for r in two] == [r.name for r in one] and sorted(seen) == sorted(r.name for r in one)
    assert [r.findings for r in two] == [r.findings for r in one]
    assert sum(len(r.findings) for r in one) > 0
    # The number of processes is a setting: a bad value is named.
    monkeypatch.setenv("RINGSCOPE_DETECT_WORKERS", "two")
    with pytest.raises(pipeline.SettingError, match="RINGSCOPE_DETECT_WORKERS='two'"):
        run_all(frames, policy)


def test_flagged_prints_the_stable_csv_with_scores_and_reasons(loaded, use_test_db, capsys, platform_dir):
    assert cli.main(["detect", "--quiet"]) == 0
    run_id = capsys.readouterr().out.strip().splitlines()[-1]
    assert run_id.startswith("run-")
    assert cli.main(["flagged", "--run", "latest", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows, "a simulated platform under attack has flagged accounts"
    assert list(rows[0]) == ["account_id", "score", "cluster_id", "detectors", "reasons"]
    for row in rows:
        assert 0.0 <= float(row["score"]) <= 1.0
        assert row["cluster_id"].startswith(run_id + ":")
        assert row["detectors"] and row["reasons"]
    # Flagging means something: most flagged accounts are planted fakes.
    truth = labels(platform_dir)
    precision = sum(truth[r["account_id"]] for r in rows) / len(rows)
    assert precision > 0.7, precision
    assert cli.main(["flagged", "--run", run_id, "--format", "csv"]) == 0
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == len(rows)


def test_the_same_input_gives_the_same_scores_and_persisting_clusters(loaded):
    policy = load_detection_policy()
    first = detect(loaded, policy)
    second = detect(loaded, policy)
    a = {(f.account_id, f.score, f.detectors) for f in flagged(loaded, first.run_id)}
    b = {(f.account_id, f.score, f.detectors) for f in flagged(loaded, second.run_id)}
    assert a == b and a
    before, changes = changes_since_previous(loaded, second.run_id)
    assert before == first.run_id
    assert changes and {c.change for c in changes} == {"persisting"}


def test_runs_never_overlap(loaded):
    loaded.write("MERGE (l:DetectionLock {name: 'detect'}) "
                 "SET l.run_id = 'run-other', l.expires_at = datetime() + duration({minutes: 5})")
    before = len(runs(loaded, limit=1000))
    with pytest.raises(RunInProgress, match="run-other is still running"):
        detect(loaded, load_detection_policy())
    assert len(runs(loaded, limit=1000)) == before  # nothing recorded for the refused run
    # A lock left by a crashed run expires; the run it held for, still shown as running, is marked failed.
    loaded.write("CREATE (:DetectionRun {run_id: 'run-other', status: 'running', started_at: datetime()})")
    loaded.write("MATCH (l:DetectionLock) SET l.expires_at = datetime() - duration({minutes: 1})")
    assert detect(loaded, load_detection_policy()).run_id
    other = next(r for r in runs(loaded, limit=1000) if r.run_id == "run-other")
    assert other.status == "failed" and "lock expired" in other.error


def _held_by(graph, run_id: str, holder: Holder) -> None:
    """The lock as run ``run_id`` in process ``holder`` left it, its run shown as running with a partial
    cluster and score stored."""
    graph.write("CREATE (r:DetectionRun {run_id: $run_id, status: 'running', started_at: datetime()}) "
                "CREATE (r)-[:FOUND]->(:Cluster {cluster_id: $run_id + ':partial', run_id: $run_id}) "
                "WITH r MATCH (a:Account) WITH r, a LIMIT 1 CREATE (r)-[:SCORED {score: 0.9}]->(a)", run_id=run_id)
    graph.write("MERGE (l:DetectionLock {name: 'detect'}) "
                "SET l.run_id = $run_id, l.expires_at = datetime() + duration({minutes: 10}), l.host = $host, "
                "l.pid = $pid, l.pid_started = $pid_started",
                run_id=run_id, host=holder.host, pid=holder.pid, pid_started=holder.pid_started)


def test_a_run_whose_process_died_frees_the_lock_at_once(loaded):
    # A run killed mid-way (kill -9, or the system short of memory) neither released its lock nor marked its
    # run failed. While its process runs, the lock holds; once it is gone, the next run need not wait.
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        with open(f"/proc/{worker.pid}/stat") as stat:
            alive = replace(Holder.this_process("run-killed"), pid=worker.pid, pid_started=stat_start(stat.read()))
        _held_by(loaded, "run-killed", alive)
        with pytest.raises(RunInProgress, match=f"run-killed \\(process {worker.pid} on "):
            detect(loaded, load_detection_policy())
        # The same run on another machine cannot be looked at from here: it holds too.
        loaded.write("MATCH (l:DetectionLock) SET l.host = 'another-machine'")
        with pytest.raises(RunInProgress):
            detect(loaded, load_detection_policy())
        loaded.write("MATCH (l:DetectionLock) SET l.host = $host", host=alive.host)
    finally:
        worker.kill()
        worker.wait()
    logged = []
    summary = detect(loaded, load_detection_policy(), log=logged.append)
    killed = next(r for r in runs(loaded, limit=1000) if r.run_id == "run-killed")
    assert killed.status == "failed" and "its process is gone" in killed.error and summary.run_id in killed.error
    assert any("run-killed" in line and "marked failed" in line for line in logged)
    assert loaded.read("MATCH (:DetectionRun {run_id: 'run-killed'})-[x:FOUND|SCORED]->() "
                       "RETURN count(x) AS n")[0]["n"] == 0, "the dead run's partial results are removed"
    assert loaded.read("MATCH (l:DetectionLock) RETURN l.run_id AS run_id")[0]["run_id"] is None


def test_a_failed_run_leaves_the_previous_results_in_force(loaded, monkeypatch):
    good = detect(loaded, load_detection_policy())

    def broken(frames, params):
        raise RuntimeError("detector crashed")

    monkeypatch.setitem(pipeline.DETECTORS, "lockstep", pipeline.Detector(pipeline.LockstepParams, broken))
    with pytest.raises(RuntimeError):
        detect(loaded, load_detection_policy())
    latest = runs(loaded)[0]
    assert latest.status == "failed" and "detector crashed" in latest.error
    assert resolve_run(loaded, "latest") == good.run_id
    partial = loaded.read("MATCH (:DetectionRun {run_id: $r})-[:FOUND]->(k) RETURN count(k) AS n",
                          r=latest.run_id)[0]["n"]
    assert partial == 0
    # The lock was released, so the next run starts.
    monkeypatch.undo()
    assert detect(loaded, load_detection_policy()).run_id


def test_a_run_records_what_it_ran_on(loaded):
    summary = detect(loaded, load_detection_policy())
    run = loaded.read("MATCH (r:DetectionRun {run_id: $r}) RETURN r AS r", r=summary.run_id)[0]["r"]
    assert run["status"] == "completed" and run["code_version"] and run["policy"]
    assert '"accounts": 3' in run["watermark"] or '"accounts": ' in run["watermark"]
    assert set(summary.durations) >= {"read", "shared_infrastructure", "lockstep", "store"}


def test_each_run_updates_the_observation_room_once(loaded):
    from ringscope.watch import service
    from ringscope.watch.room import OPEN_STATES

    shipped = load_detection_policy()
    # this small platform's risks are all at 0.5 or more: a band that holds some of them
    policy = shipped.model_copy(update={"flag_threshold": 0.9,
                                        "watch": shipped.watch.model_copy(update={"threshold": 0.6})})
    summary = detect(loaded, policy)
    assert "watch" in summary.durations
    risks = {r["id"]: r["score"] for r in loaded.read(
        "MATCH (:DetectionRun {run_id: $r})-[s:SCORED]->(a) RETURN a.account_id AS id, s.score AS score",
        r=summary.run_id)}
    in_band = {a for a, r in risks.items() if policy.watch.threshold <= r < policy.flag_threshold}
    open_stays = service.stays(loaded, list(OPEN_STATES))
    assert in_band and in_band <= {s.account_id for s in open_stays}
    assert len({s.account_id for s in open_stays}) == len(open_stays)  # one open stay per account
    assert loaded.read("MATCH (r:DetectionRun {run_id: $r}) RETURN r.watch_updated_at IS NOT NULL AS done",
                       r=summary.run_id)[0]["done"]
    # the same run again: nothing changes; the next run adds its risk to every open stay's trend, places no one twice
    assert service.update_room(loaded, summary.run_id, policy.watch, policy.flag_threshold).already_done
    following = detect(loaded, policy)
    after = service.stays(loaded, list(OPEN_STATES))
    assert len({s.account_id for s in after}) == len(after)
    assert all(s.last_run == following.run_id for s in after)
    assert not any(s.state == "escalated" for s in after)  # the same data: no risk rose


def test_a_cluster_larger_than_a_transaction_stores_every_member(loaded, monkeypatch):
    """Clusters are stored at most ``MEMBERS_PER_TRANSACTION`` members a transaction (a 10 M run's clusters,
    200 to a transaction, killed a 1 GB heap): with a limit of 3 every cluster still holds all its members."""
    import ringscope.detection.run as run

    monkeypatch.setattr(run, "MEMBERS_PER_TRANSACTION", 3)
    summary = detect(loaded, load_detection_policy())
    sizes = loaded.read("MATCH (:DetectionRun {run_id: $id})-[:FOUND]->(k:Cluster) "
                        "RETURN k.size AS size, COUNT { (k)-[:HAS_MEMBER]->() } AS members", id=summary.run_id)
    assert len(sizes) == summary.clusters and any(r["size"] > 3 for r in sizes)
    assert all(r["members"] == r["size"] for r in sizes)


# Last in the module: it empties the database.
def test_flagged_without_any_run_is_a_clear_error(graph, use_test_db, capsys):
    assert cli.main(["flagged", "--run", "latest", "--format", "csv"]) == 1
    assert "no completed detection run yet" in capsys.readouterr().err
    assert cli.main(["flagged", "--run", "run-nope", "--format", "csv"]) == 1
    assert "no detection run 'run-nope'" in capsys.readouterr().err


def test_detect_stores_its_changes(loaded):
    from ringscope.detection.history import changes, compare_live

    policy = load_detection_policy()
    detect(loaded, policy)
    second = detect(loaded, policy)
    assert "compare" in second.durations
    assert loaded.read("MATCH (r:DetectionRun {run_id: $id}) RETURN r.change_counts IS NOT NULL AS kept",
                       id=second.run_id)[0]["kept"]
    assert changes(loaded, second.run_id).changes == compare_live(loaded, second.run_id)[1]
