"""``ringscope detect --engine spark`` stores a run the app and ``flagged`` read as a local run's."""

from __future__ import annotations

import csv
import io

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
    stored = graph.read("MATCH (r:DetectionRun {run_id: $id}) RETURN r.read_from AS read_from, r.status AS status",
                        id=spark_run)
    assert stored == [{"read_from": f"spark:{lake}", "status": "completed"}]


def test_a_policy_with_detectors_not_ported_is_refused_before_anything_is_written(graph, use_test_db, capsys,
                                                                                 tmp_path):
    before = graph.state_mark()
    assert cli.main(["detect", "--engine", "spark", "--source", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "the Spark engine cannot run" in err and "dense_blocks" in err and "Traceback" not in err
    assert graph.state_mark() == before


@pytest.mark.parametrize("args, message", [
    (["--engine", "spark"], "--engine spark needs --source PATH"),
    (["--source", "/tmp/x"], "--source and --master apply to --engine spark only"),
])
def test_engine_arguments_that_do_not_go_together_are_named(use_test_db, capsys, args, message):
    assert cli.main(["detect", *args]) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
