"""The observation room in the graph: named, parameterised Cypher beside the functions that run it.

::

    (:WatchStay {stay_id, account_id, state: watching|escalated|released, reason, note, origin: rule|investigator,
                 placed_by, started_at, ends_at, restriction, reach_factor, notified: false, run_ids, risks,
                 last_run, escalated_at, escalated_in, released_at, released_by, release_reason,
                 policy_version})-[:WATCHES]->(:Account)
    (:DetectionRun {watch_updated_at, watch_at, watch_changes, watch_skipped})     the run's room update, done once:
        when it was written, the room's time it happened at (the run's as-of time, else the same), what changed,
        and why an as-of run earlier than the room's time did not change it

Every function here takes a ``Transaction`` (the service runs the whole change and its audit entries in one)
or the ``Graph`` for reads, and returns ``Stay`` records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from ringscope.graph.database import Graph, Transaction
from ringscope.watch.room import OPEN_STATES, Stay

STAY_FIELDS = ("stay_id", "account_id", "state", "reason", "origin", "placed_by", "started_at", "ends_at",
               "restriction", "reach_factor", "notified", "run_ids", "risks", "last_run", "escalated_at",
               "escalated_in", "released_at", "released_by", "release_reason", "note")

STAYS = """
MATCH (w:WatchStay)
WHERE ($states IS NULL OR w.state IN $states) AND ($account_id IS NULL OR w.account_id = $account_id)
RETURN w {.*} AS w ORDER BY w.started_at DESC, w.stay_id
"""
# Writing to the account takes its lock, so two people placing (or releasing) the same account take turns and
# the second sees the first one's stay.
LOCK_ACCOUNT = """
MATCH (a:Account {account_id: $account_id})
SET a.watch_lock = true REMOVE a.watch_lock
RETURN a.account_id AS account_id
"""
OPEN_STAY_OF = """
MATCH (w:WatchStay {account_id: $account_id}) WHERE w.state IN $open
RETURN w {.*} AS w ORDER BY w.started_at DESC LIMIT 1
"""
# A run's risks the room needs: accounts at or above the watch threshold, and those with an open stay.
RUN_RISKS = """
MATCH (:DetectionRun {run_id: $run_id})-[s:SCORED]->(a:Account)
WHERE s.score >= $min_risk OR a.account_id IN $accounts
RETURN a.account_id AS account_id, s.score AS score
"""
RUN_ROOM_DONE = "MATCH (r:DetectionRun {run_id: $run_id}) RETURN r.watch_updated_at IS NOT NULL AS done"
MARK_RUN = """
MATCH (r:DetectionRun {run_id: $run_id})
SET r.watch_updated_at = $now, r.watch_at = $at, r.watch_changes = $changes, r.watch_skipped = $skipped
"""
# The room's time: the latest moment it acted at (a run it followed, at that run's time; a stay placed, escalated
# or released). Runs from before ``watch_at`` existed count at ``watch_updated_at``.
ROOM_CLOCK = """
CALL () { MATCH (r:DetectionRun) WHERE r.watch_updated_at IS NOT NULL AND r.watch_skipped IS NULL
          RETURN max(coalesce(r.watch_at, r.watch_updated_at)) AS runs }
CALL () { MATCH (w:WatchStay)
          RETURN max(w.started_at) AS placed, max(w.escalated_at) AS escalated, max(w.released_at) AS released }
RETURN [t IN [runs, placed, escalated, released] WHERE t IS NOT NULL] AS times
"""
# New stays; one created per account even if an investigator's stay appeared since the run read the room.
PLACE = """
UNWIND $stays AS s
MATCH (a:Account {account_id: s.account_id})
WHERE NOT EXISTS { (a)<-[:WATCHES]-(o:WatchStay) WHERE o.state IN $open }
MERGE (w:WatchStay {stay_id: s.stay_id})
ON CREATE SET w += s
MERGE (w)-[:WATCHES]->(a)
RETURN w.stay_id AS stay_id
"""
# A run's changes to open stays: the new state and fields, and the run's risk appended to the trend.
UPDATE_FROM_RUN = """
UNWIND $changes AS c
MATCH (w:WatchStay {stay_id: c.stay_id})
WHERE w.state IN $open AND coalesce(w.last_run, '') <> $run_id
SET w += c.fields, w.run_ids = coalesce(w.run_ids, []) + $run_id, w.risks = coalesce(w.risks, []) + c.risk,
    w.last_run = $run_id
RETURN w.stay_id AS stay_id
"""
RELEASE = """
MATCH (w:WatchStay {stay_id: $stay_id}) WHERE w.state IN $open
SET w.state = 'released', w.released_at = $now, w.released_by = $actor, w.release_reason = $reason
RETURN w {.*} AS w
"""


def to_stay(row: dict[str, Any]) -> Stay:
    values = {k: row.get(k) for k in STAY_FIELDS}
    values["run_ids"] = tuple(values["run_ids"] or ())
    values["risks"] = tuple(float(r) for r in values["risks"] or ())
    values["notified"] = bool(values["notified"])
    values["note"] = values["note"] or ""
    return Stay(**values)


def stays(graph: Graph | Transaction, states: Sequence[str] | None = None,
          account_id: str | None = None) -> list[Stay]:
    """Stays, newest first, optionally of some states and one account."""
    run = graph.read if isinstance(graph, Graph) else graph.rows
    return [to_stay(r["w"]) for r in run(STAYS, states=list(states) if states else None, account_id=account_id)]


def lock_account(tx: Transaction, account_id: str) -> bool:
    return tx.row(LOCK_ACCOUNT, account_id=account_id) is not None


def open_stay_of(tx: Transaction, account_id: str) -> Stay | None:
    row = tx.row(OPEN_STAY_OF, account_id=account_id, open=list(OPEN_STATES))
    return to_stay(row["w"]) if row else None


def run_risks(tx: Transaction, run_id: str, min_risk: float, accounts: Sequence[str]) -> dict[str, float]:
    return {r["account_id"]: float(r["score"])
            for r in tx.rows(RUN_RISKS, run_id=run_id, min_risk=min_risk, accounts=list(accounts))}


def run_room_done(tx: Transaction, run_id: str) -> bool:
    row = tx.row(RUN_ROOM_DONE, run_id=run_id)
    return bool(row and row["done"])


def mark_run(tx: Transaction, run_id: str, now: datetime, changes: str, at: datetime | None = None,
             skipped: str | None = None) -> None:
    tx.execute(MARK_RUN, run_id=run_id, now=now, at=at or now, changes=changes, skipped=skipped)


def room_clock(tx: Transaction) -> datetime | None:
    """The room's latest moment (``ROOM_CLOCK``), None for a room that never acted."""
    row = tx.row(ROOM_CLOCK)
    times = [t.to_native() if hasattr(t, "to_native") else t for t in (row["times"] if row else [])]
    return max(times) if times else None


def place(tx: Transaction, rows: list[dict[str, Any]]) -> set[str]:
    """Create these stays (each a dict of stay properties) on their accounts; the ids created."""
    return {r["stay_id"] for r in tx.rows(PLACE, stays=rows, open=list(OPEN_STATES))}


def update_from_run(tx: Transaction, run_id: str, changes: list[dict[str, Any]]) -> set[str]:
    """Apply a run's changes (``{stay_id, risk, fields}``) to open stays it has not updated yet; the ids changed."""
    return {r["stay_id"] for r in tx.rows(UPDATE_FROM_RUN, run_id=run_id, changes=changes, open=list(OPEN_STATES))}


def release(tx: Transaction, stay_id: str, actor: str, reason: str, now: datetime) -> Stay | None:
    row = tx.row(RELEASE, stay_id=stay_id, open=list(OPEN_STATES), actor=actor, reason=reason, now=now)
    return to_stay(row["w"]) if row else None
