"""The sanctions API the CLI, the app and evidence packs call: preview, apply, approve, revoke, expire.

Every function takes the ``Graph``, an ``auth.roles.Actor`` (checked against
the roles table) and optionally ``now`` (tests and replays; default: the
clock) and ``policy`` (default: the policy file). They return frozen
dataclasses, never driver records. Writes are one transaction each, audit
entries included, so the graph and the audit log never disagree.

* ``preview`` computes the plan in one read transaction and records it as a
  ``SanctionPreview`` (bookkeeping only: no sanction, status, review or audit
  entry is written; the record is what lets ``apply`` prove it does exactly
  what the officer saw, and what the approver and evidence packs look at).
* ``apply`` locks the preview, recomputes the plan *inside its write
  transaction* and refuses, listing the differences, when it is not the plan
  the preview showed. Sanction ids are derived from the decision (its kind,
  targets and the history it rests on) and the effect, and written with
  MERGE under a uniqueness constraint: applying twice, or two officers
  applying the same decision at once, writes each sanction once and audits it
  once.
* ``approve``: a second person (approve_sanction, not the one who applied)
  activates what awaits approval; the time windows start then.
* ``revoke``: an appeal granted. Revokes the named sanctions (a sanction id
  stands for its whole violation: all actions of that ladder step on that
  account; a preview id for the whole decision) and, in cascade, what has no
  other surviving justification; statuses and credit follow. ``revoke_in`` does
  the same inside a caller's transaction (``appeals.service.grant``: the appeal's
  state and the revocation commit together).
* ``expire_due`` ends what has run its time (``ringscope sanction expire``, or
  the app on load); apply, approve and revoke call it first.
* ``sanctions_on``: every sanction on a set of entities and those they derive
  from, as stored, with the queries that read them (evidence packs).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from ringscope.audit import log as audit
from ringscope.auth.roles import Actor
from ringscope.graph.database import Graph, Transaction
from ringscope.common.errors import RingscopeError
from ringscope.graph.model import SANCTION_TARGETS, identify_node
from ringscope.sanctions import ladder, store
from ringscope.sanctions.records import (
    Preview, ApplyResult, ApproveResult, Revoked, StatusChange, RevokeResult, ExpireResult, ExamResult,
    SanctionRecord, ReviewRecord, TargetHistory, PendingDecision, SanctionTarget, SanctionLink,
    SanctionDetails, QueryRun, SanctionsFound)
from ringscope.sanctions.cascade import Derived, Parent, cascade, derivation_chain
from ringscope.sanctions.policy import SanctionPolicy, load_sanction_policy
from ringscope.sanctions.propagation import (REVIEW, BadDecision, Decision, Effect, Existing, NodeRef, Plan,
                                   Step, UnknownTarget, diff, plan, plan_from_content, violation_times)

SOURCE = "ringscope"
_LABEL_TYPE = {label: t for t, label in SANCTION_TARGETS.items()}
MAX_CASCADE = 50_000
DERIVATION_DEPTH = store.DERIVATION_DEPTH  # DERIVED_FROM hops sanctions_on follows back
MAX_CHAIN = 20  # sanctions one derivation chain names


class PreviewNotFound(RingscopeError):
    pass


class StalePreview(RingscopeError):
    """The graph changed since the preview in a way that changes what the decision does."""


class PreviewExpired(RingscopeError):
    pass


class ApprovalError(RingscopeError):
    pass


class RevokeError(RingscopeError):
    pass


class ExamError(RingscopeError):
    pass


def _now(now: datetime | None) -> datetime:
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(timezone.utc)


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:16]


def sanction_id(decision_key: str, effect_key: str) -> str:
    return f"S-{_digest(decision_key, effect_key)}"


def review_id(decision_key: str, effect_key: str) -> str:
    return f"R-{_digest(decision_key, effect_key)}"


def violation_id(decision_key: str, group: str) -> str:
    return f"V-{_digest(decision_key, group)}"


def record_id(p: Plan, e: Effect) -> str:
    return review_id(p.decision_key, e.key) if e.is_review else sanction_id(p.decision_key, e.key)


def _type(label: str) -> str:
    return _LABEL_TYPE.get(label, label.lower())


# --------------------------------------------------------------------------- preview

def _ids(p: Plan) -> dict[str, str]:
    return {e.key: record_id(p, e) for e in p.effects}


def preview(graph: Graph, decision: Decision, actor: Actor, *, now: datetime | None = None,
            policy: SanctionPolicy | None = None) -> Preview:
    """What ``decision`` would do, recorded as a preview to apply. Changes nothing on any entity."""
    actor.require("preview_sanction")
    policy = policy or load_sanction_policy()
    now = _now(now)
    the_plan = graph.read_transaction(
        lambda tx: plan(decision, store.GraphSource(store.tx_runner(tx), policy), policy, now))
    preview_id = f"P-{uuid.uuid4().hex[:12]}"
    fingerprint = the_plan.fingerprint()
    graph.write_transaction(lambda tx: store.create_preview(
        tx, preview_id=preview_id, now=now, actor=actor.name, role=actor.role,
        decision=store.dumps(decision.as_dict()), plan=store.dumps(the_plan.content()), fingerprint=fingerprint,
        decision_key=the_plan.decision_key, policy_version=the_plan.policy_version,
        needs_approval=the_plan.needs_approval))
    return Preview(preview_id, now, actor.name, fingerprint, the_plan, _ids(the_plan))


def get_preview(graph: Graph, preview_id: str) -> Preview:
    p = store.read_preview(_reader(graph), preview_id)
    if p is None:
        raise PreviewNotFound(f"no sanction preview {preview_id!r} (make one with `ringscope sanction preview`)")
    the_plan = plan_from_content(json.loads(p["plan"]))
    return Preview(p["preview_id"], p["created_at"], p["created_by"], p["fingerprint"], the_plan, _ids(the_plan),
                   p.get("state", "open"))


def _reader(graph: Graph) -> store.Runner:
    def run(cypher: str, **params: Any) -> list[dict[str, Any]]:
        return [store.aware(r) for r in graph.read(cypher, **params)]
    return run


# --------------------------------------------------------------------------- apply

def apply(graph: Graph, preview_id: str, actor: Actor, *, now: datetime | None = None,
          policy: SanctionPolicy | None = None) -> ApplyResult:
    """Do exactly what preview ``preview_id`` showed, in one transaction; idempotent."""
    actor.require("apply_sanction")
    policy = policy or load_sanction_policy()
    now = _now(now)
    expire_due(graph, now=now, policy=policy)

    def work(tx) -> ApplyResult:
        p = store.lock_preview(tx, preview_id, now)
        if p is None:
            raise PreviewNotFound(f"no sanction preview {preview_id!r} (make one with `ringscope sanction preview`)")
        if p.get("state") == "applied":
            return _applied_result(p, already=True)
        age = now - p["created_at"]
        if age > timedelta(hours=policy.limits.preview_ttl_hours):
            raise PreviewExpired(f"preview {preview_id} was made {age.total_seconds() / 3600:.1f} h ago "
                                 f"(limits.preview_ttl_hours {policy.limits.preview_ttl_hours:g}): preview again")
        shown = plan_from_content(json.loads(p["plan"]))
        fresh = plan(shown.decision, store.GraphSource(store.tx_runner(tx), policy), policy, now)
        if fresh.fingerprint() != p["fingerprint"]:
            changes = diff(shown, fresh)
            raise StalePreview(f"the graph changed since preview {preview_id}; nothing was applied; "
                               f"preview again. Changes: {'; '.join(changes) or 'the plan differs'}")
        return _write(tx, fresh, p, actor, now, policy)

    return graph.write_transaction(work)


def _applied_result(p: Mapping[str, Any], already: bool) -> ApplyResult:
    return ApplyResult(p["preview_id"], p["applied_at"], p["applied_by"], tuple(p.get("sanction_ids") or ()),
                       tuple(p.get("review_ids") or ()), tuple(p.get("pending_ids") or ()),
                       () if already else tuple(p.get("created_ids") or ()), already)


def _iso_or_none(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _write(tx, the_plan: Plan, p: Mapping[str, Any], actor: Actor, now: datetime,
           policy: SanctionPolicy) -> ApplyResult:
    apply_id = uuid.uuid4().hex
    key = the_plan.decision_key
    decision = the_plan.decision
    ids = _ids(the_plan)
    sanction_rows: dict[str, list[dict[str, Any]]] = {}
    review_rows: dict[str, list[dict[str, Any]]] = {}
    for e in the_plan.effects:
        parents = [ids[k] for k in e.parents] + list(e.existing_parents)
        common = {
            "source": SOURCE, "kind": e.kind, "reason": decision.reason, "rule": e.rule, "hop": e.hop,
            "path": store.dumps([[s.label, s.id, s.rel, s.direction] for s in e.path]),
            "path_text": "".join(s.text() for s in e.path), "decided_at": now, "decided_by": actor.name,
            "decider_role": actor.role, "evidence_refs": list(decision.evidence), "derived_from": parents,
            "preview_id": p["preview_id"], "decision_key": key, "policy_version": the_plan.policy_version,
            "target_label": e.target.label, "target_id": e.target.id, "justification": e.justification,
            "note": e.note,
        }
        if e.is_review:
            review_rows.setdefault(e.target.label, []).append(
                {"review_id": ids[e.key], "target_id": e.target.id, "props": {
                    **common, "review_id": ids[e.key], "state": "open", "created_at": now}})
            continue
        state = "pending_approval" if e.needs_approval else "active"
        active = state == "active"
        sanction_rows.setdefault(e.target.label, []).append(
            {"sanction_id": ids[e.key], "target_id": e.target.id, "props": {
                **common, "sanction_id": ids[e.key], "action": e.action, "level": e.level, "days": e.days,
                "points": e.points, "state": state, "issued_at": now if active else None,
                "expires_at": store.days_after(now, e.days) if active else None,
                "violation_id": violation_id(key, e.violation) if e.violation else None,
                "needs_approval": e.needs_approval, "approval_reasons": list(e.approval_reasons),
                "history": list(e.history), "in_force_before": list(e.in_force)}})
    created: list[str] = []
    for label, rows in sorted(sanction_rows.items()):
        created += store.create_sanctions(tx, label, rows, apply_id)
    created_reviews: list[str] = []
    for label, rows in sorted(review_rows.items()):
        created_reviews += store.create_reviews(tx, label, rows, apply_id)
    new = set(created) | set(created_reviews)
    store.link_parents(tx, [{"child": ids[e.key], "parent": parent}
                            for e in the_plan.effects if not e.is_review and ids[e.key] in new
                            for parent in [ids[k] for k in e.parents] + list(e.existing_parents)])
    store.link_parents(tx, [{"child": ids[e.key], "parent": parent}
                            for e in the_plan.effects if e.is_review and ids[e.key] in new
                            for parent in [ids[k] for k in e.parents] + list(e.existing_parents)], reviews=True)
    for e in the_plan.effects:
        rid = ids[e.key]
        if rid not in new:
            continue
        details = {"preview_id": p["preview_id"], "hop": e.hop, "rule": e.rule, "kind": e.kind,
                   "path": "".join(s.text() for s in e.path), "derived_from": [ids[k] for k in e.parents]
                   + list(e.existing_parents), "evidence_refs": list(decision.evidence)}
        if e.is_review:
            details.update(review_id=rid, note=e.note)
            action = "sanction.review"
        else:
            details.update(sanction_id=rid, action=e.action, level=e.level, days=e.days, points=e.points,
                           state="pending_approval" if e.needs_approval else "active")
            action = "sanction.apply"
        audit.append(tx, actor=actor.name, role=actor.role, action=action, target_type=_type(e.target.label),
                     target_id=e.target.id, reason=decision.reason, details=details, at=now)
    _refresh(tx, {e.target for e in the_plan.effects if not e.is_review}, now, policy)
    sanction_ids = tuple(ids[e.key] for e in the_plan.effects if not e.is_review)
    review_ids = tuple(ids[e.key] for e in the_plan.effects if e.is_review)
    pending = tuple(ids[e.key] for e in the_plan.effects if not e.is_review and e.needs_approval)
    created_all = tuple(i for i in sanction_ids + review_ids if i in new)
    store.mark_applied(tx, preview_id=p["preview_id"], now=now, actor=actor.name, apply_id=apply_id,
                       sanction_ids=list(sanction_ids), review_ids=list(review_ids), pending_ids=list(pending),
                       created_ids=list(created_all))
    return ApplyResult(p["preview_id"], now, actor.name, sanction_ids, review_ids, pending, created_all)


# --------------------------------------------------------------------------- statuses and credit

def _credit_events(row: Mapping[str, Any]) -> list[ladder.CreditEvent]:
    events = [ladder.CreditEvent(d["at"], "deduction", d["points"] or 0, d["id"])
              for d in row.get("deductions") or () if d.get("at") is not None]
    events += [ladder.CreditEvent(x["at"], "exam", 0, x["id"]) for x in row.get("exams") or ()]
    return events


def _credit_report(row: Mapping[str, Any], now: datetime, policy: SanctionPolicy) -> ladder.CreditReport:
    events = [e if e.kind != "exam" else ladder.CreditEvent(e.at, "exam", policy.credit.exam.points, e.ref)
              for e in _credit_events(row)]
    return ladder.credit(events, now, policy)


def _refresh(tx, targets: Iterable[NodeRef], now: datetime, policy: SanctionPolicy) -> list[StatusChange]:
    """Recompute status, restrictions (and credit, brand points) of ``targets`` from what is in force."""
    by_label: dict[str, list[str]] = {}
    for t in targets:
        by_label.setdefault(t.label, []).append(t.id)
    run = store.tx_runner(tx)
    changes = []
    for label, ids in sorted(by_label.items()):
        rows = []
        for row in store.status_inputs(run, label, ids, now):
            order = policy.statuses.get(label, ("active",))
            base = row["base_status"] or row["status"] or order[0]
            # Imported sanctions still in force count too (mapped by the policy's imported_as).
            imported = [a for a in (policy.action_for_imported(x) for x in row["imported"]) if a]
            status, restrictions = ladder.status_for(label, base, list(row["actions"]) + imported, policy)
            props: dict[str, Any] = {"status": status, "base_status": base, "restrictions": list(restrictions),
                                     "sanctions_updated_at": now, "status_stale": None}
            credit = None
            if label == "Account":
                credit = _credit_report(row, now, policy).value
                props.update(credit=credit, credit_at=now)
            if label == "Brand":
                props["brand_points"] = ladder.brand_points(
                    [(x["at"], x["points"] or 0) for x in row["points"] if x.get("at")], now, policy)
            rows.append({"id": row["id"], "props": props})
            changes.append(StatusChange(NodeRef(label, row["id"]), status, credit))
        store.set_status(tx, label, rows)
    return changes


def refresh_stale_statuses(graph: Graph, *, now: datetime | None = None, policy: SanctionPolicy | None = None,
                           batch: int = 2_000) -> list[StatusChange]:
    """After a load: the accounts whose platform status an import changed while ringscope's sanctions
    hold them (marked ``status_stale`` by ingest) get their status recomputed from that new base and
    what is in force, as every sanction operation does. Nothing else changes; no audit entry (no
    decision was made). ``ringscope ingest`` calls it after loading; safe to call at any time."""
    now = _now(now)
    changes: list[StatusChange] = []
    seen: set[str] = set()
    while (ids := store.stale_accounts(_reader(graph), batch)) and not set(ids) <= seen:
        seen.update(ids)
        policy = policy or load_sanction_policy()
        changes += graph.write_transaction(
            lambda tx: _refresh(tx, [NodeRef("Account", i) for i in ids], now, policy))
    return changes


# --------------------------------------------------------------------------- approve

def approve(graph: Graph, preview_id: str, actor: Actor, *, reason: str = "", now: datetime | None = None,
            policy: SanctionPolicy | None = None) -> ApproveResult:
    """A second person activates what a decision left awaiting approval."""
    actor.require("approve_sanction")
    policy = policy or load_sanction_policy()
    now = _now(now)
    expire_due(graph, now=now, policy=policy)

    def work(tx) -> ApproveResult:
        p = store.lock_preview(tx, preview_id, now)
        if p is None:
            raise PreviewNotFound(f"no sanction preview {preview_id!r}")
        if p.get("state") != "applied":
            raise ApprovalError(f"preview {preview_id} has not been applied: apply it first, then a second "
                                "person approves")
        run = store.tx_runner(tx)
        pending = store.pending_among(run, p.get("sanction_ids") or [])
        # Four eyes: whoever previewed or applied the decision may not approve it as well.
        if actor.name == p.get("applied_by") or actor.name in {s.get("decided_by") for s in pending}:
            raise ApprovalError(f"{actor.name} applied decision {preview_id}; a second person must approve it")
        if actor.name == p.get("created_by"):
            raise ApprovalError(f"{actor.name} previewed decision {preview_id}; a second person must approve it")
        if not pending:
            if p.get("approved_by"):
                return ApproveResult(preview_id, p["approved_by"], p["approved_at"], (), already_approved=True)
            raise ApprovalError(f"decision {preview_id} has nothing awaiting approval")
        activated = store.activate(tx, [{"id": s["sanction_id"], "expires_at": store.days_after(now, s.get("days"))}
                                        for s in pending], actor.name, now)
        store.mark_approved(tx, preview_id=preview_id, actor=actor.name, now=now, reason=reason)
        for s in pending:
            audit.append(tx, actor=actor.name, role=actor.role, action="sanction.approve",
                         target_type=_type(s["target_label"]), target_id=s["target_id"], reason=reason,
                         details={"sanction_id": s["sanction_id"], "action": s["action"], "preview_id": preview_id,
                                  "applied_by": p.get("applied_by"), "kind": s.get("kind"), "level": s.get("level"),
                                  "days": s.get("days"), "points": s.get("points"),
                                  "expires_at": _iso_or_none(store.days_after(now, s.get("days")))}, at=now)
        _refresh(tx, {NodeRef(s["target_label"], s["target_id"]) for s in pending}, now, policy)
        return ApproveResult(preview_id, actor.name, now, tuple(activated))

    return graph.write_transaction(work)


def pending(graph: Graph, *, limit: int = 200) -> list[PendingDecision]:
    """Applied decisions with sanctions awaiting a second person's approval, oldest first."""
    return [PendingDecision(r["preview_id"], r["applied_by"], r["applied_at"],
                            Decision.from_dict(json.loads(r["decision"])), r["pending"])
            for r in store.pending_decisions(_reader(graph), limit)]


# --------------------------------------------------------------------------- revoke

def revoke(graph: Graph, ids: str | Sequence[str], actor: Actor, reason: str, *, now: datetime | None = None,
           policy: SanctionPolicy | None = None) -> RevokeResult:
    """An appeal granted: revoke, and cascade to what has no other surviving justification."""
    _check_revoke(actor, reason)
    policy = policy or load_sanction_policy()
    now = _now(now)
    names = [ids] if isinstance(ids, str) else list(ids)
    if not names:
        raise RevokeError("name a sanction id or a preview id to revoke")
    expire_due(graph, now=now, policy=policy)
    return graph.write_transaction(lambda tx: revoke_in(tx, names, actor, reason, now=now, policy=policy))


def _check_revoke(actor: Actor, reason: str) -> None:
    actor.require("revoke_sanction")
    if not reason or not reason.strip():
        raise RevokeError("a revocation needs a reason (--reason): it goes into the audit log")


def revoke_in(tx: Transaction, names: Sequence[str], actor: Actor, reason: str, *, now: datetime,
              policy: SanctionPolicy) -> RevokeResult:
    """``revoke`` inside the caller's write transaction ``tx`` (a granted appeal records itself in the same
    commit); the caller has run ``expire_due`` first. Revoking what is revoked already changes nothing."""
    _check_revoke(actor, reason)
    now = _now(now)
    run = store.tx_runner(tx)
    roots: list[str] = []
    plain = []
    for name in names:
        record = store.read_preview(run, name)
        if record is not None:
            found = store.roots_among(run, record.get("sanction_ids") or [])
            if not found:
                raise RevokeError(f"decision {name} has no sanctions (was it applied?)")
            plain += found
        else:
            plain.append(name)
    rows = {r["id"]: r for r in store.violation_siblings(run, plain)}
    for name in plain:
        row = rows.get(name)
        if row is None:
            raise RevokeError(f"no sanction {name!r} (see `ringscope sanction list`)")
        if row["source"] != SOURCE:
            raise RevokeError(f"sanction {name} was imported from the platform's records; "
                              "revoke it on the platform, ringscope only revokes its own")
        roots += [name] + [s for s in row["siblings"] if s]
    roots = list(dict.fromkeys(roots))
    states = {s["sanction_id"]: s["state"] for s in store.sanctions_by_id(run, roots)}
    live = [r for r in roots if states.get(r) != "revoked"]
    if not live:
        return RevokeResult((), (), already_revoked=True)
    closure_rows = store.derivation_closure(run, live, MAX_CASCADE)
    closure = {r["id"]: Derived(r["id"], r["state"] or "", tuple(Parent(**x) for x in r["parents"]),
                                r["justification"] or "any") for r in closure_rows}
    kinds = {r["id"]: r["kind"] for r in closure_rows}
    order = cascade(live, closure)
    named = set(live)
    sanction_rows = [{"id": i, "via": "named" if i in named else f"cascade from {', '.join(live)}"}
                     for i in order if kinds.get(i, "Sanction") == "Sanction"]
    review_rows = [{"id": i, "via": f"cascade from {', '.join(live)}"} for i in order if kinds.get(i) == "Review"]
    revoked = store.mark_revoked(tx, sanction_rows, actor.name, reason, now)
    withdrawn = store.mark_withdrawn(tx, review_rows, actor.name, now)
    out = []
    for s in revoked:
        via = "named" if s["sanction_id"] in named else "cascade"
        out.append(Revoked(s["sanction_id"], "sanction", NodeRef(s["target_label"], s["target_id"]),
                           s["action"], via))
        audit.append(tx, actor=actor.name, role=actor.role, action="sanction.revoke",
                     target_type=_type(s["target_label"]), target_id=s["target_id"], reason=reason,
                     details={"sanction_id": s["sanction_id"], "action": s["action"], "via": s["revoked_via"],
                              "preview_id": s.get("preview_id")}, at=now)
    for r in withdrawn:
        out.append(Revoked(r["review_id"], "review", NodeRef(r["target_label"], r["target_id"]), REVIEW,
                           "cascade"))
        audit.append(tx, actor=actor.name, role=actor.role, action="sanction.review_withdrawn",
                     target_type=_type(r["target_label"]), target_id=r["target_id"], reason=reason,
                     details={"review_id": r["review_id"], "via": r["withdrawn_via"],
                              "preview_id": r.get("preview_id")}, at=now)
    statuses = _refresh(tx, {x.target for x in out if x.kind == "sanction"}, now, policy)
    return RevokeResult(tuple(out), tuple(statuses))


# --------------------------------------------------------------------------- expiry

def expire_due(graph: Graph, *, now: datetime | None = None, actor: Actor | None = None,
               policy: SanctionPolicy | None = None, limit: int = 10_000) -> ExpireResult:
    """End the active sanctions whose time is up; statuses follow. Safe to call at any time."""
    policy = policy or load_sanction_policy()
    now = _now(now)

    def work(tx) -> ExpireResult:
        due = store.due(store.tx_runner(tx), now, limit)
        if not due:
            return ExpireResult((), ())
        expired = set(store.mark_expired(tx, [s["sanction_id"] for s in due], now))
        who, role = (actor.name, actor.role) if actor else ("system", "system")
        for s in due:
            if s["sanction_id"] not in expired:
                continue
            audit.append(tx, actor=who, role=role, action="sanction.expire", target_type=_type(s["target_label"]),
                         target_id=s["target_id"], reason="time window ended",
                         details={"sanction_id": s["sanction_id"], "action": s["action"],
                                  "expires_at": _iso_or_none(s["expires_at"]), "preview_id": s.get("preview_id")}, at=now)
        statuses = _refresh(tx, {NodeRef(s["target_label"], s["target_id"]) for s in due
                                 if s["sanction_id"] in expired}, now, policy)
        return ExpireResult(tuple(sorted(expired)), tuple(statuses))

    return graph.write_transaction(work)


# --------------------------------------------------------------------------- exam

def exam(graph: Graph, account_id: str, actor: Actor, *, now: datetime | None = None,
         policy: SanctionPolicy | None = None) -> ExamResult:
    """Record a passed community-rules exam: credit goes up by ``credit.exam.points`` (capped)."""
    actor.require("apply_sanction")
    policy = policy or load_sanction_policy()
    now = _now(now)

    def work(tx) -> ExamResult:
        exams = store.lock_account_exams(tx, account_id, now)
        if exams is None:
            raise UnknownTarget(f"no Account with id {account_id!r} in the graph")
        if not ladder.exam_counts(exams, now, policy):
            last = max(exams)
            raise ExamError(f"account {account_id} passed an exam on {last.date().isoformat()}; another counts "
                            f"{policy.credit.exam.cooldown_days} days after that (credit.exam.cooldown_days)")
        run = store.tx_runner(tx)
        before = _credit_report(store.status_inputs(run, "Account", [account_id], now)[0], now, policy).value
        exam_id = f"X-{uuid.uuid4().hex[:12]}"
        store.create_exam(tx, account_id=account_id, exam_id=exam_id, at=now, actor=actor.name)
        changes = _refresh(tx, [NodeRef("Account", account_id)], now, policy)
        after = changes[0].credit
        audit.append(tx, actor=actor.name, role=actor.role, action="sanction.exam", target_type="account",
                     target_id=account_id, reason="passed the community-rules exam",
                     details={"exam_id": exam_id, "credit_before": before, "credit_after": after}, at=now)
        return ExamResult(exam_id, account_id, now, before, after)

    return graph.write_transaction(work)


# --------------------------------------------------------------------------- reading

def _path(text: str | None) -> tuple[Step, ...]:
    if not text:
        return ()
    return tuple(Step(*s) for s in json.loads(text))


def _effective(s: Mapping[str, Any], now: datetime) -> str:
    state = s.get("state")
    expired = s.get("expires_at") is not None and s["expires_at"] <= now
    if state is None:
        return "expired" if expired else "imported"
    if state == "active" and expired:
        return "expired"
    return state


def _record(s: Mapping[str, Any], target: NodeRef | None, now: datetime) -> SanctionRecord:
    if target is None and s.get("target_label"):
        target = NodeRef(s["target_label"], s["target_id"])
    return SanctionRecord(
        s["sanction_id"], target, s.get("action") or "", _effective(s, now), s.get("source") or "import",
        s.get("kind"), s.get("level"), s.get("reason") or "", s.get("decided_at"), s.get("issued_at"),
        s.get("expires_at"), s.get("decided_by"), s.get("approved_by"), s.get("points"), s.get("rule"),
        s.get("hop"), _path(s.get("path")), tuple(s.get("derived_from") or ()), tuple(s.get("evidence_refs") or ()),
        s.get("preview_id"), s.get("violation_id"), s.get("revoked_by"), s.get("revoked_at"), s.get("revoke_reason"))


def list_sanctions(graph: Graph, *, state: str | None = None, preview_id: str | None = None,
                   target_id: str | None = None, limit: int = 200, now: datetime | None = None) -> list[SanctionRecord]:
    now = _now(now)
    rows = store.list_sanctions(_reader(graph), state=state, preview_id=preview_id, target_id=target_id,
                                limit=limit)
    return [_record(s, NodeRef(*t) if t else None, now) for s, t in rows]


def history(graph: Graph, target: NodeRef, *, now: datetime | None = None,
            policy: SanctionPolicy | None = None) -> TargetHistory:
    """Everything sanction-related about one entity: status, credit, sanctions, reviews."""
    policy = policy or load_sanction_policy()
    now = _now(now)
    if target.label not in SANCTION_TARGETS.values():
        raise BadDecision(f"{target.label} is not a sanction target")
    row = store.target_history(_reader(graph), target)
    if row is None:
        raise UnknownTarget(f"no {target.label} with id {target.id!r} in the graph")
    props = row["props"]
    sanctions = sorted((_record(s, target, now) for s in row["sanctions"]),
                       key=lambda r: (r.decided_at or r.issued_at or now, r.sanction_id))
    reviews = sorted((ReviewRecord(r["review_id"], target, r.get("state") or "open", r.get("rule") or "",
                                   r.get("hop") or 0, r.get("note") or "", _path(r.get("path")),
                                   tuple(r.get("derived_from") or ()), r.get("preview_id") or "",
                                   r.get("created_at")) for r in row["reviews"]),
                     key=lambda r: (r.created_at or now, r.review_id))
    credit = next_level = points = None
    if target.label == "Account":
        deductions = [{"at": s.issued_at, "points": s.points, "id": s.sanction_id} for s in sanctions
                      if s.source == SOURCE and s.action == "credit_deduction" and s.state in ("active", "expired")]
        credit = _credit_report({"deductions": deductions,
                                 "exams": [{"at": e["at"], "id": e["exam_id"]} for e in row["exams"]]}, now, policy)
        since = now - timedelta(days=policy.windows.record_days)
        times = violation_times([Existing(s.sanction_id, s.action, s.state, s.source, s.decided_at or s.issued_at,
                                          violation_id=s.violation_id)
                                 for s in sanctions if s.state != "revoked"], since)
        normal = next(k for k, v in policy.violation_kinds.items() if v.severity == "normal")
        next_level = ladder.escalation_level(normal, times.values(), now, policy)
    if target.label == "Brand":
        points = ladder.brand_points([(s.decided_at, s.points or 0) for s in sanctions
                                      if s.action == "brand_points" and s.state != "revoked" and s.decided_at],
                                     now, policy)
    status = props.get("status")
    return TargetHistory(target, status, props.get("base_status"), tuple(props.get("restrictions") or ()),
                         credit, points, next_level, tuple(sanctions), tuple(reviews))


# --------------------------------------------------------------------------- sanctions as stored (exports)

class _RecordedReads:
    """Runs a read's queries and keeps each as it ran; rows as the driver gives them (converted by the caller)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.runs: list[QueryRun] = []

    def runner(self, name: str, what: str) -> store.Runner:
        def run(cypher: str, **params: Any) -> list[dict[str, Any]]:
            started = time.monotonic()
            rows = [{key: record[key] for key in record.keys()} for record in self.graph.read(cypher, **params)]
            self.runs.append(QueryRun(name, what, cypher, params, len(rows), time.monotonic() - started))
            return rows
        return run


def sanctions_on(graph: Graph, entities: Iterable[NodeRef], *, limit: int = MAX_CASCADE,
                 now: datetime | None = None) -> SanctionsFound:
    """Every sanction on any of ``entities`` (those of a sanction-target label) and every sanction those
    derive from (up to ``DERIVATION_DEPTH`` hops back), with what is stored about each. Each query reads
    at most ``limit`` rows; a ``QueryRun`` with ``rows >= limit`` was cut there."""
    now = _now(now)
    reads = _RecordedReads(graph)
    ids: dict[str, list[str]] = {}
    for ref in entities:
        ids.setdefault(ref.label, []).append(ref.id)
    direct = store.sanctions_targeting(reads.runner("sanctions_on", "sanctions"), ids, limit)
    if not direct:
        return SanctionsFound((), tuple(reads.runs))
    ancestors = store.sanction_ancestors(reads.runner("sanction_ancestors", "sanctions derived from"), direct,
                                         limit)
    rows = store.sanction_details(reads.runner("sanction_details", "sanction details"),
                                  sorted(set(direct) | set(ancestors)), limit)
    found = [_details(row, now) for row in rows]
    parents = {d.record.sanction_id: d.record.derived_from for d in found}
    return SanctionsFound(tuple(replace(d, chain=derivation_chain(d.record.sanction_id, parents, MAX_CHAIN))
                                for d in found), tuple(reads.runs))


def _details(row: Mapping[str, Any], now: datetime) -> SanctionDetails:
    targets = []
    for t in row["targets"]:
        props = dict(t["node"] or {})
        identity = identify_node(t["labels"] or [], props)
        if identity is not None:
            targets.append(SanctionTarget(NodeRef(*identity), props))
    links = []
    for link in row["links"]:
        identity = identify_node(link["labels"] or [], link["node"] or {}) if link.get("type") else None
        if identity is not None:
            links.append(SanctionLink(link["type"], NodeRef(*identity)))
    targets.sort(key=lambda t: t.ref)
    links.sort(key=lambda l: (l.type, l.node))
    # Imported sanctions may name their parents only in a property, as one id or a list.
    parents = [l.node.id for l in links if l.type == "DERIVED_FROM" and l.node.label == "Sanction"]
    named = row["sanction"].get("derived_from")
    for parent in named if isinstance(named, list) else [named] if named else []:
        if str(parent) not in parents:
            parents.append(str(parent))
    record = _record(store.aware(row["sanction"]), targets[0].ref if targets else None, now)
    return SanctionDetails(replace(record, derived_from=tuple(parents)),
                           dict(row["sanction"]), tuple(targets), tuple(links))
