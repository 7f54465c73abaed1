"""End-to-end: the app on the real test Neo4j, driven in Debian's Chromium by Playwright for Python.

A small simulated platform (2,000 accounts) with a detection run is loaded
into the session's test Neo4j, users are written to a temp users file, and
``streamlit run app.py`` is started on a free port with the test environment.
Screenshots of each step go to ``test-output/e2e/``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ringscope.auth.users import save_user
from ringscope.webapp.launch import wait_until_up
from tests.conftest import REPO

ACCOUNTS = 2000
SEED = 3
PASSWORD = "e2e-correct-horse"
SHOTS = REPO / "test-output" / "e2e"


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: drives the app in a real browser (Chromium, Playwright)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _platform_ready(graph) -> bool:
    row = graph.read("OPTIONAL MATCH (r:DetectionRun {status: 'completed'}) WITH count(r) AS runs "
                     "RETURN runs, COUNT { (:Account) } AS accounts, "
                     "EXISTS { MATCH (:Account {account_id: 'a000001'}) } AS first")[0]
    return row["runs"] > 0 and row["first"] and ACCOUNTS * 0.9 <= row["accounts"] <= ACCOUNTS * 1.1


@pytest.fixture(scope="session")
def e2e_platform(session_graph, tmp_path_factory):
    from tests.webapp.conftest import load_platform

    if not _platform_ready(session_graph):
        load_platform(session_graph, tmp_path_factory.mktemp("e2e-platform"), accounts=ACCOUNTS, seed=SEED)
    return session_graph


@pytest.fixture(scope="session")
def app_url(e2e_platform, cli_env, tmp_path_factory):
    pytest.importorskip("streamlit", reason="streamlit is not installed")
    users = tmp_path_factory.mktemp("e2e-users") / "users.yaml"
    for name, role in (("ivy", "investigator"), ("abe", "approver"), ("vic", "viewer")):
        save_user(name, role, PASSWORD, users)
    port = _free_port()
    env = {**cli_env, "RINGSCOPE_USERS": str(users)}
    log = open(tmp_path_factory.mktemp("e2e-log") / "streamlit.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if not wait_until_up(url, server):
        server.kill()
        log.close()
        pytest.fail(f"streamlit did not come up: {Path(log.name).read_text()[-2000:]}")
    yield url
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
