"""The observation room's rules as plain data: stays, a run's risks and the policy in, decisions out.

No database here (``tests/test_architecture.py`` holds that): ``watch/store.py`` reads and writes,
``watch/service.py`` wires the two together for the CLI, the app and the detection run.

A stay is ``watching`` (the account is under observation, with the silent restriction), ``escalated``
(its risk reached the flag threshold: it waits in an investigator's queue; nothing is sanctioned) or
``released`` (it ended: clean at its end, or released by an investigator). Stays are never deleted, so the
room keeps the history of every one. After each completed run (:func:`decide`):

* a watching stay whose account's risk reached ``flag_threshold`` is escalated;
* a watching stay past its end is released when its risk is below the watch threshold ("stayed clean"),
  else extended by the policy's ``days`` (its risk is still in the watch band);
* every other open stay is kept, the run's risk added to its trend;
* with ``automatic``, an account whose risk is in [watch threshold, flag threshold) and that has no open
  stay is placed under observation.

A run that already updated a stay changes nothing on it again (``last_run``), and a stay placed by a run
has an id derived from the account and the run: the update is idempotent per run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Mapping, Sequence

from ringscope.watch.policy import WatchPolicy

WATCHING, ESCALATED, RELEASED = "watching", "escalated", "released"
STATES = (WATCHING, ESCALATED, RELEASED)
OPEN_STATES = (WATCHING, ESCALATED)
RULE_REASON = "detection: risk between the watch and flag thresholds"
DecisionKind = Literal["place", "escalate", "release", "extend", "keep"]
Trend = Literal["rising", "falling", "flat", "new"]


@dataclass(frozen=True)
class Stay:
    """One stay of one account in the room, as stored."""
    stay_id: str
    account_id: str
    state: str
    reason: str
    origin: str                 # "rule" (a detection run placed it) or "investigator"
    placed_by: str
    started_at: datetime
    ends_at: datetime
    restriction: str
    reach_factor: float
    notified: bool = False      # the restriction is silent: the account is never told
    run_ids: tuple[str, ...] = ()
    risks: tuple[float, ...] = ()   # the account's risk in each run of the stay, oldest first
    last_run: str | None = None
    escalated_at: datetime | None = None
    escalated_in: str | None = None
    released_at: datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None
    note: str = ""              # what placed it, in words (the run's risk and thresholds)

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    def age_days(self, now: datetime) -> float:
        return (now - self.started_at).total_seconds() / 86400.0


@dataclass(frozen=True)
class Decision:
    """What a run does to the room: one per stay touched, or per account placed."""
    kind: DecisionKind
    account_id: str
    stay_id: str
    risk: float
    note: str = ""
    ends_at: datetime | None = None   # place and extend: the stay's new end


def stay_id(account_id: str, started: str) -> str:
    """A stay's id, derived from the account and what started it (a run id, or the investigator's moment)."""
    return "W-" + hashlib.sha256(f"{account_id}\x1f{started}".encode("utf-8")).hexdigest()[:16]


def end_of(start: datetime, days: int) -> datetime:
    return start + timedelta(days=days)


def decide(stays: Sequence[Stay], risks: Mapping[str, float], policy: WatchPolicy, flag_threshold: float,
           run_id: str, now: datetime) -> list[Decision]:
    """The room's decisions after run ``run_id``. ``stays``: the open stays; ``risks``: the run's account risks
    (an account the run did not score has risk 0). O(stays + risks). Stays ``run_id`` already updated are left
    alone, and an account with an open stay is never placed twice."""
    decisions: list[Decision] = []
    held = set()
    for stay in sorted(stays, key=lambda s: s.stay_id):
        if not stay.open:
            continue
        held.add(stay.account_id)
        if stay.last_run == run_id:
            continue
        risk = float(risks.get(stay.account_id, 0.0))
        decisions.append(_decide_stay(stay, risk, policy, flag_threshold, run_id, now))
    if policy.automatic:
        for account_id in sorted(risks):
            risk = float(risks[account_id])
            if account_id in held or not policy.threshold <= risk < flag_threshold:
                continue
            decisions.append(Decision("place", account_id, stay_id(account_id, run_id), risk,
                                      f"risk {risk:.3f} in run {run_id} (watch threshold {policy.threshold}, "
                                      f"flag threshold {flag_threshold})", end_of(now, policy.days)))
    return decisions


def _decide_stay(stay: Stay, risk: float, policy: WatchPolicy, flag_threshold: float, run_id: str,
                 now: datetime) -> Decision:
    if stay.state == ESCALATED:  # in the investigator's queue: only the trend moves
        return Decision("keep", stay.account_id, stay.stay_id, risk)
    if risk >= flag_threshold:
        return Decision("escalate", stay.account_id, stay.stay_id, risk,
                        f"risk {risk:.3f} in run {run_id} reached the flag threshold {flag_threshold}")
    if now >= stay.ends_at:
        if risk < policy.threshold:
            return Decision("release", stay.account_id, stay.stay_id, risk,
                            f"stayed clean until its end (risk {risk:.3f} in run {run_id}, below the watch "
                            f"threshold {policy.threshold})")
        return Decision("extend", stay.account_id, stay.stay_id, risk,
                        f"still at risk {risk:.3f} at its end (watch threshold {policy.threshold}): extended by "
                        f"{policy.days} days", end_of(now, policy.days))
    return Decision("keep", stay.account_id, stay.stay_id, risk)


def trend(risks: Sequence[float], tolerance: float) -> Trend:
    """A stay's risk over its runs: rising, falling or flat (last against first), "new" with fewer than two."""
    if len(risks) < 2:
        return "new"
    change = risks[-1] - risks[0]
    if change > tolerance:
        return "rising"
    if change < -tolerance:
        return "falling"
    return "flat"


def check_days(days: int | None, policy: WatchPolicy) -> int:
    """The length of a stay an investigator asks for: the policy's ``days`` when not given; ValueError naming
    the allowed range otherwise."""
    if days is None:
        return policy.days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= policy.max_days:
        raise ValueError(f"days must be a whole number from 1 to {policy.max_days} (watch.max_days), not {days!r}")
    return days


def select(stays: Sequence[Stay], now: datetime, policy: WatchPolicy, *, states: Sequence[str] | None = None,
           reason: str | None = None, min_age_days: float | None = None, max_age_days: float | None = None,
           trends: Sequence[str] | None = None) -> list[Stay]:
    """The stays matching the page's filters (all optional): states, reason containing the text (any case),
    age in days since the start, risk trend. O(stays)."""
    needle = (reason or "").strip().lower()
    out = []
    for s in stays:
        if states and s.state not in states:
            continue
        if needle and needle not in s.reason.lower():
            continue
        age = s.age_days(now)
        if min_age_days is not None and age < min_age_days:
            continue
        if max_age_days is not None and age > max_age_days:
            continue
        if trends and trend(s.risks, policy.trend_tolerance) not in trends:
            continue
        out.append(s)
    return out
