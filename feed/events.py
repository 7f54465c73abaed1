"""The outbound feed's events as plain data: an audit entry in, what the platform must enforce out.

Every change of what is in force is written with its audit entry in the same transaction (``audit/log.py``),
numbered by a gap-free ``seq`` taken under the log head's lock. So the feed is the audit log read in ``seq``
order through this mapping: each change appears once, in commit order, and a reader resumes after the last
``seq`` it processed (the event's ``cursor``). No database here (``tests/test_architecture.py`` holds that).

``MAPPINGS`` is a registry, one entry per audit action the feed carries; an action not in it (``evidence.export``,
``sanction.exam``, ``watch.update``, ...) is not a change of what is in force and is skipped. A new kind of
restriction joins the feed by adding its action here, as the content-health index's effects did (``health.effect``,
written by ``ringscope health apply``: ``health.effect_set`` / ``health.effect_cleared``).

Each event names the record it is about (``id``: a sanction, a stay in the observation room, a review item or a
content-health effect) and its state after the change; ``in_force`` says whether the platform must enforce it from
now on. A consumer keeps ``{id: event}`` for the events in force and drops the id on an event that is not: that is
exactly the set in force (``in_force_set``). Events that open a restriction carry all of it (target, action, level,
days, ``ends_at``, reach factor, ``silent``, ``commercial``); the others carry at least the id, the target and the
new state.

What is left out on purpose: the names of the people who decided (``by`` is their role: the platform acts on the
decision, the audit log keeps who made it), the propagation path (ids of devices and IPs; evidence packs hold
it). Reasons are free text and are shown as the reader's role may read them (``auth/masking.py``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from ringscope.audit.chain import AuditEntry
from ringscope.auth.masking import render_reason
from ringscope.auth.roles import Actor

FEED_VERSION = 1


@dataclass(frozen=True)
class FeedEvent:
    cursor: int  # the audit entry's seq: resume after it (`ringscope sanction feed --since CURSOR`)
    event_id: str  # the audit entry's hash: unique, for consumers that deduplicate (webhook: at-least-once)
    at: str  # when the change was committed (ISO 8601, UTC)
    event: str  # sanction.applied|pending|approved|revoked|expired, throttle.placed|escalated|extended|released,
    #             review.opened|withdrawn, health.effect_set|effect_cleared
    record: str  # sanction | stay | review | health_effect
    id: str  # the sanction, stay, review or effect id: the key of the set in force
    state: str  # the record's state after the change
    in_force: bool  # the platform enforces it from now on (until an event for the same id says otherwise)
    target_type: str  # account, device, note, brand, intermediary
    target_id: str
    action: str | None = None  # permanent_ban, mute, throttle_note, ..., silent_throttle, review; a health effect's
    #                            band: boost, no_commercial, throttled
    level: int | None = None  # the ladder's level
    days: int | None = None  # the sanction's length (null: no end, until revoked)
    points: int | None = None  # credit deducted, brand points
    ends_at: str | None = None  # when it ends by time (sanctions: a sanction.expired event follows; stays: the next
    #                             detection run releases or extends it)
    reach_factor: float | None = None  # silent throttle, health effect: reach multiplied by this
    commercial: bool | None = None  # health effect: the account may take part in commercial programmes
    silent: bool = False  # the account must not be told (the observation room's throttle: notified false)
    violation: str | None = None  # the violation kind (spam_comment, farm_operation, ...)
    rule: str | None = None  # the propagation rule that reached the target
    hop: int | None = None
    decision_id: str | None = None  # the sanction decision (its preview id)
    run_id: str | None = None  # the detection run that changed a stay
    derived_from: tuple[str, ...] = ()  # the sanctions it follows from
    via: str | None = None  # revocations: named, or the cascade that took it
    by: str = ""  # the role that acted (investigator, approver, admin, system)
    reason: str = ""  # as the reader's role may read it (personal data masked)
    audit_action: str = ""  # the audit entry's action, to look it up (`ringscope audit show`)
    feed_version: int = FEED_VERSION

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["derived_from"] = list(self.derived_from)
        return out

    def json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class _Change:
    """What a mapping reads off one entry's details; the rest of the event is the entry's own."""
    event: str
    record: str
    id: str
    state: str
    in_force: bool
    fields: dict[str, Any] = field(default_factory=dict)


Mapper = Callable[[AuditEntry, dict[str, Any]], _Change]


def _ends(at: str, days: Any) -> str | None:
    if not isinstance(days, int) or isinstance(days, bool):
        return None
    return (datetime.fromisoformat(at) + timedelta(days=days)).isoformat()


def _sanction_fields(d: Mapping[str, Any]) -> dict[str, Any]:
    return {"action": d.get("action"), "level": d.get("level"), "days": d.get("days"), "points": d.get("points"),
            "violation": d.get("kind"), "rule": d.get("rule"), "hop": d.get("hop"),
            "decision_id": d.get("preview_id"), "derived_from": tuple(d.get("derived_from") or ())}


def _applied(e: AuditEntry, d: dict[str, Any]) -> _Change:
    if d.get("state") == "pending_approval":  # written, waiting for a second person: nothing to enforce yet
        return _Change("sanction.pending", "sanction", d["sanction_id"], "pending_approval", False,
                       _sanction_fields(d))
    return _Change("sanction.applied", "sanction", d["sanction_id"], "active", True,
                   {**_sanction_fields(d), "ends_at": _ends(e.at, d.get("days"))})


def _approved(e: AuditEntry, d: dict[str, Any]) -> _Change:
    return _Change("sanction.approved", "sanction", d["sanction_id"], "active", True,
                   {**_sanction_fields(d), "ends_at": d.get("expires_at")})


def _revoked(e: AuditEntry, d: dict[str, Any]) -> _Change:
    return _Change("sanction.revoked", "sanction", d["sanction_id"], "revoked", False,
                   {"action": d.get("action"), "decision_id": d.get("preview_id"), "via": d.get("via")})


def _expired(e: AuditEntry, d: dict[str, Any]) -> _Change:
    return _Change("sanction.expired", "sanction", d["sanction_id"], "expired", False,
                   {"action": d.get("action"), "decision_id": d.get("preview_id"), "ends_at": d.get("expires_at")})


def _review_opened(e: AuditEntry, d: dict[str, Any]) -> _Change:
    # A review item restricts nothing: it asks an investigator to look. Carried so a platform can show it.
    return _Change("review.opened", "review", d["review_id"], "open", False,
                   {"action": "review", "violation": d.get("kind"), "rule": d.get("rule"), "hop": d.get("hop"),
                    "decision_id": d.get("preview_id"), "derived_from": tuple(d.get("derived_from") or ())})


def _review_withdrawn(e: AuditEntry, d: dict[str, Any]) -> _Change:
    return _Change("review.withdrawn", "review", d["review_id"], "withdrawn", False,
                   {"action": "review", "decision_id": d.get("preview_id"), "via": d.get("via")})


def _throttle(event: str, state: str, in_force: bool) -> Mapper:
    def change(e: AuditEntry, d: dict[str, Any]) -> _Change:
        fields = {"action": d.get("restriction"), "reach_factor": d.get("reach_factor"), "ends_at": d.get("ends_at"),
                  "run_id": d.get("run_id"), "silent": True}
        return _Change(event, "stay", d["stay_id"], state, in_force, fields)
    return change


def _health_effect(e: AuditEntry, d: dict[str, Any]) -> _Change:
    # The content-health index's effect on an account (health/enforce.py): set when the account enters a band other
    # than normal, cleared when it leaves it (a change of band clears the old effect, then sets the new one).
    active = d["state"] == "active"
    return _Change("health.effect_set" if active else "health.effect_cleared", "health_effect", d["effect_id"],
                   "active" if active else "cleared", active,
                   {"action": d.get("band"), "reach_factor": d.get("reach_factor"), "commercial": d.get("commercial")})


# audit action -> what it changes in force. Add an entry for a new kind of restriction (see the module's text).
MAPPINGS: dict[str, Mapper] = {
    "sanction.apply": _applied,
    "sanction.approve": _approved,
    "sanction.revoke": _revoked,
    "sanction.expire": _expired,
    "sanction.review": _review_opened,
    "sanction.review_withdrawn": _review_withdrawn,
    "watch.place": _throttle("throttle.placed", "watching", True),
    "watch.escalate": _throttle("throttle.escalated", "escalated", True),  # in a queue, still throttled
    "watch.extend": _throttle("throttle.extended", "watching", True),
    "watch.release": _throttle("throttle.released", "released", False),
    "health.effect": _health_effect,
}
ACTIONS = tuple(sorted(MAPPINGS))


class BadEntry(ValueError):
    """An entry of a feed action whose details lack what the feed needs (written by something else)."""


def event_of(entry: AuditEntry, reader: Actor | None = None) -> FeedEvent | None:
    """The feed event of one audit entry, or None when its action changes nothing in force. ``reader`` decides
    what of the free text is masked (None: masked)."""
    mapping = MAPPINGS.get(entry.action)
    if mapping is None:
        return None
    try:
        details = json.loads(entry.details or "{}")
        change = mapping(entry, details)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadEntry(f"audit entry {entry.seq} ({entry.action}) cannot be read as a feed event: {exc!r}") from None
    return FeedEvent(entry.seq, entry.hash, entry.at, change.event, change.record, change.id, change.state,
                     change.in_force, entry.target_type, entry.target_id, **change.fields, by=entry.role,
                     reason=render_reason(entry.reason or "", reader), audit_action=entry.action)


def events_of(entries: Iterable[AuditEntry], reader: Actor | None = None) -> list[FeedEvent]:
    """The feed events of ``entries`` (in their order), skipping actions that change nothing in force. O(n)."""
    return [ev for ev in (event_of(e, reader) for e in entries) if ev is not None]


def in_force_set(events: Iterable[FeedEvent | Mapping[str, Any]],
                 start: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a consumer holds after ``events`` (FeedEvents or their JSON objects), from ``start``: ``{id: the
    latest event}`` for every record in force. The reference for a consumer's own code, and the tests'. O(n)."""
    held = dict(start or {})
    for ev in events:
        item = ev.as_dict() if isinstance(ev, FeedEvent) else dict(ev)
        if item["in_force"]:
            held[item["id"]] = item
        else:
            held.pop(item["id"], None)
    return held
