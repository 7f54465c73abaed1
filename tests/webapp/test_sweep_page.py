"""The Sweep back page with Streamlit's AppTest, against the real test Neo4j (the app's small platform)."""

from __future__ import annotations

import re

import pytest

from ringscope.auth.roles import Actor
from ringscope.watch import service as watch
from tests.webapp.test_pages import all_text, errors, page

pytestmark = pytest.mark.neo4j

CONFIRMED = ("a.status IN ['banned', 'suspended'] OR EXISTS { (a)<-[:TARGETS]-(s:Sanction) "
             "WHERE coalesce(s.state, 'active') <> 'revoked' }")


def latest_clusters(graph, confirmed: bool) -> list[str]:
    """Clusters of the latest run with (or without) a confirmed member, largest first."""
    test = "" if confirmed else "NOT "
    return [r["id"] for r in graph.read(
        "MATCH (r:DetectionRun {status: 'completed'}) WITH r ORDER BY r.started_at DESC LIMIT 1 "
        "MATCH (r)-[:FOUND]->(k:Cluster) "
        f"WHERE {test}EXISTS {{ MATCH (k)-[:HAS_MEMBER]->(a:Account) WHERE {CONFIRMED} }} "
        "RETURN k.cluster_id AS id ORDER BY k.size DESC, id LIMIT 5")]


def found_rows(at) -> list[dict]:
    frames = [df for df in at.dataframe if "before the run" in df.value.columns]
    return frames[0].value.to_dict("records") if frames else []


def test_a_viewer_reads_a_sweep_masked_and_cannot_place(app_db):
    cluster = latest_clusters(app_db, confirmed=False)[0]
    at = page("sweep", "viewer", sweep_cluster=cluster)
    assert not at.exception
    assert any("is not confirmed" in e for e in errors(at)), errors(at)
    at = page("sweep", "viewer", sweep_cluster=cluster, sweep_unconfirmed=True, sweep_min_score=0.3)
    assert not at.exception and not errors(at), errors(at)
    rows = found_rows(at)
    assert rows, all_text(at)
    assert all(r["account"] and 0.3 <= r["score"] <= 1.0 for r in rows)
    assert not re.search(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", " ".join(r["why"] for r in rows))
    assert "may read the sweep" in all_text(at)
    assert not [b for b in at.button if b.key == "sweep_watch"]


def test_confirmed_clusters_are_offered_and_an_investigator_places_the_finds(app_db):
    confirmed = latest_clusters(app_db, confirmed=True)
    if not confirmed:
        pytest.skip("the app's platform has no confirmed cluster in its latest run")
    at = page("sweep", "investigator")
    assert not at.exception and not errors(at), errors(at)
    options = at.selectbox(key="sweep_pick").options
    assert options and any(o.startswith(confirmed[0] + " ") for o in options)
    at = page("sweep", "investigator", sweep_cluster=confirmed[0], sweep_min_score=0.9)
    assert not at.exception and not errors(at), errors(at)
    rows = [r for r in found_rows(at) if not (r["sanctioned"] or r["under observation"])]
    if not rows:
        pytest.skip("nothing at score 0.9 to place around the largest confirmed cluster")
    at.button(key="sweep_watch").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert at.success and f"{len(rows)} accounts placed under observation" in at.success[0].value
    placed = [s for s in watch.stays(app_db, ["watching"]) if s.account_id in {r["account"] for r in rows}]
    assert len(placed) == len(rows) and all("sweep back of confirmed cluster" in s.reason for s in placed)
    # leave the shared platform's room as it was
    for s in placed:
        watch.release(app_db, Actor("ivy", "investigator"), s.account_id, "sweep page test done")
