"""The audit chain as plain data: entries, their hashes, and the checks (no database, no files).

``verify_chain`` recomputes the chain: an edited, removed or inserted entry
breaks it. It cannot see entries removed from the end together with the head,
nor a chain recomputed from scratch: ``check_anchor`` compares the chain with
the anchor file kept outside the database (``audit/anchor.py``), and
``check_pack_head`` with the head an evidence pack recorded when it was made.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterable

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
    anchored: int | None = None  # entries the anchor file vouches for (None: not compared with it)
    notes: tuple[str, ...] = ()  # what holds but is worth knowing (entries in flight, ...)

    def line(self) -> str:
        if not self.ok:
            return self.problem or "broken"
        if self.anchored is None:
            return "ok"
        text = (f"ok: {self.entries:,} entries; the hash chain is intact and {self.anchored:,} of them match the "
                "anchor file")
        return "; ".join([text, *self.notes])


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
    if entries and head is not None and head.get("seq") is None:
        return Verification(False, len(entries), f"the log's head is missing but {len(entries)} entries exist: "
                                                 "it was deleted")
    if head and head.get("seq") is not None and head["seq"] != len(entries):
        return Verification(False, len(entries), f"the log's head says {head['seq']} entries but "
                                                 f"{len(entries)} exist: entries at the end were removed")
    if head and head.get("hash") is not None and entries and head["hash"] != previous:
        return Verification(False, len(entries), "the log's head hash does not match its last entry")
    return Verification(True, len(entries))


# --- the anchor outside the database ---------------------------------------------------------------------------

ANCHOR_GRACE_SECONDS = 60  # how long an entry may be committed without its anchor line (a commit in flight)
_LINE = re.compile(r"(\d+) ([0-9a-f]{64})")


@dataclass(frozen=True)
class Anchor:
    """What the anchor file says since the log was last emptied on purpose: seq -> hash as written."""
    source: str  # the file, for messages
    heads: dict[int, str]
    conflicts: tuple[int, ...] = ()  # seqs with two different hashes
    malformed: tuple[int, ...] = ()  # line numbers that are not ``seq hash``


def parse_anchor(text: str, source: str) -> Anchor:
    """Lines ``seq hash``; ``#`` comments; ``0 <genesis>`` marks a deliberate reset (earlier lines no longer
    count). A last line without its newline that does not parse is a write cut short, and ignored."""
    heads: dict[int, str] = {}
    conflicts: set[int] = set()
    malformed: list[int] = []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line.strip())
        if not match:
            if number < len(lines):  # the last piece has no newline: a torn write, not an edit
                malformed.append(number)
            continue
        seq, digest = int(match.group(1)), match.group(2)
        if seq == 0:
            heads, conflicts = {}, set()
            if digest != GENESIS:
                malformed.append(number)
            continue
        if heads.get(seq, digest) != digest:
            conflicts.add(seq)
        heads.setdefault(seq, digest)
    return Anchor(source, heads, tuple(sorted(conflicts)), tuple(malformed))


def _describe(e: dict[str, Any]) -> str:
    return f"entry {e.get('seq')} ({e.get('action')} on {e.get('target_type')} {e.get('target_id')} by " \
           f"{e.get('actor')} at {e.get('at')})"


def _age(at: Any, now: datetime) -> timedelta | None:
    try:
        moment = datetime.fromisoformat(str(at))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return now - moment


def check_anchor(verified: Verification, entries: list[dict[str, Any]], anchor: Anchor, now: datetime,
                 grace_seconds: int = ANCHOR_GRACE_SECONDS) -> Verification:
    """The chain (already verified) against the anchor: every anchored entry is still there with the hash it was
    written with (nothing removed from the end, nothing recomputed), and every entry is anchored, but for
    those younger than ``grace_seconds`` (commits whose line is being written)."""
    if not verified.ok:
        return verified
    n = len(entries)

    def broken(problem: str) -> Verification:
        return Verification(False, n, problem, len(anchor.heads))

    if anchor.malformed:
        return broken(f"the anchor file {anchor.source} has lines that are not `seq hash` (line "
                      f"{anchor.malformed[0]}): it was edited")
    if anchor.conflicts:
        return broken(f"the anchor file {anchor.source} holds two different hashes for entry {anchor.conflicts[0]}: "
                      "the log was emptied and written again without `ringscope reset`, or the file was edited")
    for seq, digest in sorted(anchor.heads.items()):
        if seq > n:
            what = "the log is empty" if n == 0 else f"the log has only {n:,}"
            return broken(f"entry {seq} was written (the anchor file {anchor.source} holds its hash) but {what}: "
                          "entries at the end were removed")
        if entries[seq - 1].get("hash") != digest:
            return broken(f"{_describe(entries[seq - 1])} does not have the hash it was written with (anchor "
                          f"{digest[:16]}..., now {str(entries[seq - 1].get('hash'))[:16]}...): the log was "
                          "rewritten and its chain recomputed")
    unanchored = [e for e in entries if e.get("seq") not in anchor.heads]
    late = []
    for e in unanchored:
        age = _age(e.get("at"), now)
        if age is None or not timedelta(seconds=-grace_seconds) <= age <= timedelta(seconds=grace_seconds):
            late.append(e)
    if late:
        return broken(f"{len(late):,} entries are not in the anchor file {anchor.source}, the first {_describe(late[0])}"
                      ": they were written to the database directly, or the process that wrote them stopped "
                      "between its commit and the anchor; check them, then an admin adopts them with "
                      "`ringscope audit anchor --reason TEXT`")
    notes = ((f"{len(unanchored)} entries written in the last {grace_seconds} s are not anchored yet "
              "(commits in flight)",) if unanchored else ())
    return replace(verified, anchored=len(anchor.heads), notes=notes)


def unanchored(entries: list[dict[str, Any]], anchor: Anchor) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("seq") not in anchor.heads]


def check_pack_head(entries: list[dict[str, Any]], head: Any, pack_id: Any, manifest_sha256: str) -> str | None:
    """What is wrong, or None: the head an evidence pack recorded is still in the chain, and its export is
    recorded after it (``evidence.export`` with the pack's id and the SHA-256 of its manifest)."""
    if not isinstance(head, dict) or type(head.get("seq")) is not int or not isinstance(head.get("hash"), str):
        return "the pack's manifest records no audit head (made by an older ringscope): nothing to compare"
    seq, digest = head["seq"], head["hash"]
    if seq < 0 or seq > len(entries):
        return (f"the pack saw the audit log at entry {seq}, but the log has {len(entries):,} entries: entries were "
                "removed after the export")
    if (entries[seq - 1].get("hash") if seq else GENESIS) != digest:
        return (f"the pack saw entry {seq} with hash {digest[:16]}..., the log now has "
                f"{str(entries[seq - 1].get('hash'))[:16]}...: the log was rewritten after the export")
    for e in entries[seq:]:
        if e.get("action") != "evidence.export":
            continue
        try:
            details = json.loads(e.get("details") or "{}")
        except ValueError:
            continue
        if details.get("pack_id") == pack_id and details.get("sha256_manifest") == manifest_sha256:
            return None
    return (f"the export of pack {pack_id} (an evidence.export entry with this manifest's SHA-256) is not in the "
            "log after the head the pack saw")


def anchor_lines(entries: Iterable[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(int(e["seq"]), str(e["hash"])) for e in entries]
