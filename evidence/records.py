"""What an evidence pack is built from: the records ``collect`` reads, as plain data (``pack`` builds from them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ringscope.audit.chain import AuditEntry
from ringscope.common.errors import RingscopeError
from ringscope.health.effects import Effect
from ringscope.health.index import AccountHealth
from ringscope.sanctions.records import SanctionDetails


class EvidenceError(RingscopeError):
    """The pack cannot be built as asked (unknown cluster, case or account ...)."""


@dataclass(frozen=True)
class QueryLog:
    name: str
    cypher: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Subject:
    kind: str  # cluster | case | account
    id: str


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    status: str | None
    started_at: str | None
    finished_at: str | None
    code_version: str | None
    flag_threshold: float | None
    policy: Any  # the policy as stored (parsed JSON)
    watermark: Any  # the data watermark the run saw (parsed JSON)


@dataclass(frozen=True)
class ClusterRecord:
    cluster_id: str
    run_id: str | None
    detector: str
    score: float
    size: int
    reasons: tuple[str, ...]
    evidence: Any  # per reason, a list of {"kind", "ids"}


@dataclass(frozen=True)
class ScoreRecord:
    account_id: str
    run_id: str
    score: float
    cluster_id: str | None
    detectors: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PackNodeRef:
    """A node of the pack: any label (comments, phones, segments ...), keyed as the pack's graph files key it."""
    label: str
    key: str  # the value of the label's key property


@dataclass(frozen=True)
class EdgeRecord:
    source: PackNodeRef
    type: str
    target: PackNodeRef
    props: dict[str, Any]


@dataclass(frozen=True)
class SubjectScope:
    """What a subject covers: its own properties, the clusters and runs behind it, its accounts."""
    props: dict[str, Any]
    clusters: list[ClusterRecord]
    run_ids: list[str]
    member_scores: dict[str, float]  # account -> HAS_MEMBER score (highest over the clusters)
    memberships: dict[str, list[str]]  # account -> the pack's clusters it is a member of


@dataclass(frozen=True)
class HealthRecords:
    """The content-health index of the pack's accounts (at most ``cap`` of them) and the effect in force on each."""
    policy_version: int
    accounts: int  # accounts in the pack
    cap: int  # the most scored
    scored: tuple[AccountHealth, ...]  # by account id
    effects: dict[str, Effect]  # account -> the effect in force (none: no key)
    chosen: str  # which accounts were scored, in words


@dataclass
class Collected:
    subject: Subject
    subject_props: dict[str, Any]
    runs: list[RunRecord]
    clusters: list[ClusterRecord]
    member_scores: dict[str, float]  # account -> HAS_MEMBER score (highest over the clusters)
    memberships: dict[str, list[str]]  # account -> the pack's clusters it is a member of
    scores: list[ScoreRecord]
    nodes: dict[PackNodeRef, dict[str, Any]]
    edges: list[EdgeRecord]
    comment_total: int
    comment_days: list[tuple[str, int]]
    sanctions: list[SanctionDetails]  # as the sanctions service reads them (Python values: ``plain`` for JSON)
    audit: list[AuditEntry]
    queries: list[QueryLog]
    summarised: list[str] = field(default_factory=list)
    neo4j_version: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # per query name (not in the pack: not reproducible)
    health: HealthRecords | None = None  # the content-health index (None: not collected)

    @property
    def members(self) -> list[str]:
        return sorted(self.member_scores)


def plain(value: Any) -> Any:
    """Values as read -> JSON-able Python (temporal values as ISO 8601 text)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)
