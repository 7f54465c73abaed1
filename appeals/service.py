"""The appeals API, used by the CLI (``ringscope appeals``) and the app's Appeals page alike, so they never disagree.

* ``file``: record an appeal (``file_appeal``) against a sanction or a decision (a preview id: the decision's own
  sanctions), with who appealed, their statement and references to the material they submitted. One appeal in the
  queue per sanction at a time; imported and revoked sanctions cannot be appealed here.
* ``grant``: ``decide_appeal``, by someone who took no part in the decision appealed (four eyes). Runs the
  sanctions' revoke cascade (``sanctions.service.revoke_in``) and records the verdict *in the same transaction*,
  with the audit entries of both, so an appeal is granted exactly when its sanctions are revoked. Granting a
  granted appeal again changes nothing.
* ``deny``: the same check; records why.
* ``appeals`` / ``queue`` / ``get``: what is recorded; ``stats``: the granted share by violation kind and detector,
  with the over-turn flag of ``appeals/rules.py``.

Each write is audited (``appeal.file``, ``appeal.grant``, ``appeal.deny``) against the sanctioned entity, so an
evidence pack of that entity shows its appeals too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from ringscope.appeals import rules, store
from ringscope.appeals.rules import DENIED, FILED, GRANTED, Appeal, AppealError, AppealStats
from ringscope.audit import log as audit
from ringscope.auth.roles import Actor
from ringscope.common.errors import SettingError
from ringscope.graph.database import Graph, Transaction
from ringscope.sanctions import service as sanctions
from ringscope.sanctions import store as sanction_store
from ringscope.sanctions.policy import SanctionPolicy, load_sanction_policy
from ringscope.sanctions.records import RevokeResult

FILE, DECIDE = "file_appeal", "decide_appeal"
DEFAULT_APPELLANT = "the account holder"


class AppealNotFound(AppealError):
    pass


@dataclass(frozen=True)
class Verdict:
    """What ``grant`` or ``deny`` did."""
    appeal: Appeal
    revocation: RevokeResult | None = None  # grant: what was revoked, cascade included
    already: bool = False  # the appeal had this verdict already: nothing changed


def _now(now: datetime | None) -> datetime:
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(timezone.utc)


# --------------------------------------------------------------------------- reading

def appeals(graph: Graph, states: Sequence[str] | None = None, kind: str | None = None,
            limit: int = 1000) -> list[Appeal]:
    """Appeals, oldest filed first, of these states (default all) and this violation kind (default all)."""
    rules.check_states(states)
    return store.appeals(graph, states, kind or None, limit)


def queue(graph: Graph, kind: str | None = None) -> list[Appeal]:
    """Filed appeals waiting for a verdict, oldest first."""
    return store.appeals(graph, [FILED], kind or None)


def get(graph: Graph, appeal_id: str) -> Appeal:
    found = store.appeal(graph, appeal_id)
    if found is None:
        raise AppealNotFound(f"no appeal {appeal_id!r} (see `ringscope appeals list`)")
    return found


def stats(graph: Graph, min_decided: int = rules.MIN_DECIDED) -> AppealStats:
    """The granted share overall, by violation kind and by detector, detectors overturned far more often flagged."""
    return rules.stats(store.counts(graph), min_decided)


# --------------------------------------------------------------------------- filing

def file(graph: Graph, actor: Actor, subject_id: str, statement: str, material: Iterable[str] = (),
         appellant: str | None = None, now: datetime | None = None) -> Appeal:
    """Record an appeal against sanction (or decision) ``subject_id``; it joins the queue."""
    actor.require(FILE)
    subject_id = (subject_id or "").strip()
    if not subject_id:
        raise SettingError("name the sanction or decision (preview id) appealed against")
    statement = rules.check_text(statement, "a statement (what the appellant says)", required=True)
    appellant = rules.check_text(appellant, "the appellant", required=False) or DEFAULT_APPELLANT
    refs = rules.check_material(material)
    moment = _now(now)

    def work(tx: Transaction) -> Appeal:
        run = sanction_store.tx_runner(tx)
        preview = sanction_store.read_preview(run, subject_id)
        if preview is not None:
            if preview.get("state") != "applied":
                raise AppealError(f"decision {subject_id} was previewed but never applied: nothing to appeal")
            ids = sanction_store.roots_among(run, preview.get("sanction_ids") or [])
        else:
            ids = [subject_id]
        found = store.lock_sanctions(tx, ids)
        rules.check_appealable(subject_id, found, store.open_appeal_on(tx, ids))
        first = found[0]
        if preview is None and first.get("preview_id"):
            preview = sanction_store.read_preview(run, first["preview_id"])
        decision = json.loads(preview["decision"]) if preview and preview.get("decision") else {}
        cluster_id = decision.get("cluster") or _cluster_in(first.get("path"))
        cluster = store.cluster(tx, cluster_id) if cluster_id else None
        appeal_id = f"AP-{uuid.uuid4().hex[:12]}"
        props = {"appeal_id": appeal_id, "state": FILED, "subject_id": subject_id,
                 "subject_kind": "decision" if preview is not None and preview["preview_id"] == subject_id
                 else "sanction",
                 "sanction_ids": [s["sanction_id"] for s in found],
                 "kind": decision.get("kind") or first.get("kind") or "",
                 "detector": rules.detector_of(cluster["detector"] if cluster else None),
                 "cluster_id": cluster_id, "run_id": cluster["run_id"] if cluster else None,
                 "target_label": first.get("target_label") or "", "target_id": first.get("target_id") or "",
                 "appellant": appellant, "statement": statement, "material": list(refs),
                 "filed_by": actor.name, "filed_role": actor.role, "filed_at": moment}
        store.create(tx, {k: v for k, v in props.items() if v is not None})
        audit.append(tx, actor=actor.name, role=actor.role, action="appeal.file", target_type=_type(first),
                     target_id=props["target_id"], reason=statement,
                     details={"appeal_id": appeal_id, "subject": subject_id, "sanction_ids": props["sanction_ids"],
                              "appellant": appellant, "material": list(refs), "kind": props["kind"],
                              "detector": props["detector"], "cluster_id": cluster_id}, at=moment)
        return store.appeal(tx, appeal_id)

    return graph.write_transaction(work)


def _cluster_in(path: str | None) -> str | None:
    """The cluster a sanction's evidence path starts from (a decision on a cluster), if it does."""
    try:
        steps = json.loads(path) if path else []
    except ValueError:
        return None
    return steps[0][1] if steps and steps[0] and steps[0][0] == "Cluster" else None


def _type(sanction: dict) -> str:
    return (sanction.get("target_label") or "sanction").lower()


# --------------------------------------------------------------------------- deciding

def grant(graph: Graph, actor: Actor, appeal_id: str, reason: str, now: datetime | None = None,
          policy: SanctionPolicy | None = None) -> Verdict:
    """Grant the appeal: revoke what it is against, with the cascade, and record the verdict, in one transaction."""
    actor.require(DECIDE)
    reason = rules.check_text(reason, "a reason for the verdict (--reason): it goes into the audit log",
                              required=True)
    policy = policy or load_sanction_policy()
    moment = _now(now)
    sanctions.expire_due(graph, now=moment, policy=policy)

    def work(tx: Transaction) -> Verdict:
        appeal = _locked(tx, appeal_id, moment)
        if rules.check_decision(appeal, GRANTED, actor.name, store.original_deciders(tx, appeal.sanction_ids)):
            return Verdict(appeal, already=True)
        revocation = sanctions.revoke_in(tx, [appeal.subject_id], actor, f"appeal {appeal_id} granted: {reason}",
                                         now=moment, policy=policy)
        revoked = [r.id for r in revocation.revoked]
        decided = store.decide(tx, appeal_id, GRANTED, actor.name, actor.role, reason, moment, revoked)
        audit.append(tx, actor=actor.name, role=actor.role, action="appeal.grant",
                     target_type=appeal.target_label.lower() or "sanction", target_id=appeal.target_id,
                     reason=reason, details={"appeal_id": appeal_id, "subject": appeal.subject_id,
                                             "revoked": revoked, "already_revoked": revocation.already_revoked,
                                             "filed_by": appeal.filed_by}, at=moment)
        return Verdict(decided, revocation)

    return graph.write_transaction(work)


def deny(graph: Graph, actor: Actor, appeal_id: str, reason: str, now: datetime | None = None) -> Verdict:
    """Deny the appeal, saying why; the sanctions stay as they are."""
    actor.require(DECIDE)
    reason = rules.check_text(reason, "the reason for the denial (--reason)", required=True)
    moment = _now(now)

    def work(tx: Transaction) -> Verdict:
        appeal = _locked(tx, appeal_id, moment)
        if rules.check_decision(appeal, DENIED, actor.name, store.original_deciders(tx, appeal.sanction_ids)):
            return Verdict(appeal, already=True)
        decided = store.decide(tx, appeal_id, DENIED, actor.name, actor.role, reason, moment, [])
        audit.append(tx, actor=actor.name, role=actor.role, action="appeal.deny",
                     target_type=appeal.target_label.lower() or "sanction", target_id=appeal.target_id,
                     reason=reason, details={"appeal_id": appeal_id, "subject": appeal.subject_id,
                                             "filed_by": appeal.filed_by}, at=moment)
        return Verdict(decided)

    return graph.write_transaction(work)


def _locked(tx: Transaction, appeal_id: str, now: datetime) -> Appeal:
    appeal = store.lock_appeal(tx, appeal_id, now)
    if appeal is None:
        raise AppealNotFound(f"no appeal {appeal_id!r} (see `ringscope appeals list`)")
    return appeal
