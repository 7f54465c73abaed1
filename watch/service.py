"""The observation room's API, used by the CLI (``ringscope watch``), the app's page and the detection run alike.

* ``add``: an investigator places an account under observation, with a reason and a length (the policy's
  ``days`` by default), and the policy's silent restriction (``notified: false``).
* ``release``: an investigator ends a stay (watching, or escalated: the queue item is resolved).
* ``update_room``: after a detection run (``detection/run.py`` calls it before the run completes), the pure
  rule of ``watch/room.py`` over the open stays and the run's risks; once per run.
* ``stays`` / ``queue``: what the room holds.

Each write is one transaction with its audit entries (``watch.place``, ``watch.escalate``, ``watch.extend``,
``watch.release``, and ``watch.update`` for a run's summary), so the room and the audit log never disagree.
Functions take ``policy`` (the ``watch`` section of the detection policy: this layer is below ``detection/``,
so callers load it) and ``now`` (tests and replays). Nothing here sanctions anyone.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Sequence

from ringscope.audit import log as audit
from ringscope.auth.roles import Actor
from ringscope.common.errors import RingscopeError, SettingError
from ringscope.graph.database import Graph, Transaction
from ringscope.watch import room, store
from ringscope.watch.policy import WatchPolicy
from ringscope.watch.room import ESCALATED, OPEN_STATES, RELEASED, RULE_REASON, STATES, WATCHING, Decision, Stay

# Who acts when a detection run changes the room (the audit log's actor and role).
RUN_ACTOR, RUN_ROLE = "ringscope detect", "system"
PERMISSION = "watch_account"


class UnknownAccount(RingscopeError):
    pass


class AlreadyWatched(RingscopeError):
    pass


class NotWatched(RingscopeError):
    pass


@dataclass(frozen=True)
class RoomUpdate:
    """What a run did to the room."""
    run_id: str
    counts: dict[str, int] = field(default_factory=dict)  # decision kind -> stays
    decisions: tuple[Decision, ...] = ()
    already_done: bool = False
    seconds: float = 0.0
    skipped: str = ""  # why the room did not follow the run (an as-of run earlier than the room's last moment)


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _check_states(states: Sequence[str] | None) -> list[str] | None:
    if not states:
        return None
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise SettingError(f"unknown state {unknown[0]!r} (states: {', '.join(STATES)})")
    return list(states)


def stays(graph: Graph, states: Sequence[str] | None = None, account_id: str | None = None) -> list[Stay]:
    """Stays, newest first: of these states (default: all) and of one account (default: every account)."""
    return store.stays(graph, _check_states(states), account_id)


def queue(graph: Graph) -> list[Stay]:
    """The investigator's queue: stays escalated by a run, waiting for someone to resolve them."""
    return store.stays(graph, [ESCALATED])


def add(graph: Graph, actor: Actor, account_id: str, reason: str, policy: WatchPolicy, days: int | None = None,
        now: datetime | None = None) -> Stay:
    """Place ``account_id`` under observation for ``days`` (default the policy's), with the silent restriction."""
    actor.require(PERMISSION)
    reason = _reason(reason, "a stay needs a reason (--reason)")
    try:
        days = room.check_days(days, policy)
    except ValueError as exc:
        raise SettingError(str(exc)) from None
    moment = _now(now)

    def work(tx: Transaction) -> Stay:
        current = _locked_open_stay(tx, account_id)
        if current is not None:
            raise AlreadyWatched(f"account {account_id} is already under observation ({current.state}, stay "
                                 f"{current.stay_id} since {current.started_at:%Y-%m-%d})")
        stay = Stay(room.stay_id(account_id, moment.isoformat()), account_id, WATCHING, reason, "investigator",
                    actor.name, moment, room.end_of(moment, days), policy.restriction, policy.reach_factor)
        store.place(tx, [_stay_row(stay)])
        audit.append(tx, actor=actor.name, role=actor.role, action="watch.place", target_type="account",
                     target_id=account_id, reason=reason, details=_details(stay), at=moment)
        return stay

    return graph.write_transaction(work)


def release(graph: Graph, actor: Actor, account_id: str, reason: str, now: datetime | None = None) -> Stay:
    """End the account's open stay (watching or escalated); the stay stays in the room's history."""
    actor.require(PERMISSION)
    reason = _reason(reason, "releasing needs a reason (--reason)")
    moment = _now(now)

    def work(tx: Transaction) -> Stay:
        current = _locked_open_stay(tx, account_id)
        if current is None:
            raise NotWatched(f"account {account_id} is not under observation")
        released = store.release(tx, current.stay_id, actor.name, reason, moment)
        audit.append(tx, actor=actor.name, role=actor.role, action="watch.release", target_type="account",
                     target_id=account_id, reason=reason,
                     details={"stay_id": current.stay_id, "was": current.state, "by": "investigator"}, at=moment)
        return released

    return graph.write_transaction(work)


def _reason(reason: str | None, missing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise SettingError(missing)
    return reason


def _locked_open_stay(tx: Transaction, account_id: str) -> Stay | None:
    """The account's open stay, after taking the account's lock (two people acting on it take turns)."""
    if not store.lock_account(tx, account_id):
        raise UnknownAccount(f"no account {account_id!r} in the graph")
    return store.open_stay_of(tx, account_id)


def update_room(graph: Graph, run_id: str, policy: WatchPolicy, flag_threshold: float,
                now: datetime | None = None, also: Callable[[Transaction], None] | None = None,
                as_of: datetime | None = None) -> RoomUpdate:
    """The room after run ``run_id`` (its SCORED risks are stored): escalate, release, extend, keep, place, all in
    one transaction with their audit entries; a run already applied changes nothing (``already_done``).
    ``also`` runs in the same transaction: the detection run marks itself completed there, so a run is
    completed exactly when the room has followed it.

    ``as_of``: the run saw the platform as of that time (``ringscope detect --as-of``), so the room follows it
    then: stays start, end and are released by that time, not the wall clock's (the audit entries keep the
    moment they were written, ``now``, and name the run's ``as_of`` in their details). The room's time only moves
    forward: an as-of run earlier than the room's last moment (:func:`store.room_clock`: a run it followed, a stay
    placed or released) leaves the room as it is (``skipped``, recorded on the run and audited), so a replay of
    the past never rewrites a room that has moved on; replay in order of time, on a room that has not."""
    written = _now(now)
    moment = as_of.astimezone(timezone.utc) if as_of is not None else written

    def work(tx: Transaction) -> RoomUpdate:
        update = _update(tx)
        if also is not None:
            also(tx)
        return update

    def _update(tx: Transaction) -> RoomUpdate:
        if store.run_room_done(tx, run_id):
            return RoomUpdate(run_id, already_done=True)
        if as_of is not None:
            clock = store.room_clock(tx)
            if clock is not None and moment < clock:
                skipped = (f"the run is as of {moment.isoformat()}, before the room's last moment "
                           f"{clock.isoformat()}: the room follows runs in order of time")
                audit.append(tx, actor=RUN_ACTOR, role=RUN_ROLE, action="watch.update", target_type="run",
                             target_id=run_id, reason="the room did not follow an as-of run earlier than its time",
                             details={"skipped": skipped, "as_of": moment.isoformat()}, at=written)
                store.mark_run(tx, run_id, written, json.dumps({}), moment, skipped)
                return RoomUpdate(run_id, skipped=skipped)
        open_stays = store.stays(tx, list(OPEN_STATES))
        risks = store.run_risks(tx, run_id, policy.threshold, sorted({s.account_id for s in open_stays}))
        decisions = room.decide(open_stays, risks, policy, flag_threshold, run_id, moment)
        by_id = {s.stay_id: s for s in open_stays}
        placed = [d for d in decisions if d.kind == "place"]
        created = store.place(tx, [_stay_row(_placed(d, policy, run_id, moment)) for d in placed])
        changed = store.update_from_run(tx, run_id, [_change(d, run_id, moment) for d in decisions
                                                     if d.kind != "place"])
        done = [d for d in decisions if d.stay_id in (created if d.kind == "place" else changed)]
        counts = dict(Counter(d.kind for d in done))
        entries = [_entry(d, by_id.get(d.stay_id), policy, run_id) for d in done if d.kind != "keep"]
        entries.append({"actor": RUN_ACTOR, "role": RUN_ROLE, "action": "watch.update", "target_type": "run",
                        "target_id": run_id, "reason": "the room after a detection run",
                        "details": {"counts": counts, "open_before": len(open_stays)}})
        if as_of is not None:
            for entry in entries:
                entry["details"]["as_of"] = moment.isoformat()
        audit.append_many(tx, entries, at=written)
        store.mark_run(tx, run_id, written, json.dumps(counts, sort_keys=True), moment)
        return RoomUpdate(run_id, counts, tuple(done))

    return graph.write_transaction(work)


def _placed(d: Decision, policy: WatchPolicy, run_id: str, moment: datetime) -> Stay:
    return Stay(d.stay_id, d.account_id, WATCHING, RULE_REASON, "rule", RUN_ACTOR, moment, d.ends_at,
                policy.restriction, policy.reach_factor, run_ids=(run_id,), risks=(d.risk,), last_run=run_id,
                note=d.note)


def _stay_row(stay: Stay) -> dict:
    row = {k: getattr(stay, k) for k in store.STAY_FIELDS if getattr(stay, k) is not None}
    row["run_ids"], row["risks"] = list(stay.run_ids), list(stay.risks)
    return row


def _change(d: Decision, run_id: str, moment: datetime) -> dict:
    fields: dict = {}
    if d.kind == "escalate":
        fields = {"state": ESCALATED, "escalated_at": moment, "escalated_in": run_id}
    elif d.kind == "release":
        fields = {"state": RELEASED, "released_at": moment, "released_by": RUN_ACTOR, "release_reason": d.note}
    elif d.kind == "extend":
        fields = {"ends_at": d.ends_at}
    return {"stay_id": d.stay_id, "risk": d.risk, "fields": fields}


ACTIONS = {"place": "watch.place", "escalate": "watch.escalate", "release": "watch.release", "extend": "watch.extend"}


def _entry(d: Decision, before: Stay | None, policy: WatchPolicy, run_id: str) -> dict:
    details = {"stay_id": d.stay_id, "run_id": run_id, "risk": round(d.risk, 6), "by": "detection run"}
    if d.kind == "place":
        details.update(restriction=policy.restriction, reach_factor=policy.reach_factor, notified=False,
                       ends_at=d.ends_at.isoformat())
    elif d.kind == "extend":
        details["ends_at"] = d.ends_at.isoformat()
    elif d.kind == "escalate":
        details["queue"] = "investigator"  # never sanctioned automatically
    if before is not None:
        details["was"] = before.state
        if d.kind in ("escalate", "extend"):  # the restriction stays in force: the entry says which (the feed)
            details.update(restriction=before.restriction, reach_factor=before.reach_factor, notified=False,
                           ends_at=details.get("ends_at") or before.ends_at.isoformat())
    return {"actor": RUN_ACTOR, "role": RUN_ROLE, "action": ACTIONS[d.kind], "target_type": "account",
            "target_id": d.account_id, "reason": d.note or RULE_REASON, "details": details}


def _details(stay: Stay) -> dict:
    return {"stay_id": stay.stay_id, "by": stay.origin, "started_at": stay.started_at.isoformat(),
            "ends_at": stay.ends_at.isoformat(), "restriction": stay.restriction,
            "reach_factor": stay.reach_factor, "notified": stay.notified}
