"""An interrupted load (killed process, database restart) is finished by running it again."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ringscope.graph.server import local
from tests.ingest.datasets import snapshot, write_table

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

ACCOUNTS = 1_500
NOTES = 400
LIKES_PER_ACCOUNT = 40


def likes_dataset(directory: Path) -> int:
    """Accounts, notes and ~60,000 likes; returns the number of distinct likes."""
    write_table(directory, "accounts", [
        {"account_id": f"ia{i}", "registered_at": "2025-01-01T00:00:00Z"} for i in range(ACCOUNTS)])
    write_table(directory, "notes", [
        {"note_id": f"in{j}", "account_id": f"ia{j}", "posted_at": "2025-01-02T00:00:00Z"} for j in range(NOTES)])
    likes = [{"account_id": f"ia{i}", "note_id": f"in{(i * 7 + k * 13) % NOTES}",
              "created_at": "2025-01-03T00:00:00Z"} for i in range(ACCOUNTS) for k in range(LIKES_PER_ACCOUNT)]
    write_table(directory, "likes", likes, "csv.gz")
    return len({(r["account_id"], r["note_id"]) for r in likes})


def ingest_cmd(directory: Path, tmp_path: Path) -> list[str]:
    return [sys.executable, "-m", "ringscope.commands", "ingest", str(directory), "--mode", "incremental", "--batch-size", "1000",
            "--rejects-dir", str(tmp_path / "rejects")]


def wait_for_checkpoint(graph, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = graph.read("MATCH (c:IngestCheckpoint) WHERE c.file ENDS WITH 'likes.csv.gz' "
                          "RETURN c.rows_done AS done")
        if rows and rows[0]["done"] >= at_least:
            return rows[0]["done"]
        time.sleep(0.05)
    raise AssertionError("the load never reached the checkpoint")


def run(cmd, env) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parents[2])


def test_a_killed_load_resumes_without_losing_or_doubling(graph, tmp_path, cli_env):
    expected = likes_dataset(tmp_path / "ds")
    proc = subprocess.Popen(ingest_cmd(tmp_path / "ds", tmp_path), env=cli_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    done = wait_for_checkpoint(graph, 5_000)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert done < ACCOUNTS * LIKES_PER_ACCOUNT, "the load finished before it could be killed"

    again = run(ingest_cmd(tmp_path / "ds", tmp_path), cli_env)
    assert again.returncode == 0, again.stderr
    assert "already loaded before (resumed)" in again.stdout
    liked = graph.read("MATCH ()-[r:LIKED]->() RETURN count(r) AS n")[0]["n"]
    assert liked == expected
    resumed = snapshot(graph)

    # The same data loaded in one go gives the same graph.
    from ringscope.graph.admin import reset
    reset(graph)
    clean = run(ingest_cmd(tmp_path / "ds", tmp_path), cli_env)
    assert clean.returncode == 0, clean.stderr
    assert snapshot(graph) == resumed


def test_a_database_restart_mid_load_is_survived_or_resumed(graph, tmp_path, cli_env, test_settings):
    expected = likes_dataset(tmp_path / "ds")
    proc = subprocess.Popen(ingest_cmd(tmp_path / "ds", tmp_path), env=cli_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    wait_for_checkpoint(graph, 3_000)
    local.stop(test_settings.local)
    local.start(test_settings.local)
    out, err = proc.communicate(timeout=300)
    # Either the driver's retries bridged the restart, or the load stopped with a clear message.
    assert "Traceback" not in err, err
    if proc.returncode != 0:
        assert err.startswith("ringscope: error:"), err
    again = run(ingest_cmd(tmp_path / "ds", tmp_path), cli_env)
    assert again.returncode == 0, again.stderr
    liked = graph.read("MATCH ()-[r:LIKED]->() RETURN count(r) AS n")[0]["n"]
    assert liked == expected
