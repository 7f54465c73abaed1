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


LAKE_ACCOUNTS = ("lke00001", "lke00002")  # in the e2e lake only, never in the e2e platform


@pytest.fixture(scope="session")
def e2e_lake(tmp_path_factory) -> Path:
    """The app's lake (``RINGSCOPE_LAKE``): two accounts the graph does not have, sharing a device."""
    import pandas as pd

    root = tmp_path_factory.mktemp("e2e-lake") / "lake"
    t = "2024-07-01T10:00:00+08:00"
    frames = {
        "accounts": pd.DataFrame({"account_id": list(LAKE_ACCOUNTS), "nickname": ["lake one", "lake two"],
                                  "registered_at": t, "registration_ip": ["198.51.100.21", None]}),
        "devices": pd.DataFrame({"device_id": ["lked0001"], "model": ["Mi 9"]}),
        "account_devices": pd.DataFrame({"account_id": list(LAKE_ACCOUNTS), "device_id": "lked0001",
                                         "first_seen": t, "last_seen": t}),
    }
    for kind, frame in frames.items():
        (root / kind).mkdir(parents=True)
        frame.to_parquet(root / kind / "part-00000.parquet", index=False)
    return root


@pytest.fixture(scope="session")
def app_url(e2e_platform, e2e_lake, cli_env, tmp_path_factory):
    pytest.importorskip("streamlit", reason="streamlit is not installed")
    users = tmp_path_factory.mktemp("e2e-users") / "users.yaml"
    for name, role in (("ivy", "investigator"), ("abe", "approver"), ("vic", "viewer")):
        save_user(name, role, PASSWORD, users)
    port = _free_port()
    # The app's pulls start Spark in a child process: a small driver beside the browser and Neo4j.
    env = {**cli_env, "RINGSCOPE_USERS": str(users), "RINGSCOPE_LAKE": str(e2e_lake),
           "RINGSCOPE_SPARK_DRIVER_MEMORY": "1g", "RINGSCOPE_SPARK_SHUFFLE_PARTITIONS": "2",
           "RINGSCOPE_SPARK_LOCAL_DIR": str(tmp_path_factory.mktemp("e2e-spark"))}
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
