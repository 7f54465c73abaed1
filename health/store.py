"""The content-health index's reads: each indicator for a list of accounts (one account, a brand's or an agency's
accounts, a batch of the platform), the accounts a brand or an agency works with, and the platform's accounts in
batches by account-id range.

Every query is named and parameterised, reads by ids through the uniqueness constraints, and is bounded: texts per
account (``$per_account``), fulltext candidates per text (``$limit``), reports per account, accounts per group and
per batch. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from ringscope.graph.database import Graph, plain
from ringscope.graph.schema import TEXT_INDEX
from ringscope.reports.bursts import ClusterRef, Report

ACCOUNT_EXISTS = "MATCH (a:Account {account_id: $id}) RETURN a.account_id AS account_id"
BRAND = "MATCH (b:Brand {brand_id: $id}) RETURN b.brand_id AS id, b.name AS name"
AGENCY = "MATCH (m:Intermediary {intermediary_id: $id}) RETURN m.intermediary_id AS id, m.name AS name"
# The accounts a brand works with: those that posted a note promoting it, and those its orders were assigned to.
BRAND_ACCOUNTS = """
MATCH (b:Brand {brand_id: $id})
CALL (b) {
  MATCH (b)<-[:PROMOTES]-(:Note)<-[:POSTED]-(a:Account) RETURN a
  UNION
  MATCH (b)<-[:PLACED_BY]-(:Order)-[:ASSIGNED_TO]->(a:Account) RETURN a
}
WITH DISTINCT a.account_id AS account_id
RETURN account_id ORDER BY account_id LIMIT $limit
"""
# The accounts an agency works with: those it manages, and those the orders it took were assigned to.
AGENCY_ACCOUNTS = """
MATCH (m:Intermediary {intermediary_id: $id})
CALL (m) {
  MATCH (m)-[:MANAGES]->(a:Account) RETURN a
  UNION
  MATCH (m)<-[:TAKEN_BY]-(:Order)-[:ASSIGNED_TO]->(a:Account) RETURN a
}
WITH DISTINCT a.account_id AS account_id
RETURN account_id ORDER BY account_id LIMIT $limit
"""
GROUP_SIZE = {
    "brand": """
MATCH (b:Brand {brand_id: $id})
CALL (b) {
  MATCH (b)<-[:PROMOTES]-(:Note)<-[:POSTED]-(a:Account) RETURN a
  UNION
  MATCH (b)<-[:PLACED_BY]-(:Order)-[:ASSIGNED_TO]->(a:Account) RETURN a
}
RETURN count(DISTINCT a) AS n
""",
    "intermediary": """
MATCH (m:Intermediary {intermediary_id: $id})
CALL (m) {
  MATCH (m)-[:MANAGES]->(a:Account) RETURN a
  UNION
  MATCH (m)<-[:TAKEN_BY]-(:Order)-[:ASSIGNED_TO]->(a:Account) RETURN a
}
RETURN count(DISTINCT a) AS n
""",
}
# The platform's accounts, a batch at a time, in account-id order (the uniqueness constraint's index).
ACCOUNTS_AFTER = """
MATCH (a:Account) WHERE a.account_id > $after
RETURN a.account_id AS account_id ORDER BY account_id LIMIT $limit
"""
# Counts per account: followers, notes, likes on its notes, undeclared commercial notes (promoting a brand or paid
# by an order, and not declared commercial).
COUNTS = """
UNWIND $ids AS id
MATCH (a:Account {account_id: id})
RETURN id AS account_id, a.followers AS followers,
       COUNT { (a)-[:POSTED]->(:Note) } AS notes,
       COUNT { (a)-[:POSTED]->(:Note)<-[:LIKED]-(:Account) } AS likes,
       COUNT { (a)-[:POSTED]->(n:Note)
               WHERE coalesce(n.declared_commercial, false) = false
                 AND (EXISTS { (n)-[:PROMOTES]->(:Brand) } OR EXISTS { (n)<-[:FOR_NOTE]-(:Order) }) } AS undeclared
"""
# Likes and comments on the account's notes by other accounts, and how many came from accounts the latest
# completed run flagged (scored at or above its flag threshold).
ENGAGEMENT = """
OPTIONAL MATCH (r:DetectionRun {status: 'completed'})
WITH r ORDER BY r.started_at DESC LIMIT 1
UNWIND $ids AS id
MATCH (a:Account {account_id: id})
CALL (a, r) {
  MATCH (a)-[:POSTED]->(:Note)<-[:LIKED]-(u:Account) WHERE u <> a RETURN u
  UNION ALL
  MATCH (a)-[:POSTED]->(:Note)<-[:ON]-(:Comment)<-[:WROTE]-(u:Account) WHERE u <> a RETURN u
}
WITH id, r, u
RETURN id AS account_id, count(u) AS engagement,
       sum(CASE WHEN r IS NOT NULL AND EXISTS { (r)-[s:SCORED]->(u) WHERE s.score >= r.flag_threshold }
                THEN 1 ELSE 0 END) AS flagged
"""
# The account's texts: comments, and notes (title and body, as one text), the newest $per_account of each kind.
TEXTS = """
UNWIND $ids AS id
MATCH (a:Account {account_id: id})
CALL (a) {
  MATCH (a)-[:WROTE]->(c:Comment) WHERE c.text IS NOT NULL
  WITH c ORDER BY c.created_at DESC LIMIT $per_account
  RETURN 'comment' AS kind, c.comment_id AS item, c.text AS text, c.created_at AS at
  UNION ALL
  MATCH (a)-[:POSTED]->(n:Note) WHERE n.title IS NOT NULL OR n.text IS NOT NULL
  WITH n ORDER BY n.posted_at DESC LIMIT $per_account
  RETURN 'note' AS kind, n.note_id AS item, trim(coalesce(n.title, '') + ' ' + coalesce(n.text, '')) AS text,
         n.posted_at AS at
}
RETURN id AS account_id, kind, item, text, at
"""
# Candidates for each text's near-duplicates: fulltext hits among notes and comments another account wrote, and
# when each was posted (a copy is judged against what came before it).
TEXT_CANDIDATES = f"""
UNWIND $texts AS t
CALL db.index.fulltext.queryNodes('{TEXT_INDEX}', t.q, {{limit: $limit}}) YIELD node
WHERE (node:Comment OR node:Note)
  AND NOT EXISTS {{ MATCH (w:Account {{account_id: t.account_id}})-[:WROTE|POSTED]->(node) }}
RETURN t.i AS i, CASE WHEN node:Note THEN trim(coalesce(node.title, '') + ' ' + coalesce(node.text, ''))
                      ELSE node.text END AS text, coalesce(node.posted_at, node.created_at) AS at
"""
# Reports against the account, its notes and its comments, the newest $limit per account, with the clusters of the
# latest completed run their reporters are in (for the coordinated-burst rule).
REPORTS = """
OPTIONAL MATCH (r:DetectionRun {status: 'completed'})
WITH r ORDER BY r.started_at DESC LIMIT 1
UNWIND $ids AS id
MATCH (a:Account {account_id: id})
CALL (a) {
  CALL (a) {
    MATCH (a)<-[:AGAINST]-(p:Report) RETURN a AS t, p
    UNION
    MATCH (a)-[:POSTED|WROTE]->(t)<-[:AGAINST]-(p:Report) RETURN t, p
  }
  RETURN t, p ORDER BY p.created_at DESC LIMIT $limit
}
OPTIONAL MATCH (f:Account)-[:FILED]->(p)
RETURN id AS account_id, elementId(t) AS target, p.report_id AS report_id, f.account_id AS reporter,
       p.created_at AS created_at, p.verified AS verified,
       [(f)<-[:HAS_MEMBER]-(k:Cluster) WHERE r IS NOT NULL AND k.run_id = r.run_id | [k.cluster_id, k.detector]]
         AS clusters
"""


@dataclass(frozen=True)
class Counts:
    followers: int | None
    notes: int
    likes: int
    undeclared: int


@dataclass(frozen=True)
class Engagement:
    engagement: int
    flagged: int


@dataclass(frozen=True)
class Text:
    account_id: str
    kind: str  # comment | note
    item: str
    text: str
    at: datetime | None = None  # when it was posted


@dataclass(frozen=True)
class TargetReports:
    """The reports against one target (the account, one of its notes or comments) and its reporters' clusters."""
    account_id: str
    reports: tuple[Report, ...]
    clusters: dict[str, list[ClusterRef]]


def account_exists(graph: Graph, account_id: str) -> bool:
    return bool(graph.read(ACCOUNT_EXISTS, id=account_id))


def group(graph: Graph, kind: str, group_id: str) -> dict | None:
    """The brand or intermediary (``id``, ``name``), None when the graph has none."""
    rows = graph.read(BRAND if kind == "brand" else AGENCY, id=group_id)
    return rows[0] if rows else None


def group_accounts(graph: Graph, kind: str, group_id: str, limit: int) -> tuple[list[str], int]:
    """(the first ``limit`` accounts the brand or agency works with, by id; how many there are)."""
    query = BRAND_ACCOUNTS if kind == "brand" else AGENCY_ACCOUNTS
    ids = [r["account_id"] for r in graph.read(query, id=group_id, limit=limit)]
    return ids, graph.read(GROUP_SIZE[kind], id=group_id)[0]["n"]


def accounts_after(graph: Graph, after: str, limit: int) -> list[str]:
    return [r["account_id"] for r in graph.read(ACCOUNTS_AFTER, after=after, limit=limit)]


def counts(graph: Graph, ids: Sequence[str]) -> dict[str, Counts]:
    if not ids:
        return {}
    return {r["account_id"]: Counts(None if r["followers"] is None else int(r["followers"]), r["notes"], r["likes"],
                                    r["undeclared"])
            for r in graph.read(COUNTS, ids=list(ids))}


def engagement(graph: Graph, ids: Sequence[str]) -> dict[str, Engagement]:
    if not ids:
        return {}
    return {r["account_id"]: Engagement(r["engagement"], r["flagged"]) for r in graph.read(ENGAGEMENT, ids=list(ids))}


def texts(graph: Graph, ids: Sequence[str], per_account: int) -> list[Text]:
    """The accounts' comments and notes (title and body as one text), the newest ``per_account`` of each kind per
    account."""
    if not ids:
        return []
    rows = graph.read(TEXTS, ids=list(ids), per_account=per_account)
    return [Text(r["account_id"], r["kind"], r["item"], r["text"], _time(r["at"])) for r in rows
            if r["text"] is not None]


def text_candidates(graph: Graph, queries: Sequence[tuple[int, str, str]],
                    limit: int) -> dict[int, list[tuple[str, datetime | None]]]:
    """For each (i, account id, fulltext query): (text, when posted) of the notes and comments the index proposes
    that the account did not write, at most ``limit``."""
    out: dict[int, list[tuple[str, datetime | None]]] = defaultdict(list)
    if not queries:
        return out
    rows = graph.read(TEXT_CANDIDATES, texts=[{"i": i, "account_id": a, "q": q} for i, a, q in queries], limit=limit)
    for r in rows:
        if r["text"] is not None:
            out[r["i"]].append((r["text"], _time(r["at"])))
    return out


def _time(value) -> datetime | None:
    value = plain(value)
    return value if isinstance(value, datetime) else None


def reports(graph: Graph, ids: Sequence[str], limit: int) -> list[TargetReports]:
    """Per account and target, the reports against it (the newest ``limit`` per account) and the reporters'
    clusters in the latest completed run."""
    if not ids:
        return []
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in graph.read(REPORTS, ids=list(ids), limit=limit):
        grouped[(r["account_id"], r["target"])].append(r)
    out = []
    for (account_id, _), rows in grouped.items():
        reps, clusters = [], {}
        for r in rows:
            created = plain(r["created_at"])
            if not isinstance(created, datetime):
                continue
            reps.append(Report(r["report_id"], r["reporter"] or "", created, "", r["verified"]))
            clusters[r["reporter"] or ""] = [ClusterRef(c, d or "") for c, d in r["clusters"] if c is not None]
        out.append(TargetReports(account_id, tuple(reps), clusters))
    return out
