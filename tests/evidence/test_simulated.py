"""A pack for a real detection run on a simulated platform: builds, verifies, masks what the data holds."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from ringscope.auth.roles import Actor
from ringscope.detection.config import load_detection_policy
from ringscope.detection.run import detect
from ringscope.evidence.records import Subject
from ringscope.evidence.export import export_pack
from ringscope.evidence.verify import verify_pack
from ringscope.graph.admin import reset
from ringscope.ingest.load import IngestOptions, ingest
from ringscope.simulate.platform import simulate

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

RAW_PERSONAL = """
MATCH (:Cluster {cluster_id: $cluster_id})-[:HAS_MEMBER]->(a:Account)
CALL (a) {
  OPTIONAL MATCH (a)-[:LOGGED_IN_FROM|REGISTERED_FROM]->(ip:IP) RETURN collect(ip.ip) AS ips
}
CALL (a) {
  OPTIONAL MATCH (a)-[:HAS_PHONE]->(p:Phone) RETURN collect(p.phone_hash) AS phones
}
CALL (a) {
  OPTIONAL MATCH (a)-[:WROTE]->(c:Comment) WHERE c.ip IS NOT NULL RETURN collect(c.ip) AS comment_ips
}
RETURN ips + phones + comment_ips AS values
"""


def test_a_pack_of_the_biggest_cluster_of_a_simulated_platform(session_graph, tmp_path):
    platform = tmp_path / "platform"
    simulate(platform, accounts=600, seed=5, fmt="csv.gz")
    reset(session_graph)
    assert not ingest(session_graph, platform, IngestOptions(rejects_dir=tmp_path / "rejects")).failed
    run = detect(session_graph, load_detection_policy())
    cluster = session_graph.read("MATCH (:DetectionRun {run_id: $run})-[:FOUND]->(k:Cluster) "
                                 "RETURN k.cluster_id AS id ORDER BY k.size DESC, id LIMIT 1", run=run.run_id)
    assert cluster, "a simulated platform under attack has clusters"
    cluster_id = cluster[0]["id"]
    out = tmp_path / "pack.zip"
    result = export_pack(session_graph, Subject("cluster", cluster_id), out, Actor("alice", "investigator"),
                         signer=None)
    assert result.findings and verify_pack(out).ok
    values = {v for row in session_graph.read(RAW_PERSONAL, cluster_id=cluster_id) for v in row["values"]}
    assert values
    with zipfile.ZipFile(out) as archive:
        for name in archive.namelist():
            if name.endswith((".png", ".pdf")):
                continue  # pictures hold no text; the PDF is checked in test_packs through pdftotext
            text = archive.read(name).decode("utf-8")
            leaked = sorted(v for v in values if v in text)
            assert not leaked, f"{name} leaks {leaked[:3]}"


DECLARED_ORDERS_OF_CLUSTER = """
MATCH (:Cluster {cluster_id: $cluster_id})-[:HAS_MEMBER]->(a:Account)<-[:ASSIGNED_TO]-(o:Order {declared: true})
MATCH (o)-[:PLACED_BY]->(b:Brand)
OPTIONAL MATCH (o)-[:TAKEN_BY]->(i:Intermediary)
RETURN a.account_id AS account, o.order_id AS order_id, b.brand_id AS brand, i.intermediary_id AS agency
"""


def test_a_farmed_declared_cluster_pack_holds_its_declared_orders_brands_and_agencies(session_graph, tmp_path):
    """Issue #15 item 5: a pack of a farmed_declared cluster carries what its reasons name: the members' declared
    orders, the brands that placed them and the agencies that took them, as nodes and relationships."""
    platform = tmp_path / "platform"
    simulate(platform, accounts=3000, seed=7, fmt="csv.gz")
    reset(session_graph)
    assert not ingest(session_graph, platform, IngestOptions(rejects_dir=tmp_path / "rejects")).failed
    run = detect(session_graph, load_detection_policy())
    cluster = session_graph.read("MATCH (:DetectionRun {run_id: $run})-[:FOUND]->(k:Cluster {detector: $detector}) "
                                 "RETURN k.cluster_id AS id ORDER BY k.size DESC, id LIMIT 1", run=run.run_id,
                                 detector="farmed_declared")
    assert cluster, "the simulated platform's farmed declared accounts form a cluster"
    cluster_id = cluster[0]["id"]
    orders = session_graph.read(DECLARED_ORDERS_OF_CLUSTER, cluster_id=cluster_id)
    assert orders
    out = tmp_path / "pack.zip"
    result = export_pack(session_graph, Subject("cluster", cluster_id), out, Actor("alice", "investigator"),
                         signer=None)
    assert result.findings and verify_pack(out).ok
    with zipfile.ZipFile(out) as archive:
        nodes = list(csv.DictReader(io.StringIO(archive.read("graph/nodes.csv").decode("utf-8"))))
        edges = list(csv.DictReader(io.StringIO(archive.read("graph/edges.csv").decode("utf-8"))))
        clusters = archive.read("data/clusters.json").decode("utf-8")
    keys = {(n["label"], n["key"]) for n in nodes}
    ids = {n["id"]: (n["label"], n["key"]) for n in nodes}
    links = {(ids[e["source"]], e["type"], ids[e["target"]]) for e in edges if e["source"] in ids and e["target"] in ids}
    for row in orders:
        order = ("Order", row["order_id"])
        assert order in keys and ("Brand", row["brand"]) in keys, row
        assert (order, "ASSIGNED_TO", ("Account", row["account"])) in links
        assert (order, "PLACED_BY", ("Brand", row["brand"])) in links
        if row["agency"]:
            assert (order, "TAKEN_BY", ("Intermediary", row["agency"])) in links
    assert any(row["order_id"] in clusters for row in orders)  # the reasons name them, and the pack keeps the reasons
