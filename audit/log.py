"""The append-only audit log: who did what, when and why, chained by hash.

Every sanction, revocation, approval and export appends an ``AuditEntry``
node in the *same transaction* as the change it records, so the log and the
graph never disagree. Entries are numbered (``seq``) and each carries the
SHA-256 of its canonical content together with the previous entry's hash:

    hash_n = sha256(canonical_json(seq, at, actor, role, action, target_type,
                                   target_id, reason, details) + hash_{n-1})

Appending locks the single ``AuditHead`` node first, so concurrent writers
take turns and the chain never forks. Once the transaction has committed,
the entries it appended are written to the anchor file outside the database
(``audit/anchor.py``). ``verify`` recomputes the chain and names the first
entry that does not match (an edited, removed or inserted entry breaks it),
then compares it with the anchor file (entries removed from the end, a
recomputed chain, entries added behind the tool's back). Nothing in
ringscope updates or deletes an entry. The chain itself (entries, hashes,
the checks) is plain data in ``audit/chain.py``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ringscope.audit import anchor
from ringscope.audit.chain import (
    GENESIS, AuditEntry, Verification, anchor_lines, canonical, check_anchor, check_pack_head, entry_hash,
    parse_anchor, unanchored, verify_chain,
)
from ringscope.common.errors import RingscopeError
from ringscope.graph.database import Graph, Transaction
from ringscope.graph.settings import Settings

LOCK_HEAD = """
MERGE (h:AuditHead {name: 'audit'})
ON CREATE SET h.seq = 0, h.hash = $genesis
SET h.locked_at = datetime()
RETURN h.seq AS seq, h.hash AS hash
"""
# Entries in chain order (one or many): each node's properties are the AuditEntry's fields; the head moves to
# the last one.
APPEND = """
MATCH (h:AuditHead {name: 'audit'})
UNWIND $entries AS x
CREATE (e:AuditEntry)
SET e = x
WITH h, max(x.seq) AS seq, last(collect(x.hash)) AS hash
SET h.seq = seq, h.hash = hash
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
# The entries of some actions after a sequence number, oldest first (the outbound feed, feed/): a range seek on the
# unique seq (migration 5's constraint is its index), read in index order, so LIMIT stops the scan early.
ENTRIES_AFTER = """
MATCH (e:AuditEntry) WHERE e.seq > $since AND e.action IN $actions
RETURN e {.*} AS e ORDER BY e.seq LIMIT $limit
"""
CHAIN = "MATCH (e:AuditEntry) RETURN e {.*} AS e ORDER BY e.seq"
HEAD = "OPTIONAL MATCH (h:AuditHead {name: 'audit'}) RETURN h.seq AS seq, h.hash AS hash"


def append(tx: Transaction, *, actor: str, role: str, action: str, target_type: str, target_id: str,
           reason: str = "", details: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEntry:
    """Append one entry inside the caller's transaction ``tx`` (same commit as the change)."""
    return append_many(tx, [dict(actor=actor, role=role, action=action, target_type=target_type,
                                 target_id=target_id, reason=reason, details=details)], at)[0]


def append_many(tx: Transaction, entries: list[dict[str, Any]], at: datetime | None = None) -> list[AuditEntry]:
    """Append ``entries`` inside ``tx``, chained in order, in one statement (a detection run's changes to the
    observation room come as many): each item has the keyword arguments of :func:`append` (``at`` is shared).
    The head is locked first, so concurrent writers take turns; the anchor follows the commit."""
    if not entries:
        return []
    head = tx.row(LOCK_HEAD, genesis=GENESIS)
    moment = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds")
    made, previous = [], head["hash"]
    for offset, fields in enumerate(entries, start=1):
        seq = head["seq"] + offset
        detail_text = canonical(fields.get("details") or {})
        values = (fields["actor"], fields["role"], fields["action"], fields["target_type"], fields["target_id"],
                  fields.get("reason", ""))
        digest = entry_hash(seq, moment, *values, detail_text, previous)
        made.append(AuditEntry(seq, moment, *values, detail_text, previous, digest))
        previous = digest
    tx.execute(APPEND, entries=[dict(vars(e)) for e in made])
    _anchor_after_commit(tx, [(e.seq, e.hash) for e in made])
    return made


def record(graph: Graph, **fields: Any) -> AuditEntry:
    """Append an entry in a transaction of its own (for actions that change nothing else, e.g. exports)."""
    return graph.write_transaction(lambda tx: append(tx, **fields))


def _anchor_after_commit(tx: Transaction, lines: list[tuple[int, str]]) -> None:
    settings = tx.settings
    if settings is None:
        return
    path = anchor_file(settings)
    for line in lines:
        tx.after_commit("audit.anchor", line,
                        lambda items: anchor.anchor_entries(path, items, settings.uri, settings.database))


def anchor_file(settings: Settings) -> Path:
    """The anchor file of the database these settings point at."""
    return anchor.anchor_path(settings.uri, settings.database)


def head(graph: Graph) -> dict[str, Any]:
    """The log's head as it is now: ``{"seq", "hash"}`` (0 and the genesis hash for an empty log)."""
    row = graph.read(HEAD)[0]
    return {"seq": row["seq"] or 0, "hash": row["hash"] or GENESIS}


def verify(graph: Graph, *, now: datetime | None = None, pack: tuple[dict, str, str] | None = None) -> Verification:
    """The chain, then the anchor file; with ``pack`` = (the head a pack's manifest recorded, its pack id, the
    SHA-256 of its manifest), also that this head is still in the chain and the export recorded after it."""
    entries = [r["e"] for r in graph.read(CHAIN)]
    result = verify_chain(entries, graph.read(HEAD)[0])
    if result.ok and pack is not None:
        problem = check_pack_head(entries, *pack)
        if problem:
            return Verification(False, result.entries, problem)
    path = anchor_file(graph.settings)
    return check_anchor(result, entries, parse_anchor(anchor.read_text(path) or "", str(path)),
                        (now or datetime.now(timezone.utc)).astimezone(timezone.utc))


def mark_reset(graph: Graph) -> None:
    """After ``ringscope reset``: the log is empty on purpose; the anchor file says so."""
    if graph.read(CHAIN + " LIMIT 1"):
        raise RingscopeError("the audit log is not empty; only an emptied database resets its anchor")
    anchor.mark_reset(anchor_file(graph.settings), graph.settings.uri, graph.settings.database)


def adopt(graph: Graph, *, actor: str, role: str, reason: str) -> tuple[AuditEntry | None, list[int]]:
    """Anchor the entries the anchor file lacks (after a crash between commit and anchor, or on a log older than
    the anchor), once someone has checked them: records ``audit.anchor`` naming them. The chain must be intact
    and agree with the anchor for everything the file already holds."""
    entries = [r["e"] for r in graph.read(CHAIN)]
    chain = verify_chain(entries, graph.read(HEAD)[0])
    path = anchor_file(graph.settings)
    current = parse_anchor(anchor.read_text(path) or "", str(path))
    checked = check_anchor(chain, entries, current, datetime.now(timezone.utc), grace_seconds=10 ** 12)
    if not checked.ok:
        raise RingscopeError(f"nothing adopted: {checked.problem}")
    missing = unanchored(entries, current)
    if not missing:
        return None, []
    seqs = [int(e["seq"]) for e in missing]

    def work(tx: Transaction) -> AuditEntry:
        _anchor_after_commit(tx, anchor_lines(missing))
        return append(tx, actor=actor, role=role, action="audit.anchor", target_type="audit", target_id="anchor",
                      reason=reason, details={"adopted": _ranges(seqs), "count": len(seqs), "file": str(path)})

    entry = graph.write_transaction(work)
    written = parse_anchor(anchor.read_text(path) or "", str(path)).heads
    if not all(seq in written for seq in [*seqs, entry.seq]):
        raise RingscopeError(f"the entries were adopted (entry {entry.seq}) but {path} could not be written; "
                             "see the warning above, fix the file's permissions and run `ringscope audit anchor` "
                             "again")
    return entry, seqs


def _ranges(seqs: list[int]) -> list[str]:
    out: list[list[int]] = []
    for seq in sorted(seqs):
        if out and seq == out[-1][1] + 1:
            out[-1][1] = seq
        else:
            out.append([seq, seq])
    return [f"{a}" if a == b else f"{a}-{b}" for a, b in out]


def entries(graph: Graph, *, actor: str | None = None, action: str | None = None,
            target_id: str | None = None, since: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """Newest first, filtered; parameters only, never text in the query."""
    rows = graph.read(ENTRIES, actor=actor, action=action, target_id=target_id, since=since, limit=limit)
    return [AuditEntry(**r["e"]) for r in rows]


def entries_for(graph: Graph, target_ids: list[str]) -> list[AuditEntry]:
    """Every entry about any of these targets, oldest first (for evidence packs)."""
    return [AuditEntry(**r["e"]) for r in graph.read(ENTRIES_FOR_TARGETS, target_ids=target_ids)]


def entries_after(graph: Graph, since: int, actions: list[str], limit: int) -> list[AuditEntry]:
    """Entries numbered after ``since`` whose action is one of ``actions``, oldest first, at most ``limit``.
    Entries are numbered under the head's lock and committed before the next number is taken, so what this
    returns is in commit order and a later call from the last ``seq`` returned misses nothing."""
    rows = graph.read(ENTRIES_AFTER, since=since, actions=list(actions), limit=limit)
    return [AuditEntry(**r["e"]) for r in rows]
