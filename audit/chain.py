"""The audit chain as plain data: entries, their hashes, and the check that recomputes them (no database)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str  # ISO 8601, UTC
    actor: str
    role: str
    action: str  # sanction.apply, sanction.revoke, sanction.approve, evidence.export, ...
    target_type: str
    target_id: str
    reason: str
    details: str  # canonical JSON
    prev_hash: str
    hash: str


def canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(seq: int, at: str, actor: str, role: str, action: str, target_type: str, target_id: str,
               reason: str, details: str, prev_hash: str) -> str:
    body = canonical({"seq": seq, "at": at, "actor": actor, "role": role, "action": action,
                      "target_type": target_type, "target_id": target_id, "reason": reason,
                      "details": details})
    return hashlib.sha256((body + prev_hash).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    problem: str | None = None  # the first broken entry, in words

    def line(self) -> str:
        return "ok" if self.ok else self.problem or "broken"


def verify_chain(entries: list[dict[str, Any]], head: dict[str, Any] | None = None) -> Verification:
    """Recompute the chain over plain entry dicts (ordered by seq). O(n)."""
    previous = GENESIS
    for expected_seq, e in enumerate(entries, start=1):
        if e.get("seq") != expected_seq:
            return Verification(False, len(entries), f"entry {expected_seq} is missing (found seq {e.get('seq')} "
                                                     "in its place): an entry was removed or inserted")
        if e.get("prev_hash") != previous:
            return Verification(False, len(entries), f"entry {expected_seq}: prev_hash does not match the "
                                                     "previous entry's hash: the chain was cut or rewritten")
        digest = entry_hash(e["seq"], e["at"], e["actor"], e["role"], e["action"], e["target_type"],
                            e["target_id"], e["reason"], e["details"], e["prev_hash"])
        if digest != e.get("hash"):
            return Verification(False, len(entries), f"entry {expected_seq} ({e.get('action')} on "
                                                     f"{e.get('target_type')} {e.get('target_id')} by "
                                                     f"{e.get('actor')}): its content does not match its hash: "
                                                     "it was edited")
        previous = digest
    if head and head.get("seq") is not None and head["seq"] != len(entries):
        return Verification(False, len(entries), f"the log's head says {head['seq']} entries but "
                                                 f"{len(entries)} exist: entries at the end were removed")
    if head and head.get("hash") is not None and entries and head["hash"] != previous:
        return Verification(False, len(entries), "the log's head hash does not match its last entry")
    return Verification(True, len(entries))
