"""The content-health index's effects applied as restrictions (``ringscope health apply``), and read back for the
app and evidence packs.

* :func:`apply`: every account's index (``service.platform_health``), compared with the effects in force
  (``effects.diff``, pure); only the changes are written, in batches, each batch one transaction with its audit
  entries (``health.effect``: set or cleared; the feed carries them as ``health.effect_set`` /
  ``health.effect_cleared``); then one ``HealthApply`` summary (the distribution, the transitions), audited as
  ``health.apply``. ``dry_run`` computes the same plan and writes nothing.
* :func:`latest_apply`: the latest summary (the overview's chart: no recomputing, which takes ~3 min at 100k).
* :func:`effects_of`: accounts' effects, the one in force first (the entity panel, evidence packs).

Applying needs the ``apply_health_effects`` permission (``auth/roles.py``); a dry run is a read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Sequence

from ringscope.audit import log as audit
from ringscope.auth.roles import Actor
from ringscope.graph.database import Graph, Transaction
from ringscope.health import effect_store
from ringscope.health.effect_store import ApplySummary
from ringscope.health.effects import (
    ACTIVE, AUDIT_ACTION, CLEARED, Change, Effect, apply_id as new_apply_id, by_account, diff,
)
from ringscope.health.index import Distribution
from ringscope.health.policy import HealthPolicy
from ringscope.health.service import PlatformHealth, platform_health
from ringscope.reports.policy import ReportsPolicy

PERMISSION = "apply_health_effects"
BATCH = 1000  # changes per transaction (an account's clear and set always together)
SAMPLE = 20  # changes shown by a dry run (and kept in the result)


@dataclass(frozen=True)
class ApplyResult:
    apply_id: str
    at: datetime
    dry_run: bool
    policy_version: int
    distribution: Distribution
    transitions: dict[str, int]  # "was->to": accounts (was: the effect in force, or normal for none)
    set: int  # effects set (written, or that would be)
    cleared: int  # effects cleared
    unchanged: int  # accounts whose effect in force is already their band's
    skipped: int  # changes another apply made first (running at the same time)
    sample: tuple[Change, ...]  # the first changes, by account
    seconds: float  # computing and writing


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def apply(graph: Graph, actor: Actor, policy: HealthPolicy, *, dry_run: bool = False,
          reports_policy: ReportsPolicy | None = None, platform: PlatformHealth | None = None,
          now: datetime | None = None, batch: int = BATCH, log: Callable[[str], None] | None = None) -> ApplyResult:
    """Apply the bands of every account's index as effects: set, clear, or leave as they are.

    ``platform`` is a distribution already computed (``service.platform_health``'s result); by default it is
    computed here (every account, ~3 min at 100k)."""
    if not dry_run:
        actor.require(PERMISSION)
    say = log or (lambda _: None)
    started = time.monotonic()
    computed = platform if platform is not None else platform_health(graph, policy, reports_policy, log=log)
    moment = _now(now)  # after computing: the changes' and their audit entries' time
    run_id = new_apply_id(moment, actor.name)
    plan = diff(effect_store.in_force(graph), computed.accounts, policy, run_id)
    set_n = sum(c.kind == "set" for c in plan.changes)
    cleared_n = len(plan.changes) - set_n
    if dry_run:
        return ApplyResult(run_id, moment, True, policy.version, computed.distribution, plan.transitions, set_n,
                           cleared_n, plan.unchanged, 0, plan.changes[:SAMPLE], time.monotonic() - started)
    done: set[str] = set()
    batches = by_account(plan.changes, batch)
    for i, part in enumerate(batches, start=1):
        done |= graph.write_transaction(lambda tx, part=part: _write(tx, part, actor, policy, run_id, moment))
        say(f"wrote {i} of {len(batches)} batches of changes")
    written = [c for c in plan.changes if (c.kind, c.effect_id) in done]
    set_w = sum(c.kind == "set" for c in written)
    transitions = _transitions(written)
    result = ApplyResult(run_id, moment, False, policy.version, computed.distribution, transitions, set_w,
                         len(written) - set_w, plan.unchanged, len(plan.changes) - len(written),
                         plan.changes[:SAMPLE], time.monotonic() - started)
    graph.write_transaction(lambda tx: _record(tx, result, actor))
    return result


def _transitions(changes: Sequence[Change]) -> dict[str, int]:
    """Per account, its transition (the set's when it has one, else the clear's)."""
    last: dict[str, Change] = {}
    for c in changes:
        if c.kind == "set" or c.account_id not in last:
            last[c.account_id] = c
    out: dict[str, int] = {}
    for c in last.values():
        out[c.transition] = out.get(c.transition, 0) + 1
    return dict(sorted(out.items()))


def _reason(c: Change) -> str:
    index = "no longer in the graph" if c.index is None else f"content-health index {c.index:.1f}"
    if c.kind == "set":
        return f"{index}: band {c.band}"
    return f"{index}: band {c.to}, the {c.band} effect ends"


def _details(c: Change, policy: HealthPolicy, apply_id: str) -> dict:
    return {"effect_id": c.effect_id, "state": ACTIVE if c.kind == "set" else CLEARED, "band": c.band,
            "index": None if c.index is None else round(c.index, 6), "reach_factor": c.reach_factor,
            "commercial": c.commercial, "was": c.was, "to": c.to, "apply_id": apply_id,
            "policy_version": policy.version}


def _write(tx: Transaction, changes: list[Change], actor: Actor, policy: HealthPolicy, apply_id: str,
           moment: datetime) -> set[tuple[str, str]]:
    """One batch: clears, then sets, then the audit entries of what was written (in the plan's order)."""
    effect_store.lock(tx)
    cleared = effect_store.clear(tx, [{"effect_id": c.effect_id, "to": c.to, "index": c.index}
                                      for c in changes if c.kind == "clear"], moment, actor.name, apply_id)
    set_ = effect_store.set_effects(tx, [{"effect_id": c.effect_id, "account_id": c.account_id, "band": c.band,
                                          "index": c.index, "reach_factor": c.reach_factor,
                                          "commercial": c.commercial} for c in changes if c.kind == "set"],
                                    moment, actor.name, apply_id, policy.version)
    done = [c for c in changes if c.effect_id in (cleared if c.kind == "clear" else set_)]
    audit.append_many(tx, [{"actor": actor.name, "role": actor.role, "action": AUDIT_ACTION,
                            "target_type": "account", "target_id": c.account_id, "reason": _reason(c),
                            "details": _details(c, policy, apply_id)} for c in done], at=moment)
    return {(c.kind, c.effect_id) for c in done}


def _record(tx: Transaction, r: ApplyResult, actor: Actor) -> None:
    d = r.distribution
    summary = ApplySummary(r.apply_id, r.at, actor.name, actor.role, r.policy_version, d, r.transitions, r.set,
                           r.cleared, r.unchanged, r.skipped, round(r.seconds, 3))
    effect_store.record_apply(tx, summary)
    audit.append(tx, actor=actor.name, role=actor.role, action="health.apply", target_type="health",
                 target_id=r.apply_id, reason="the content-health index's effects applied",
                 details={"apply_id": r.apply_id, "policy_version": r.policy_version, "accounts": d.accounts,
                          "bands": dict(d.bands), "transitions": r.transitions, "set": r.set,
                          "cleared": r.cleared, "unchanged": r.unchanged, "skipped": r.skipped}, at=r.at)


def latest_apply(graph: Graph) -> ApplySummary | None:
    """The latest apply's summary (its distribution, when, by whom), or None before the first."""
    return effect_store.latest_apply(graph)


def effects_of(graph: Graph, ids: Sequence[str], per_account: int = 10) -> dict[str, list[Effect]]:
    """Per account, its effects: the one in force first (if any), then the newest cleared ones."""
    return effect_store.effects_of(graph, list(ids), per_account)


def in_force_of(graph: Graph, account_id: str) -> Effect | None:
    """The account's effect in force, or None."""
    found = effect_store.effects_of(graph, [account_id], 1).get(account_id) or []
    return found[0] if found and found[0].state == ACTIVE else None

