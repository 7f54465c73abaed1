"""The ladder, brand points and credit: pure functions of an entity's history and the policy.

No database here: the store reads the history, these decide. Times are aware
``datetime`` values; windows and durations come from the policy.

* **Level**: a new violation's level is 1 + the entity's violations in the
  ``escalation_days`` before it (revoked ones are not in the history at all;
  expired ones stay: the violation happened even if its punishment is over),
  capped at the last step ("repeated"). A severe kind goes straight to the last
  step. So the level follows from the record, never from the officer's guess.
* **Brand points**: the sum of the brand's point sanctions decided within
  ``brands.window_days``; at ``threshold`` or more the brand's cooperation is
  banned.
* **Credit**: start at ``initial``; each deduction takes its points off (not
  below ``minimum``); every full ``recovery.every_days`` since the latest
  deduction gives ``recovery.points`` back; a passed exam gives
  ``exam.points`` (exam passes closer together than ``cooldown_days`` count
  once); never above ``maximum``. A revoked deduction is simply not an event,
  so revoking restores the credit it took, and the recovery clock with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ringscope.sanctions.policy import LadderAction, SanctionPolicy


def escalation_level(kind: str, prior: Iterable[datetime], now: datetime, policy: SanctionPolicy) -> int:
    """The level of a violation of ``kind`` at ``now`` given the times of earlier violations. O(n)."""
    if kind not in policy.violation_kinds:
        raise KeyError(kind)
    if policy.is_severe(kind):
        return policy.top_level
    since = now - timedelta(days=policy.windows.escalation_days)
    earlier = sum(1 for t in prior if since <= t <= now)
    return min(1 + earlier, policy.top_level)


def ladder_actions(level: int, policy: SanctionPolicy) -> tuple[LadderAction, ...]:
    return policy.step(level).actions


def within(times: Iterable[datetime], now: datetime, days: int) -> list[datetime]:
    since = now - timedelta(days=days)
    return [t for t in times if since <= t <= now]


def brand_points(points: Iterable[tuple[datetime, int]], now: datetime, policy: SanctionPolicy) -> int:
    """Points of a brand that count at ``now``: those decided within the brand window."""
    since = now - timedelta(days=policy.brands.window_days)
    return sum(p for t, p in points if since <= t <= now)


def brand_banned(total_points: int, policy: SanctionPolicy) -> bool:
    return total_points >= policy.brands.threshold


@dataclass(frozen=True)
class CreditEvent:
    at: datetime
    kind: str  # "deduction" | "exam"
    points: int
    ref: str = ""  # the sanction or exam id


@dataclass(frozen=True)
class CreditStep:
    at: datetime
    change: int
    value: int
    why: str  # "deduction S-..", "recovery", "exam X-.."


@dataclass(frozen=True)
class CreditReport:
    value: int
    at: datetime
    steps: tuple[CreditStep, ...]
    next_recovery_at: datetime | None  # when the next recovery step lands (None at the maximum)


def credit(events: Sequence[CreditEvent], at: datetime, policy: SanctionPolicy) -> CreditReport:
    """The credit at ``at`` after ``events`` (any order; later ones ignored). O(n log n)."""
    c = policy.credit
    period = timedelta(days=c.recovery.every_days)
    cooldown = timedelta(days=c.exam.cooldown_days)
    value, anchor, counted = c.initial, None, 0
    last_exam: datetime | None = None
    steps: list[CreditStep] = []

    def recover(until: datetime) -> None:
        nonlocal value, counted
        if anchor is None:
            return
        periods = int((until - anchor) / period)
        while counted < periods:
            counted += 1
            if value < c.maximum and c.recovery.points:
                gained = min(c.recovery.points, c.maximum - value)
                value += gained
                steps.append(CreditStep(anchor + counted * period, gained, value, "recovery"))

    for e in sorted((e for e in events if e.at <= at), key=lambda e: (e.at, e.kind, e.ref)):
        recover(e.at)
        if e.kind == "deduction":
            lost = min(e.points, value - c.minimum)
            value -= lost
            anchor, counted = e.at, 0
            steps.append(CreditStep(e.at, -lost, value, f"deduction {e.ref}".strip()))
        elif e.kind == "exam":
            if last_exam is not None and e.at - last_exam < cooldown:
                steps.append(CreditStep(e.at, 0, value, f"exam {e.ref} (within the cooldown: not counted)".strip()))
                continue
            last_exam = e.at
            gained = min(c.exam.points, c.maximum - value)
            value += gained
            steps.append(CreditStep(e.at, gained, value, f"exam {e.ref}".strip()))
        else:
            raise ValueError(f"unknown credit event kind {e.kind!r}")
    recover(at)
    next_at = anchor + (counted + 1) * period if anchor is not None and value < c.maximum else None
    return CreditReport(value, at, tuple(steps), next_at)


def exam_counts(previous_exams: Iterable[datetime], at: datetime, policy: SanctionPolicy) -> bool:
    """Whether an exam passed at ``at`` restores credit (none counted within the cooldown before it)."""
    cooldown = timedelta(days=policy.credit.exam.cooldown_days)
    return all(not (at - cooldown < t <= at) for t in previous_exams)


def status_for(label: str, base: str | None, actions: Iterable[str], policy: SanctionPolicy) -> tuple[str, tuple[str, ...]]:
    """What a target shows: the most severe of its base status and the statuses of the actions in
    force on it (by ``policy.statuses[label]``), and the actions in force as its restrictions."""
    order = policy.statuses.get(label, ("active",))
    rank = {s: i for i, s in enumerate(order)}
    current = base if base is not None else order[0]
    held = tuple(sorted(set(actions)))
    for action in held:
        spec = policy.actions.get(action)
        if spec is None or spec.status is None:
            continue
        if rank.get(spec.status, -1) > rank.get(current, -1):
            current = spec.status
    return current, held
