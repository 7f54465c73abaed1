"""What every detector returns: clusters of accounts with a score and checkable reasons.

Detectors are pure functions over plain data (frames, edge lists) that return
``ClusterFinding`` values. The run store (``detection.run``) turns them into
Cluster nodes and per-account risk scores; nothing here touches the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd


@dataclass(frozen=True)
class Evidence:
    """Concrete things an officer can look up in the graph.

    ``kind`` names what the ids are: ``device``, ``ip``, ``phone``,
    ``registration_ip``, ``phone_segment``, ``comment``, ``note``, ``order``,
    ``brand``, ``intermediary``, ``account``, ``sanction``, ``time_window``.
    For ``time_window`` the ids are two ISO 8601 timestamps (start, end).
    """

    kind: str
    ids: tuple[str, ...]


def personal(label: str, value: object) -> str:
    """An identifier that is personal data (an ``IP``, a ``Phone`` hash) as it is cited in a reason's text:
    ``⟦IP:203.0.113.9⟧``. Reasons are stored with these marks and rendered for whoever reads them
    (``auth.masking.render_reason``), so a viewer sees ``203.0.x.x`` and an approver the address. O(1)."""
    text = str(value).replace("⟦", "[").replace("⟧", "]")
    return f"⟦{label}:{text}⟧"


@dataclass(frozen=True)
class Reason:
    """One reason, in words an enforcement officer can check, with its evidence.

    ``code`` is stable and machine-readable (``shared_device``,
    ``registration_burst``, ``lockstep_comments``, ``comment_template``,
    ``offplatform_lure``, ``qa_act``, ``underwater_order``, ``ban_evasion``,
    ``engagement_burst`` ...); ``text`` is the human sentence and must cite the
    concrete values (which device, which window, how many comments); personal
    identifiers in it are marked with :func:`personal`.
    """

    code: str
    text: str
    evidence: tuple[Evidence, ...] = ()


def iso_utc(ts, missing: str | None = None) -> str:
    """A timezone-aware timestamp as ISO 8601 text in UTC, as reasons cite it;
    ``missing`` stands for NaT when given. O(1)."""
    if missing is not None and pd.isna(ts):
        return missing
    return pd.Timestamp(ts).tz_convert("UTC").isoformat()


def iso_utc_epoch(value: float, unit: str = "s", missing: str | None = None) -> str:
    """A time since the epoch in ``unit`` (seconds by default) as ISO 8601 text in UTC;
    ``missing`` stands for NaN or None when given. O(1)."""
    if missing is not None and pd.isna(value):
        return missing
    return pd.Timestamp(value, unit=unit, tz="UTC").isoformat()


def comment_group_reason(code: str, text: str, comment_ids: list[str], note_ids: list[str],
                         window: tuple[str, str], max_evidence: int) -> Reason:
    """A reason citing a group's comments, notes and time window (two ISO timestamps).

    Comment and note ids are cut at ``max_evidence`` each; when comments are
    cut, the text says so, so the totals in it stay the truth.
    """
    if len(comment_ids) > max_evidence:
        text += f" Evidence lists the first {max_evidence} comment ids."
    return Reason(code=code, text=text, evidence=(
        Evidence("comment", tuple(comment_ids[:max_evidence])),
        Evidence("note", tuple(note_ids[:max_evidence])),
        Evidence("time_window", window),
    ))


@dataclass(frozen=True)
class ClusterFinding:
    """A group of accounts one detector considers coordinated.

    ``score`` in [0, 1] is the strength of the cluster as a whole.
    ``member_scores`` optionally refines it per account (an account on the
    fringe of a cluster scores lower); a member missing there gets ``score``.
    ``member_reasons`` holds reasons that concern one member only.
    """

    detector: str
    members: tuple[str, ...]
    score: float
    reasons: tuple[Reason, ...]
    member_scores: dict[str, float] = field(default_factory=dict)
    member_reasons: dict[str, tuple[Reason, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"{self.detector}: cluster score {self.score} outside [0, 1]")
        object.__setattr__(self, "members", tuple(sorted(set(self.members))))

    @cached_property
    def key(self) -> str:
        """A deterministic id: the same detector and members give the same key (computed once: sorting
        and combining a million accounts' findings asks for it many times)."""
        digest = hashlib.sha256(
            (self.detector + "\x1f" + "\x1f".join(self.members)).encode("utf-8")
        ).hexdigest()
        return f"{self.detector}:{digest[:16]}"

    def member_score(self, account_id: str) -> float:
        return self.member_scores.get(account_id, self.score)


@dataclass(frozen=True)
class RatedFindings:
    """What a detector returns when it also rates things other than accounts (``trending_heat``: each entry of
    the trending list): its findings, and ``ratings`` as JSON-safe dicts, which the run stores beside its
    clusters (``detection.run``) for the app."""

    findings: list[ClusterFinding]
    ratings: list[dict]


def finding_to_dict(finding: ClusterFinding) -> dict:
    """``finding`` as JSON-safe values (``finding_from_dict`` gives it back equal): how findings are kept on
    disk between the parts of a long run (``detection.kept_findings``). O(members + reasons)."""
    def reasons(items: tuple[Reason, ...]) -> list[dict]:
        return [{"code": r.code, "text": r.text, "evidence": [[e.kind, list(e.ids)] for e in r.evidence]}
                for r in items]

    return {"detector": finding.detector, "members": list(finding.members), "score": float(finding.score),
            "reasons": reasons(finding.reasons),
            "member_scores": {a: float(s) for a, s in finding.member_scores.items()},
            "member_reasons": {a: reasons(r) for a, r in finding.member_reasons.items()}}


def finding_from_dict(data: dict) -> ClusterFinding:
    """The finding ``finding_to_dict`` made ``data`` of. O(members + reasons)."""
    def reasons(items: list[dict]) -> tuple[Reason, ...]:
        return tuple(Reason(r["code"], r["text"], tuple(Evidence(kind, tuple(ids)) for kind, ids in r["evidence"]))
                     for r in items)

    return ClusterFinding(data["detector"], tuple(data["members"]), data["score"], reasons(data["reasons"]),
                          dict(data["member_scores"]),
                          {a: reasons(r) for a, r in data["member_reasons"].items()})
