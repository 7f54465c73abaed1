"""What the app computes before anyone asks: a completed run's first-visit pages, filled in the background."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.neo4j


def test_a_completed_run_is_in_the_caches_before_its_first_visitor(app_db):
    from ringscope.queries import overview
    from ringscope.webapp import services

    run = overview.latest_run(app_db)
    top = overview.top_clusters(app_db, run.run_id, 1)[0]
    services.watch_runs(app_db, every=0, rounds=1)  # one round of the app's background watcher
    # What the overview, "open the top cluster" and the bans page read is now served from the caches:
    # a change made in the database after the fill is not seen until the caches expire or are cleared.
    app_db.write("MATCH (k:Cluster {cluster_id: $id}) SET k.detector = 'changed after the fill'", id=top.cluster_id)
    try:
        assert services.top_clusters(run.run_id, 100)[0].detector == top.detector
        assert services.cluster_graph(top.cluster_id).detector == top.detector
        services.clear_caches()
        assert services.top_clusters(run.run_id, 100)[0].detector == "changed after the fill"
    finally:
        app_db.write("MATCH (k:Cluster {cluster_id: $id}) SET k.detector = $d", id=top.cluster_id, d=top.detector)
        services.clear_caches()
    assert services.prefill(run.run_id) == ["top clusters", "changes", "top cluster", "banned devices"]


def test_the_top_clusters_drawing_is_read_again_before_it_expires(app_db):
    from ringscope.queries import overview
    from ringscope.webapp import services

    run = overview.latest_run(app_db)
    top = overview.top_clusters(app_db, run.run_id, 1)[0]
    services.clear_caches()
    services.prefill(run.run_id)
    refreshed: dict[str, float] = {}
    assert not services.keep_top_cluster_fresh(run.run_id, refreshed, now=100.0)  # prefill has just read it
    app_db.write("MATCH (k:Cluster {cluster_id: $id}) SET k.detector = 'changed after the fill'", id=top.cluster_id)
    try:
        assert not services.keep_top_cluster_fresh(run.run_id, refreshed, now=100.0 + services.TOP_CLUSTER_REFRESH_S - 1)
        assert services.cluster_graph(top.cluster_id).detector == top.detector  # still the cached drawing
        assert services.keep_top_cluster_fresh(run.run_id, refreshed, now=100.0 + services.TOP_CLUSTER_REFRESH_S)
        assert services.cluster_graph(top.cluster_id).detector == "changed after the fill"  # read again
        assert services.TOP_CLUSTER_REFRESH_S + 10 < services.CLUSTER_GRAPH_TTL_S  # before expiry, at a 10 s poll
    finally:
        app_db.write("MATCH (k:Cluster {cluster_id: $id}) SET k.detector = $d", id=top.cluster_id, d=top.detector)
        services.clear_caches()
