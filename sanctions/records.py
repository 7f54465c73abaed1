"""What the sanctions service returns: frozen records, plain data (the CLI, the app and evidence packs read them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ringscope.sanctions import ladder
from ringscope.sanctions.propagation import Decision, Effect, HopCount, NodeRef, Plan, Step


@dataclass(frozen=True)
class Preview:
    preview_id: str
    created_at: datetime
    created_by: str
    fingerprint: str
    plan: Plan
    ids: Mapping[str, str]  # effect key -> the sanction or review id apply will write
    state: str = "open"  # open | applied

    @property
    def decision(self) -> Decision:
        return self.plan.decision

    @property
    def effects(self) -> tuple[Effect, ...]:
        return self.plan.effects

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.plan.warnings

    @property
    def counts(self) -> tuple[HopCount, ...]:
        return self.plan.counts

    @property
    def needs_approval(self) -> bool:
        return self.plan.needs_approval


@dataclass(frozen=True)
class ApplyResult:
    preview_id: str
    applied_at: datetime
    applied_by: str
    sanction_ids: tuple[str, ...]  # every sanction of the decision
    review_ids: tuple[str, ...]
    pending_ids: tuple[str, ...]  # awaiting a second person's approval
    created_ids: tuple[str, ...]  # written by this call (empty when it had been applied already)
    already_applied: bool = False


@dataclass(frozen=True)
class ApproveResult:
    preview_id: str
    approved_by: str
    approved_at: datetime
    activated: tuple[str, ...]
    already_approved: bool = False


@dataclass(frozen=True)
class Revoked:
    id: str  # sanction or review id
    kind: str  # "sanction" | "review"
    target: NodeRef
    action: str
    via: str  # "named" or "cascade"


@dataclass(frozen=True)
class StatusChange:
    target: NodeRef
    status: str
    credit: int | None = None


@dataclass(frozen=True)
class RevokeResult:
    revoked: tuple[Revoked, ...]
    statuses: tuple[StatusChange, ...]
    already_revoked: bool = False


@dataclass(frozen=True)
class ExpireResult:
    expired: tuple[str, ...]
    statuses: tuple[StatusChange, ...]


@dataclass(frozen=True)
class ExamResult:
    exam_id: str
    account_id: str
    at: datetime
    credit_before: int
    credit_after: int


@dataclass(frozen=True)
class SanctionRecord:
    sanction_id: str
    target: NodeRef | None
    action: str
    state: str  # pending_approval | active | expired | revoked | imported (effective at the time asked)
    source: str
    kind: str | None
    level: int | None
    reason: str
    decided_at: datetime | None
    issued_at: datetime | None
    expires_at: datetime | None
    decided_by: str | None
    approved_by: str | None
    points: int | None
    rule: str | None
    hop: int | None
    path: tuple[Step, ...]
    derived_from: tuple[str, ...]
    evidence_refs: tuple[str, ...]
    preview_id: str | None
    violation_id: str | None
    revoked_by: str | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None


@dataclass(frozen=True)
class ReviewRecord:
    review_id: str
    target: NodeRef
    state: str  # open | withdrawn
    rule: str
    hop: int
    note: str
    path: tuple[Step, ...]
    derived_from: tuple[str, ...]
    preview_id: str
    created_at: datetime | None


@dataclass(frozen=True)
class TargetHistory:
    target: NodeRef
    status: str | None
    base_status: str | None
    restrictions: tuple[str, ...]
    credit: ladder.CreditReport | None  # accounts
    brand_points: int | None  # brands: points within the window
    next_level: int | None  # accounts: the level a new normal violation would get now
    sanctions: tuple[SanctionRecord, ...]
    reviews: tuple[ReviewRecord, ...]


@dataclass(frozen=True)
class PendingDecision:
    preview_id: str
    applied_by: str
    applied_at: datetime
    decision: Decision
    pending: int  # sanctions awaiting approval


@dataclass(frozen=True)
class SanctionTarget:
    ref: NodeRef
    properties: Mapping[str, Any]  # the target's own, as stored


@dataclass(frozen=True)
class SanctionLink:
    type: str  # DERIVED_FROM, or any other relationship the sanction has besides TARGETS
    node: NodeRef


@dataclass(frozen=True)
class SanctionDetails:
    """A sanction with everything stored about it, for what shows it as recorded (evidence packs)."""
    record: SanctionRecord  # derived_from: over DERIVED_FROM relationships first, then the property's ids
    properties: Mapping[str, Any]  # as stored; ``record.state`` is the effective state at the time asked
    targets: tuple[SanctionTarget, ...]  # by (label, id)
    links: tuple[SanctionLink, ...]  # by (type, label, id)
    chain: tuple[str, ...] = ()  # every sanction it derives from, nearest first (at most MAX_CHAIN)


@dataclass(frozen=True)
class QueryRun:
    """One query a read ran, as it ran: for callers that must say how they got what they show."""
    name: str
    what: str  # what it reads, in words
    cypher: str
    params: Mapping[str, Any]
    rows: int
    seconds: float


@dataclass(frozen=True)
class SanctionsFound:
    sanctions: tuple[SanctionDetails, ...]  # by id
    queries: tuple[QueryRun, ...]
