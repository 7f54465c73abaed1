"""The entity panel's reads: properties, risk with reasons, timeline, sanctions, linked devices and accounts.

All reads are capped (``limit``); the panel says when a list was cut.
Statements are built once from ``graph.model``; values are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ringscope.graph.database import Graph
from ringscope.graph.model import NODES
from ringscope.queries.neighbours import EXPLORABLE, split_uid

PROPERTIES = {label: f"MATCH (n:{label} {{{NODES[label].key}: $id}}) RETURN properties(n) AS props"
              for label in EXPLORABLE}

RISK = """
MATCH (r:DetectionRun {run_id: $run_id})-[s:SCORED]->(a:Account {account_id: $id})
RETURN s.score AS score, s.reasons AS reasons, s.detectors AS detectors, s.cluster_id AS cluster_id,
       r.flag_threshold AS threshold
"""
CLUSTERS_OF = """
MATCH (k:Cluster {run_id: $run_id})-[h:HAS_MEMBER]->(a:Account {account_id: $id})
RETURN k.cluster_id AS cluster_id, k.detector AS detector, k.score AS score, k.size AS size, h.score AS member_score
ORDER BY k.score DESC LIMIT $limit
"""

# One timeline per label: (time, kind, id, text), newest first.
TIMELINE = {
    "Account": """
MATCH (a:Account {account_id: $id})
CALL (a) {
  RETURN a.registered_at AS at, 'registered' AS kind, a.account_id AS ref, a.nickname AS text
  UNION ALL
  MATCH (a)-[:WROTE]->(c:Comment)
  WITH c ORDER BY c.created_at DESC LIMIT $limit
  RETURN c.created_at AS at, 'comment' AS kind, c.comment_id AS ref, left(c.text, 80) AS text
  UNION ALL
  MATCH (a)-[:POSTED]->(n:Note)
  WITH n ORDER BY n.posted_at DESC LIMIT $limit
  RETURN n.posted_at AS at, 'note' AS kind, n.note_id AS ref, n.title AS text
  UNION ALL
  MATCH (o:Order)-[:ASSIGNED_TO]->(a)
  WITH o ORDER BY o.placed_at DESC LIMIT $limit
  RETURN o.placed_at AS at, CASE WHEN o.declared THEN 'order (declared)' ELSE 'order (underwater)' END AS kind,
         o.order_id AS ref, o.brand_id AS text
  UNION ALL
  MATCH (s:Sanction)-[:TARGETS]->(a)
  RETURN s.issued_at AS at, 'sanction' AS kind, s.sanction_id AS ref, s.action AS text
}
RETURN toString(at) AS at, kind, ref, text ORDER BY at DESC LIMIT $limit
""",
    "Device": """
MATCH (d:Device {device_id: $id})
CALL (d) {
  MATCH (a:Account)-[u:USED_DEVICE]->(d)
  WITH a, u ORDER BY u.first_seen DESC LIMIT $limit
  RETURN coalesce(u.first_seen, a.registered_at) AS at, 'account first seen' AS kind, a.account_id AS ref,
         a.nickname AS text
  UNION ALL
  MATCH (s:Sanction)-[:TARGETS]->(d)
  RETURN s.issued_at AS at, 'sanction' AS kind, s.sanction_id AS ref, s.action AS text
}
RETURN toString(at) AS at, kind, ref, text ORDER BY at DESC LIMIT $limit
""",
    "Note": """
MATCH (n:Note {note_id: $id})
CALL (n) {
  RETURN n.posted_at AS at, 'posted' AS kind, n.note_id AS ref, n.title AS text
  UNION ALL
  MATCH (c:Comment)-[:ON]->(n)
  WITH c ORDER BY c.created_at DESC LIMIT $limit
  RETURN c.created_at AS at, 'comment' AS kind, c.comment_id AS ref, left(c.text, 80) AS text
  UNION ALL
  MATCH (o:Order)-[:FOR_NOTE]->(n)
  RETURN o.placed_at AS at, 'order' AS kind, o.order_id AS ref, o.brand_id AS text
}
RETURN toString(at) AS at, kind, ref, text ORDER BY at DESC LIMIT $limit
""",
}

SANCTIONS = {
    label: f"""
MATCH (n:{label} {{{NODES[label].key}: $id}})<-[:TARGETS]-(s:Sanction)
RETURN s.sanction_id AS sanction_id, s.action AS action, s.reason AS reason, toString(s.issued_at) AS issued_at,
       toString(s.expires_at) AS expires_at, coalesce(s.state, s.status, 'in force') AS state,
       coalesce(s.source, '') AS source
ORDER BY s.issued_at DESC LIMIT $limit
"""
    for label in ("Account", "Device", "Brand", "Intermediary", "Note")
}

LINKED_ACCOUNT = """
MATCH (a:Account {account_id: $id})
CALL (a) {
  MATCH (a)-[u:USED_DEVICE]->(d:Device)
  RETURN 'Device' AS label, d.device_id AS key, 'USED_DEVICE' AS via,
         toString(u.first_seen) AS first_seen, toString(u.last_seen) AS last_seen,
         COUNT { (d)<-[:USED_DEVICE]-() } AS accounts
  ORDER BY accounts DESC LIMIT $limit
  UNION ALL
  MATCH (a)-[:USED_DEVICE]->(d:Device)<-[u:USED_DEVICE]-(b:Account) WHERE b <> a
  RETURN 'Account' AS label, b.account_id AS key, 'device ' + d.device_id AS via,
         toString(u.first_seen) AS first_seen, toString(u.last_seen) AS last_seen, null AS accounts
  LIMIT $limit
  UNION ALL
  MATCH (a)-[:REGISTERED_FROM]->(ip:IP)<-[:REGISTERED_FROM]-(b:Account) WHERE b <> a
  RETURN 'Account' AS label, b.account_id AS key, 'registration IP' AS via,
         toString(b.registered_at) AS first_seen, null AS last_seen, null AS accounts
  LIMIT $limit
  UNION ALL
  MATCH (a)-[:HAS_PHONE]->(p:Phone)<-[:HAS_PHONE]-(b:Account) WHERE b <> a
  RETURN 'Account' AS label, b.account_id AS key, 'phone number' AS via,
         toString(b.registered_at) AS first_seen, null AS last_seen, null AS accounts
  LIMIT $limit
}
RETURN label, key, via, first_seen, last_seen, accounts
"""
LINKED_DEVICE = """
MATCH (d:Device {device_id: $id})<-[u:USED_DEVICE]-(b:Account)
RETURN 'Account' AS label, b.account_id AS key, 'USED_DEVICE' AS via, toString(u.first_seen) AS first_seen,
       toString(u.last_seen) AS last_seen, null AS accounts
ORDER BY u.first_seen DESC LIMIT $limit
"""
LINKED_IP = """
MATCH (ip:IP {ip: $id})<-[r:REGISTERED_FROM|LOGGED_IN_FROM]-(b:Account)
RETURN 'Account' AS label, b.account_id AS key, type(r) AS via, toString(r.first_seen) AS first_seen,
       toString(r.last_seen) AS last_seen, null AS accounts
LIMIT $limit
"""


@dataclass(frozen=True)
class Risk:
    score: float
    threshold: float
    reasons: tuple[str, ...]
    detectors: tuple[str, ...]
    cluster_id: str | None


@dataclass(frozen=True)
class ClusterMembership:
    cluster_id: str
    detector: str
    score: float
    size: int
    member_score: float | None


@dataclass(frozen=True)
class TimelineItem:
    at: str | None
    kind: str
    ref: str
    text: str | None


@dataclass(frozen=True)
class SanctionItem:
    sanction_id: str
    action: str
    reason: str | None
    issued_at: str | None
    expires_at: str | None
    state: str
    source: str


@dataclass(frozen=True)
class Link:
    label: str
    key: str
    via: str
    first_seen: str | None
    last_seen: str | None
    accounts: int | None  # for a device: how many accounts used it

    @property
    def uid(self) -> str:
        return f"{self.label}:{self.key}"


@dataclass
class EntityDetails:
    uid: str
    label: str
    key: str
    properties: dict[str, Any]
    risk: Risk | None = None
    clusters: list[ClusterMembership] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    sanctions: list[SanctionItem] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    limit: int = 100


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def details(graph: Graph, uid: str, run_id: str | None = None, limit: int = 100) -> EntityDetails | None:
    """Everything the panel shows about one node, or None when it does not exist (any more)."""
    label, key = split_uid(uid)
    rows = graph.read(PROPERTIES[label], id=key)
    if not rows:
        return None
    props = {k: _plain(v) for k, v in sorted(rows[0]["props"].items())}
    out = EntityDetails(uid, label, key, props, limit=limit)
    if label == "Account" and run_id:
        risk = graph.read(RISK, run_id=run_id, id=key)
        if risk:
            r = risk[0]
            out.risk = Risk(r["score"], r["threshold"] if r["threshold"] is not None else 0.5,
                            tuple(r["reasons"] or ()), tuple(r["detectors"] or ()), r["cluster_id"])
        out.clusters = [ClusterMembership(**r) for r in graph.read(CLUSTERS_OF, run_id=run_id, id=key,
                                                                          limit=limit)]
    if label in TIMELINE:
        out.timeline = [TimelineItem(**r) for r in graph.read(TIMELINE[label], id=key, limit=limit)]
    if label in SANCTIONS:
        out.sanctions = [SanctionItem(**r) for r in graph.read(SANCTIONS[label], id=key, limit=limit)]
    linked = {"Account": LINKED_ACCOUNT, "Device": LINKED_DEVICE, "IP": LINKED_IP}.get(label)
    if linked:
        out.links = [Link(**r) for r in graph.read(linked, id=key, limit=limit)]
    return out
