"""The entity panel's "Reports against it" block with Streamlit's AppTest, on the app's simulated platform (whose
comment rings mass-report honest accounts, simulate/reports.py)."""

from __future__ import annotations

import pytest

from tests.webapp.test_pages import all_text, errors, page

pytestmark = pytest.mark.neo4j


BURST = "rp-page-"


def test_a_reported_account_shows_its_reports(app_db):
    row = app_db.read("MATCH (v:Account)<-[:AGAINST]-(p:Report) WITH v, count(p) AS n "
                      "RETURN v.account_id AS id, n ORDER BY n DESC, id LIMIT 1")[0]
    at = page("entity", "viewer", entity_uid=f"Account:{row['id']}")
    assert not at.exception and not errors(at), errors(at)
    assert "Reports against it" in all_text(at) and f"{row['n']} reports" in all_text(at)
    frames = [df.value for df in at.dataframe if "coordinated" in df.value.columns]
    assert frames and len(frames[0]) == min(row["n"], 200)


def test_a_burst_from_one_cluster_is_a_warning_and_not_counted(app_db):
    """Six members of the latest run's largest cluster report one account within an hour (written here, removed
    after, so the shared platform is left as it was)."""
    target = app_db.read("MATCH (a:Account) WHERE NOT EXISTS { (a)<-[:AGAINST]-(:Report) } "
                         "RETURN a.account_id AS id ORDER BY id DESC LIMIT 1")[0]["id"]
    ring = app_db.read("""
        MATCH (r:DetectionRun {status: 'completed'}) WITH r ORDER BY r.started_at DESC LIMIT 1
        MATCH (r)-[:FOUND]->(k:Cluster) WITH k ORDER BY k.size DESC, k.cluster_id LIMIT 1
        MATCH (k)-[:HAS_MEMBER]->(a:Account) WHERE a.account_id <> $target
        RETURN k.cluster_id AS cluster, collect(a.account_id)[..6] AS ids""", target=target)[0]
    assert len(ring["ids"]) == 6
    app_db.write("""
        MATCH (t:Account {account_id: $target})
        UNWIND range(0, size($ids) - 1) AS i MATCH (a:Account {account_id: $ids[i]})
        CREATE (a)-[:FILED]->(:Report {report_id: $prefix + toString(i), target_type: 'account', reason: 'spam',
                                       verified: true, created_at: datetime() - duration({minutes: 10 * i})})
               -[:AGAINST]->(t)""", target=target, ids=ring["ids"], prefix=BURST)
    try:
        at = page("entity", "viewer", entity_uid=f"Account:{target}")
        assert not at.exception and not errors(at), errors(at)
        assert any("Coordinated mass-reporting" in w.value and ring["cluster"] in w.value for w in at.warning)
        assert "6 reports, 6 verified; 0 verified reports count against it" in all_text(at)
    finally:
        app_db.write("MATCH (p:Report) WHERE p.report_id STARTS WITH $prefix DETACH DELETE p", prefix=BURST)


def test_an_account_without_reports_shows_no_block(app_db):
    quiet = app_db.read("MATCH (a:Account) WHERE NOT EXISTS { (a)<-[:AGAINST]-(:Report) } "
                        "RETURN a.account_id AS id ORDER BY id LIMIT 1")[0]["id"]
    at = page("entity", "viewer", entity_uid=f"Account:{quiet}")
    assert not at.exception and not errors(at)
    assert "Reports against it" not in all_text(at)
