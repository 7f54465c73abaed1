"""Emptying the graph: in place for small graphs, by a new store on the local server for large ones."""

import time

import pytest
from neo4j import GraphDatabase

from ringscope.graph import admin
from ringscope.graph.database import Graph
from ringscope.graph.schema import LATEST


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_large_local_graph_is_emptied_by_a_new_store_and_every_driver_keeps_working(
        session_graph, test_settings, monkeypatch):
    # Another driver, as the app's cached one would be: it has read (and holds bookmarks) before the reset.
    other = Graph(driver=GraphDatabase.driver(test_settings.uri, auth=(test_settings.username,
                                                                      test_settings.password)),
                  database=test_settings.database, settings=test_settings)
    try:
        session_graph.write("UNWIND range(1, 500) AS i CREATE (:Account {account_id: 'rs-' + i})-[:USED_DEVICE]->"
                            "(:Device {device_id: 'rs-' + i})")
        assert other.read("MATCH (a:Account) WHERE a.account_id STARTS WITH 'rs-' RETURN count(a) AS n")[0]["n"] == 500
        monkeypatch.setattr(admin, "IN_PLACE_LIMIT", 10)  # what 200,000 elements would make happen
        started = time.monotonic()
        outcome = admin.reset(session_graph)
        seconds = time.monotonic() - started
        assert outcome.how == "new store" and outcome.nodes >= 1000
        # Both drivers answer at once on the new store (no bookmark of the old one to wait for).
        for graph in (session_graph, other):
            began = time.monotonic()
            rows = graph.read("MATCH (n) RETURN labels(n) AS labels, n.version AS version")
            assert rows == [{"labels": ["RingscopeSchema"], "version": LATEST}]
            assert time.monotonic() - began < 10, "a query waited for an old bookmark"
        constraints = session_graph.read("SHOW CONSTRAINTS YIELD name RETURN count(*) AS n")[0]["n"]
        assert constraints > 5  # the schema step ran on the new store
        print(f"reset by a new store took {seconds:.1f} s")
    finally:
        other.driver.close()


@pytest.mark.neo4j
def test_a_small_graph_is_emptied_in_place(graph):
    graph.write("CREATE (:Account {account_id: 'small-1'})")
    outcome = admin.reset(graph)
    assert outcome.how == "in place"
    assert admin.node_count(graph) == 1  # the schema marker
