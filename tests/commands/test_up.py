"""The main job on an empty database: load a simulated platform, run detection once."""

import pytest

import ringscope.commands.cli as cli

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


def test_up_loads_a_platform_and_runs_detection_once(graph, use_test_db, capsys):
    assert cli.main(["up", "--no-app", "--accounts", "1000", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "simulating a platform of 1,000 accounts" in out or "loading" in out
    assert "accounts.csv.gz: read 1000, loaded 1000" in out
    assert "running detection once" in out and "accounts flagged" in out
    # A second start finds the data and the run, and does neither again.
    assert cli.main(["up", "--no-app"]) == 0
    again = capsys.readouterr().out
    assert "already holds data" in again and "running detection once" not in again
