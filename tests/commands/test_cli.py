"""The stable command line of shared/spec/cli.md: help, errors as one line, outputs."""

import subprocess
import sys
from pathlib import Path

import pytest

import ringscope.commands.cli as cli

REPO = Path(__file__).resolve().parents[2]


def ringscope(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ringscope.commands", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300)


@pytest.mark.parametrize("command", [[], ["db"], ["reset"], ["stats"], ["ingest"], ["simulate"], ["convert"], ["up"],
                                     ["appeals"], ["appeals", "stats"]])
def test_help_works_for_every_command(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([*command, "--help"])
    assert done.value.code == 0
    assert "usage: ringscope" in capsys.readouterr().out


def test_an_unreachable_database_is_one_clear_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NEO4J_URI": "bolt://127.0.0.1:9",
           "NEO4J_PASSWORD": "x"}
    done = ringscope("stats", "--format", "csv", env=env)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "ringscope: error: cannot reach Neo4j at bolt://127.0.0.1:9: connection refused; check NEO4J_URI"]


def test_a_bad_detector_parameter_is_named_before_any_server_is_reached(tmp_path):
    policy = (REPO / "policy" / "detection.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "policy.yaml"
    bad.write_text(policy.replace("  registration_bursts:", "  registration_bursts:\n    params: {guard: three days}", 1)
                   .replace("    weight: 0.8\n    params: {scales: [1, 7], passes: 1}\n  lockstep:", "    weight: 0.8\n  lockstep:", 1),
                   encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NEO4J_URI": "bolt://127.0.0.1:9", "NEO4J_PASSWORD": "x"}
    done = ringscope("detect", "--policy", str(bad), env=env)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "ringscope: error: detection policy: detectors.registration_bursts.params.guard: 'three days' is not a "
        "valid duration (e.g. 7D) or seconds"]


def test_adding_a_user_without_a_terminal_says_how_to_give_the_password(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RINGSCOPE_USERS": str(tmp_path / "users.yaml")}
    done = subprocess.run([sys.executable, "-m", "ringscope.commands", "users", "add", "ivy", "--role", "viewer"],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "RINGSCOPE_NEW_PASSWORD" in done.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "users.yaml").exists()


def test_status_of_an_unreachable_database_exits_non_zero(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NEO4J_URI": "bolt://127.0.0.1:9"}
    done = ringscope("db", "status", env=env)
    assert done.returncode == 1 and "reachable: no" in done.stdout and "Traceback" not in done.stderr


def test_the_local_server_is_not_started_when_neo4j_uri_is_set(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NEO4J_URI": "bolt://127.0.0.1:9"}
    done = ringscope("db", "start", env=env)
    assert done.returncode != 0 and "NEO4J_URI is set" in done.stderr and "Traceback" not in done.stderr


def test_bad_arguments_are_one_line(tmp_path, capsys):
    assert cli.main(["ingest", str(tmp_path / "nope")]) == 2
    assert "no such dataset directory" in capsys.readouterr().err
    assert cli.main(["reset"]) == 2
    assert "add --yes" in capsys.readouterr().err


@pytest.mark.neo4j
def test_db_status_start_and_stats(use_test_db, capsys, graph):
    assert cli.main(["db", "status"]) == 0
    out = capsys.readouterr().out
    assert "version: 5.26" in out and "reachable: yes" in out and "uri: bolt://127.0.0.1:" in out
    assert cli.main(["db", "start"]) == 0  # a second start is a no-op
    assert "already running" in capsys.readouterr().out
    graph.write("CREATE (:Account {account_id: 'cli1'})-[:USED_DEVICE]->(:Device {device_id: 'cd1'})")
    assert cli.main(["stats", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "kind,count"
    assert {"Account,1", "Device,1", "USED_DEVICE,1"} <= set(lines[1:])
    assert cli.main(["reset", "--yes"]) == 0
    assert capsys.readouterr().out == ""  # nothing on success
    assert cli.main(["stats", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["kind,count"]


@pytest.mark.neo4j
def test_the_password_file_is_private(test_settings):
    mode = test_settings.local.password_file.stat().st_mode & 0o777
    assert mode == 0o600


def test_the_installed_command_works_outside_the_checkout(tmp_path):
    """The console script finds every package from any directory (a missing package
    in pyproject's list would only show up here: pytest puts the checkout on sys.path)."""
    import shutil

    script = Path(sys.executable).parent / "ringscope"
    if not script.exists():
        script = Path(shutil.which("ringscope") or "ringscope")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RINGSCOPE_USERS": str(tmp_path / "users.yaml")}
    for args in (["--help"], ["sanction", "--help"], ["evidence", "--help"], ["users", "list"]):
        done = subprocess.run([str(script), *args], capture_output=True, text=True, cwd=tmp_path, env=env,
                              timeout=120)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr
