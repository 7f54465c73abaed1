"""Small graphs for the sanction tests, built with parameterised statements, and the people who act."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ringscope.auth.roles import Actor

T0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
ALICE = Actor("alice", "investigator")
BOB = Actor("bob", "approver")
CAROL = Actor("carol", "approver")
VIEWER = Actor("vic", "viewer")


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


ACCOUNTS = """
UNWIND $rows AS r
CREATE (:Account {account_id: r.id, registered_at: r.registered_at, status: r.status})
"""
DEVICES = "UNWIND $ids AS id MERGE (:Device {device_id: id})"
USES = """
UNWIND $rows AS r
MATCH (a:Account {account_id: r.account}), (d:Device {device_id: r.device})
CREATE (a)-[:USED_DEVICE {first_seen: r.first_seen}]->(d)
"""
NOTES = """
UNWIND $rows AS r
MATCH (a:Account {account_id: r.account})
CREATE (a)-[:POSTED]->(:Note {note_id: r.note, posted_at: r.at})
"""
CLUSTER = """
CREATE (k:Cluster {cluster_id: $cluster_id})
WITH k UNWIND $members AS m
MATCH (a:Account {account_id: m.account})
CREATE (k)-[:HAS_MEMBER {score: m.score}]->(a)
"""
AGENCY = """
CREATE (i:Intermediary {intermediary_id: $id, kind: 'agency'})
WITH i UNWIND $accounts AS acc
MATCH (a:Account {account_id: acc})
CREATE (i)-[:MANAGES]->(a)
"""
BRANDS = "UNWIND $ids AS id MERGE (:Brand {brand_id: id})"
ORDERS = """
UNWIND $rows AS r
MATCH (b:Brand {brand_id: r.brand}), (i:Intermediary {intermediary_id: r.agency})
CREATE (o:Order {order_id: r.order, declared: r.declared})-[:PLACED_BY]->(b), (o)-[:TAKEN_BY]->(i)
"""
IMPORTED_SANCTION = """
MATCH (x) WHERE (x:Account AND x.account_id = $target) OR (x:Device AND x.device_id = $target)
CREATE (s:Sanction {sanction_id: $sanction_id, action: $action, reason: 'platform', issued_at: $at,
                    source: 'import'})-[:TARGETS]->(x)
"""


def accounts(graph, *ids, registered=None, status="active"):
    graph.write(ACCOUNTS, rows=[{"id": i, "registered_at": registered or day(-400), "status": status} for i in ids])


def uses(graph, pairs, first_seen=None):
    graph.write(DEVICES, ids=sorted({d for _, d in pairs}))
    graph.write(USES, rows=[{"account": a, "device": d, "first_seen": first_seen or day(-300)} for a, d in pairs])


def notes(graph, pairs):
    graph.write(NOTES, rows=[{"account": a, "note": n, "at": day(-1)} for a, n in pairs])


def cluster(graph, cluster_id, members: dict[str, float]):
    graph.write(CLUSTER, cluster_id=cluster_id, members=[{"account": a, "score": s} for a, s in members.items()])


def agency(graph, agency_id, managed):
    graph.write(AGENCY, id=agency_id, accounts=list(managed))


def orders(graph, rows):
    """rows: (order_id, brand_id, agency_id, declared)."""
    graph.write(BRANDS, ids=sorted({r[1] for r in rows}))
    graph.write(ORDERS, rows=[{"order": o, "brand": b, "agency": i, "declared": d} for o, b, i, d in rows])


def imported(graph, sanction_id, target, action, at):
    graph.write(IMPORTED_SANCTION, sanction_id=sanction_id, target=target, action=action, at=at)


SNAPSHOT = """
MATCH (n) WHERE NOT n:SanctionPreview
RETURN labels(n) AS labels, properties(n) AS props ORDER BY elementId(n)
"""
SNAPSHOT_RELS = """
MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, elementId(a) AS a, elementId(b) AS b
ORDER BY elementId(r)
"""


def snapshot(graph):
    nodes = [(tuple(r["labels"]), sorted((k, str(v)) for k, v in r["props"].items())) for r in graph.read(SNAPSHOT)]
    rels = [(r["type"], sorted((k, str(v)) for k, v in r["props"].items()), r["a"], r["b"])
            for r in graph.read(SNAPSHOT_RELS)]
    return nodes, rels


@pytest.fixture
def users_file(tmp_path, monkeypatch):
    from ringscope.auth.users import save_user

    path = tmp_path / "users.yaml"
    for name, role in (("alice", "investigator"), ("bob", "approver"), ("carol", "approver"), ("vic", "viewer")):
        save_user(name, role, None, path)
    monkeypatch.setenv("RINGSCOPE_USERS", str(path))
    monkeypatch.delenv("RINGSCOPE_ACTOR", raising=False)
    return path
