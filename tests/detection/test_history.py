"""Changes between runs, kept by each run when it completes, read back the same as comparing live."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.neo4j


def _stored_run(graph, run_id: str, started: str, clusters: dict[str, list[str]]) -> None:
    """A completed run with the given clusters (members are accounts created here), without detecting."""
    graph.write("CREATE (:DetectionRun {run_id: $run_id, status: 'completed', started_at: datetime($started)})",
                run_id=run_id, started=started)
    graph.write("""
        MATCH (r:DetectionRun {run_id: $run_id})
        UNWIND keys($clusters) AS key
        CREATE (r)-[:FOUND]->(k:Cluster {cluster_id: $run_id + ':' + key, run_id: $run_id,
                                        size: size($clusters[key])})
        WITH k, $clusters[key] AS members
        UNWIND members AS id
        MERGE (a:Account {account_id: id})
        CREATE (k)-[:HAS_MEMBER]->(a)""", run_id=run_id, clusters=clusters)


def test_a_run_keeps_its_changes_and_reading_them_matches_comparing_live(graph):
    from ringscope.detection.history import changes, compare_live, store_changes

    _stored_run(graph, "run-h1", "2026-01-01T00:00:00Z", {
        "same": ["h1", "h2", "h3"], "grows": ["h4", "h5"], "shrinks": ["h6", "h7", "h8", "h9"],
        "goes": ["h10", "h11"]})
    assert changes(graph, "run-h1").previous_run is None  # live: nothing stored, nothing before it
    stored_first = store_changes(graph, "run-h1")
    assert stored_first.previous_run is None and stored_first.counts == {"new": 4}
    _stored_run(graph, "run-h2", "2026-01-02T00:00:00Z", {
        "same": ["h1", "h2", "h3"], "grows": ["h4", "h5", "h12"], "shrinks": ["h6", "h7", "h8"],
        "fresh": ["h20", "h21"]})
    live_before, live = compare_live(graph, "run-h2")
    kept = store_changes(graph, "run-h2")
    assert {c.change for c in live} == {"persisting", "grown", "shrunk", "new", "dissolved"}
    read = changes(graph, "run-h2")
    assert read.previous_run == live_before == "run-h1"
    assert read.changes == live == kept.changes
    assert read.counts == kept.counts == {"persisting": 1, "grown": 1, "shrunk": 1, "new": 1, "dissolved": 1}
    # The app asks only for the kinds it lists; the counts stay whole.
    some = changes(graph, "run-h2", ("new", "dissolved"))
    assert [c.change for c in some.changes] == ["new", "dissolved"]
    assert some.changes[1].previous_id == "run-h1:goes" and some.counts == read.counts
    # What was kept is a read: changing the memberships afterwards does not change it.
    graph.write("MATCH (k:Cluster {cluster_id: 'run-h2:fresh'})-[m:HAS_MEMBER]->() DELETE m")
    assert changes(graph, "run-h2").changes == live

