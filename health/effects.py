"""The content-health index's effects as restrictions, pure: the effects in force and the accounts' bands now in,
the changes to write out. No I/O (``health/enforce.py`` reads, writes and audits them).

A band other than ``normal`` is an **effect** the platform applies (the policy's ``effects``)::

    boost           index >= boost_at        boosted; commercial programmes allowed         reach factor 1
    normal          index >= commercial_at   no effect: nothing is recorded
    no_commercial   index >= throttle_below  no commercial programmes                       reach factor 1
    throttled       below throttle_below     no commercial programmes, reach x throttle_reach_factor (0.5)

Each effect is a record (``HealthEffect``) with the band, the index that put it there, the reach factor and
whether commercial programmes are allowed, set when the account enters the band. An account keeps one effect
in force at a time: when it returns to ``normal``, or changes band, the effect in force is **cleared** (it stays,
with its end time: the history is kept) and, on a change of band, the new band's effect is set. An account whose
band has not changed keeps its effect as it is (its index may have moved within the band): only changes are
written.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Protocol

from ringscope.health.policy import HealthPolicy

#: Bands that carry an effect, in the order they are shown; ``normal`` carries none.
EFFECT_BANDS = ("boost", "no_commercial", "throttled")
NORMAL = "normal"
GONE = "gone"  # the account is no longer in the graph: its effect is cleared
ACTIVE, CLEARED = "active", "cleared"
#: The audit action of every change (the feed maps it to health.effect_set / health.effect_cleared).
AUDIT_ACTION = "health.effect"


class Scored(Protocol):
    """An account's index and band now (``health.service.AccountIndex``)."""
    account_id: str
    index: float
    band: str


@dataclass(frozen=True)
class Effect:
    """One effect record: in force (``active``) or cleared, with when and by which apply."""
    effect_id: str
    account_id: str
    band: str  # boost | no_commercial | throttled
    index: float  # the index that set it
    reach_factor: float
    commercial: bool
    state: str  # active | cleared
    started_at: datetime
    set_in: str = ""  # the apply that set it
    policy_version: int | None = None
    ended_at: datetime | None = None
    cleared_in: str | None = None
    cleared_to: str | None = None  # the band the account went to (normal, another band, gone)
    cleared_index: float | None = None


@dataclass(frozen=True)
class Change:
    """One write: ``set`` an effect, or ``clear`` the one in force."""
    kind: str  # set | clear
    account_id: str
    effect_id: str  # the record set or cleared
    band: str  # the effect's band
    index: float | None  # the account's index now (None: the account is gone)
    reach_factor: float
    commercial: bool
    was: str  # the account's effect before this apply: a band, or normal (none in force)
    to: str  # its band now (or gone)

    @property
    def transition(self) -> str:
        return f"{self.was}->{self.to}"


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]  # per account, in account order: the clear before the set
    transitions: dict[str, int]  # "was->to": accounts, e.g. "normal->throttled", "boost->normal"
    unchanged: int  # accounts whose effect in force is already their band's (or normal with none)


def terms(band: str, policy: HealthPolicy) -> tuple[float, bool]:
    """(reach factor, commercial programmes allowed) of a band, from the policy."""
    if band == "throttled":
        return policy.effects.throttle_reach_factor, False
    return 1.0, band in ("boost", NORMAL)


def effect_id(account_id: str, band: str, apply_id: str) -> str:
    """The id of the effect an apply sets on an account: the same apply setting it again gives the same id."""
    digest = hashlib.sha256(f"{account_id}\x1f{band}\x1f{apply_id}".encode()).hexdigest()
    return f"HE-{digest[:16]}"


def apply_id(at: datetime, actor: str) -> str:
    digest = hashlib.sha256(f"{at.isoformat()}\x1f{actor}".encode()).hexdigest()
    return f"HA-{at:%Y%m%dT%H%M%S}-{digest[:8]}"


def diff(in_force: Iterable[Effect], accounts: Iterable[Scored], policy: HealthPolicy, apply: str) -> Plan:
    """The changes that bring the effects in force to the accounts' bands now. O(n log n) (sorted by account).

    * no effect, band normal: nothing; no effect, another band: set it;
    * an effect, the same band: nothing (its index may differ: not a change of effect);
    * an effect, band normal: clear it; an effect, another band: clear it, then set the new band's;
    * an effect on an account no longer scored (gone from the graph): clear it.
    An account with more than one effect in force (written outside this rule) keeps at most the one of its band.
    """
    held: dict[str, list[Effect]] = {}
    for e in in_force:
        if e.state == ACTIVE:
            held.setdefault(e.account_id, []).append(e)
    now: dict[str, Scored] = {}
    for a in accounts:
        now[a.account_id] = a
    changes: list[Change] = []
    moves: Counter[str] = Counter()
    unchanged = 0
    for account in sorted(set(held) | set(now)):
        effects = sorted(held.get(account, ()), key=lambda e: (e.started_at, e.effect_id))
        scored = now.get(account)
        band = scored.band if scored is not None else GONE
        index = float(scored.index) if scored is not None else None
        keep = next((e for e in effects if e.band == band), None)
        was = effects[-1].band if effects else NORMAL
        mine: list[Change] = []
        for e in effects:
            if e is not keep:
                mine.append(Change("clear", account, e.effect_id, e.band, index, e.reach_factor, e.commercial,
                                   was, band))
        if keep is None and band in EFFECT_BANDS:
            reach, commercial = terms(band, policy)
            mine.append(Change("set", account, effect_id(account, band, apply), band, index, reach, commercial,
                               was, band))
        if mine:
            changes.extend(mine)
            moves[f"{keep.band if keep else was}->{band}"] += 1
        else:
            unchanged += 1 if scored is not None else 0
    return Plan(tuple(changes), dict(sorted(moves.items())), unchanged)


def by_account(changes: Iterable[Change], size: int) -> list[list[Change]]:
    """The changes in batches of about ``size``, never splitting one account's (its clear and its set go in one
    transaction)."""
    batches: list[list[Change]] = []
    current: list[Change] = []
    for c in changes:
        if len(current) >= size and current[-1].account_id != c.account_id:
            batches.append(current)
            current = []
        current.append(c)
    if current:
        batches.append(current)
    return batches
