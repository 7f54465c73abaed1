"""Appeals as plain data: the record, who may decide it, the queue, and the granted share per violation kind and
detector with the rule that flags a detector overturned far more often than the rest.

No database here (``tests/test_architecture.py`` holds that): ``appeals/store.py`` reads and writes,
``appeals/service.py`` wires the two together for the CLI (``ringscope appeals``) and the app's Appeals page.

An appeal is ``filed`` (in the queue), then ``granted`` (the sanction it names is revoked, with the cascade of
``sanctions.service.revoke``) or ``denied`` (with the reason why). Both verdicts are final; a new appeal, with new
material, may be filed after a denial.

The over-turn rule (:func:`overturned`): a group (a detector, or a violation kind) is flagged when it has at least
``min_decided`` decided appeals, the other groups together have at least as many, and the lower end of the 95 %
Wilson score interval of its granted share lies above the granted share of all the other decided appeals: its
decisions are overturned more often than the rest's beyond what chance explains at that size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ringscope.common.errors import RingscopeError, SettingError

FILED, GRANTED, DENIED = "filed", "granted", "denied"
STATES = (FILED, GRANTED, DENIED)
DECIDED = (GRANTED, DENIED)
# The detector of a decision that was not taken on a detector's cluster (an investigator chose the targets).
MANUAL = "manual"
MIN_DECIDED = 10  # decided appeals a group (and the rest) needs before the over-turn rule judges it
Z95 = 1.959964  # the 97.5th percentile of the standard normal: a two-sided 95 % interval
PLATFORM_SHARE = 0.35  # the platform's own figure: about 35 % of appeals succeed
MAX_MATERIAL = 20  # references one appeal carries
MAX_REF_CHARS = 500
MAX_TEXT_CHARS = 4000


class AppealError(RingscopeError):
    """An appeal cannot be filed or decided as asked; the message says why."""


@dataclass(frozen=True)
class AppealedSanction:
    """One sanction an appeal is against, as it is now (its state changes when the appeal is granted)."""
    sanction_id: str
    action: str
    state: str
    target_label: str
    target_id: str
    path: str  # the evidence path from the decision's root to the target ("Cluster k1 -HAS_MEMBER-> Account a1")
    reason: str
    evidence_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Appeal:
    appeal_id: str
    state: str  # filed | granted | denied
    subject_id: str  # the sanction id or the decision (preview) id the appellant named
    subject_kind: str  # "sanction" | "decision"
    kind: str  # the violation kind of the decision appealed
    detector: str  # the detector whose cluster the decision was taken on, or MANUAL
    cluster_id: str | None
    run_id: str | None
    target_label: str
    target_id: str
    appellant: str  # who appealed: the account holder or its representative
    statement: str
    material: tuple[str, ...]  # references to what the appellant submitted
    filed_by: str
    filed_at: datetime
    sanction_ids: tuple[str, ...] = ()  # the sanctions appealed (the decision's own, for a decision)
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    revoked: tuple[str, ...] = ()  # what the grant revoked, cascade included
    sanctions: tuple[AppealedSanction, ...] = ()

    def age_days(self, now: datetime) -> float:
        """Days in the queue: until now while filed, until the decision once decided."""
        end = self.decided_at if self.state in DECIDED and self.decided_at else now
        return max(0.0, (end - self.filed_at).total_seconds() / 86400)


# --------------------------------------------------------------------------- filing

def check_text(value: str | None, what: str, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise SettingError(f"an appeal needs {what}")
    if len(text) > MAX_TEXT_CHARS:
        raise SettingError(f"{what} is {len(text)} characters long; at most {MAX_TEXT_CHARS}")
    return text


def check_material(refs: Iterable[str] | None) -> tuple[str, ...]:
    """The references as stored: stripped, empty ones dropped, each once, in order; too many or too long is an
    error naming the reference."""
    out: list[str] = []
    for ref in refs or ():
        ref = (ref or "").strip()
        if not ref or ref in out:
            continue
        if len(ref) > MAX_REF_CHARS:
            raise SettingError(f"material reference {ref[:40]!r}... is {len(ref)} characters long; "
                               f"at most {MAX_REF_CHARS}")
        if any(ord(c) < 32 for c in ref):
            raise SettingError(f"material reference {ref[:40]!r} contains a control character")
        out.append(ref)
    if len(out) > MAX_MATERIAL:
        raise SettingError(f"{len(out)} material references; an appeal carries at most {MAX_MATERIAL}")
    return tuple(out)


def check_appealable(subject_id: str, sanctions: Sequence[Mapping], open_appeal: str | None) -> None:
    """May the sanctions named by ``subject_id`` (as stored: ``sanction_id``, ``state``, ``source``) be appealed?"""
    if not sanctions:
        raise AppealError(f"no sanction or applied decision {subject_id!r} (see `ringscope sanction list`)")
    imported = [s["sanction_id"] for s in sanctions if (s.get("source") or "import") != "ringscope"]
    if imported:
        raise AppealError(f"sanction {imported[0]} was imported from the platform's records; appeal it on the "
                          "platform, ringscope only decides appeals on its own sanctions")
    if all(s.get("state") == "revoked" for s in sanctions):
        raise AppealError(f"{subject_id} is revoked already: nothing to appeal")
    if open_appeal:
        raise AppealError(f"{subject_id} has an appeal in the queue already ({open_appeal}); decide it first")


def detector_of(cluster_detector: str | None) -> str:
    return cluster_detector or MANUAL


# --------------------------------------------------------------------------- deciding

def check_decision(appeal: Appeal, verdict: str, actor: str, original: Iterable[str]) -> bool:
    """May ``actor`` give ``verdict`` (granted | denied) on ``appeal``? True when the appeal has that verdict already
    (a repeat changes nothing); an ``AppealError`` when it may not. ``original``: who decided, applied or approved
    the sanctions appealed; none of them decides the appeal (four eyes, as an approval)."""
    if verdict not in DECIDED:
        raise ValueError(f"unknown verdict {verdict!r}")
    if appeal.state == verdict:
        return True
    if appeal.state != FILED:
        raise AppealError(f"appeal {appeal.appeal_id} was {appeal.state} by {appeal.decided_by} on "
                          f"{appeal.decided_at:%Y-%m-%d}; a decided appeal is final (file a new one with new "
                          "material)")
    if actor in {o for o in original if o}:
        raise AppealError(f"{actor} took part in the decision appealed ({appeal.subject_id}); a different "
                          "person decides its appeal")
    return False


# --------------------------------------------------------------------------- the queue

def check_states(states: Sequence[str] | None) -> None:
    for s in states or ():
        if s not in STATES:
            raise SettingError(f"unknown appeal state {s!r} (states: {', '.join(STATES)})")


def select(appeals: Iterable[Appeal], *, states: Sequence[str] | None = None,
           kinds: Sequence[str] | None = None, detectors: Sequence[str] | None = None) -> list[Appeal]:
    """The appeals of these states, violation kinds and detectors (None: all), oldest filed first."""
    check_states(states)
    chosen = [a for a in appeals if (not states or a.state in states) and (not kinds or a.kind in kinds)
              and (not detectors or a.detector in detectors)]
    return sorted(chosen, key=lambda a: (a.filed_at, a.appeal_id))


# --------------------------------------------------------------------------- the granted share

def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a share ``successes / n`` (None when n is 0)."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes out of {n}")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Share:
    """The appeals of one group (a violation kind, a detector, or all of them)."""
    group: str
    appealed: int  # every appeal, filed ones included
    decided: int
    granted: int
    share: float | None  # granted / decided
    low: float | None  # the 95 % Wilson interval of the share
    high: float | None
    rest_share: float | None = None  # the granted share of every other decided appeal
    flagged: bool = False  # overturned far more often than the rest (:func:`overturned`)
    note: str = ""


@dataclass(frozen=True)
class AppealStats:
    overall: Share
    by_kind: tuple[Share, ...]
    by_detector: tuple[Share, ...]
    min_decided: int
    platform_share: float = PLATFORM_SHARE


def overturned(granted: int, decided: int, rest_granted: int, rest_decided: int,
               min_decided: int = MIN_DECIDED) -> tuple[bool, str]:
    """The over-turn rule (see the module's docstring): flagged or not, and why in words."""
    if decided < min_decided:
        return False, f"too few decided to judge ({decided} < {min_decided})"
    if rest_decided < min_decided:
        return False, f"too few other decided appeals to compare with ({rest_decided} < {min_decided})"
    low, _ = wilson(granted, decided)
    rest = rest_granted / rest_decided
    if low > rest:
        return True, (f"overturned far more often than the rest: {granted}/{decided} granted, 95 % interval from "
                      f"{low:.0%}, above the rest's {rest:.0%}; a calibration problem")
    return False, f"within chance of the rest's {rest:.0%}"


def _share(group: str, counts: Mapping[str, int], total: Mapping[str, int] | None, min_decided: int) -> Share:
    granted, denied = counts.get(GRANTED, 0), counts.get(DENIED, 0)
    decided = granted + denied
    interval = wilson(granted, decided)
    share = Share(group, sum(counts.values()), decided, granted, granted / decided if decided else None,
                  *(interval or (None, None)))
    if total is None:
        return share
    rest_granted = total.get(GRANTED, 0) - granted
    rest_decided = total.get(GRANTED, 0) + total.get(DENIED, 0) - decided
    flagged, note = overturned(granted, decided, rest_granted, rest_decided, min_decided)
    return Share(share.group, share.appealed, share.decided, share.granted, share.share, share.low, share.high,
                 rest_granted / rest_decided if rest_decided else None, flagged, note)


def stats(rows: Iterable[tuple[str, str, str, int]], min_decided: int = MIN_DECIDED) -> AppealStats:
    """The granted share overall, by violation kind and by detector, from ``(kind, detector, state, n)`` rows;
    each group sorted by granted share, highest first (undecided groups last), then by name."""
    if min_decided < 1:
        raise SettingError(f"the minimum of decided appeals must be 1 or more, not {min_decided}")
    total: dict[str, int] = {}
    kinds: dict[str, dict[str, int]] = {}
    detectors: dict[str, dict[str, int]] = {}
    for kind, detector, state, n in rows:
        for counts in (total, kinds.setdefault(kind or "", {}), detectors.setdefault(detector or MANUAL, {})):
            counts[state] = counts.get(state, 0) + n

    def ranked(groups: dict[str, dict[str, int]]) -> tuple[Share, ...]:
        shares = [_share(g, c, total, min_decided) for g, c in groups.items()]
        return tuple(sorted(shares, key=lambda s: (s.share is None, -(s.share or 0.0), s.group)))

    return AppealStats(_share("all", total, None, min_decided), ranked(kinds), ranked(detectors), min_decided)
