"""The built wheel, installed into a fresh virtual environment outside the checkout, works on its own.

pytest puts the checkout on sys.path and `make` installs it editable, so a module
missing from the wheel, a policy file not shipped as package data, or a default
path computed from the checkout would pass every other test. This one builds the
wheel, installs it (with the pinned dependencies) into a new venv in a temporary
folder, and from a folder that is not the checkout runs what a new user runs:
`--help`, `db start`, `simulate`, `ingest`, `detect`, `flagged`, and the app
(`ringscope up`) until its health endpoint answers.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOP_LEVEL_NAMES = ("graph", "ingest", "queries", "detection", "sanctions", "evidence", "audit", "auth",
                   "simulate", "webapp", "app", "commands", "common", "policy", "cli")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args, *, env, cwd, timeout=600, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    if check:
        assert done.returncode == 0, f"{args}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, environment) of a fresh install of the wheel built from this checkout."""
    root = tmp_path_factory.mktemp("installed")
    base_python = getattr(sys, "_base_executable", sys.executable)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEO4J_", "RINGSCOPE_", "PYTHON", "VIRTUAL_ENV"))}
    # Built from a copy: setuptools keeps a build/ folder whose stale modules would go into later wheels.
    source = root / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".test-neo4j", "build", "*.egg-info", "test-output", "__pycache__", "rejects"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(root / "dist"), str(source)],
         env=env, cwd=root)
    wheel = next((root / "dist").glob("ringscope-*.whl"))
    _run([base_python, "-m", "venv", str(root / "venv")], env=env, cwd=root)
    bin_dir = root / "venv" / "bin"
    _run([str(bin_dir / "pip"), "install", "--quiet", "-c", str(REPO / "constraints.txt"), str(wheel)],
         env=env, cwd=root, timeout=1200)
    home = root / "home"
    env.update(RINGSCOPE_HOME=str(home), RINGSCOPE_BOLT_PORT=str(_free_port()), RINGSCOPE_NEO4J_HEAP="512m",
               RINGSCOPE_NEO4J_PAGECACHE="256m", PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")
    yield bin_dir, env, root
    subprocess.run([str(bin_dir / "ringscope"), "db", "stop"], env=env, cwd=root, capture_output=True, timeout=120)


@pytest.mark.slow
@pytest.mark.neo4j
def test_the_installed_wheel_runs_the_whole_product(installed):
    bin_dir, env, root = installed
    work = root / "elsewhere"
    work.mkdir()
    site = next((root / "venv" / "lib").glob("python3*/site-packages"))

    # One package, nothing else: no top-level graph/queries/cli to shadow other projects.
    assert (site / "ringscope").is_dir()
    assert [n for n in TOP_LEVEL_NAMES if (site / n).exists() or (site / f"{n}.py").exists()] == []
    for shipped in ("policy/detection.yaml", "policy/sanctions.yaml", "app.py", "graph/server/pom.xml",
                    "graph/server/Launcher.java", "webapp/components/vis-network.min.js",
                    "webapp/components/graph.js"):
        assert (site / "ringscope" / shipped).is_file(), shipped

    ringscope = str(bin_dir / "ringscope")
    assert "usage: ringscope" in _run([ringscope, "--help"], env=env, cwd=work).stdout
    _run([ringscope, "db", "start"], env=env, cwd=work)
    assert "reachable: yes" in _run([ringscope, "db", "status"], env=env, cwd=work).stdout

    _run([ringscope, "simulate", str(work / "platform"), "--accounts", "500", "--seed", "3"], env=env, cwd=work)
    loaded = _run([ringscope, "ingest", str(work / "platform"), "--no-progress"], env=env, cwd=work)
    assert "FAILED" not in loaded.stdout
    run_id = _run([ringscope, "detect", "--quiet"], env=env, cwd=work).stdout.strip().splitlines()[-1]
    flagged = _run([ringscope, "flagged", "--run", run_id, "--format", "csv"], env=env, cwd=work).stdout
    assert flagged.splitlines()[0] == "account_id,score,cluster_id,detectors,reasons"
    assert len(flagged.splitlines()) > 1  # the simulator plants farms; some are found

    # The app, started by the installed command; its first user goes to RINGSCOPE_HOME, not site-packages.
    port = _free_port()
    app = subprocess.Popen([ringscope, "up", "--port", str(port)], env=env, cwd=work,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, health = time.monotonic() + 120, None
        while time.monotonic() < deadline and app.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    health = answer.read().decode()
                    break
            except OSError:
                time.sleep(1)
        assert health == "ok", f"the app did not come up: {app.poll()}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200
    finally:
        app.terminate()
        out, _ = app.communicate(timeout=60)
    assert "Traceback" not in out, out[-3000:]
    assert (Path(env["RINGSCOPE_HOME"]) / "users.yaml").is_file()
    assert not list(site.glob("ringscope/**/users.yaml"))
    shutil.rmtree(work / "platform", ignore_errors=True)
