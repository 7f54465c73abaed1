"""The sweep's reads: the confirmed cluster, its members' facts, and the accounts that share each trace.

Every query is named, parameterised and bounded (``LIMIT``, or a cap counted before it is crossed), so a sweep of
a cluster of thousands on a platform of millions reads thousands of rows, never the platform. The searches go
through indexes: ids through the uniqueness constraints, IP ranges through the IP key's range index
(``STARTS WITH``), registration windows through ``account_registered_at``, comment texts through the fulltext
index ``entity_text``. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from ringscope.graph.database import Graph, plain
from ringscope.graph.schema import TEXT_INDEX
from ringscope.sweep.pattern import Burst, Member

CLUSTER = """
MATCH (k:Cluster {cluster_id: $cluster_id})
OPTIONAL MATCH (r:DetectionRun)-[:FOUND]->(k)
RETURN k.cluster_id AS cluster_id, k.detector AS detector, k.run_id AS run_id, r.started_at AS run_started_at,
       COUNT { (k)-[:HAS_MEMBER]->() } AS size
"""
# A member is confirmed when a sanction on it stands (not revoked) or the platform banned or suspended it.
MEMBERS = """
MATCH (:Cluster {cluster_id: $cluster_id})-[:HAS_MEMBER]->(a:Account)
WITH a ORDER BY a.account_id LIMIT $limit
RETURN a.account_id AS account_id, a.registered_at AS registered_at,
       [(a)-[:USED_DEVICE]->(d:Device) | d.device_id] AS devices,
       [(a)-[:LOGGED_IN_FROM|REGISTERED_FROM]->(i:IP) | i.ip] AS ips,
       [(a)-[:IN_PHONE_SEGMENT]->(s:PhoneSegment) | s.segment] AS segments,
       [(m:Intermediary)-[:MANAGES]->(a) | m.intermediary_id] AS agencies,
       a.status IN ['banned', 'suspended']
         OR EXISTS { (a)<-[:TARGETS]-(s:Sanction) WHERE coalesce(s.state, 'active') <> 'revoked' } AS confirmed
"""
MEMBER_COMMENTS = """
UNWIND $ids AS id
MATCH (:Account {account_id: id})-[:WROTE]->(c:Comment)
WHERE c.text IS NOT NULL
RETURN id AS account_id, c.text AS text
LIMIT $limit
"""
PLATFORM_ACCOUNTS = "MATCH (a:Account) RETURN count(a) AS n"
SEGMENT_SIZES = """
UNWIND $segments AS seg
MATCH (s:PhoneSegment {segment: seg})
RETURN seg AS segment, COUNT { (s)<-[:IN_PHONE_SEGMENT]-() } AS accounts
"""
# Accounts on each device, when the device has at most $max_sharing of them (more: common infrastructure).
DEVICE_ACCOUNTS = """
UNWIND $keys AS key
MATCH (d:Device {device_id: key})
WITH d, key, COUNT { (d)<-[:USED_DEVICE]-(:Account) } AS accounts
RETURN key, accounts,
       CASE WHEN accounts <= $max_sharing THEN [(d)<-[:USED_DEVICE]-(a:Account) | a.account_id] ELSE [] END AS ids
"""
AGENCY_ACCOUNTS = """
UNWIND $keys AS key
MATCH (m:Intermediary {intermediary_id: key})
WITH m, key, COUNT { (m)-[:MANAGES]->(:Account) } AS accounts
RETURN key, accounts,
       CASE WHEN accounts <= $max_sharing THEN [(m)-[:MANAGES]->(a:Account) | a.account_id] ELSE [] END AS ids
"""
# The IPs whose text starts with a range's prefix (at most $max_ips + 1, so a range too common to search is
# known as such), and the accounts that logged in or registered from each.
RANGE_IPS = """
UNWIND $prefixes AS prefix
CALL (prefix) {
  MATCH (i:IP) WHERE i.ip STARTS WITH prefix
  RETURN i LIMIT $max_ips
}
RETURN prefix, i.ip AS ip, [(a:Account)-[:LOGGED_IN_FROM|REGISTERED_FROM]->(i) | a.account_id] AS ids
"""
# Accounts registered inside each window (a burst widened by the gap on both sides), at most $limit per window.
REGISTERED_BETWEEN = """
UNWIND $windows AS w
CALL (w) {
  MATCH (a:Account) WHERE a.registered_at >= w.start AND a.registered_at <= w.end
  RETURN a LIMIT $limit
}
RETURN w.i AS i, a.account_id AS account_id, a.registered_at AS registered_at
"""
SEGMENTS_OF = """
UNWIND $ids AS id
MATCH (:Account {account_id: id})-[:IN_PHONE_SEGMENT]->(s:PhoneSegment)
RETURN id AS account_id, collect(s.segment) AS segments
"""
# The comments the fulltext index ranks first for each query ($limit per query).
TEXT_HITS = f"""
UNWIND $queries AS q
CALL db.index.fulltext.queryNodes('{TEXT_INDEX}', q.q, {{limit: $limit}}) YIELD node
WHERE node:Comment
MATCH (a:Account)-[:WROTE]->(node)
RETURN q.i AS i, a.account_id AS account_id, node.comment_id AS comment_id, node.text AS text
"""
# What an investigator needs beside the evidence: the account's standing, whether the run saw it, its stay.
CANDIDATE_FACTS = """
UNWIND $ids AS id
MATCH (a:Account {account_id: id})
OPTIONAL MATCH (:DetectionRun {run_id: $run_id})-[s:SCORED]->(a)
RETURN id AS account_id, a.registered_at AS registered_at, a.status AS status, s.score AS run_risk,
       EXISTS { (a)<-[:TARGETS]-(x:Sanction) WHERE NOT coalesce(x.state, 'active') IN ['revoked', 'expired'] }
         AS sanctioned,
       EXISTS { MATCH (w:WatchStay {account_id: id}) WHERE w.state IN $open_states } AS on_watch
"""


@dataclass(frozen=True)
class ClusterInfo:
    cluster_id: str
    detector: str
    run_id: str | None
    run_started_at: datetime | None
    size: int


@dataclass(frozen=True)
class Shared:
    """One identifier (device, agency) and the accounts on it; ``accounts`` counts them all, ``ids`` is empty
    when there are more than the policy's ``max_sharing``."""
    key: str
    accounts: int
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Facts:
    account_id: str
    registered_at: datetime | None
    status: str | None
    run_risk: float | None
    sanctioned: bool
    on_watch: bool


def _time(value: Any) -> datetime | None:
    value = plain(value)
    return value if isinstance(value, datetime) else None


def cluster(graph: Graph, cluster_id: str) -> ClusterInfo | None:
    rows = graph.read(CLUSTER, cluster_id=cluster_id)
    if not rows:
        return None
    r = rows[0]
    return ClusterInfo(r["cluster_id"], r["detector"] or "", r["run_id"], _time(r["run_started_at"]), r["size"])


def members(graph: Graph, cluster_id: str, limit: int) -> list[Member]:
    return [Member(r["account_id"], _time(r["registered_at"]), tuple(r["devices"]), tuple(r["ips"]),
                   tuple(r["segments"]), tuple(r["agencies"]), bool(r["confirmed"]))
            for r in graph.read(MEMBERS, cluster_id=cluster_id, limit=limit)]


def member_comments(graph: Graph, ids: Sequence[str], limit: int) -> list[tuple[str, str]]:
    if limit <= 0 or not ids:
        return []
    return [(r["account_id"], r["text"]) for r in graph.read(MEMBER_COMMENTS, ids=list(ids), limit=limit)]


def platform_accounts(graph: Graph) -> int:
    return graph.read(PLATFORM_ACCOUNTS)[0]["n"]


def segment_sizes(graph: Graph, segments: Sequence[str]) -> dict[str, int]:
    if not segments:
        return {}
    return {r["segment"]: r["accounts"] for r in graph.read(SEGMENT_SIZES, segments=list(segments))}


def _shared(graph: Graph, query: str, keys: Sequence[str], max_sharing: int) -> list[Shared]:
    if not keys:
        return []
    return [Shared(r["key"], r["accounts"], tuple(r["ids"]))
            for r in graph.read(query, keys=list(keys), max_sharing=max_sharing)]


def device_accounts(graph: Graph, devices: Sequence[str], max_sharing: int) -> list[Shared]:
    return _shared(graph, DEVICE_ACCOUNTS, devices, max_sharing)


def agency_accounts(graph: Graph, agencies: Sequence[str], max_sharing: int) -> list[Shared]:
    return _shared(graph, AGENCY_ACCOUNTS, agencies, max_sharing)


def range_ips(graph: Graph, prefixes: Sequence[str], max_ips: int) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Text prefix -> [(ip, accounts on it)] for at most ``max_ips`` IPs each."""
    out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    if not prefixes:
        return out
    for r in graph.read(RANGE_IPS, prefixes=list(prefixes), max_ips=max_ips):
        out.setdefault(r["prefix"], []).append((r["ip"], tuple(r["ids"])))
    return out


def registered_between(graph: Graph, bursts: Sequence[Burst], widen,
                       limit: int) -> list[list[tuple[str, datetime | None]]]:
    """Per burst (in order): the accounts registered inside it widened by ``widen``, at most ``limit`` each."""
    out: list[list[tuple[str, datetime | None]]] = [[] for _ in bursts]
    if not bursts:
        return out
    windows = [{"i": i, "start": b.start - widen, "end": b.end + widen} for i, b in enumerate(bursts)]
    for r in graph.read(REGISTERED_BETWEEN, windows=windows, limit=limit):
        out[r["i"]].append((r["account_id"], _time(r["registered_at"])))
    return out


def segments_of(graph: Graph, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    if not ids:
        return {}
    return {r["account_id"]: tuple(r["segments"]) for r in graph.read(SEGMENTS_OF, ids=list(ids))}


def text_hits(graph: Graph, lucene_queries: Sequence[str], limit: int) -> list[list[tuple[str, str, str]]]:
    """Per query (in order): (account id, comment id, text) of the comments the fulltext index ranks first."""
    out: list[list[tuple[str, str, str]]] = [[] for _ in lucene_queries]
    if not lucene_queries:
        return out
    queries = [{"i": i, "q": q} for i, q in enumerate(lucene_queries)]
    for r in graph.read(TEXT_HITS, queries=queries, limit=limit):
        out[r["i"]].append((r["account_id"], r["comment_id"], r["text"]))
    return out


def candidate_facts(graph: Graph, ids: Sequence[str], run_id: str | None,
                    open_states: Sequence[str]) -> dict[str, Facts]:
    if not ids:
        return {}
    rows = graph.read(CANDIDATE_FACTS, ids=list(ids), run_id=run_id or "", open_states=list(open_states))
    return {r["account_id"]: Facts(r["account_id"], _time(r["registered_at"]), r["status"],
                                   r["run_risk"], bool(r["sanctioned"]), bool(r["on_watch"])) for r in rows}


# The clusters of a run with at least one confirmed member (sanctioned and not revoked, banned or suspended),
# most confirmed first: what the app offers to sweep back.
CONFIRMED_CLUSTERS = """
MATCH (:DetectionRun {run_id: $run_id})-[:FOUND]->(k:Cluster)-[:HAS_MEMBER]->(a:Account)
WHERE a.status IN ['banned', 'suspended']
   OR EXISTS { (a)<-[:TARGETS]-(s:Sanction) WHERE coalesce(s.state, 'active') <> 'revoked' }
WITH k, count(a) AS confirmed
RETURN k.cluster_id AS cluster_id, k.detector AS detector, k.size AS size, confirmed
ORDER BY confirmed DESC, k.cluster_id LIMIT $limit
"""


@dataclass(frozen=True)
class ConfirmedCluster:
    cluster_id: str
    detector: str
    size: int
    confirmed: int


def confirmed_clusters(graph: Graph, run_id: str, limit: int = 200) -> list[ConfirmedCluster]:
    return [ConfirmedCluster(r["cluster_id"], r["detector"] or "", r["size"] or 0, r["confirmed"])
            for r in graph.read(CONFIRMED_CLUSTERS, run_id=run_id, limit=limit)]
