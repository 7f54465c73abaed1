"""Appeals in the graph: named, parameterised Cypher beside the functions that run it.

::

    (:Appeal {appeal_id, state: filed|granted|denied, subject_id, subject_kind: sanction|decision, sanction_ids,
              kind, detector, cluster_id, run_id, target_label, target_id, appellant, statement, material,
              filed_by, filed_role, filed_at, decided_by, decided_role, decided_at, decision_reason, revoked,
              locked_at})-[:APPEALS]->(:Sanction)

Writes take a ``Transaction`` (the service runs a whole filing or verdict, the revocation and the audit entries
included, in one); reads take the ``Graph`` or a transaction. Rows come back as ``Appeal`` records with the
sanctions appealed as they are now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from ringscope.appeals.rules import FILED, Appeal, AppealedSanction
from ringscope.graph.database import Graph, Transaction

APPEAL_FIELDS = ("appeal_id", "state", "subject_id", "subject_kind", "kind", "detector", "cluster_id", "run_id",
                 "target_label", "target_id", "appellant", "statement", "material", "filed_by", "filed_at",
                 "sanction_ids", "decided_by", "decided_at", "decision_reason", "revoked")

# The appeal with the sanctions it is against, as they are now.
_RETURN = """
RETURN a {.*} AS a,
       [(a)-[:APPEALS]->(s:Sanction) | s {.sanction_id, .action, .state, .target_label, .target_id, .path_text,
                                          .reason, .evidence_refs}] AS sanctions
"""
APPEALS = """
MATCH (a:Appeal)
WHERE ($states IS NULL OR a.state IN $states) AND ($kind IS NULL OR a.kind = $kind)
WITH a ORDER BY a.filed_at, a.appeal_id LIMIT $limit
""" + _RETURN
APPEAL = "MATCH (a:Appeal {appeal_id: $appeal_id})" + _RETURN
# Taking the appeal's lock first: two people deciding it at once take turns, and the second sees the verdict.
LOCK_APPEAL = """
MATCH (a:Appeal {appeal_id: $appeal_id})
SET a.locked_at = $now
""" + _RETURN
# Filing writes to the sanctions appealed first, so two filings against one sanction take turns and the second
# sees the first one's appeal.
LOCK_SANCTIONS = """
MATCH (s:Sanction) WHERE s.sanction_id IN $ids
SET s.appeal_lock = true REMOVE s.appeal_lock
RETURN s {.sanction_id, .state, .source, .kind, .target_label, .target_id, .preview_id, .path, .decided_by,
          .approved_by} AS s
ORDER BY s.sanction_id
"""
OPEN_APPEAL_ON = """
MATCH (a:Appeal {state: $filed})-[:APPEALS]->(s:Sanction) WHERE s.sanction_id IN $ids
RETURN a.appeal_id AS appeal_id ORDER BY a.filed_at LIMIT 1
"""
# Who took part in the decision behind these sanctions: who decided or approved each, who previewed and applied it.
ORIGINAL_DECIDERS = """
MATCH (s:Sanction) WHERE s.sanction_id IN $ids
OPTIONAL MATCH (p:SanctionPreview {preview_id: s.preview_id})
WITH collect(s.decided_by) + collect(s.approved_by) + collect(p.created_by) + collect(p.applied_by)
     + collect(p.approved_by) AS people
UNWIND people AS who
RETURN collect(DISTINCT who) AS people
"""
CLUSTER = "MATCH (k:Cluster {cluster_id: $cluster_id}) RETURN k.detector AS detector, k.run_id AS run_id"
CREATE = """
CREATE (a:Appeal)
SET a = $props
WITH a
UNWIND $props.sanction_ids AS id
MATCH (s:Sanction {sanction_id: id})
MERGE (a)-[:APPEALS]->(s)
"""
DECIDE = """
MATCH (a:Appeal {appeal_id: $appeal_id, state: $filed})
SET a.state = $state, a.decided_by = $actor, a.decided_role = $role, a.decided_at = $now,
    a.decision_reason = $reason, a.revoked = $revoked
""" + _RETURN
# Counts for the granted share: per violation kind, detector and state.
COUNTS = """
MATCH (a:Appeal)
RETURN a.kind AS kind, a.detector AS detector, a.state AS state, count(*) AS n
ORDER BY kind, detector, state
"""


def _sanction(row: dict[str, Any]) -> AppealedSanction:
    return AppealedSanction(row["sanction_id"], row.get("action") or "", row.get("state") or "",
                            row.get("target_label") or "", row.get("target_id") or "", row.get("path_text") or "",
                            row.get("reason") or "", tuple(row.get("evidence_refs") or ()))


def to_appeal(row: dict[str, Any]) -> Appeal:
    values = {k: row["a"].get(k) for k in APPEAL_FIELDS}
    for name in ("material", "sanction_ids", "revoked"):
        values[name] = tuple(values[name] or ())
    values["statement"] = values["statement"] or ""
    values["appellant"] = values["appellant"] or ""
    sanctions = sorted((_sanction(s) for s in row.get("sanctions") or ()), key=lambda s: s.sanction_id)
    return Appeal(**values, sanctions=tuple(sanctions))


def _reader(graph: Graph | Transaction):
    return graph.read if isinstance(graph, Graph) else graph.rows


def appeals(graph: Graph | Transaction, states: Sequence[str] | None = None, kind: str | None = None,
            limit: int = 1000) -> list[Appeal]:
    """Appeals, oldest filed first: of these states (default all) and this violation kind (default all)."""
    rows = _reader(graph)(APPEALS, states=list(states) if states else None, kind=kind, limit=limit)
    return [to_appeal(r) for r in rows]


def appeal(graph: Graph | Transaction, appeal_id: str) -> Appeal | None:
    rows = _reader(graph)(APPEAL, appeal_id=appeal_id)
    return to_appeal(rows[0]) if rows else None


def lock_appeal(tx: Transaction, appeal_id: str, now: datetime) -> Appeal | None:
    row = tx.row(LOCK_APPEAL, appeal_id=appeal_id, now=now)
    return to_appeal(row) if row else None


def lock_sanctions(tx: Transaction, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The sanctions (as stored: state, source, kind, target, preview, path), after taking their locks."""
    return [r["s"] for r in tx.rows(LOCK_SANCTIONS, ids=sorted(set(ids)))]


def open_appeal_on(tx: Transaction, ids: Sequence[str]) -> str | None:
    row = tx.row(OPEN_APPEAL_ON, ids=list(ids), filed=FILED)
    return row["appeal_id"] if row else None


def original_deciders(tx: Transaction, ids: Sequence[str]) -> list[str]:
    row = tx.row(ORIGINAL_DECIDERS, ids=list(ids))
    return list(row["people"]) if row else []


def cluster(tx: Transaction, cluster_id: str) -> dict[str, Any] | None:
    return tx.row(CLUSTER, cluster_id=cluster_id)


def create(tx: Transaction, props: dict[str, Any]) -> None:
    tx.execute(CREATE, props=props)


def decide(tx: Transaction, appeal_id: str, state: str, actor: str, role: str, reason: str, now: datetime,
           revoked: Sequence[str]) -> Appeal | None:
    row = tx.row(DECIDE, appeal_id=appeal_id, filed=FILED, state=state, actor=actor, role=role, reason=reason,
                 now=now, revoked=list(revoked))
    return to_appeal(row) if row else None


def counts(graph: Graph) -> list[tuple[str, str, str, int]]:
    return [(r["kind"] or "", r["detector"] or "", r["state"], int(r["n"])) for r in graph.read(COUNTS)]
