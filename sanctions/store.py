"""Sanctions in Neo4j: reading a decision's neighbourhood, writing sanctions, statuses and reviews.

Every statement is a named, parameterised constant below the function family
that runs it. Labels and relationship types are interpolated only from
``graph/model.py`` (at import time, one query per label or relationship), never
from user text or the policy file's strings. All functions take a transaction
(``tx``) so the service can put a whole apply, approval or revocation, audit
entries included, into one commit.

What is written (see the README's "Sanctions" section):

    (:Sanction {sanction_id, source: 'ringscope', action, kind, level, reason, rule, hop, path,
                days, points, decided_at, issued_at, expires_at,
                state: pending_approval|active|expired|revoked, decided_by, approved_by,
                evidence_refs, derived_from, preview_id, decision_key, violation_id,
                justification, policy_version, target_label, target_id})-[:TARGETS]->(target)
    (:Sanction)-[:DERIVED_FROM]->(:Sanction)         what it followed from (one hop closer, or counted)
    (:Review {review_id, state: open|withdrawn, rule, hop, path, note, ...})-[:REVIEW_OF]->(target)
    (:Review)-[:DERIVED_FROM]->(:Sanction)
    (:SanctionPreview {preview_id, decision, plan, fingerprint, state: open|applied, ...})
    (:ExamPass {exam_id, at, recorded_by})-[:EXAM_OF]->(:Account)
    target.status / base_status / restrictions (+ credit, credit_at on accounts; points on brands)

Imported sanctions (``source: 'import'``) are the platform's own record: read
as history, never changed, and the statuses they set are the floor
(``base_status``) that ringscope's sanctions add to and revocations return to.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from ringscope.graph.database import Transaction
from ringscope.graph.model import NODES, RELATIONSHIPS
from ringscope.sanctions.policy import TARGET_LABELS, SanctionPolicy
from ringscope.sanctions.propagation import Existing, Node, NodeRef, PathStep

Runner = Callable[..., list[dict[str, Any]]]


def aware(value: Any) -> Any:
    """Rows with every datetime timezone-aware (a stored local datetime is read as UTC), recursively."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    if isinstance(value, dict):
        return {k: aware(v) for k, v in value.items()}
    if isinstance(value, list):
        return [aware(v) for v in value]
    return value


def tx_runner(tx: Transaction) -> Runner:
    def run(cypher: str, **params: Any) -> list[dict[str, Any]]:
        return [aware(r) for r in tx.rows(cypher, **params)]
    return run


def _key(label: str) -> str:
    return NODES[label].key


# --------------------------------------------------------------------------- reading the neighbourhood

# How many accounts share an identifier: the degree of its "used by an account" relationship
# (a degree lookup, O(1) even for a café IP with thousands of accounts).
_SHARING = {"Device": "USED_DEVICE", "IP": "LOGGED_IN_FROM", "Phone": "HAS_PHONE",
            "PhoneSegment": "IN_PHONE_SEGMENT"}
assert all(r in RELATIONSHIPS for r in _SHARING.values())

_SANCTION_FIELDS = (".sanction_id, .action, .state, .source, .kind, .violation_id, .points, "
                    ".decided_at, .issued_at, .expires_at")


def _projection(var: str, label: str) -> str:
    sharing = f"COUNT {{ ({var})<-[:{_SHARING[label]}]-() }}" if label in _SHARING else "null"
    return (f"{var}.{_key(label)} AS id, properties({var}) AS props, {sharing} AS sharing, "
            f"[({var})<-[:TARGETS]-(s:Sanction) WHERE coalesce(s.state, 'import') <> 'revoked' "
            f"| s {{{_SANCTION_FIELDS}}}] AS sanctions")


NODES_BY_ID = {
    label: f"MATCH (y:{label}) WHERE y.{_key(label)} IN $ids RETURN {_projection('y', label)}"
    for label in NODES
}

# A violation in the sense of the ladder: one of ours with a violation id, or an imported sanction.
_VIOLATION_SINCE = """EXISTS { MATCH (y)<-[:TARGETS]-(s:Sanction)
          WHERE coalesce(s.state, 'import') <> 'revoked'
            AND (s.violation_id IS NOT NULL OR coalesce(s.source, 'import') = 'import')
            AND coalesce(s.decided_at, s.issued_at) >= $since }"""


def _expand_query(rel: str, direction: str) -> str:
    start, end, _ = RELATIONSHIPS[rel]
    here, there = (start, end) if direction == "out" else (end, start)
    left, right = ("-", "->") if direction == "out" else ("<-", "-")
    return f"""
UNWIND $ids AS id
MATCH (x:{here} {{{_key(here)}: id}})
CALL (x) {{
  MATCH (x){left}[r:{rel}]{right}(y:{there})
  WHERE all(k IN keys($where) WHERE y[k] = $where[k])
    AND all(k IN keys($min_edge) WHERE r[k] >= $min_edge[k])
    AND ($since IS NULL OR {_VIOLATION_SINCE})
  RETURN r, y ORDER BY y.{_key(there)} LIMIT $cap
}}
RETURN id AS source, properties(r) AS edge, {_projection('y', there)}
"""


EXPAND = {(rel, d): _expand_query(rel, d) for rel, (a, b, _) in RELATIONSHIPS.items() if "*" not in (a, b)
          for d in ("out", "in")}


def _existing(row: Mapping[str, Any], policy: SanctionPolicy) -> Existing:
    source = row.get("source") or "import"
    action = row.get("action")
    mapped = action if source == "ringscope" else policy.action_for_imported(action)
    return Existing(
        sanction_id=row["sanction_id"], action=mapped, state=row.get("state") or "import", source=source,
        at=row.get("decided_at") or row.get("issued_at"), issued_at=row.get("issued_at"),
        expires_at=row.get("expires_at"), kind=row.get("kind"), violation_id=row.get("violation_id"),
        points=row.get("points"))


def _node(label: str, row: Mapping[str, Any], policy: SanctionPolicy) -> Node:
    return Node(NodeRef(label, str(row["id"])), row["props"], row["sharing"],
                tuple(sorted((_existing(s, policy) for s in row["sanctions"]), key=lambda e: e.sanction_id)))


class GraphSource:
    """``propagation.Source`` over the database, inside one transaction."""

    def __init__(self, run: Runner, policy: SanctionPolicy):
        self.run, self.policy = run, policy

    def nodes(self, refs: Sequence[NodeRef]) -> dict[NodeRef, Node]:
        by_label: dict[str, list[str]] = {}
        for r in refs:
            if r.label not in NODES:
                continue
            by_label.setdefault(r.label, []).append(r.id)
        out = {}
        for label, ids in by_label.items():
            for row in self.run(NODES_BY_ID[label], ids=sorted(set(ids))):
                node = _node(label, row, self.policy)
                out[node.ref] = node
        return out

    def expand(self, refs: Sequence[NodeRef], step: PathStep, cap: int,
               sanctioned_since: datetime | None = None) -> dict[NodeRef, list[tuple[Mapping[str, Any], Node]]]:
        query = EXPAND[(step.rel, step.direction)]
        start, end, _ = RELATIONSHIPS[step.rel]
        here = start if step.direction == "out" else end
        ids = sorted({r.id for r in refs if r.label == here})
        out: dict[NodeRef, list] = {r: [] for r in refs}
        if not ids:
            return out
        for row in self.run(query, ids=ids, where=dict(step.where), min_edge=dict(step.min_edge), cap=cap,
                            since=sanctioned_since):
            out.setdefault(NodeRef(here, str(row["source"])), []).append(
                (row["edge"] or {}, _node(step.label, row, self.policy)))
        return out


# --------------------------------------------------------------------------- previews

CREATE_PREVIEW = """
CREATE (p:SanctionPreview {preview_id: $preview_id, created_at: $now, created_by: $actor, created_role: $role,
                           decision: $decision, plan: $plan, fingerprint: $fingerprint,
                           decision_key: $decision_key, policy_version: $policy_version,
                           needs_approval: $needs_approval, state: 'open'})
"""
LOCK_PREVIEW = """
MATCH (p:SanctionPreview {preview_id: $preview_id})
SET p.locked_at = $now
RETURN p {.*} AS p
"""
READ_PREVIEW = "MATCH (p:SanctionPreview {preview_id: $preview_id}) RETURN p {.*} AS p"
MARK_APPLIED = """
MATCH (p:SanctionPreview {preview_id: $preview_id})
SET p.state = 'applied', p.applied_at = $now, p.applied_by = $actor, p.apply_id = $apply_id,
    p.sanction_ids = $sanction_ids, p.review_ids = $review_ids, p.pending_ids = $pending_ids,
    p.created_ids = $created_ids
"""
MARK_APPROVED = """
MATCH (p:SanctionPreview {preview_id: $preview_id})
SET p.approved_by = $actor, p.approved_at = $now, p.approval_reason = $reason
"""


def create_preview(tx: Transaction, **fields: Any) -> None:
    tx.execute(CREATE_PREVIEW, **fields)


def lock_preview(tx: Transaction, preview_id: str, now: datetime) -> dict[str, Any] | None:
    rows = tx_runner(tx)(LOCK_PREVIEW, preview_id=preview_id, now=now)
    return rows[0]["p"] if rows else None


def read_preview(run: Runner, preview_id: str) -> dict[str, Any] | None:
    rows = run(READ_PREVIEW, preview_id=preview_id)
    return rows[0]["p"] if rows else None


def mark_applied(tx: Transaction, **fields: Any) -> None:
    tx.execute(MARK_APPLIED, **fields)


def mark_approved(tx: Transaction, **fields: Any) -> None:
    tx.execute(MARK_APPROVED, **fields)


# --------------------------------------------------------------------------- writing sanctions and reviews

def _create_attached(kind: str, key: str, rel: str, label: str) -> str:
    """Create ``kind`` nodes (once, by ``key``) attached by ``rel`` to a ``label`` target; only the
    nodes this apply created (``apply_id``) get the relationship, so a repeated apply adds nothing."""
    return f"""
UNWIND $rows AS row
MATCH (x:{label} {{{_key(label)}: row.target_id}})
MERGE (s:{kind} {{{key}: row.{key}}})
ON CREATE SET s += row.props, s.apply_id = $apply_id
WITH s, x WHERE s.apply_id = $apply_id
MERGE (s)-[:{rel}]->(x)
RETURN s.{key} AS id
"""


CREATE_SANCTIONS = {label: _create_attached("Sanction", "sanction_id", "TARGETS", label) for label in NODES}
CREATE_REVIEWS = {label: _create_attached("Review", "review_id", "REVIEW_OF", label) for label in NODES}
LINK_SANCTION_PARENTS = """
UNWIND $links AS l
MATCH (c:Sanction {sanction_id: l.child})
MATCH (p:Sanction {sanction_id: l.parent})
MERGE (c)-[:DERIVED_FROM]->(p)
"""
LINK_REVIEW_PARENTS = """
UNWIND $links AS l
MATCH (c:Review {review_id: l.child})
MATCH (p:Sanction {sanction_id: l.parent})
MERGE (c)-[:DERIVED_FROM]->(p)
"""


def create_sanctions(tx: Transaction, label: str, rows: list[dict[str, Any]], apply_id: str) -> list[str]:
    """MERGE by id; returns the ids created by this call (others existed: a concurrent or earlier apply)."""
    return [r["id"] for r in tx_runner(tx)(CREATE_SANCTIONS[label], rows=rows, apply_id=apply_id)]


def create_reviews(tx: Transaction, label: str, rows: list[dict[str, Any]], apply_id: str) -> list[str]:
    return [r["id"] for r in tx_runner(tx)(CREATE_REVIEWS[label], rows=rows, apply_id=apply_id)]


def link_parents(tx: Transaction, links: list[dict[str, str]], reviews: bool = False) -> None:
    if links:
        tx.execute(LINK_REVIEW_PARENTS if reviews else LINK_SANCTION_PARENTS, links=links)


# --------------------------------------------------------------------------- reading sanctions back

SANCTIONS_BY_ID = "MATCH (s:Sanction) WHERE s.sanction_id IN $ids RETURN s {.*} AS s"
SANCTIONS_LIST = """
MATCH (s:Sanction)
WHERE ($state IS NULL OR s.state = $state OR ($state = 'import' AND s.state IS NULL))
  AND ($preview_id IS NULL OR s.preview_id = $preview_id)
  AND ($target_id IS NULL OR s.target_id = $target_id OR EXISTS {
        MATCH (s)-[:TARGETS]->(x) WHERE coalesce(x.account_id, x.device_id, x.brand_id, x.intermediary_id,
                                                 x.note_id) = $target_id })
RETURN s {.*} AS s, [(s)-[:TARGETS]->(x) | [labels(x)[0],
        coalesce(x.account_id, x.device_id, x.brand_id, x.intermediary_id, x.note_id)]][0] AS target
ORDER BY coalesce(s.decided_at, s.issued_at) DESC, s.sanction_id LIMIT $limit
"""


def sanctions_by_id(run: Runner, ids: Iterable[str]) -> list[dict[str, Any]]:
    return [r["s"] for r in run(SANCTIONS_BY_ID, ids=sorted(set(ids)))]


def list_sanctions(run: Runner, *, state: str | None, preview_id: str | None, target_id: str | None,
                   limit: int) -> list[tuple[dict[str, Any], tuple[str, str] | None]]:
    rows = run(SANCTIONS_LIST, state=state, preview_id=preview_id, target_id=target_id, limit=limit)
    return [(r["s"], tuple(r["target"]) if r["target"] else None) for r in rows]


# Every sanction on a set of entities and those it derives from, as stored (evidence packs show them).
# The queries take one id list per target label, so each MATCH uses that label's uniqueness constraint.
DERIVATION_DEPTH = 5  # DERIVED_FROM hops followed back from a sanction on the entities
SANCTIONS_TARGETING = (
    "CALL () {\n"
    + "\n  UNION\n".join(
        f"  UNWIND ${label.lower()}_ids AS id MATCH (:{label} {{{_key(label)}: id}})"
        "<-[:TARGETS]-(s:Sanction) RETURN s.sanction_id AS sanction_id"
        for label in TARGET_LABELS
    )
    + "\n}\nRETURN DISTINCT sanction_id ORDER BY sanction_id LIMIT $limit"
)
SANCTION_ANCESTORS = f"""
UNWIND $sanction_ids AS id
MATCH (:Sanction {{sanction_id: id}})-[:DERIVED_FROM*1..{DERIVATION_DEPTH}]->(p:Sanction)
RETURN DISTINCT p.sanction_id AS sanction_id ORDER BY sanction_id LIMIT $limit
"""
SANCTION_DETAILS = """
UNWIND $sanction_ids AS id
MATCH (s:Sanction {sanction_id: id})
CALL (s) {
  OPTIONAL MATCH (s)-[:TARGETS]->(t)
  RETURN collect({labels: labels(t), node: t {.*}}) AS targets
}
CALL (s) {
  OPTIONAL MATCH (s)-[r]->(o) WHERE type(r) <> 'TARGETS'
  WITH r, o LIMIT 50
  RETURN collect({type: type(r), labels: labels(o), node: o {.*}}) AS links
}
RETURN s {.*} AS sanction, targets, links
ORDER BY s.sanction_id LIMIT $limit
"""


def sanctions_targeting(run: Runner, ids: Mapping[str, Iterable[str]], limit: int) -> list[str]:
    """Ids of the sanctions on any of ``ids`` (target label -> entity ids), in order."""
    params = {f"{label.lower()}_ids": sorted(set(ids.get(label, ()))) for label in TARGET_LABELS}
    return [r["sanction_id"] for r in run(SANCTIONS_TARGETING, **params, limit=limit)]


def sanction_ancestors(run: Runner, sanction_ids: Sequence[str], limit: int) -> list[str]:
    """Ids of the sanctions those derive from, up to ``DERIVATION_DEPTH`` hops back, in order."""
    return [r["sanction_id"] for r in run(SANCTION_ANCESTORS, sanction_ids=list(sanction_ids), limit=limit)]


def sanction_details(run: Runner, sanction_ids: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """Per sanction: ``sanction`` (its properties), ``targets`` and ``links`` (other relationships it has,
    DERIVED_FROM among them) as ``{type, labels, node}`` maps; ordered by id."""
    return run(SANCTION_DETAILS, sanction_ids=list(sanction_ids), limit=limit)


def _target_history(label: str) -> str:
    return f"""
MATCH (x:{label} {{{_key(label)}: $id}})
RETURN properties(x) AS props,
       [(x)<-[:TARGETS]-(s:Sanction) | s {{.*}}] AS sanctions,
       [(x)<-[:REVIEW_OF]-(r:Review) | r {{.*}}] AS reviews,
       [(x)<-[:EXAM_OF]-(e:ExamPass) | e {{.*}}] AS exams
"""


TARGET_HISTORY = {label: _target_history(label) for label in NODES}


def target_history(run: Runner, ref: NodeRef) -> dict[str, Any] | None:
    rows = run(TARGET_HISTORY[ref.label], id=ref.id)
    return rows[0] if rows else None


# --------------------------------------------------------------------------- statuses and credit

def _status_inputs(label: str) -> str:
    return f"""
UNWIND $ids AS id
MATCH (x:{label} {{{_key(label)}: id}})
RETURN id, x.status AS status, x.base_status AS base_status,
       [(x)<-[:TARGETS]-(s:Sanction) WHERE s.source = 'ringscope' AND s.state = 'active'
                                        AND (s.expires_at IS NULL OR s.expires_at > $now) | s.action] AS actions,
       [(x)<-[:TARGETS]-(s:Sanction) WHERE coalesce(s.source, 'import') = 'import'
                                        AND coalesce(s.state, 'import') <> 'revoked'
                                        AND (s.expires_at IS NULL OR s.expires_at > $now) | s.action] AS imported,
       [(x)<-[:TARGETS]-(s:Sanction) WHERE s.source = 'ringscope' AND s.action = 'credit_deduction'
                                        AND s.state IN ['active', 'expired']
        | {{at: s.issued_at, points: s.points, id: s.sanction_id}}] AS deductions,
       [(x)<-[:EXAM_OF]-(e:ExamPass) | {{at: e.at, id: e.exam_id}}] AS exams,
       [(x)<-[:TARGETS]-(s:Sanction) WHERE s.source = 'ringscope' AND s.action = 'brand_points'
                                        AND s.state IN ['active', 'expired']
        | {{at: s.decided_at, points: s.points, id: s.sanction_id}}] AS points
"""


def _set_status(label: str) -> str:
    return f"""
UNWIND $rows AS row
MATCH (x:{label} {{{_key(label)}: row.id}})
SET x += row.props
"""


STATUS_INPUTS = {label: _status_inputs(label) for label in NODES}
SET_STATUS = {label: _set_status(label) for label in NODES}


def status_inputs(run: Runner, label: str, ids: Sequence[str], now: datetime) -> list[dict[str, Any]]:
    return run(STATUS_INPUTS[label], ids=sorted(set(ids)), now=now)


def set_status(tx: Transaction, label: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        tx.execute(SET_STATUS[label], rows=rows)


# An import changed the platform's own status (``base_status``) of an account ringscope has sanctioned
# (ingest/writers.py marks it): its status is recomputed, which removes the mark.
STALE_ACCOUNTS = """
MATCH (a:Account) WHERE a.status_stale = true
RETURN a.account_id AS id ORDER BY id LIMIT $limit
"""


def stale_accounts(run: Runner, limit: int) -> list[str]:
    return [r["id"] for r in run(STALE_ACCOUNTS, limit=limit)]


# --------------------------------------------------------------------------- approval, expiry, revocation

# A decision's sanctions are found through the ids its preview recorded at apply: when two previews of
# the same decision race, the sanctions carry the winner's preview_id, and both records name them.
PENDING_AMONG = """
MATCH (s:Sanction {state: 'pending_approval'}) WHERE s.sanction_id IN $ids
RETURN s {.*} AS s ORDER BY s.hop, s.sanction_id
"""
ACTIVATE = """
UNWIND $rows AS row
MATCH (s:Sanction {sanction_id: row.id, state: 'pending_approval'})
SET s.state = 'active', s.issued_at = $now, s.expires_at = row.expires_at,
    s.approved_by = $actor, s.approved_at = $now
RETURN s.sanction_id AS id
"""
DUE = """
MATCH (s:Sanction {state: 'active'}) WHERE s.expires_at <= $now AND s.source = 'ringscope'
RETURN s {.*} AS s ORDER BY s.expires_at, s.sanction_id LIMIT $limit
"""
MARK_EXPIRED = """
UNWIND $ids AS id
MATCH (s:Sanction {sanction_id: id, state: 'active'}) WHERE s.expires_at <= $now
SET s.state = 'expired', s.expired_at = $now
RETURN s.sanction_id AS id
"""
VIOLATION_SIBLINGS = """
MATCH (s:Sanction) WHERE s.sanction_id IN $ids
OPTIONAL MATCH (o:Sanction {violation_id: s.violation_id, preview_id: s.preview_id})
WITH s, collect(o.sanction_id) AS siblings
RETURN s.sanction_id AS id, s.source AS source, s.state AS state, siblings
"""
ROOTS_AMONG = """
MATCH (s:Sanction) WHERE s.sanction_id IN $ids
  AND NOT EXISTS { MATCH (s)-[:DERIVED_FROM]->(p:Sanction) WHERE p.sanction_id IN $ids }
RETURN s.sanction_id AS id
"""
# Everything derived (transitively) from the roots, with its parents' states: what a cascade needs.
DERIVATION_CLOSURE = """
MATCH (root:Sanction) WHERE root.sanction_id IN $ids
MATCH (d)-[:DERIVED_FROM*1..30]->(root)
WITH DISTINCT d
RETURN CASE WHEN d:Review THEN d.review_id ELSE d.sanction_id END AS id,
       CASE WHEN d:Review THEN 'Review' ELSE 'Sanction' END AS kind,
       d.state AS state, d.justification AS justification,
       [(d)-[:DERIVED_FROM]->(p:Sanction) | {id: p.sanction_id, state: p.state, target_id: p.target_id,
                                            points: p.points}] AS parents
LIMIT $limit
"""
MARK_REVOKED = """
UNWIND $rows AS row
MATCH (s:Sanction {sanction_id: row.id}) WHERE s.state <> 'revoked'
SET s.state = 'revoked', s.revoked_at = $now, s.revoked_by = $actor, s.revoke_reason = $reason,
    s.revoked_via = row.via
RETURN s {.*} AS s
"""
MARK_WITHDRAWN = """
UNWIND $rows AS row
MATCH (r:Review {review_id: row.id}) WHERE r.state = 'open'
SET r.state = 'withdrawn', r.withdrawn_at = $now, r.withdrawn_by = $actor, r.withdrawn_via = row.via
RETURN r {.*} AS r
"""


def pending_among(run: Runner, ids: Sequence[str]) -> list[dict[str, Any]]:
    return [r["s"] for r in run(PENDING_AMONG, ids=list(ids))]


def activate(tx: Transaction, rows: list[dict[str, Any]], actor: str, now: datetime) -> list[str]:
    return [r["id"] for r in tx_runner(tx)(ACTIVATE, rows=rows, actor=actor, now=now)]


def due(run: Runner, now: datetime, limit: int) -> list[dict[str, Any]]:
    return [r["s"] for r in run(DUE, now=now, limit=limit)]


def mark_expired(tx: Transaction, ids: list[str], now: datetime) -> list[str]:
    return [r["id"] for r in tx_runner(tx)(MARK_EXPIRED, ids=ids, now=now)]


def violation_siblings(run: Runner, ids: Sequence[str]) -> list[dict[str, Any]]:
    return run(VIOLATION_SIBLINGS, ids=list(ids))


def roots_among(run: Runner, ids: Sequence[str]) -> list[str]:
    """The sanctions among ``ids`` that derive from none of the others: a decision's own."""
    return [r["id"] for r in run(ROOTS_AMONG, ids=list(ids))]


def derivation_closure(run: Runner, ids: Sequence[str], limit: int) -> list[dict[str, Any]]:
    return run(DERIVATION_CLOSURE, ids=list(ids), limit=limit)


def mark_revoked(tx: Transaction, rows: list[dict[str, Any]], actor: str, reason: str, now: datetime) -> list[dict[str, Any]]:
    return [r["s"] for r in tx_runner(tx)(MARK_REVOKED, rows=rows, actor=actor, reason=reason, now=now)]


def mark_withdrawn(tx: Transaction, rows: list[dict[str, Any]], actor: str, now: datetime) -> list[dict[str, Any]]:
    return [r["r"] for r in tx_runner(tx)(MARK_WITHDRAWN, rows=rows, actor=actor, now=now)]


PENDING_DECISIONS = """
MATCH (p:SanctionPreview {state: 'applied'})
CALL (p) {
  MATCH (s:Sanction {preview_id: p.preview_id, state: 'pending_approval'})
  RETURN count(s) AS pending
}
WITH p, pending WHERE pending > 0
RETURN p.preview_id AS preview_id, p.applied_by AS applied_by, p.applied_at AS applied_at,
       p.decision AS decision, pending
ORDER BY p.applied_at, p.preview_id LIMIT $limit
"""


def pending_decisions(run: Runner, limit: int) -> list[dict[str, Any]]:
    return run(PENDING_DECISIONS, limit=limit)


# --------------------------------------------------------------------------- exams

CREATE_EXAM = """
MATCH (a:Account {account_id: $account_id})
CREATE (e:ExamPass {exam_id: $exam_id, at: $at, recorded_by: $actor})-[:EXAM_OF]->(a)
"""
LOCK_ACCOUNT = """
MATCH (a:Account {account_id: $account_id})
SET a.exam_locked_at = $at
RETURN [(a)<-[:EXAM_OF]-(e:ExamPass) | e.at] AS exams
"""


def lock_account_exams(tx: Transaction, account_id: str, at: datetime) -> list[datetime] | None:
    rows = tx_runner(tx)(LOCK_ACCOUNT, account_id=account_id, at=at)
    return rows[0]["exams"] if rows else None


def create_exam(tx: Transaction, **fields: Any) -> None:
    tx.execute(CREATE_EXAM, **fields)


# --------------------------------------------------------------------------- helpers for the service

def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def days_after(at: datetime, days: int | None) -> datetime | None:
    return None if days is None else at + timedelta(days=days)
