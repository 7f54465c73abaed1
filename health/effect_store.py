"""The content-health effects in the graph: named, parameterised Cypher beside the functions that run it.

::

    (:HealthEffect {effect_id, account_id, band, index, reach_factor, commercial, state: active|cleared,
                    started_at, set_by, set_in, policy_version,
                    ended_at, cleared_by, cleared_in, cleared_to, cleared_index})
    (:HealthApply {apply_id, at, by, role, policy_version, accounts, bands, bins, mean, median, p10, p90,
                   transitions, set, cleared, unchanged, skipped, seconds})      one per `ringscope health apply`
    (:HealthLock {name: 'health'})                                                   taken by each write

Effects are keyed by ``account_id`` (an index, migration 11), not by a relationship: an effect's record outlives
a change of the account, and reading an account's effect is one index seek. Every read is bounded: the effects in
force are read in pages by account id, an account's history and a list of accounts' effects with ``LIMIT``. Writes
come in batches (``UNWIND``), each in the caller's transaction together with its audit entries; each write
statement changes only what is still as the caller read it (a clear only an active effect, a set only an account
with no effect in force), and returns what it changed, so two applies at once write every change once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from ringscope.graph.database import Graph, Transaction, plain
from ringscope.health.effects import Effect
from ringscope.health.index import Distribution

EFFECT_FIELDS = ("effect_id", "account_id", "band", "index", "reach_factor", "commercial", "state", "started_at",
                 "set_in", "policy_version", "ended_at", "cleared_in", "cleared_to", "cleared_index")

# Writers take turns: an apply's batch and another's never interleave between the check and the write.
LOCK = """
MERGE (l:HealthLock {name: 'health'})
SET l.locked_at = datetime()
RETURN l.name AS name
"""
# The effects in force, a page at a time in account-id order (the account_id index).
IN_FORCE_AFTER = """
MATCH (e:HealthEffect) WHERE e.account_id > $after AND e.state = 'active'
RETURN e {.*} AS e ORDER BY e.account_id, e.started_at LIMIT $limit
"""
# The effects of some accounts: in force first, then the newest cleared ones; at most $limit per account.
EFFECTS_OF = """
UNWIND $ids AS id
CALL (id) {
  MATCH (e:HealthEffect {account_id: id})
  RETURN e ORDER BY e.state = 'active' DESC, e.started_at DESC LIMIT $limit
}
RETURN e {.*} AS e
"""
# Clear effects still in force; what was cleared comes back.
CLEAR = """
UNWIND $rows AS r
MATCH (e:HealthEffect {effect_id: r.effect_id})
WHERE e.state = 'active'
SET e.state = 'cleared', e.ended_at = $at, e.cleared_by = $actor, e.cleared_in = $apply_id,
    e.cleared_to = r.to, e.cleared_index = r.index
RETURN e.effect_id AS effect_id
"""
# Set effects on accounts with none in force (an account no longer in the graph gets none).
SET_EFFECTS = """
UNWIND $rows AS r
MATCH (a:Account {account_id: r.account_id})
WHERE NOT EXISTS { MATCH (o:HealthEffect {account_id: r.account_id}) WHERE o.state = 'active' }
MERGE (e:HealthEffect {effect_id: r.effect_id})
ON CREATE SET e += r, e.state = 'active', e.started_at = $at, e.set_by = $actor, e.set_in = $apply_id,
              e.policy_version = $policy_version
RETURN e.effect_id AS effect_id
"""
RECORD_APPLY = """
CREATE (h:HealthApply)
SET h = $summary
"""
LATEST_APPLY = """
MATCH (h:HealthApply)
RETURN h {.*} AS h ORDER BY h.at DESC LIMIT 1
"""


@dataclass(frozen=True)
class ApplySummary:
    """What one ``ringscope health apply`` computed and changed (the overview's chart reads the latest)."""
    apply_id: str
    at: datetime
    by: str
    role: str
    policy_version: int
    distribution: Distribution  # of every account's index (stored flat on the HealthApply node)
    transitions: dict[str, int]
    set: int
    cleared: int
    unchanged: int
    skipped: int
    seconds: float


def to_effect(row: dict[str, Any]) -> Effect:
    values = {k: plain(row.get(k)) for k in EFFECT_FIELDS}
    values["index"] = float(values["index"]) if values["index"] is not None else 0.0
    values["reach_factor"] = float(values["reach_factor"]) if values["reach_factor"] is not None else 1.0
    values["commercial"] = bool(values["commercial"])
    values["set_in"] = values["set_in"] or ""
    return Effect(**values)


def lock(tx: Transaction) -> None:
    tx.row(LOCK)


def in_force(graph: Graph, page: int = 10_000) -> list[Effect]:
    """Every effect in force, read ``page`` at a time by account id (a page never ends inside an account's
    effects: a full page's last account is read again whole with the next one)."""
    out: list[Effect] = []
    after = ""
    while True:
        got = [to_effect(r["e"]) for r in graph.read(IN_FORCE_AFTER, after=after, limit=page)]
        if len(got) < page:
            return out + got
        last = got[-1].account_id
        whole = [e for e in got if e.account_id != last]
        if not whole:  # one account holds a whole page (written outside the rule): take what was read
            out += got
            after = last
            continue
        out += whole
        after = whole[-1].account_id


def effects_of(graph: Graph, ids: Sequence[str], per_account: int = 10) -> dict[str, list[Effect]]:
    """Per account, its effects: the one in force first, then the newest cleared ones (at most ``per_account``)."""
    out: dict[str, list[Effect]] = {a: [] for a in ids}
    if not ids:
        return out
    for r in graph.read(EFFECTS_OF, ids=list(ids), limit=per_account):
        e = to_effect(r["e"])
        out.setdefault(e.account_id, []).append(e)
    for found in out.values():
        found.sort(key=lambda e: (e.state != "active", -e.started_at.timestamp() if e.started_at else 0.0))
    return out


def clear(tx: Transaction, rows: list[dict[str, Any]], at: datetime, actor: str, apply_id: str) -> set[str]:
    """Clear these effects (``{effect_id, to, index}``) if still in force; the ids cleared."""
    if not rows:
        return set()
    return {r["effect_id"] for r in tx.rows(CLEAR, rows=rows, at=at, actor=actor, apply_id=apply_id)}


def set_effects(tx: Transaction, rows: list[dict[str, Any]], at: datetime, actor: str, apply_id: str,
                policy_version: int) -> set[str]:
    """Set these effects (``{effect_id, account_id, band, index, reach_factor, commercial}``) on accounts with
    none in force; the ids set."""
    if not rows:
        return set()
    return {r["effect_id"] for r in tx.rows(SET_EFFECTS, rows=rows, at=at, actor=actor, apply_id=apply_id,
                                            policy_version=policy_version)}


def record_apply(tx: Transaction, summary: ApplySummary) -> None:
    values = {**{k: v for k, v in vars(summary).items() if k != "distribution"}, **vars(summary.distribution)}
    values["bands"] = json.dumps(summary.distribution.bands, sort_keys=True)
    values["bins"] = json.dumps([list(b) for b in summary.distribution.bins])
    values["transitions"] = json.dumps(summary.transitions, sort_keys=True)
    tx.execute(RECORD_APPLY, summary={k: v for k, v in values.items() if v is not None})


def latest_apply(graph: Graph) -> ApplySummary | None:
    rows = graph.read(LATEST_APPLY)
    if not rows:
        return None
    h = {k: plain(v) for k, v in rows[0]["h"].items()}
    return ApplySummary(
        h["apply_id"], h["at"], h.get("by", ""), h.get("role", ""), int(h.get("policy_version") or 0),
        Distribution(int(h.get("accounts") or 0), json.loads(h.get("bands") or "{}"),
                     tuple(tuple(int(x) for x in b) for b in json.loads(h.get("bins") or "[]")),
                     h.get("mean"), h.get("median"), h.get("p10"), h.get("p90")),
        json.loads(h.get("transitions") or "{}"),
        int(h.get("set") or 0), int(h.get("cleared") or 0), int(h.get("unchanged") or 0),
        int(h.get("skipped") or 0), float(h.get("seconds") or 0.0))

