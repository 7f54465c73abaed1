"""One real Neo4j for the whole test session, started the way users start it.

The server runs under its own data home (``RINGSCOPE_TEST_HOME``, default
``.test-neo4j`` in the checkout) on its own port (``RINGSCOPE_TEST_BOLT_PORT``,
default 7699), so a developer's own database is never touched. Tests that
need an empty graph take ``graph`` (reset before the test); the others use
ids of their own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ringscope.graph.admin import reset
from ringscope.graph.database import Graph, close_all, connect
from ringscope.graph.server import local
from ringscope.graph.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
# A test that takes one of these fixtures needs the real Neo4j: it is marked `neo4j` automatically,
# so `make test-fast` (`-m "not neo4j ..."`) can never start the server by accident.
DATABASE_FIXTURES = {"graph", "session_graph", "test_settings", "use_test_db", "app_db", "e2e_platform", "app_url"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.neo4j)


def test_env() -> dict[str, str]:
    """The environment a test's CLI call sees: the test server, no NEO4J_URI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(
        RINGSCOPE_HOME=os.environ.get("RINGSCOPE_TEST_HOME", str(REPO / ".test-neo4j")),
        RINGSCOPE_BOLT_PORT=os.environ.get("RINGSCOPE_TEST_BOLT_PORT", "7699"),
        RINGSCOPE_NEO4J_HEAP=os.environ.get("RINGSCOPE_TEST_HEAP", "1g"),
        RINGSCOPE_NEO4J_PAGECACHE=os.environ.get("RINGSCOPE_TEST_PAGECACHE", "512m"),
    )
    return env


@pytest.fixture(scope="session")
def cli_env() -> dict[str, str]:
    return test_env()


@pytest.fixture(scope="session", autouse=True)
def test_home(cli_env):
    """What the tool writes to RINGSCOPE_HOME in the test process itself (the audit log's anchor file, the
    evidence signing key) goes to the test home, never to the developer's own."""
    before = os.environ.get("RINGSCOPE_HOME")
    os.environ["RINGSCOPE_HOME"] = cli_env["RINGSCOPE_HOME"]
    yield Path(cli_env["RINGSCOPE_HOME"])
    if before is None:
        os.environ.pop("RINGSCOPE_HOME", None)
    else:
        os.environ["RINGSCOPE_HOME"] = before


def reset_database(graph: Graph) -> None:
    """Empty the test database the way `ringscope reset` does: the audit log's anchor file is told so."""
    from ringscope.audit.log import mark_reset

    reset(graph)
    mark_reset(graph)


@pytest.fixture(scope="session")
def test_settings(cli_env) -> Settings:
    settings = load_settings(cli_env)
    local.start(settings.local, log=lambda text: print(text))
    # A test run killed during a bulk import leaves a store Neo4j will not open ("transaction logs are
    # missing"): empty it as `ringscope ingest` would, or every test after it fails on an unavailable database.
    from ringscope.ingest.modes import recover_interrupted_bulk
    recover_interrupted_bulk(load_settings(cli_env), log=print)
    yield load_settings(cli_env)  # now with the generated password
    close_all()
    if not os.environ.get("RINGSCOPE_TEST_KEEP_DB"):
        local.stop(settings.local)


@pytest.fixture(scope="session")
def session_graph(test_settings) -> Graph:
    return connect(test_settings)


@pytest.fixture
def graph(session_graph) -> Graph:
    """The test database, emptied before the test."""
    reset_database(session_graph)
    return session_graph


@pytest.fixture
def use_test_db(monkeypatch, cli_env, test_settings):
    """Point in-process CLI calls (``cli.main``) at the test server."""
    for key in [k for k in os.environ if k.startswith("NEO4J_")]:
        monkeypatch.delenv(key)
    for key, value in cli_env.items():
        if key.startswith("RINGSCOPE_"):
            monkeypatch.setenv(key, value)
    return test_settings


CHROMIUM = os.environ.get("RINGSCOPE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, one for the session (end-to-end and hostile-input tests alike:
    Playwright's sync API cannot run two at once in one thread). Never `playwright install`."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-test-packages (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM,
                                     args=["--headless", "--no-sandbox", "--disable-gpu",
                                           "--disable-background-networking"])
        yield chromium
        chromium.close()
