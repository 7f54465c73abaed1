"""The local server: a restart (the password is already set) still shuts down cleanly on stop."""

import pytest

from ringscope.graph.server import local

pytestmark = pytest.mark.neo4j


def _log_lines(server) -> list[str]:
    path = server.home / "launcher.log"
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def test_a_restarted_server_shuts_down_cleanly_and_serves_again(session_graph, test_settings):
    server = test_settings.local
    local.stop(server)
    local.start(server)  # a second start: Neo4j refuses to "change" the password to the same one
    seen = len(_log_lines(server))
    assert local.stop(server)
    new = _log_lines(server)[seen:]
    assert "ringscope: shutting down Neo4j" in new, "the shutdown hook must run on every start"
    assert not any("Exception" in line for line in new)
    assert not local.port_open(server.bolt_port)
    local.start(server)
    assert session_graph.read("RETURN 1 AS one")[0]["one"] == 1

