"""The graph explorer's reads: a node, its neighbour counts, a capped expansion, a cluster's graph.

Every statement is a named constant built once, at import, from ``graph.model``
(labels, keys and relationship types are never taken from user text); values
travel as parameters. Hubs are never expanded blindly: ``neighbour_counts``
reads per-type degrees (Neo4j answers ``COUNT { (n)-[:T]-() }`` from its degree
store, without walking the relationships), so the app knows how big a node is
before it asks for anything, and ``expand`` always takes a ``limit``.

Node status, for styling, in order of precedence:

- ``banned``: a node whose status is banned, suspended or cooperation_banned,
  or that a ban sanction in force targets (``*ban*`` actions, not expired, not
  revoked);
- ``under_review``: a node that is limited, muted or throttled, or that a
  sanction awaiting approval targets;
- ``flagged``: an account the given detection run scored at or above its
  flag threshold;
- ``clean``: everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ringscope.graph.database import Graph
from ringscope.graph.model import NODE_TYPES, NODES, RELATIONSHIPS

# Nodes the explorer can show: everything except evaluation labels and bookkeeping.
EXPLORABLE = tuple(n.label for n in NODE_TYPES if n.label != "GroundTruth")

# Sanction states written by the sanctions service (and imports, which carry no status).
PENDING_STATES = ("pending", "pending_approval", "awaiting_approval", "proposed", "review")
INACTIVE_STATES = ("revoked", "rejected", "expired", "cancelled")
# Node ``status`` values (accounts, and what the sanctions service sets on devices, brands, agencies, notes).
BANNED_ACCOUNT_STATUSES = ("banned", "suspended", "cooperation_banned")
REVIEW_ACCOUNT_STATUSES = ("limited", "muted", "throttled")

# Where a relationship or its far node keeps the time the time-range filter reads.
TIME_EXPR = ("coalesce(r.created_at, r.first_seen, r.since, m.created_at, m.posted_at, "
             "m.registered_at, m.placed_at, m.issued_at)")


def key_expr(var: str) -> str:
    """Cypher for ``'Label:key'`` of node ``var`` (labels and keys from the model)."""
    cases = " ".join(f"WHEN {var}:{n.label} THEN '{n.label}:' + toString({var}.{n.key})" for n in NODE_TYPES
                     if n.label in EXPLORABLE)
    return f"CASE {cases} END"


def _label_expr(var: str) -> str:
    cases = " ".join(f"WHEN {var}:{label} THEN '{label}'" for label in EXPLORABLE)
    return f"CASE {cases} END"


def _status_expr(var: str) -> str:
    state = "coalesce(s.state, s.status, 'active')"
    return (
        f"CASE WHEN {var}.status IN $banned_statuses THEN 'banned' "
        f"WHEN EXISTS {{ ({var})<-[:TARGETS]-(s:Sanction) WHERE s.action CONTAINS 'ban' "
        "AND (s.expires_at IS NULL OR s.expires_at > datetime()) "
        f"AND NOT {state} IN $inactive_states AND NOT {state} IN $pending_states "
        "AND s.revoked_at IS NULL } THEN 'banned' "
        f"WHEN {var}.status IN $review_statuses THEN 'under_review' "
        f"WHEN EXISTS {{ ({var})<-[:TARGETS]-(s:Sanction) WHERE {state} IN $pending_states }} THEN 'under_review' "
        f"WHEN {var}:Account AND EXISTS {{ (:DetectionRun {{run_id: $run_id}})-[sc:SCORED]->({var}) "
        "WHERE sc.score >= $threshold } THEN 'flagged' "
        "ELSE 'clean' END"
    )


def node_projection(var: str) -> str:
    """A map describing node ``var`` for drawing: label, key, caption, status, score."""
    return (
        f"{{label: {_label_expr(var)}, key: {key_expr(var)}, "
        f"caption: coalesce({var}.nickname, {var}.name, {var}.title, left({var}.text, 40), {var}.action, {var}.detector), "
        f"status: {_status_expr(var)}, "
        f"score: CASE WHEN {var}:Account THEN "
        f"[(:DetectionRun {{run_id: $run_id}})-[sc:SCORED]->({var}) | sc.score][0] END, "
        f"stub: coalesce({var}.stub, false)}}"
    )


def status_params(run_id: str | None, threshold: float = 0.5) -> dict[str, Any]:
    return {"banned_statuses": list(BANNED_ACCOUNT_STATUSES), "review_statuses": list(REVIEW_ACCOUNT_STATUSES),
            "pending_states": list(PENDING_STATES), "inactive_states": list(INACTIVE_STATES),
            "run_id": run_id or "", "threshold": threshold}


def types_for(label: str) -> tuple[str, ...]:
    """Relationship types that can touch a node of ``label`` (from the model)."""
    out = []
    for rel_type, (start, end, _) in RELATIONSHIPS.items():
        ends = {start, end}
        if "*" in ends:
            ends |= set(_STAR_TARGETS.get(rel_type, ()))
        if label in ends:
            out.append(rel_type)
    return tuple(out)


# Relationships whose far end may be any of several labels.
_STAR_TARGETS = {"TARGETS": ("Account", "Device", "Brand", "Intermediary", "Note"),
                 "ABOUT": ("Cluster", "Account")}


def _match(label: str) -> str:
    return f"MATCH (n:{label} {{{NODES[label].key}: $id}})"


NODE = {label: f"{_match(label)} RETURN {node_projection('n')} AS node" for label in EXPLORABLE}

COUNTS = {
    label: f"{_match(label)} RETURN {{"
           + ", ".join(f"{t}: COUNT {{ (n)-[:{t}]-() }}" for t in types_for(label)) + "} AS counts"
    for label in EXPLORABLE
}

EXPAND = {
    label: f"""
{_match(label)}
MATCH (n)-[r:$any($types)]-(m)
WITH n, r, m, {TIME_EXPR} AS t
WHERE ($since IS NULL OR t IS NULL OR t >= datetime($since))
  AND ($until IS NULL OR t IS NULL OR t < datetime($until))
  AND NOT {key_expr('m')} IN $exclude
WITH n, r, m LIMIT $limit
RETURN {node_projection('m')} AS node, type(r) AS type, startNode(r) = n AS outgoing,
       toString({TIME_EXPR}) AS at
"""
    for label in EXPLORABLE
}

# A filtered count, capped so that a hub costs at most ``cap`` rows.
COUNT_FILTERED = {
    label: f"""
{_match(label)}
MATCH (n)-[r:$any($types)]-(m)
WITH r, m, {TIME_EXPR} AS t
WHERE ($since IS NULL OR t IS NULL OR t >= datetime($since))
  AND ($until IS NULL OR t IS NULL OR t < datetime($until))
WITH m LIMIT $cap
RETURN count(m) AS count
"""
    for label in EXPLORABLE
}

CLUSTER_WITH_TOP_MEMBERS = f"""
MATCH (k:Cluster {{cluster_id: $cluster_id}})
OPTIONAL MATCH (k)-[h:HAS_MEMBER]->(a:Account)
WITH k, a, h ORDER BY h.score DESC, a.account_id
WITH k, collect({{node: {node_projection('a')}, score: h.score}})[..$limit] AS members, count(a) AS total
RETURN k.cluster_id AS cluster_id, k.detector AS detector, k.score AS score, k.size AS size,
       k.reasons AS reasons, k.run_id AS run_id, members, total
"""

# Infrastructure and agencies shared by at least two of the drawn members.
CLUSTER_SHARED = f"""
UNWIND $members AS member_id
MATCH (a:Account {{account_id: member_id}})-[r:USED_DEVICE|REGISTERED_FROM|LOGGED_IN_FROM|HAS_PHONE]->(x)
WITH x, collect(DISTINCT [a.account_id, type(r)]) AS links
WHERE size(links) >= 2
WITH x, links ORDER BY size(links) DESC LIMIT $limit
RETURN {node_projection('x')} AS node, links
UNION ALL
UNWIND $members AS member_id
MATCH (a:Account {{account_id: member_id}})<-[:MANAGES]-(x:Intermediary)
WITH x, collect(DISTINCT [a.account_id, 'MANAGES']) AS links
RETURN {node_projection('x')} AS node, links
"""

MEMBER_ROWS = """
MATCH (k:Cluster {cluster_id: $cluster_id})-[h:HAS_MEMBER]->(a:Account)
OPTIONAL MATCH (:DetectionRun {run_id: k.run_id})-[s:SCORED]->(a)
RETURN a.account_id AS account_id, a.nickname AS nickname, a.status AS status, h.score AS member_score,
       s.score AS risk, toString(a.registered_at) AS registered_at
ORDER BY h.score DESC, a.account_id LIMIT $limit
"""

EDGES_BETWEEN_ACCOUNTS = """
UNWIND $members AS member_id
MATCH (a:Account {account_id: member_id})-[:FOLLOWS]->(b:Account)
WHERE b.account_id IN $members
RETURN a.account_id AS source, b.account_id AS target
LIMIT $limit
"""


@dataclass(frozen=True)
class GraphNode:
    label: str
    key: str  # the node's id property value
    caption: str | None
    status: str  # banned | under_review | flagged | clean
    score: float | None = None
    stub: bool = False

    @property
    def uid(self) -> str:
        return f"{self.label}:{self.key}"


@dataclass(frozen=True)
class GraphEdge:
    source: str  # uid
    target: str  # uid
    type: str
    at: str | None = None


@dataclass(frozen=True)
class NeighbourCounts:
    uid: str
    by_type: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_type.values())


@dataclass(frozen=True)
class Expansion:
    """Up to ``limit`` neighbours of a node (``more`` says whether others remain)."""

    center: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    more: bool


@dataclass
class ClusterGraph:
    cluster_id: str
    detector: str
    score: float
    size: int
    reasons: list[str]
    run_id: str
    members_total: int
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)

    @property
    def members_drawn(self) -> int:
        return sum(1 for n in self.nodes if n.label == "Account")


def split_uid(uid: str) -> tuple[str, str]:
    """``'Account:a1'`` -> ``('Account', 'a1')``; raises ValueError for an unknown label."""
    label, _, key = uid.partition(":")
    if label not in EXPLORABLE or not key:
        raise ValueError(f"not a node reference: {uid!r}")
    return label, key


def _node(data: dict[str, Any]) -> GraphNode:
    label, key = split_uid(data["key"])
    return GraphNode(label=label, key=key, caption=data.get("caption"), status=data["status"],
                     score=data.get("score"), stub=bool(data.get("stub")))


def node(graph: Graph, uid: str, run_id: str | None = None, threshold: float = 0.5) -> GraphNode | None:
    """One node by ``Label:key``, or None when it does not exist (or was deleted)."""
    label, key = split_uid(uid)
    rows = graph.read(NODE[label], id=key, **status_params(run_id, threshold))
    return _node(rows[0]["node"]) if rows else None


def neighbour_counts(graph: Graph, uid: str) -> NeighbourCounts | None:
    """Per relationship type, how many relationships the node has (degree store: cheap for hubs)."""
    label, key = split_uid(uid)
    rows = graph.read(COUNTS[label], id=key)
    if not rows:
        return None
    return NeighbourCounts(uid, {t: c for t, c in rows[0]["counts"].items() if c})


def filtered_count(graph: Graph, uid: str, types: list[str], since: str | None = None,
                   until: str | None = None, cap: int = 5001) -> int:
    """How many neighbours match the filters, counting at most ``cap``."""
    label, key = split_uid(uid)
    types = [t for t in types if t in RELATIONSHIPS]
    rows = graph.read(COUNT_FILTERED[label], id=key, types=types, since=since, until=until, cap=cap)
    return rows[0]["count"] if rows else 0


def expand(graph: Graph, uid: str, types: list[str] | None = None, *, limit: int = 100,
           exclude: list[str] | tuple[str, ...] = (), since: str | None = None, until: str | None = None,
           run_id: str | None = None, threshold: float = 0.5) -> Expansion:
    """Up to ``limit`` neighbours not in ``exclude`` (uids), over ``types`` (default: all), in the time range."""
    label, key = split_uid(uid)
    types = [t for t in (types or types_for(label)) if t in RELATIONSHIPS]
    rows = graph.read(EXPAND[label], id=key, types=types, since=since, until=until, exclude=list(exclude),
                      limit=limit + 1, **status_params(run_id, threshold))
    more = len(rows) > limit
    nodes: dict[str, GraphNode] = {}
    edges: list[GraphEdge] = []
    for row in rows[:limit]:
        other = _node(row["node"])
        nodes.setdefault(other.uid, other)
        source, target = (uid, other.uid) if row["outgoing"] else (other.uid, uid)
        edges.append(GraphEdge(source, target, row["type"], row["at"]))
    return Expansion(uid, list(nodes.values()), edges, more)


def cluster_graph(graph: Graph, cluster_id: str, *, member_limit: int = 300, shared_limit: int = 300,
                  threshold: float = 0.5) -> ClusterGraph | None:
    """A cluster's members (highest member score first, up to ``member_limit``) and what they share."""
    params = status_params(None, threshold)
    rows = graph.read(CLUSTER_WITH_TOP_MEMBERS, cluster_id=cluster_id, limit=member_limit,
                      **{**params, "run_id": cluster_id.split(":", 1)[0]})
    if not rows:
        return None
    row = rows[0]
    result = ClusterGraph(cluster_id=row["cluster_id"], detector=row["detector"], score=row["score"],
                          size=row["size"] or row["total"], reasons=list(row["reasons"] or []),
                          run_id=row["run_id"], members_total=row["total"])
    params["run_id"] = result.run_id
    members = [m for m in row["members"] if m["node"]["key"] is not None]
    result.nodes = [_node(m["node"]) for m in members]
    member_ids = [n.key for n in result.nodes]
    if not member_ids:
        return result
    for shared in graph.read(CLUSTER_SHARED, members=member_ids, limit=shared_limit, **params):
        hub = _node(shared["node"])
        result.nodes.append(hub)
        for account_id, rel_type in shared["links"]:
            if rel_type == "MANAGES":
                result.edges.append(GraphEdge(hub.uid, f"Account:{account_id}", rel_type))
            else:
                result.edges.append(GraphEdge(f"Account:{account_id}", hub.uid, rel_type))
    for follow in graph.read(EDGES_BETWEEN_ACCOUNTS, members=member_ids, limit=2000):
        result.edges.append(GraphEdge(f"Account:{follow['source']}", f"Account:{follow['target']}", "FOLLOWS"))
    return result


@dataclass(frozen=True)
class MemberRow:
    account_id: str
    nickname: str | None
    status: str | None
    member_score: float | None
    risk: float | None
    registered_at: str | None


def cluster_member_rows(graph: Graph, cluster_id: str, limit: int = 5000) -> list[MemberRow]:
    """Every member of a cluster (up to ``limit``), for the table beside the drawing."""
    return [MemberRow(**r) for r in graph.read(MEMBER_ROWS, cluster_id=cluster_id, limit=limit)]
