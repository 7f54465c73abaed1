"""Gather what an evidence pack shows: bounded, parameterised queries, each recorded.

Every query that contributes to a pack is recorded with its exact text and
parameters (``Collected.queries``) so the manifest can say how the pack was
built and anyone with the database can run them again. Parameters are only
ids of the subject, of accounts, notes, orders and sanctions: never an IP or a
phone hash, so a masked manifest gives nothing away.

Shapes read (all optional beyond the cluster or account itself):

    (DetectionRun)-[:FOUND]->(Cluster)-[:HAS_MEMBER {score}]->(Account)
    (DetectionRun)-[:SCORED {score, reasons, detectors, cluster_id}]->(Account)
    (Case {case_id, ...})-[:ABOUT]->(Cluster|Account)
    (Sanction)-[:TARGETS]->(Account|Device|Brand|Intermediary|Note)
    (Sanction)-[:DERIVED_FROM]->(Sanction)       (sanctions/, when present)
    (AuditEntry {target_id, action, ...})
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from ringscope.audit.log import AuditEntry
from ringscope.graph.database import Graph
from ringscope.common.errors import RingscopeError
from ringscope.graph.model import RELATIONSHIPS, SANCTION_TARGETS, key_of
from ringscope.queries.detection import resolve_run

# Bounds: the pack says when one was reached (``Collected.summarised``).
MAX_MEMBERS = 20_000
MAX_LINKS = 400_000
MAX_COMMENTS = 100_000
MAX_NOTES = 50_000
MAX_SANCTIONS = 50_000
MAX_AUDIT = 20_000
MAX_TIMELINE_DAYS = 20_000
MAX_CASE_ITEMS = 500
DERIVATION_DEPTH = 5
# Relationship from a sanction to the sanction it was derived from (sanctions/ writes it).
DERIVED_FROM = "DERIVED_FROM"


class EvidenceError(RingscopeError):
    """The pack cannot be built as asked (unknown cluster, case or account ...)."""


def _types(*names: str) -> str:
    for name in names:
        assert name in RELATIONSHIPS, name
    return "|".join(names)


CLUSTER = """
MATCH (k:Cluster {cluster_id: $cluster_id})
OPTIONAL MATCH (r:DetectionRun)-[:FOUND]->(k)
RETURN k {.*} AS cluster, r.run_id AS run_id
LIMIT 1
"""
CLUSTER_MEMBERS = """
MATCH (k:Cluster {cluster_id: $cluster_id})-[m:HAS_MEMBER]->(a:Account)
RETURN a.account_id AS account_id, m.score AS score
ORDER BY account_id LIMIT $limit
"""
CLUSTER_SIZE = """
MATCH (k:Cluster {cluster_id: $cluster_id})-[:HAS_MEMBER]->(a:Account)
RETURN count(a) AS members
"""
ACCOUNT_EXISTS = "MATCH (a:Account {account_id: $account_id}) RETURN a.account_id AS account_id LIMIT 1"
ACCOUNT_CLUSTERS = """
MATCH (a:Account {account_id: $account_id})<-[m:HAS_MEMBER]-(k:Cluster)
WHERE k.run_id = $run_id
RETURN k {.*} AS cluster, k.run_id AS run_id, m.score AS score
ORDER BY k.cluster_id LIMIT $limit
"""
CASE = """
MATCH (c:Case {case_id: $case_id})
CALL (c) {
  OPTIONAL MATCH (c)-[:ABOUT]->(x)
  WHERE x:Cluster OR x:Account
  RETURN x ORDER BY x.cluster_id, x.account_id LIMIT $limit
}
RETURN c {.*} AS case,
       [k IN collect(x) WHERE k:Cluster | k.cluster_id] AS clusters,
       [a IN collect(x) WHERE a:Account | a.account_id] AS accounts
"""
RUN = """
MATCH (r:DetectionRun {run_id: $run_id})
RETURN r.run_id AS run_id, r.status AS status, toString(r.started_at) AS started_at,
       toString(r.finished_at) AS finished_at, r.policy AS policy, r.watermark AS watermark,
       r.code_version AS code_version, r.flag_threshold AS flag_threshold
"""
SCORES = """
UNWIND $account_ids AS id
MATCH (a:Account {account_id: id})<-[s:SCORED]-(r:DetectionRun)
WHERE r.run_id IN $run_ids
RETURN id AS account_id, r.run_id AS run_id, s.score AS score, s.cluster_id AS cluster_id,
       s.detectors AS detectors, s.reasons AS reasons
ORDER BY account_id, run_id LIMIT $limit
"""
ACCOUNTS = """
UNWIND $account_ids AS id
MATCH (a:Account {account_id: id})
RETURN a {.*} AS node
LIMIT $limit
"""
ACCOUNT_OUT = f"""
UNWIND $account_ids AS id
MATCH (a:Account {{account_id: id}})-[r:{_types("USED_DEVICE", "LOGGED_IN_FROM", "REGISTERED_FROM", "HAS_PHONE",
                                               "IN_PHONE_SEGMENT", "POSTED")}]->(x)
RETURN id AS account_id, type(r) AS type, labels(x) AS labels, x {{.*}} AS node, r {{.*}} AS rel
LIMIT $limit
"""
ACCOUNT_IN = f"""
UNWIND $account_ids AS id
MATCH (a:Account {{account_id: id}})<-[r:{_types("MANAGES", "ASSIGNED_TO")}]-(x)
RETURN id AS account_id, type(r) AS type, labels(x) AS labels, x {{.*}} AS node, r {{.*}} AS rel
LIMIT $limit
"""
PHONE_SEGMENTS = f"""
UNWIND $account_ids AS id
MATCH (:Account {{account_id: id}})-[:{_types("HAS_PHONE")}]->(p:Phone)-[r:{_types("IN_SEGMENT")}]->(s:PhoneSegment)
RETURN DISTINCT p.phone_hash AS phone_hash, s {{.*}} AS node, r {{.*}} AS rel
LIMIT $limit
"""
FOLLOWS_AMONG = f"""
UNWIND $account_ids AS id
MATCH (:Account {{account_id: id}})-[f:{_types("FOLLOWS")}]->(b:Account)
WHERE b.account_id IN $account_ids
RETURN id AS source, b.account_id AS target, f {{.*}} AS rel
LIMIT $limit
"""
ORDER_LINKS = f"""
UNWIND $order_ids AS id
MATCH (o:Order {{order_id: id}})-[r:{_types("PLACED_BY", "TAKEN_BY", "FOR_NOTE")}]->(x)
RETURN id AS order_id, type(r) AS type, labels(x) AS labels, x {{.*}} AS node, r {{.*}} AS rel
LIMIT $limit
"""
NOTE_BRANDS = f"""
UNWIND $note_ids AS id
MATCH (n:Note {{note_id: id}})-[r:{_types("PROMOTES")}]->(b:Brand)
RETURN id AS note_id, b {{.*}} AS node, r {{.*}} AS rel
LIMIT $limit
"""
NOTES = """
UNWIND $note_ids AS id
MATCH (n:Note {note_id: id})
RETURN n {.*} AS node
LIMIT $limit
"""
COMMENT_COUNT = f"""
UNWIND $account_ids AS id
MATCH (:Account {{account_id: id}})-[:{_types("WROTE")}]->(c:Comment)
RETURN count(c) AS comments
"""
COMMENTS = f"""
UNWIND $account_ids AS id
MATCH (:Account {{account_id: id}})-[:{_types("WROTE")}]->(c:Comment)
RETURN c {{.*, created_at: c.created_at.epochMillis}} AS node, id AS account_id,
       coalesce(c.note_id, head([(c)-[:{_types("ON")}]->(n:Note) | n.note_id])) AS note_id,
       coalesce(c.reply_to, head([(c)-[:{_types("REPLIES_TO")}]->(p:Comment) | p.comment_id])) AS reply_to
ORDER BY c.created_at, c.comment_id LIMIT $limit
"""
COMMENT_DAYS = f"""
UNWIND $account_ids AS id
MATCH (:Account {{account_id: id}})-[:{_types("WROTE")}]->(c:Comment)
WITH date(c.created_at) AS day, count(*) AS n
RETURN toString(day) AS day, n ORDER BY day LIMIT $limit
"""
SANCTIONS_ON = (
    "CALL () {\n"
    + "\n  UNION\n".join(
        f"  UNWIND ${label.lower()}_ids AS id MATCH (:{label} {{{key_of(label)}: id}})"
        f"<-[:{_types('TARGETS')}]-(s:Sanction) RETURN s.sanction_id AS sanction_id"
        for label in sorted(set(SANCTION_TARGETS.values()))
    )
    + "\n}\nRETURN DISTINCT sanction_id ORDER BY sanction_id LIMIT $limit"
)
SANCTION_ANCESTORS = f"""
UNWIND $sanction_ids AS id
MATCH (:Sanction {{sanction_id: id}})-[:{DERIVED_FROM}*1..{DERIVATION_DEPTH}]->(p:Sanction)
RETURN DISTINCT p.sanction_id AS sanction_id ORDER BY sanction_id LIMIT $limit
"""
SANCTION_DETAILS = f"""
UNWIND $sanction_ids AS id
MATCH (s:Sanction {{sanction_id: id}})
CALL (s) {{
  OPTIONAL MATCH (s)-[:{_types("TARGETS")}]->(t)
  RETURN collect({{labels: labels(t), node: t {{.*}}}}) AS targets
}}
CALL (s) {{
  OPTIONAL MATCH (s)-[r]->(o) WHERE type(r) <> 'TARGETS'
  WITH r, o LIMIT 50
  RETURN collect({{type: type(r), labels: labels(o), node: o {{.*}}}}) AS links
}}
RETURN s {{.*}} AS sanction, targets, links
ORDER BY s.sanction_id LIMIT $limit
"""
AUDIT_EXCERPT = """
MATCH (e:AuditEntry)
WHERE e.target_id IN $target_ids AND e.action <> 'evidence.export'
RETURN e {.*} AS e ORDER BY e.seq LIMIT $limit
"""


@dataclass(frozen=True)
class QueryLog:
    name: str
    cypher: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Subject:
    kind: str  # cluster | case | account
    id: str


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    status: str | None
    started_at: str | None
    finished_at: str | None
    code_version: str | None
    flag_threshold: float | None
    policy: Any  # the policy as stored (parsed JSON)
    watermark: Any  # the data watermark the run saw (parsed JSON)


@dataclass(frozen=True)
class ClusterRecord:
    cluster_id: str
    run_id: str | None
    detector: str
    score: float
    size: int
    reasons: tuple[str, ...]
    evidence: Any  # per reason, a list of {"kind", "ids"}


@dataclass(frozen=True)
class ScoreRecord:
    account_id: str
    run_id: str
    score: float
    cluster_id: str | None
    detectors: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class NodeRef:
    label: str
    key: str  # the value of the label's key property


@dataclass(frozen=True)
class EdgeRecord:
    source: NodeRef
    type: str
    target: NodeRef
    props: dict[str, Any]


@dataclass(frozen=True)
class SanctionRecord:
    sanction_id: str
    props: dict[str, Any]
    targets: tuple[NodeRef, ...]
    links: tuple[tuple[str, NodeRef], ...]  # other outgoing relationships (DERIVED_FROM, ...)


@dataclass
class Collected:
    subject: Subject
    subject_props: dict[str, Any]
    runs: list[RunRecord]
    clusters: list[ClusterRecord]
    member_scores: dict[str, float]  # account -> HAS_MEMBER score (highest over the clusters)
    memberships: dict[str, list[str]]  # account -> the pack's clusters it is a member of
    scores: list[ScoreRecord]
    nodes: dict[NodeRef, dict[str, Any]]
    edges: list[EdgeRecord]
    comment_total: int
    comment_days: list[tuple[str, int]]
    sanctions: list[SanctionRecord]
    audit: list[AuditEntry]
    queries: list[QueryLog]
    summarised: list[str] = field(default_factory=list)
    neo4j_version: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # per query name (not in the pack: not reproducible)

    @property
    def members(self) -> list[str]:
        return sorted(self.member_scores)


def plain(value: Any) -> Any:
    """Driver values -> JSON-able Python (temporal values as ISO 8601 text)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    to_native = getattr(value, "to_native", None)
    if to_native is not None:
        value = to_native()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _from_epoch_ms(value: Any) -> Any:
    """Comment times travel as epoch milliseconds (the driver unpacks 50,000 datetimes several times slower)."""
    if not isinstance(value, int):
        return value
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc).isoformat()


def _node_ref(labels: list[str], props: dict[str, Any]) -> NodeRef | None:
    for label in labels:
        try:
            key = key_of(label)
        except KeyError:
            continue
        if props.get(key) is not None:
            return NodeRef(label, str(props[key]))
    return None


class _Reader:
    """Runs queries, keeps each one's text and parameters, notes the bounds it hit."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.queries: list[QueryLog] = []
        self.summarised: list[str] = []
        self.seconds: dict[str, float] = {}

    def read(self, name: str, cypher: str, **params: Any) -> list[dict[str, Any]]:
        self.queries.append(QueryLog(name, cypher.strip(), params))
        started = time.monotonic()
        rows = [{k: plain(v) for k, v in record.items()} for record in self.graph.read(cypher, **params)]
        self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - started
        return rows

    def bounded(self, name: str, cypher: str, limit: int, what: str, **params: Any) -> list[dict[str, Any]]:
        rows = self.read(name, cypher, limit=limit, **params)
        if len(rows) >= limit:
            self.summarised.append(f"{what}: only the first {limit:,} were read")
        return rows


def _cluster_record(props: dict[str, Any], run_id: str | None) -> ClusterRecord:
    try:
        evidence = json.loads(props.get("evidence") or "[]")
    except (TypeError, ValueError):
        evidence = []
    return ClusterRecord(
        cluster_id=props["cluster_id"], run_id=run_id or props.get("run_id"), detector=props.get("detector") or "",
        score=float(props.get("score") or 0.0), size=int(props.get("size") or 0),
        reasons=tuple(props.get("reasons") or ()), evidence=evidence,
    )


def _parse_json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def collect(graph: Graph, subject: Subject, run: str = "latest") -> Collected:
    """Everything a pack about ``subject`` shows. ``run`` picks the run for an account pack."""
    reader = _Reader(graph)
    member_scores: dict[str, float] = {}
    memberships: dict[str, list[str]] = {}
    clusters: list[ClusterRecord] = []
    subject_props: dict[str, Any] = {}
    run_ids: list[str] = []

    def add_cluster(cluster_id: str) -> None:
        rows = reader.read("cluster", CLUSTER, cluster_id=cluster_id)
        if not rows:
            raise EvidenceError(f"no cluster {cluster_id!r} (see `ringscope flagged --run latest` for cluster ids)")
        record = _cluster_record(rows[0]["cluster"], rows[0]["run_id"])
        clusters.append(record)
        if record.run_id and record.run_id not in run_ids:
            run_ids.append(record.run_id)
        members = reader.read("cluster_members", CLUSTER_MEMBERS, cluster_id=cluster_id, limit=MAX_MEMBERS)
        if len(members) >= MAX_MEMBERS:
            total = reader.read("cluster_size", CLUSTER_SIZE, cluster_id=cluster_id)[0]["members"]
            reader.summarised.append(f"cluster {cluster_id} has {total:,} members: the pack covers the first "
                                     f"{MAX_MEMBERS:,} by account id")
        for m in members:
            memberships.setdefault(m["account_id"], []).append(cluster_id)
            score = float(m["score"] or 0.0)
            member_scores[m["account_id"]] = max(score, member_scores.get(m["account_id"], 0.0))

    if subject.kind == "cluster":
        add_cluster(subject.id)
        subject_props = {"cluster_id": subject.id}
    elif subject.kind == "case":
        rows = reader.read("case", CASE, case_id=subject.id, limit=MAX_CASE_ITEMS)
        if not rows:
            raise EvidenceError(f"no case {subject.id!r}: a case is a (Case {{case_id}}) node with "
                                "[:ABOUT] relationships to clusters or accounts")
        subject_props = rows[0]["case"]
        for cluster_id in rows[0]["clusters"]:
            add_cluster(cluster_id)
        for account_id in rows[0]["accounts"]:
            member_scores.setdefault(account_id, 0.0)
        if not rows[0]["clusters"] and not rows[0]["accounts"]:
            reader.summarised.append(f"case {subject.id} is about no cluster or account yet")
    elif subject.kind == "account":
        if not reader.read("account", ACCOUNT_EXISTS, account_id=subject.id):
            raise EvidenceError(f"no account {subject.id!r}")
        subject_props = {"account_id": subject.id}
        member_scores[subject.id] = 0.0
        run_id = _resolve_run(graph, run)
        if run_id:
            run_ids.append(run_id)
            for row in reader.bounded("account_clusters", ACCOUNT_CLUSTERS, MAX_CASE_ITEMS, "clusters of the account",
                                      account_id=subject.id, run_id=run_id):
                clusters.append(_cluster_record(row["cluster"], row["run_id"]))
                memberships.setdefault(subject.id, []).append(row["cluster"]["cluster_id"])
                member_scores[subject.id] = max(member_scores[subject.id], float(row["score"] or 0.0))
    else:
        raise EvidenceError(f"unknown subject kind {subject.kind!r} (cluster, case or account)")

    account_ids = sorted(member_scores)
    runs = [_run(reader, r) for r in run_ids]
    scores = [ScoreRecord(r["account_id"], r["run_id"], float(r["score"] or 0.0), r["cluster_id"],
                          tuple(r["detectors"] or ()), tuple(r["reasons"] or ()))
              for r in reader.bounded("scores", SCORES, MAX_MEMBERS * 4, "risk scores",
                                      account_ids=account_ids, run_ids=run_ids)] if run_ids else []

    nodes: dict[NodeRef, dict[str, Any]] = {}
    edges: list[EdgeRecord] = []

    def add_node(ref: NodeRef, props: dict[str, Any]) -> None:
        nodes.setdefault(ref, {}).update(props)

    for row in reader.bounded("accounts", ACCOUNTS, MAX_MEMBERS, "accounts", account_ids=account_ids):
        add_node(NodeRef("Account", row["node"]["account_id"]), row["node"])

    def linked(rows: list[dict[str, Any]], own_label: str, own_key: str, outgoing: bool) -> None:
        for row in rows:
            ref = _node_ref(row["labels"], row["node"])
            if ref is None:
                continue
            add_node(ref, row["node"])
            own = NodeRef(own_label, row[own_key])
            source, target = (own, ref) if outgoing else (ref, own)
            edges.append(EdgeRecord(source, row["type"], target, row["rel"] or {}))

    linked(reader.bounded("account_out", ACCOUNT_OUT, MAX_LINKS, "account links (devices, IPs, phones, notes)",
                          account_ids=account_ids), "Account", "account_id", True)
    linked(reader.bounded("account_in", ACCOUNT_IN, MAX_LINKS, "intermediaries and orders of the accounts",
                          account_ids=account_ids), "Account", "account_id", False)
    for row in reader.bounded("phone_segments", PHONE_SEGMENTS, MAX_LINKS, "phone segments",
                              account_ids=account_ids):
        segment = NodeRef("PhoneSegment", str(row["node"]["segment"]))
        add_node(segment, row["node"])
        edges.append(EdgeRecord(NodeRef("Phone", row["phone_hash"]), "IN_SEGMENT", segment, row["rel"] or {}))
    for row in reader.bounded("follows_among_members", FOLLOWS_AMONG, MAX_LINKS, "follows among the accounts",
                              account_ids=account_ids):
        edges.append(EdgeRecord(NodeRef("Account", row["source"]), "FOLLOWS", NodeRef("Account", row["target"]),
                                row["rel"] or {}))
    order_ids = sorted(ref.key for ref in nodes if ref.label == "Order")
    if order_ids:
        linked(reader.bounded("order_links", ORDER_LINKS, MAX_LINKS, "order links", order_ids=order_ids),
               "Order", "order_id", True)

    comment_total = reader.read("comment_count", COMMENT_COUNT, account_ids=account_ids)[0]["comments"]
    comments = reader.read("comments", COMMENTS, account_ids=account_ids, limit=MAX_COMMENTS)
    if comment_total > len(comments):
        reader.summarised.append(f"comments: the accounts wrote {comment_total:,}; the pack holds the first "
                                 f"{len(comments):,} by time (the timeline counts all)")
    for row in comments:
        props = row["node"]
        props["created_at"] = _from_epoch_ms(props.get("created_at"))
        ref = NodeRef("Comment", props["comment_id"])
        add_node(ref, props)
        edges.append(EdgeRecord(NodeRef("Account", row["account_id"]), "WROTE", ref, {}))
        if row["note_id"]:
            edges.append(EdgeRecord(ref, "ON", NodeRef("Note", row["note_id"]), {}))
        if row["reply_to"]:
            edges.append(EdgeRecord(ref, "REPLIES_TO", NodeRef("Comment", row["reply_to"]), {}))
        if props.get("device_id"):
            edges.append(EdgeRecord(ref, "FROM_DEVICE", NodeRef("Device", props["device_id"]), {}))
        if props.get("ip"):
            edges.append(EdgeRecord(ref, "FROM_IP", NodeRef("IP", props["ip"]), {}))
    comment_days = [(r["day"], r["n"]) for r in reader.bounded("comment_days", COMMENT_DAYS, MAX_TIMELINE_DAYS,
                                                              "comment days", account_ids=account_ids)]

    note_ids = sorted({e.target.key for e in edges if e.target.label == "Note"} | {
        ref.key for ref in nodes if ref.label == "Note"})
    if note_ids:
        for row in reader.bounded("notes", NOTES, MAX_NOTES, "notes", note_ids=note_ids[:MAX_NOTES]):
            add_node(NodeRef("Note", row["node"]["note_id"]), row["node"])
        for row in reader.bounded("note_brands", NOTE_BRANDS, MAX_LINKS, "brands of the notes",
                                  note_ids=note_ids[:MAX_NOTES]):
            brand = NodeRef("Brand", row["node"]["brand_id"])
            add_node(brand, row["node"])
            edges.append(EdgeRecord(NodeRef("Note", row["note_id"]), "PROMOTES", brand, row["rel"] or {}))
    # Endpoints outside what was read (a reply to an outsider's comment, a stub) still get a node.
    for edge in edges:
        for ref in (edge.source, edge.target):
            if ref not in nodes:
                nodes[ref] = {key_of(ref.label): ref.key}

    sanctions = _sanctions(reader, nodes, add_node)
    audit_targets = sorted({subject.id, *account_ids, *(c.cluster_id for c in clusters),
                            *(s.sanction_id for s in sanctions),
                            *(t.key for s in sanctions for t in s.targets if t.label not in ("IP", "Phone"))})
    audit = [AuditEntry(**row["e"]) for row in reader.bounded("audit_excerpt", AUDIT_EXCERPT, MAX_AUDIT,
                                                              "audit entries", target_ids=audit_targets)]
    return Collected(
        subject=subject, subject_props=subject_props, runs=runs, clusters=clusters, member_scores=member_scores,
        memberships=memberships, scores=scores, nodes=nodes, edges=edges, comment_total=comment_total, comment_days=comment_days,
        sanctions=sanctions, audit=audit, queries=reader.queries, summarised=reader.summarised,
        neo4j_version=graph.server_version(), seconds=reader.seconds,
    )


def _resolve_run(graph: Graph, run: str) -> str | None:
    """The run an account pack reads; ``latest`` with no completed run yet is None (no findings)."""
    try:
        return resolve_run(graph, run)
    except RingscopeError:
        if run == "latest":
            return None
        raise


def _run(reader: _Reader, run_id: str) -> RunRecord:
    rows = reader.read("run", RUN, run_id=run_id)
    if not rows:
        return RunRecord(run_id, None, None, None, None, None, None, None)
    r = rows[0]
    return RunRecord(r["run_id"], r["status"], r["started_at"], r["finished_at"], r["code_version"],
                     r["flag_threshold"], _parse_json(r["policy"]), _parse_json(r["watermark"]))


def _sanctions(reader: _Reader, nodes: dict[NodeRef, dict[str, Any]], add_node) -> list[SanctionRecord]:
    params = {f"{label.lower()}_ids": sorted(ref.key for ref in nodes if ref.label == label)
              for label in sorted(set(SANCTION_TARGETS.values()))}
    direct = [r["sanction_id"] for r in reader.bounded("sanctions_on", SANCTIONS_ON, MAX_SANCTIONS,
                                                       "sanctions", **params)]
    if not direct:
        return []
    ancestors = [r["sanction_id"] for r in reader.bounded("sanction_ancestors", SANCTION_ANCESTORS, MAX_SANCTIONS,
                                                          "sanctions derived from", sanction_ids=direct)]
    ids = sorted(set(direct) | set(ancestors))
    records = []
    for row in reader.bounded("sanction_details", SANCTION_DETAILS, MAX_SANCTIONS, "sanction details",
                              sanction_ids=ids):
        targets = []
        for t in row["targets"]:
            ref = _node_ref(t["labels"] or [], t["node"] or {})
            if ref is not None:
                targets.append(ref)
                add_node(ref, t["node"])
        links = []
        for link in row["links"]:
            if not link.get("type"):
                continue
            ref = _node_ref(link["labels"] or [], link["node"] or {})
            if ref is not None:
                links.append((link["type"], ref))
        props = row["sanction"]
        records.append(SanctionRecord(props["sanction_id"], props, tuple(sorted(targets, key=_ref_order)),
                                      tuple(sorted(links, key=lambda l: (l[0], _ref_order(l[1]))))))
        add_node(NodeRef("Sanction", props["sanction_id"]), props)
    return records


def _ref_order(ref: NodeRef) -> tuple[str, str]:
    return (ref.label, ref.key)
