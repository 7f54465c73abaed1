"""``ringscope detect --engine spark`` stores a run the app and ``flagged`` read as a local run's."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml

import ringscope.commands.cli as cli
from ringscope.detection.config import DEFAULT_POLICY
from ringscope.graph.admin import reset
from ringscope.ingest.load import IngestOptions
from ringscope.ingest.modes import load_dataset
from ringscope.spark.engine import SPARK_AFTER_FLAGGING, SPARK_DETECTORS


def policy_of(path, enabled):
    data = yaml.safe_load(DEFAULT_POLICY.read_text())
    for name, detector in data["detectors"].items():
        detector["enabled"] = name in enabled
    path.write_text(yaml.safe_dump(data))
    return path


def flagged_rows(capsys, run_id):
    assert cli.main(["flagged", "--run", run_id, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    return sorted((r["account_id"], r["score"], r["detectors"], r["reasons"]) for r in rows)


def stored_clusters(graph, run_id):
    """A run's clusters as stored: detector, key, score, reasons and every member with its score."""
    rows = graph.read("MATCH (:DetectionRun {run_id: $id})-[:FOUND]->(k:Cluster)-[m:HAS_MEMBER]->(a:Account) "
                      "WITH k, collect([a.account_id, m.score]) AS members "
                      "RETURN k.detector AS detector, k.key AS key, k.score AS score, k.reasons AS reasons, "
                      "members", id=run_id)
    return sorted((r["detector"], r["key"], r["score"], repr(r["reasons"]), sorted(map(tuple, r["members"])))
                  for r in rows)


def detect(capsys, *args):
    assert cli.main(["detect", "--quiet", *args]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_spark_and_local_runs_flag_the_same_accounts_for_the_same_reasons(spark, platform, graph, use_test_db,
                                                                          capsys, tmp_path):
    lake = platform
    reset(graph)
    mode, _ = load_dataset(graph, lake, IngestOptions(rejects_dir=tmp_path / "rejects", mode="bulk"))
    assert mode == "bulk"
    policy = str(policy_of(tmp_path / "policy.yaml", set(SPARK_DETECTORS) | set(SPARK_AFTER_FLAGGING)))
    local_run = detect(capsys, "--policy", policy, "--read", "graph")
    spark_run = detect(capsys, "--policy", policy, "--engine", "spark", "--source", str(lake))
    local, on_spark = flagged_rows(capsys, local_run), flagged_rows(capsys, spark_run)
    assert len(local) > 100
    assert on_spark == local
    assert stored_clusters(graph, spark_run) == stored_clusters(graph, local_run)
    stored = graph.read("MATCH (r:DetectionRun {run_id: $id}) RETURN r.read_from AS read_from, r.status AS status",
                        id=spark_run)
    assert stored == [{"read_from": f"spark:{lake}", "status": "completed"}]


YELPCHI = Path("/work/shared/data/external/yelpchi/reviews.txt.gz")


@pytest.mark.skipif(not YELPCHI.exists(), reason="YelpChi not available")
def test_on_yelpchi_converted_spark_and_local_runs_store_the_same_clusters(spark, graph, use_test_db, capsys,
                                                                         tmp_path):
    lake = tmp_path / "yelpchi"
    assert cli.main(["convert", "yelpchi", str(YELPCHI), str(lake), "--format", "parquet"]) == 0
    plant_ring(lake)
    reset(graph)
    mode, _ = load_dataset(graph, lake, IngestOptions(rejects_dir=tmp_path / "rejects", mode="bulk"))
    assert mode == "bulk"
    policy = str(policy_of(tmp_path / "policy.yaml", set(SPARK_DETECTORS) | set(SPARK_AFTER_FLAGGING)))
    capsys.readouterr()
    local_run = detect(capsys, "--policy", policy, "--read", "graph")
    spark_run = detect(capsys, "--policy", policy, "--engine", "spark", "--source", str(lake))
    clusters = stored_clusters(graph, local_run)
    flagged = flagged_rows(capsys, local_run)
    assert any(c[0] == "lockstep" for c in clusters) and any(c[0] == "dense_blocks" for c in clusters)
    assert {f"ring{m:02d}" for m in range(30)} <= {row[0] for row in flagged}
    assert stored_clusters(graph, spark_run) == clusters
    assert flagged_rows(capsys, spark_run) == flagged


def plant_ring(lake, seed=5):
    """YelpChi's reviews alone flag nothing (its day-resolution times hide lockstep, and no dense block
    beats its null copies): a comment ring of 30 new accounts posting on 12 of its notes, each member on
    most of them within half an hour, with minute times, for lockstep and dense_blocks to find. O(R)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    comments, accounts = pd.read_parquet(lake / "comments.parquet"), pd.read_parquet(lake / "accounts.parquet")
    notes = pd.read_parquet(lake / "notes.parquet").sort_values("note_id").reset_index(drop=True)
    targets = notes.iloc[rng.choice(len(notes), 12, replace=False)]
    rows = []
    for note, week in zip(targets["note_id"], pd.to_datetime(targets["posted_at"], utc=True)):
        start = week + pd.Timedelta(hours=int(rng.integers(8, 120)))
        for m in range(30):
            if rng.random() < 0.8:
                at = start + pd.Timedelta(minutes=int(rng.integers(0, 30)))
                rows.append((f"ring{m:02d}", note, at.strftime("%Y-%m-%dT%H:%M:%SZ")))
    ring = pd.DataFrame(rows, columns=["account_id", "note_id", "created_at"])
    ring.insert(0, "comment_id", [f"ring_c{i}" for i in range(len(ring))])
    pd.concat([comments, ring], ignore_index=True).to_parquet(lake / "comments.parquet", index=False)
    members = pd.DataFrame({"account_id": [f"ring{m:02d}" for m in range(30)], "registered_at": "2011-01-01T00:00:00Z",
                            "is_professional": "false", "status": "active"})
    pd.concat([accounts, members], ignore_index=True).to_parquet(lake / "accounts.parquet", index=False)


def test_a_policy_with_detectors_not_ported_is_refused_before_anything_is_written(graph, use_test_db, capsys,
                                                                                 tmp_path, monkeypatch):
    """Every detector of the default policy runs on Spark today; one added to the local engine and not yet to
    Spark (here: dense_blocks taken out of the Spark registry) makes the engine refuse the policy, by name."""
    from ringscope.spark import engine

    monkeypatch.delitem(engine.SPARK_DETECTORS, "dense_blocks")
    before = graph.state_mark()
    assert cli.main(["detect", "--engine", "spark", "--source", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "the Spark engine cannot run" in err and "dense_blocks" in err and "Traceback" not in err
    assert graph.state_mark() == before


@pytest.mark.parametrize("args, message", [
    (["--engine", "spark"], "--engine spark needs --source PATH"),
    (["--source", "/tmp/x"], "--source, --master and --resume apply to --engine spark only"),
    (["--resume"], "--source, --master and --resume apply to --engine spark only"),
])
def test_engine_arguments_that_do_not_go_together_are_named(use_test_db, capsys, args, message):
    assert cli.main(["detect", *args]) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_resumed_run_reads_back_what_an_earlier_run_kept_and_stores_the_same_run(spark, platform, graph,
                                                                                  use_test_db, capsys, tmp_path,
                                                                                  monkeypatch):
    """Each detector's findings are kept as it finishes; ``--resume`` reads them back instead of running it
    again, and the run it stores flags the same accounts for the same reasons (and says what it read back)."""
    monkeypatch.setenv("RINGSCOPE_SPARK_FINDINGS_DIR", str(tmp_path / "kept"))
    reset(graph)
    policy = str(policy_of(tmp_path / "policy.yaml", {"underwater", "ban_evasion", "copied_notes",
                                                       "intermediary_flagged_accounts"}))
    first = detect(capsys, "--policy", policy, "--engine", "spark", "--source", str(platform))
    assert sorted(p.name.split(".")[0] for p in (tmp_path / "kept").rglob("*.json.gz")) == [
        "ban_evasion", "copied_notes", "underwater"]  # the after-flagging detector always runs again
    # the notes' families, which farmed_declared would read too, kept beside them (spark.kept_frames)
    assert [p.name.split(".")[0] for p in (tmp_path / "kept" / "frames").glob("*/*")] == ["note_families"]
    assert cli.main(["detect", "--policy", policy, "--engine", "spark", "--source", str(platform), "--resume"]) == 0
    out = capsys.readouterr()
    resumed = out.out.strip().splitlines()[-1]
    assert "underwater: " in out.err and "kept by an earlier run over the same files" in out.err
    assert flagged_rows(capsys, resumed) == flagged_rows(capsys, first) and len(flagged_rows(capsys, first)) > 10
    assert stored_clusters(graph, resumed) == stored_clusters(graph, first)
    kept = graph.read("MATCH (r:DetectionRun {run_id: $id}) RETURN r.kept_findings AS kept", id=resumed)[0]["kept"]
    assert sorted(k.split()[0] for k in kept) == ["ban_evasion", "copied_notes", "underwater"]


def test_findings_are_kept_for_the_files_settings_and_code_they_were_made_of(spark, tmp_path, monkeypatch):
    """A changed file of the input, or a changed setting of the detector, runs the detector again; a run without
    ``resume`` runs everything and keeps what it made."""
    import shutil

    from ringscope.detection.config import load_detection_policy
    from ringscope.spark.engine import SparkEngine
    from tests.spark.lakes import write_lake
    import pandas as pd

    monkeypatch.setenv("RINGSCOPE_SPARK_FINDINGS_DIR", str(tmp_path / "kept"))
    lake = tmp_path / "lake"
    devices = pd.DataFrame({"account_id": [f"a{i}" for i in range(8)], "device_id": ["d1"] * 8})
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(8)], "registered_at": "2025-01-01T00:00:00Z"})
    write_lake(lake, accounts=accounts, account_devices=devices)
    path = policy_of(tmp_path / "policy.yaml", {"shared_infrastructure"})
    policy = load_detection_policy(path)

    def kept_from(engine_policy, resume=True):
        results, _ = SparkEngine(str(lake), resume=resume).run(engine_policy)
        return [(r.name, r.kept_from is not None, len(r.findings)) for r in results]

    assert kept_from(policy) == [("shared_infrastructure", False, 1)]
    assert kept_from(policy) == [("shared_infrastructure", True, 1)]
    assert kept_from(policy, resume=False) == [("shared_infrastructure", False, 1)]
    data = yaml.safe_load(path.read_text())
    data["detectors"]["shared_infrastructure"]["params"]["min_cluster_size"] = 9
    path.write_text(yaml.safe_dump(data))
    assert kept_from(load_detection_policy(path)) == [("shared_infrastructure", False, 0)]
    assert kept_from(policy) == [("shared_infrastructure", False, 1)]  # the other key's findings were replaced
    shutil.rmtree(lake / "account_devices")
    write_lake(lake, account_devices=devices.assign(device_id="d2"))
    assert kept_from(policy) == [("shared_infrastructure", False, 1)]


def test_a_findings_folder_that_cannot_be_written_costs_the_resume_not_the_run(spark, tmp_path, monkeypatch):
    from ringscope.detection.config import load_detection_policy
    from ringscope.spark.engine import SparkEngine
    from tests.spark.lakes import write_lake
    import pandas as pd

    blocked = tmp_path / "kept"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setenv("RINGSCOPE_SPARK_FINDINGS_DIR", str(blocked))
    lake = write_lake(tmp_path / "lake",
                      accounts=pd.DataFrame({"account_id": [f"a{i}" for i in range(8)]}),
                      account_devices=pd.DataFrame({"account_id": [f"a{i}" for i in range(8)], "device_id": "d1"}))
    lines = []
    results, _ = SparkEngine(str(lake), resume=True).run(
        load_detection_policy(policy_of(tmp_path / "policy.yaml", {"shared_infrastructure"})), log=lines.append)
    assert [len(r.findings) for r in results] == [1]
    assert any("could not be kept" in line and "RINGSCOPE_SPARK_FINDINGS_DIR" in line for line in lines)


def test_spark_jvm_ending_mid_run_is_a_clear_error_saying_what_is_kept(spark, tmp_path, monkeypatch):
    # The kernel's out-of-memory killer ended Spark's JVM at 10 M accounts (2026-12-07); the command's message
    # was py4j's "ConnectionRefusedError: [Errno 111] Connection refused". The detector that was running is
    # replaced by one raising what py4j raises then; the first runs on the real session.
    import pandas as pd
    import pytest
    from py4j.protocol import Py4JNetworkError

    import ringscope.spark.engine as engine
    from ringscope.common.errors import RingscopeError
    from ringscope.detection.config import load_detection_policy
    from tests.spark.lakes import write_lake

    def jvm_gone(source, params, log):
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as exc:
            raise Py4JNetworkError("An error occurred while trying to connect to the Java server") from exc

    def bug(source, params, log):
        raise ValueError("a detector's own error")

    monkeypatch.setenv("RINGSCOPE_SPARK_FINDINGS_DIR", str(tmp_path / "kept"))
    lake = write_lake(tmp_path / "lake",
                      accounts=pd.DataFrame({"account_id": [f"a{i}" for i in range(8)]}),
                      account_devices=pd.DataFrame({"account_id": [f"a{i}" for i in range(8)], "device_id": "d1"}))
    policy = load_detection_policy(policy_of(tmp_path / "policy.yaml", {"shared_infrastructure", "lockstep"}))
    monkeypatch.setitem(engine.SPARK_DETECTORS, "lockstep", jvm_gone)
    with pytest.raises(RingscopeError, match=r"Spark's JVM ended while lockstep ran .*the findings of "
                                             r"shared_infrastructure are kept: the same command with --resume .*"
                                             r"RINGSCOPE_SPARK_DRIVER_MEMORY"):
        engine.SparkEngine(str(lake)).run(policy)
    monkeypatch.setitem(engine.SPARK_DETECTORS, "lockstep", bug)
    with pytest.raises(ValueError, match="a detector's own error"):  # any other error stays the detector's
        engine.SparkEngine(str(lake), resume=True).run(policy)
    # past the detectors too: the read of the flagged accounts' profiles is the run's own stage
    monkeypatch.setitem(engine.SPARK_DETECTORS, "lockstep", lambda source, params, log: [])
    monkeypatch.setattr(engine, "_frames_with_accounts", lambda source, ids: jvm_gone(source, None, None))
    with pytest.raises(RingscopeError, match=r"while the read of the accounts the findings name ran .*the "
                                             r"findings of shared_infrastructure, lockstep are kept"):
        engine.SparkEngine(str(lake), resume=True).run(policy)
    # after flagging: what ran after flagging is not kept (a --resume runs it again), so it is not named as kept
    monkeypatch.undo()
    monkeypatch.setenv("RINGSCOPE_SPARK_FINDINGS_DIR", str(tmp_path / "kept"))
    monkeypatch.setitem(engine.SPARK_AFTER_FLAGGING, "intermediary_flagged_accounts",
                        lambda source, flagged, params, log: [])
    monkeypatch.setitem(engine.SPARK_AFTER_FLAGGING, "trending_heat",
                        lambda source, flagged, params, log: jvm_gone(source, params, log))
    after = load_detection_policy(policy_of(tmp_path / "after.yaml", {"shared_infrastructure", "lockstep",
                                                                      "intermediary_flagged_accounts", "trending_heat"}))
    with pytest.raises(RingscopeError, match=r"while trending_heat ran .*the findings of shared_infrastructure, "
                                             r"lockstep are kept: the same command"):
        engine.SparkEngine(str(lake), resume=True).run(after)


def test_only_an_error_saying_the_jvm_is_gone_reads_as_one():
    from py4j.protocol import Py4JError, Py4JNetworkError

    from ringscope.spark.engine import jvm_gone

    assert jvm_gone(Py4JNetworkError("Answer from Java side is empty"))  # died mid-answer: no cause
    assert not jvm_gone(Py4JError("An error occurred while calling o42.count"))  # Spark's own error
    assert not jvm_gone(ValueError("a detector's own error"))


def test_a_detectors_settings_read_the_same_in_every_process():
    """ban_evasion's ``ban_actions`` is a frozenset: its ``str`` order follows the process's string hashing,
    so a key made of it differed from run to run and its findings were never read back."""
    import subprocess
    import sys

    code = ("from ringscope.detection.ban_evasion import BanEvasionParams; "
            "from ringscope.detection.shared_infrastructure import SharedInfrastructureParams; "
            "from ringscope.spark.engine import settings_text; "
            "print(settings_text(BanEvasionParams()) + settings_text(SharedInfrastructureParams(base={'device': 1.0})))")
    texts = {subprocess.run([sys.executable, "-c", code], env={**__import__("os").environ, "PYTHONHASHSEED": seed},
                            capture_output=True, text=True, check=True).stdout for seed in ("1", "2", "3")}
    assert len(texts) == 1 and '"ban_actions": ["ban", "banned"' in texts.pop()
