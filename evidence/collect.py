"""Gather what an evidence pack shows: bounded, parameterised queries, each recorded.

Every query that contributes to a pack is recorded with its exact text and
parameters (``Collected.queries``) so the manifest can say how the pack was
built and anyone with the database can run them again. Parameters are only
ids of the subject, of accounts, notes, orders and sanctions: never an IP or a
phone hash, so a masked manifest gives nothing away.

``collect`` reads in this order, one function (and its queries) per step: the
subject (a cluster, a case or an account) and the clusters and accounts it
covers, the detection runs and risk scores, the accounts' neighbourhood
(devices, IPs, phones, agencies, orders, follows), their comments, the notes
and brands they touch, the sanctions on any of it (through
``sanctions.service.sanctions_on``, whose queries are recorded like ours) and
the audit excerpt.

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
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from ringscope.common.errors import RingscopeError
from ringscope.audit.chain import AuditEntry
from ringscope.evidence.records import (ClusterRecord, Collected, EdgeRecord, EvidenceError, HealthRecords,
                                         PackNodeRef, QueryLog, RunRecord, ScoreRecord, Subject, SubjectScope, plain)
from ringscope.graph.database import Graph
from ringscope.graph.model import RELATIONSHIPS, identify_node, key_of
from ringscope.queries.detection import resolve_run
from ringscope.sanctions import service as sanctions
from ringscope.sanctions.propagation import NodeRef
from ringscope.sanctions.records import QueryRun, SanctionDetails

# Bounds: the pack says when one was reached (``Collected.summarised``).
MAX_MEMBERS = 20_000
MAX_LINKS = 400_000
MAX_COMMENTS = 100_000
MAX_NOTES = 50_000
MAX_SANCTIONS = 50_000
MAX_AUDIT = 20_000
MAX_TIMELINE_DAYS = 20_000
MAX_CASE_ITEMS = 500
MAX_HEALTH_ACCOUNTS = 200  # accounts whose content-health index a pack computes (each text is a fulltext search)
DERIVATION_DEPTH = sanctions.DERIVATION_DEPTH  # how far back the sanctions they derive from are read


def _types(*names: str) -> str:
    for name in names:
        assert name in RELATIONSHIPS, name
    return "|".join(names)


def _from_epoch_ms(value: Any) -> Any:
    """Comment times travel as epoch milliseconds (the driver unpacks 50,000 datetimes several times slower)."""
    if not isinstance(value, int):
        return value
    return plain(datetime.fromtimestamp(value / 1000, tz=timezone.utc))


class _Reader:
    """Runs queries, keeps each one's text and parameters, notes the bounds it hit."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.queries: list[QueryLog] = []
        self.summarised: list[str] = []
        self.seconds: dict[str, float] = {}

    def read(self, name: str, cypher: str, **params: Any) -> list[dict[str, Any]]:
        started = time.monotonic()
        rows = [{k: plain(v) for k, v in record.items()} for record in self.graph.read(cypher, **params)]
        self._log(name, cypher, params, time.monotonic() - started)
        return rows

    def bounded(self, name: str, cypher: str, limit: int, what: str, **params: Any) -> list[dict[str, Any]]:
        rows = self.read(name, cypher, limit=limit, **params)
        self._note_bound(len(rows), limit, what)
        return rows

    def record(self, query: QueryRun) -> None:
        """A bounded query a service ran for the pack: recorded like the pack's own."""
        self._log(query.name, query.cypher, dict(query.params), query.seconds)
        self._note_bound(query.rows, query.params["limit"], query.what)

    def logged(self, name: str, what: str, params: dict[str, Any], seconds: float) -> None:
        """Reads a service ran for the pack, as one entry (``what`` says which)."""
        self._log(name, what, params, seconds)

    def _log(self, name: str, cypher: str, params: dict[str, Any], seconds: float) -> None:
        self.queries.append(QueryLog(name, cypher.strip(), params))
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def _note_bound(self, rows: int, limit: int, what: str) -> None:
        if rows >= limit:
            self.summarised.append(f"{what}: only the first {limit:,} were read")


class _Neighbourhood:
    """The pack's nodes and relationships, put together from the rows of several queries (no database here)."""

    def __init__(self) -> None:
        self.nodes: dict[PackNodeRef, dict[str, Any]] = {}
        self.edges: list[EdgeRecord] = []

    def add_node(self, ref: PackNodeRef, props: dict[str, Any]) -> None:
        self.nodes.setdefault(ref, {}).update(props)

    def add_edge(self, source: PackNodeRef, type: str, target: PackNodeRef,
                 props: dict[str, Any] | None = None) -> None:
        self.edges.append(EdgeRecord(source, type, target, props or {}))

    def keys(self, label: str) -> list[str]:
        return sorted(ref.key for ref in self.nodes if ref.label == label)

    def add_linked(self, rows: list[dict[str, Any]], own_label: str, own_key: str, outgoing: bool) -> None:
        """Rows of ``{labels, node, type, rel, <own_key>}``: a node and its relationship to one of ours."""
        for row in rows:
            identity = identify_node(row["labels"], row["node"])
            if identity is None:
                continue
            ref = PackNodeRef(*identity)
            self.add_node(ref, row["node"])
            own = PackNodeRef(own_label, row[own_key])
            source, target = (own, ref) if outgoing else (ref, own)
            self.add_edge(source, row["type"], target, row["rel"])

    def add_comment(self, row: dict[str, Any]) -> None:
        """A row of COMMENTS_OF_ACCOUNTS: the comment, who wrote it, what it is on or replies to, from where."""
        props = {**row["node"], "created_at": _from_epoch_ms(row["node"].get("created_at"))}
        ref = PackNodeRef("Comment", props["comment_id"])
        self.add_node(ref, props)
        self.add_edge(PackNodeRef("Account", row["account_id"]), "WROTE", ref)
        if row["note_id"]:
            self.add_edge(ref, "ON", PackNodeRef("Note", row["note_id"]))
        if row["reply_to"]:
            self.add_edge(ref, "REPLIES_TO", PackNodeRef("Comment", row["reply_to"]))
        if props.get("device_id"):
            self.add_edge(ref, "FROM_DEVICE", PackNodeRef("Device", props["device_id"]))
        if props.get("ip"):
            self.add_edge(ref, "FROM_IP", PackNodeRef("IP", props["ip"]))

    def add_missing_endpoints(self) -> None:
        # Endpoints outside what was read (a reply to an outsider's comment, a stub) still get a node.
        for edge in self.edges:
            for ref in (edge.source, edge.target):
                if ref not in self.nodes:
                    self.nodes[ref] = {key_of(ref.label): ref.key}


def collect(graph: Graph, subject: Subject, run: str = "latest") -> Collected:
    """Everything a pack about ``subject`` shows. ``run`` picks the run for an account pack."""
    reader = _Reader(graph)
    scope = _read_subject(reader, graph, subject, run)
    account_ids = sorted(scope.member_scores)
    runs = [_read_run(reader, run_id) for run_id in scope.run_ids]
    scores = _read_scores(reader, account_ids, scope.run_ids)
    hood = _Neighbourhood()
    _read_accounts(reader, hood, account_ids)
    _read_account_links(reader, hood, account_ids)
    comment_total, comment_days = _read_comments(reader, hood, account_ids)
    _read_notes(reader, hood)
    hood.add_missing_endpoints()
    found = _read_sanctions(reader, graph, hood)
    audit = _read_audit_excerpt(reader, subject, account_ids, scope.clusters, found)
    health = _read_health(reader, graph, scope.member_scores)
    return Collected(
        subject=subject, subject_props=scope.props, runs=runs, clusters=scope.clusters,
        member_scores=scope.member_scores, memberships=scope.memberships, scores=scores, nodes=hood.nodes,
        edges=hood.edges, comment_total=comment_total, comment_days=comment_days, sanctions=found, audit=audit,
        queries=reader.queries, summarised=reader.summarised, neo4j_version=graph.server_version(),
        seconds=reader.seconds, health=health,
    )


# --- the subject -----------------------------------------------------------------------------------------

CLUSTER_WITH_RUN = """
MATCH (k:Cluster {cluster_id: $cluster_id})
OPTIONAL MATCH (r:DetectionRun)-[:FOUND]->(k)
RETURN k {.*} AS cluster, r.run_id AS run_id
LIMIT 1
"""
CLUSTER_MEMBER_SCORES = """
MATCH (k:Cluster {cluster_id: $cluster_id})-[m:HAS_MEMBER]->(a:Account)
RETURN a.account_id AS account_id, m.score AS score
ORDER BY account_id LIMIT $limit
"""
CLUSTER_MEMBER_COUNT = """
MATCH (k:Cluster {cluster_id: $cluster_id})-[:HAS_MEMBER]->(a:Account)
RETURN count(a) AS members
"""


def _read_subject(reader: _Reader, graph: Graph, subject: Subject, run: str) -> SubjectScope:
    if subject.kind == "cluster":
        return _clusters_scope(reader, {"cluster_id": subject.id}, [subject.id])
    if subject.kind == "case":
        return _case_scope(reader, subject.id)
    if subject.kind == "account":
        return _account_scope(reader, graph, subject.id, run)
    raise EvidenceError(f"unknown subject kind {subject.kind!r} (cluster, case or account)")


def _clusters_scope(reader: _Reader, props: dict[str, Any], cluster_ids: Sequence[str],
                    account_ids: Sequence[str] = ()) -> SubjectScope:
    """The clusters' members (and ``account_ids``, members of none of them)."""
    clusters: list[ClusterRecord] = []
    run_ids: list[str] = []
    member_scores: dict[str, float] = {}
    memberships: dict[str, list[str]] = {}
    for cluster_id in cluster_ids:
        cluster, members = _read_cluster(reader, cluster_id)
        clusters.append(cluster)
        if cluster.run_id and cluster.run_id not in run_ids:
            run_ids.append(cluster.run_id)
        for account_id, score in members:
            memberships.setdefault(account_id, []).append(cluster_id)
            member_scores[account_id] = max(score, member_scores.get(account_id, 0.0))
    for account_id in account_ids:
        member_scores.setdefault(account_id, 0.0)
    return SubjectScope(props, clusters, run_ids, member_scores, memberships)


def _read_cluster(reader: _Reader, cluster_id: str) -> tuple[ClusterRecord, list[tuple[str, float]]]:
    """The cluster and its members' (account id, HAS_MEMBER score), the first MAX_MEMBERS by id."""
    rows = reader.read("cluster", CLUSTER_WITH_RUN, cluster_id=cluster_id)
    if not rows:
        raise EvidenceError(f"no cluster {cluster_id!r} (see `ringscope flagged --run latest` for cluster ids)")
    cluster = _cluster_record(rows[0]["cluster"], rows[0]["run_id"])
    members = reader.read("cluster_members", CLUSTER_MEMBER_SCORES, cluster_id=cluster_id, limit=MAX_MEMBERS)
    if len(members) >= MAX_MEMBERS:
        total = reader.read("cluster_size", CLUSTER_MEMBER_COUNT, cluster_id=cluster_id)[0]["members"]
        reader.summarised.append(f"cluster {cluster_id} has {total:,} members: the pack covers the first "
                                 f"{MAX_MEMBERS:,} by account id")
    return cluster, [(m["account_id"], float(m["score"] or 0.0)) for m in members]


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


CASE_WITH_SUBJECTS = """
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


def _case_scope(reader: _Reader, case_id: str) -> SubjectScope:
    rows = reader.read("case", CASE_WITH_SUBJECTS, case_id=case_id, limit=MAX_CASE_ITEMS)
    if not rows:
        raise EvidenceError(f"no case {case_id!r}: a case is a (Case {{case_id}}) node with "
                            "[:ABOUT] relationships to clusters or accounts")
    case = rows[0]
    scope = _clusters_scope(reader, case["case"], case["clusters"], case["accounts"])
    if not case["clusters"] and not case["accounts"]:
        reader.summarised.append(f"case {case_id} is about no cluster or account yet")
    return scope


ACCOUNT_EXISTS = "MATCH (a:Account {account_id: $account_id}) RETURN a.account_id AS account_id LIMIT 1"
CLUSTERS_OF_ACCOUNT = """
MATCH (a:Account {account_id: $account_id})<-[m:HAS_MEMBER]-(k:Cluster)
WHERE k.run_id = $run_id
RETURN k {.*} AS cluster, k.run_id AS run_id, m.score AS score
ORDER BY k.cluster_id LIMIT $limit
"""


def _account_scope(reader: _Reader, graph: Graph, account_id: str, run: str) -> SubjectScope:
    """The account and the clusters of run ``run`` it is in."""
    if not reader.read("account", ACCOUNT_EXISTS, account_id=account_id):
        raise EvidenceError(f"no account {account_id!r}")
    clusters: list[ClusterRecord] = []
    score = 0.0
    run_id = _resolve_run(graph, run)
    if run_id:
        for row in reader.bounded("account_clusters", CLUSTERS_OF_ACCOUNT, MAX_CASE_ITEMS,
                                  "clusters of the account", account_id=account_id, run_id=run_id):
            clusters.append(_cluster_record(row["cluster"], row["run_id"]))
            score = max(score, float(row["score"] or 0.0))
    memberships = {account_id: [k.cluster_id for k in clusters]} if clusters else {}
    return SubjectScope({"account_id": account_id}, clusters, [run_id] if run_id else [], {account_id: score},
                        memberships)


def _resolve_run(graph: Graph, run: str) -> str | None:
    """The run an account pack reads; ``latest`` with no completed run yet is None (no findings)."""
    try:
        return resolve_run(graph, run)
    except RingscopeError:
        if run == "latest":
            return None
        raise


# --- detection runs and risk scores ---------------------------------------------------------------------

DETECTION_RUN = """
MATCH (r:DetectionRun {run_id: $run_id})
RETURN r.run_id AS run_id, r.status AS status, toString(r.started_at) AS started_at,
       toString(r.finished_at) AS finished_at, r.policy AS policy, r.watermark AS watermark,
       r.code_version AS code_version, r.flag_threshold AS flag_threshold
"""


def _read_run(reader: _Reader, run_id: str) -> RunRecord:
    rows = reader.read("run", DETECTION_RUN, run_id=run_id)
    if not rows:
        return RunRecord(run_id, None, None, None, None, None, None, None)
    r = rows[0]
    return RunRecord(r["run_id"], r["status"], r["started_at"], r["finished_at"], r["code_version"],
                     r["flag_threshold"], _parse_json(r["policy"]), _parse_json(r["watermark"]))


def _parse_json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


RISK_SCORES = """
UNWIND $account_ids AS id
MATCH (a:Account {account_id: id})<-[s:SCORED]-(r:DetectionRun)
WHERE r.run_id IN $run_ids
RETURN id AS account_id, r.run_id AS run_id, s.score AS score, s.cluster_id AS cluster_id,
       s.detectors AS detectors, s.reasons AS reasons
ORDER BY account_id, run_id LIMIT $limit
"""


def _read_scores(reader: _Reader, account_ids: list[str], run_ids: list[str]) -> list[ScoreRecord]:
    if not run_ids:
        return []
    return [ScoreRecord(r["account_id"], r["run_id"], float(r["score"] or 0.0), r["cluster_id"],
                        tuple(r["detectors"] or ()), tuple(r["reasons"] or ()))
            for r in reader.bounded("scores", RISK_SCORES, MAX_MEMBERS * 4, "risk scores",
                                    account_ids=account_ids, run_ids=run_ids)]


# --- the accounts and their neighbourhood ---------------------------------------------------------------

ACCOUNT_NODES = """
UNWIND $account_ids AS id
MATCH (a:Account {account_id: id})
RETURN a {.*} AS node
LIMIT $limit
"""


def _read_accounts(reader: _Reader, hood: _Neighbourhood, account_ids: list[str]) -> None:
    for row in reader.bounded("accounts", ACCOUNT_NODES, MAX_MEMBERS, "accounts", account_ids=account_ids):
        hood.add_node(PackNodeRef("Account", row["node"]["account_id"]), row["node"])


ACCOUNT_OUTGOING_LINKS = f"""
UNWIND $account_ids AS id
MATCH (a:Account {{account_id: id}})-[r:{_types("USED_DEVICE", "LOGGED_IN_FROM", "REGISTERED_FROM", "HAS_PHONE",
                                               "IN_PHONE_SEGMENT", "POSTED")}]->(x)
RETURN id AS account_id, type(r) AS type, labels(x) AS labels, x {{.*}} AS node, r {{.*}} AS rel
LIMIT $limit
"""
ACCOUNT_INCOMING_LINKS = f"""
UNWIND $account_ids AS id
MATCH (a:Account {{account_id: id}})<-[r:{_types("MANAGES", "ASSIGNED_TO")}]-(x)
RETURN id AS account_id, type(r) AS type, labels(x) AS labels, x {{.*}} AS node, r {{.*}} AS rel
LIMIT $limit
"""
PHONE_SEGMENTS_OF_ACCOUNTS = f"""
UNWIND $account_ids AS id
MATCH (:Account {{account_id: id}})-[:{_types("HAS_PHONE")}]->(p:Phone)-[r:{_types("IN_SEGMENT")}]->(s:PhoneSegment)
RETURN DISTINCT p.phone_hash AS phone_hash, s {{.*}} AS node, r {{.*}} AS rel
LIMIT $limit
"""
FOLLOWS_AMONG_ACCOUNTS = f"""
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


def _read_account_links(reader: _Reader, hood: _Neighbourhood, account_ids: list[str]) -> None:
    """Devices, IPs, phones and their segments, posted notes, agencies and orders, follows among the accounts;
    then what the orders link to."""
    hood.add_linked(reader.bounded("account_out", ACCOUNT_OUTGOING_LINKS, MAX_LINKS,
                                   "account links (devices, IPs, phones, notes)", account_ids=account_ids),
                    "Account", "account_id", outgoing=True)
    hood.add_linked(reader.bounded("account_in", ACCOUNT_INCOMING_LINKS, MAX_LINKS,
                                   "intermediaries and orders of the accounts", account_ids=account_ids),
                    "Account", "account_id", outgoing=False)
    for row in reader.bounded("phone_segments", PHONE_SEGMENTS_OF_ACCOUNTS, MAX_LINKS, "phone segments",
                              account_ids=account_ids):
        segment = PackNodeRef("PhoneSegment", str(row["node"]["segment"]))
        hood.add_node(segment, row["node"])
        hood.add_edge(PackNodeRef("Phone", row["phone_hash"]), "IN_SEGMENT", segment, row["rel"])
    for row in reader.bounded("follows_among_members", FOLLOWS_AMONG_ACCOUNTS, MAX_LINKS,
                              "follows among the accounts", account_ids=account_ids):
        hood.add_edge(PackNodeRef("Account", row["source"]), "FOLLOWS", PackNodeRef("Account", row["target"]),
                      row["rel"])
    order_ids = hood.keys("Order")
    if order_ids:
        hood.add_linked(reader.bounded("order_links", ORDER_LINKS, MAX_LINKS, "order links", order_ids=order_ids),
                        "Order", "order_id", outgoing=True)


# --- comments ------------------------------------------------------------------------------------------

COMMENT_COUNT = f"""
UNWIND $account_ids AS id
MATCH (:Account {{account_id: id}})-[:{_types("WROTE")}]->(c:Comment)
RETURN count(c) AS comments
"""
COMMENTS_OF_ACCOUNTS = f"""
UNWIND $account_ids AS id
MATCH (:Account {{account_id: id}})-[:{_types("WROTE")}]->(c:Comment)
RETURN c {{.*, created_at: c.created_at.epochMillis}} AS node, id AS account_id,
       coalesce(c.note_id, head([(c)-[:{_types("ON")}]->(n:Note) | n.note_id])) AS note_id,
       coalesce(c.reply_to, head([(c)-[:{_types("REPLIES_TO")}]->(p:Comment) | p.comment_id])) AS reply_to
ORDER BY c.created_at, c.comment_id LIMIT $limit
"""
COMMENTS_PER_DAY = f"""
UNWIND $account_ids AS id
MATCH (:Account {{account_id: id}})-[:{_types("WROTE")}]->(c:Comment)
WITH date(c.created_at) AS day, count(*) AS n
RETURN toString(day) AS day, n ORDER BY day LIMIT $limit
"""


def _read_comments(reader: _Reader, hood: _Neighbourhood,
                   account_ids: list[str]) -> tuple[int, list[tuple[str, int]]]:
    """The first MAX_COMMENTS comments by time into ``hood``; returns how many the accounts wrote in all and
    how many per day (the timeline counts every one)."""
    total = reader.read("comment_count", COMMENT_COUNT, account_ids=account_ids)[0]["comments"]
    comments = reader.read("comments", COMMENTS_OF_ACCOUNTS, account_ids=account_ids, limit=MAX_COMMENTS)
    if total > len(comments):
        reader.summarised.append(f"comments: the accounts wrote {total:,}; the pack holds the first "
                                 f"{len(comments):,} by time (the timeline counts all)")
    for row in comments:
        hood.add_comment(row)
    days = [(r["day"], r["n"]) for r in reader.bounded("comment_days", COMMENTS_PER_DAY, MAX_TIMELINE_DAYS,
                                                       "comment days", account_ids=account_ids)]
    return total, days


# --- notes and their brands ----------------------------------------------------------------------------

NOTE_NODES = """
UNWIND $note_ids AS id
MATCH (n:Note {note_id: id})
RETURN n {.*} AS node
LIMIT $limit
"""
NOTE_BRANDS = f"""
UNWIND $note_ids AS id
MATCH (n:Note {{note_id: id}})-[r:{_types("PROMOTES")}]->(b:Brand)
RETURN id AS note_id, b {{.*}} AS node, r {{.*}} AS rel
LIMIT $limit
"""


def _read_notes(reader: _Reader, hood: _Neighbourhood) -> None:
    """The notes the accounts posted or commented on, and the brands they promote."""
    note_ids = sorted({e.target.key for e in hood.edges if e.target.label == "Note"} | set(hood.keys("Note")))
    if not note_ids:
        return
    for row in reader.bounded("notes", NOTE_NODES, MAX_NOTES, "notes", note_ids=note_ids[:MAX_NOTES]):
        hood.add_node(PackNodeRef("Note", row["node"]["note_id"]), row["node"])
    for row in reader.bounded("note_brands", NOTE_BRANDS, MAX_LINKS, "brands of the notes",
                              note_ids=note_ids[:MAX_NOTES]):
        brand = PackNodeRef("Brand", row["node"]["brand_id"])
        hood.add_node(brand, row["node"])
        hood.add_edge(PackNodeRef("Note", row["note_id"]), "PROMOTES", brand, row["rel"])


# --- sanctions and the audit excerpt -------------------------------------------------------------------

def _read_sanctions(reader: _Reader, graph: Graph, hood: _Neighbourhood) -> list[SanctionDetails]:
    """Sanctions on anything in the pack and those they derive from (the sanctions service reads them);
    they and their targets join the pack's nodes."""
    found = sanctions.sanctions_on(graph, [NodeRef(ref.label, ref.key) for ref in hood.nodes], limit=MAX_SANCTIONS)
    for query in found.queries:
        reader.record(query)
    for sanction in found.sanctions:
        for target in sanction.targets:
            hood.add_node(PackNodeRef(target.ref.label, target.ref.id), plain(target.properties))
        hood.add_node(PackNodeRef("Sanction", sanction.record.sanction_id), plain(sanction.properties))
    return list(found.sanctions)


AUDIT_EXCERPT = """
MATCH (e:AuditEntry)
WHERE e.target_id IN $target_ids AND e.action <> 'evidence.export'
RETURN e {.*} AS e ORDER BY e.seq LIMIT $limit
"""


def _read_audit_excerpt(reader: _Reader, subject: Subject, account_ids: list[str], clusters: list[ClusterRecord],
                        found: list[SanctionDetails]) -> list[AuditEntry]:
    """Entries about the subject, its accounts and clusters, the sanctions and their targets (no IP or phone)."""
    target_ids = sorted({subject.id, *account_ids, *(c.cluster_id for c in clusters),
                         *(s.record.sanction_id for s in found),
                         *(t.ref.id for s in found for t in s.targets if t.ref.label not in ("IP", "Phone"))})
    return [AuditEntry(**row["e"]) for row in reader.bounded("audit_excerpt", AUDIT_EXCERPT, MAX_AUDIT,
                                                             "audit entries", target_ids=target_ids)]


# --- the content-health index ---------------------------------------------------------------------------------

def _read_health(reader: _Reader, graph: Graph, member_scores: dict[str, float]) -> HealthRecords:
    """The index of the pack's accounts (the highest member scores first, then by id; at most
    ``MAX_HEALTH_ACCOUNTS``), with each indicator's contribution, and the effect in force on each (``ringscope
    health apply``). The health policy in force (``RINGSCOPE_HEALTH_POLICY`` or the shipped one)."""
    from ringscope.detection.config import load_detection_policy
    from ringscope.health import effect_store, enforce, index, service as health, store as health_store
    from ringscope.health.policy import load_health_policy

    policy = load_health_policy()
    ranked = sorted(member_scores, key=lambda a: (-member_scores[a], a))
    ids = sorted(ranked[:MAX_HEALTH_ACCOUNTS])
    chosen = ("every account of the pack" if len(ranked) <= MAX_HEALTH_ACCOUNTS else
              f"{MAX_HEALTH_ACCOUNTS:,} of the pack's {len(ranked):,} accounts, the highest member scores first")
    if len(ranked) > MAX_HEALTH_ACCOUNTS:
        reader.summarised.append(f"content health: the index of {chosen} (data/health.json)")
    started = time.monotonic()
    rows = health.measures(graph, ids, policy, load_detection_policy().reports) if ids else []
    scored = index.healths(index.frame(rows), rows, policy) if rows else []
    seconds = (time.monotonic() - started) / 5
    reports = load_detection_policy().reports
    for name, cypher, params in (  # what health.service.measures ran (health/store.py), scored by health/index.py
            ("health_counts", health_store.COUNTS, {"ids": ids}),
            ("health_engagement", health_store.ENGAGEMENT, {"ids": ids}),
            ("health_texts", health_store.TEXTS, {"ids": ids, "per_account": policy.limits.max_texts}),
            ("health_text_candidates", health_store.TEXT_CANDIDATES,
             {"texts": "each text health_texts read, as a fulltext query (the texts are in data/comments.csv)",
              "limit": policy.limits.hits_per_text}),
            ("health_reports", health_store.REPORTS, {"ids": ids, "limit": reports.max_reports})):
        reader.logged(name, cypher, params, seconds)
    started = time.monotonic()
    effects = enforce.effects_of(graph, ids, 1)
    reader.logged("health_effects", effect_store.EFFECTS_OF, {"ids": ids, "limit": 1}, time.monotonic() - started)
    in_force = {a: found[0] for a, found in effects.items() if found and found[0].state == "active"}
    return HealthRecords(policy.version, len(ranked), MAX_HEALTH_ACCOUNTS, tuple(scored), in_force, chosen)
