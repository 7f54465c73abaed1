"""Users' reports on the real Neo4j: the reports file loads with the input format's rules, and the summary an
investigator reads shows a coordinated burst from one cluster apart from the reports that count."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone

import pytest

import ringscope.commands.cli as cli
from ringscope.detection.config import load_detection_policy
from ringscope.ingest.load import IngestOptions, ingest
from ringscope.reports import service

pytestmark = pytest.mark.neo4j

POLICY = load_detection_policy().reports
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def test_the_reports_file_loads_and_bad_rows_are_rejected_with_reasons(graph, tmp_path):
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "accounts.csv").write_text("account_id,registered_at\nu1,2025-01-01T00:00:00Z\nu2,2025-01-01T00:00:00Z\n",
                                     encoding="utf-8")
    (ds / "reports.csv").write_text(
        "report_id,reporter_account_id,target_type,target_id,reason,created_at,verified\n"
        "p1,u1,account,u2,spam,2026-03-01T08:00:00Z,true\n"
        "p2,u1,note,n-missing,copied,2026-03-01T09:00:00Z,\n"
        "p3,u2,brand,b1,nope,2026-03-01T09:00:00Z,false\n"
        "p4,u2,account,u1,x,yesterday,false\n"
        "p5,u2,account,u1,x,2026-03-01T09:00:00Z,maybe\n", encoding="utf-8")
    report = ingest(graph, ds, IngestOptions(rejects_dir=tmp_path / "rejects"))
    result = next(f for f in report.files if f.path.name == "reports.csv")
    assert (result.read, result.loaded, result.rejected, result.stubs) == (5, 2, 3, 1)
    with open(result.rejects_file, encoding="utf-8") as handle:
        reasons = [r["reason"] for r in csv.DictReader(handle)]
    assert "target_type='brand'" in reasons[0] and "created_at='yesterday'" in reasons[1] and "verified" in reasons[2]
    rows = graph.read("MATCH (a:Account)-[:FILED]->(p:Report)-[:AGAINST]->(t) RETURN p.report_id AS id, "
                      "a.account_id AS by, labels(t)[0] AS label, coalesce(t.stub, false) AS stub, "
                      "p.verified AS verified, p.reason AS reason ORDER BY id")
    assert rows == [{"id": "p1", "by": "u1", "label": "Account", "stub": False, "verified": True, "reason": "spam"},
                    {"id": "p2", "by": "u1", "label": "Note", "stub": True, "verified": None, "reason": "copied"}]


def attacked(graph):
    """Account v: two organic verified reports, one unverified, and six unfounded ones in three hours from the
    members of cluster K-ring of the latest run (plus one from a ring member a month later)."""
    ring = [f"ring{i}" for i in range(6)]
    graph.write("UNWIND $ids AS id CREATE (:Account {account_id: id})", ids=["v", "h1", "h2", "h3", *ring])
    graph.write("""
        CREATE (r:DetectionRun {run_id: 'R-old', status: 'completed', started_at: $t0 - duration('P30D')})
        CREATE (r2:DetectionRun {run_id: 'R-new', status: 'completed', started_at: $t0})
        CREATE (k:Cluster {cluster_id: 'K-ring', run_id: 'R-new', detector: 'shared_infrastructure'})
        CREATE (old:Cluster {cluster_id: 'K-old', run_id: 'R-old', detector: 'lockstep'})
        CREATE (r2)-[:FOUND]->(k), (r)-[:FOUND]->(old)
        WITH k, old UNWIND $ring AS id MATCH (a:Account {account_id: id})
        CREATE (k)-[:HAS_MEMBER {score: 0.9}]->(a), (old)-[:HAS_MEMBER {score: 0.9}]->(a)""", ring=ring, t0=T0)
    reports = [("o1", "h1", -100, True), ("o2", "h2", -50, True), ("o3", "h3", -10, None)]
    reports += [(f"x{i}", ring[i], i * 0.5, False) for i in range(6)] + [("late", "ring0", 24 * 30, False)]
    graph.write("""
        MATCH (v:Account {account_id: 'v'})
        UNWIND $reports AS x MATCH (a:Account {account_id: x.by})
        CREATE (a)-[:FILED]->(:Report {report_id: x.id, created_at: $t0 + duration({minutes: toInteger(x.h * 60)}),
                                       verified: x.v, reason: 'spam', target_type: 'account'})-[:AGAINST]->(v)""",
                reports=[{"id": i, "by": b, "h": h, "v": v} for i, b, h, v in reports], t0=T0)
    return graph


def test_a_burst_from_one_cluster_is_shown_and_not_counted(graph):
    s = service.summary(attacked(graph), "account", "v", POLICY)
    assert (s.total, s.read, s.verified, s.counted) == (10, 10, 2, 2)
    assert len(s.bursts) == 1
    b = s.bursts[0]
    assert b.cluster.cluster_id == "K-ring" and b.report_ids == tuple(f"x{i}" for i in range(6))
    assert s.reports[0].report_id == "late"  # newest first
    # only the latest run's clusters count: with the policy asking for 7 there is no burst
    assert service.summary(graph, "account", "v", POLICY.model_copy(update={"min_reports": 7})).bursts == ()
    assert service.summary(graph, "note", "nothing", POLICY).total == 0


def test_cli_prints_the_summary_and_rows(graph, use_test_db, capsys):
    attacked(graph)
    assert cli.main(["reports", "--account", "v", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"][0] == "account v: 10 reports, 2 verified, 2 counted against it"
    assert "6 reports in 2.5 h from 6 accounts of cluster K-ring" in out["summary"][1]
    rows = {r[0]: dict(zip(out["header"], r)) for r in out["rows"]}
    assert rows["x0"]["coordinated"] == "true" and rows["o1"]["coordinated"] == "false"
    assert cli.main(["reports", "--account", "v", "--note", "n"]) != 0
    assert "name one target" in capsys.readouterr().err


def test_reports_of_a_simulated_platform_hold_a_coordinated_attack(graph, tmp_path):
    """The simulator's comment rings mass-report an honest account: after a detection run, the summary of a
    victim shows the burst."""
    pytest.importorskip("pyarrow")
    from ringscope.detection.config import load_detection_policy as policy
    from ringscope.detection.run import detect
    from ringscope.simulate.platform import simulate

    simulate(tmp_path / "sim", 10_000, 7)
    ingest(graph, tmp_path / "sim", IngestOptions(rejects_dir=tmp_path / "rejects"))
    detect(graph, policy())
    victims = graph.read("""
        MATCH (v:Account)<-[:AGAINST]-(p:Report) WITH v, count(p) AS n WHERE n >= 5
        MATCH (g:GroundTruth {account_id: v.account_id}) WHERE NOT g.is_fake
        RETURN v.account_id AS id ORDER BY n DESC LIMIT 3""")
    assert victims
    shown = [service.summary(graph, "account", v["id"], POLICY) for v in victims]
    assert any(s.bursts for s in shown)
    for s in shown:
        for b in s.bursts:
            fakes = graph.read("UNWIND $ids AS id MATCH (g:GroundTruth {account_id: id}) WHERE g.is_fake "
                               "RETURN count(g) AS n", ids=list(b.reporters))[0]["n"]
            assert fakes == len(b.reporters)
