"""The append-only audit log: who did what, when and why, chained by hash.

Every sanction, revocation, approval and export appends an ``AuditEntry``
node in the *same transaction* as the change it records, so the log and the
graph never disagree. Entries are numbered (``seq``) and each carries the
SHA-256 of its canonical content together with the previous entry's hash:

    hash_n = sha256(canonical_json(seq, at, actor, role, action, target_type,
                                   target_id, reason, details) + hash_{n-1})

Appending locks the single ``AuditHead`` node first, so concurrent writers
take turns and the chain never forks. ``verify`` recomputes the chain and
names the first entry that does not match: an edited, removed or inserted
entry breaks it. Nothing in ringscope updates or deletes an entry. The chain
itself (entries, hashes, the check) is plain data in ``audit/chain.py``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ringscope.audit.chain import GENESIS, AuditEntry, Verification, canonical, entry_hash, verify_chain
from ringscope.graph.database import Graph, Transaction

LOCK_HEAD = """
MERGE (h:AuditHead {name: 'audit'})
ON CREATE SET h.seq = 0, h.hash = $genesis
SET h.locked_at = datetime()
RETURN h.seq AS seq, h.hash AS hash
"""
APPEND = """
MATCH (h:AuditHead {name: 'audit'})
CREATE (e:AuditEntry {seq: $seq, at: $at, actor: $actor, role: $role, action: $action,
                      target_type: $target_type, target_id: $target_id, reason: $reason,
                      details: $details, prev_hash: $prev_hash, hash: $hash})
SET h.seq = $seq, h.hash = $hash
"""
ENTRIES = """
MATCH (e:AuditEntry)
WHERE ($actor IS NULL OR e.actor = $actor)
  AND ($action IS NULL OR e.action = $action)
  AND ($target_id IS NULL OR e.target_id = $target_id)
  AND ($since IS NULL OR e.at >= $since)
RETURN e {.*} AS e ORDER BY e.seq DESC LIMIT $limit
"""
ENTRIES_FOR_TARGETS = """
MATCH (e:AuditEntry) WHERE e.target_id IN $target_ids
RETURN e {.*} AS e ORDER BY e.seq
"""
CHAIN = "MATCH (e:AuditEntry) RETURN e {.*} AS e ORDER BY e.seq"
HEAD = "OPTIONAL MATCH (h:AuditHead {name: 'audit'}) RETURN h.seq AS seq, h.hash AS hash"


def append(tx: Transaction, *, actor: str, role: str, action: str, target_type: str, target_id: str,
           reason: str = "", details: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEntry:
    """Append one entry inside the caller's transaction ``tx`` (same commit as the change)."""
    head = tx.row(LOCK_HEAD, genesis=GENESIS)
    seq = head["seq"] + 1
    moment = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds")
    detail_text = canonical(details or {})
    digest = entry_hash(seq, moment, actor, role, action, target_type, target_id, reason, detail_text, head["hash"])
    tx.execute(APPEND, seq=seq, at=moment, actor=actor, role=role, action=action, target_type=target_type,
               target_id=target_id, reason=reason, details=detail_text, prev_hash=head["hash"], hash=digest)
    return AuditEntry(seq, moment, actor, role, action, target_type, target_id, reason, detail_text,
                      head["hash"], digest)


def record(graph: Graph, **fields: Any) -> AuditEntry:
    """Append an entry in a transaction of its own (for actions that change nothing else, e.g. exports)."""
    return graph.write_transaction(lambda tx: append(tx, **fields))


def verify(graph: Graph) -> Verification:
    entries = [r["e"] for r in graph.read(CHAIN)]
    head = graph.read(HEAD)[0]
    return verify_chain(entries, head)


def entries(graph: Graph, *, actor: str | None = None, action: str | None = None,
            target_id: str | None = None, since: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """Newest first, filtered; parameters only, never text in the query."""
    rows = graph.read(ENTRIES, actor=actor, action=action, target_id=target_id, since=since, limit=limit)
    return [AuditEntry(**r["e"]) for r in rows]


def entries_for(graph: Graph, target_ids: list[str]) -> list[AuditEntry]:
    """Every entry about any of these targets, oldest first (for evidence packs)."""
    return [AuditEntry(**r["e"]) for r in graph.read(ENTRIES_FOR_TARGETS, target_ids=target_ids)]
