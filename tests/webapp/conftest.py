"""The app's tests: a small simulated platform with a detection run in the test Neo4j, users in a temp file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringscope.auth.users import save_user

ACCOUNTS = 600
SEED = 5
PASSWORD = "correct-horse-battery"
USERS = {"vic": "viewer", "ivy": "investigator", "abe": "approver", "ada": "admin"}


def platform_loaded(graph) -> bool:
    rows = graph.read("MATCH (r:DetectionRun {status: 'completed'}) WITH count(r) AS runs "
                      "OPTIONAL MATCH (a:Account {account_id: 'a000001'}) "
                      "RETURN runs, a IS NOT NULL AS has_accounts, "
                      "COUNT { (:Account) } AS accounts")
    return bool(rows and rows[0]["runs"] and rows[0]["has_accounts"] and rows[0]["accounts"] < 10 * ACCOUNTS)


def load_platform(graph, tmp: Path, accounts: int = ACCOUNTS, seed: int = SEED) -> None:
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.run import detect
    from ringscope.ingest.load import IngestOptions, ingest
    from ringscope.simulate.platform import simulate
    from tests.conftest import reset_database

    reset_database(graph)
    dataset = tmp / f"sim-{accounts}-{seed}"
    simulate(dataset, accounts=accounts, seed=seed)
    ingest(graph, dataset, IngestOptions(rejects_dir=tmp / "rejects"))
    detect(graph, load_detection_policy())


@pytest.fixture(scope="session")
def users_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    for name, role in USERS.items():
        save_user(name, role, PASSWORD, path)
    return path


@pytest.fixture
def app_db(session_graph, tmp_path_factory, use_test_db, users_file, monkeypatch):
    """The test database holding a small platform with a run; the app's env points at it."""
    if not platform_loaded(session_graph):
        load_platform(session_graph, tmp_path_factory.mktemp("platform"))
    monkeypatch.setenv("RINGSCOPE_USERS", str(users_file))
    # No background run watcher in the test process: tests clear and check the caches themselves
    # (tests/webapp/test_services.py runs one round of it directly).
    monkeypatch.setenv("RINGSCOPE_APP_RUN_WATCH_S", "0")
    import streamlit as st

    st.cache_data.clear()
    return session_graph
