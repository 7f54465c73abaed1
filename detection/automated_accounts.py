"""Accounts run by a program, with no human in the loop: activity too regular, and no rest.

The platform bans accounts fully managed by AI with no human participation. What the graph shows of them is
their clock: a program posts and comments on a schedule (every 37 minutes, give or take two), day and night,
day after day; people are bursty (a dozen comments in ten minutes, then nothing for hours) and sleep. An account
is judged on its longest stretch of activity (cut at silences of ``silence_days``), by two tests, each against a
stated null model of a human account, and it must fail both:

* **Regularity.** Under the null, the gaps between an account's events are at least as irregular as a Poisson
  process's (exponential gaps, coefficient of variation 1; people are burstier, CV > 1: Barabási, "The origin of
  bursts and heavy tails in human dynamics", Nature 2005). The sample CV of ``n`` exponential gaps is about
  normal with mean 1 and standard deviation ``1/sqrt(n)``, so an observed CV ``c`` has
  ``p = P(Z >= (1 - c) sqrt(n))``.
* **Rest.** Under the null, a person rests (a gap of at least ``rest_hours``, 5) on a day with probability at
  least ``rest_share`` (0.95: people sleep); over ``D`` days spanned, ``r`` rests or fewer have the binomial tail
  ``p = P(Binomial(D, rest_share) <= r)``. A brand account on a scheduler posts regularly by day and rests at
  night: it fails the first test and passes the second (issue #13's scheduled posters are not flagged).

The evidence is the smaller surprise of the two (``-log10 p``; P(both) <= min(p1, p2) whatever their dependence,
so the smaller surprise is a lower bound of the joint one: both must be unlikely), corrected for the accounts
tested and mapped to [0, 1] as every calibrated detector's (``calibration.calibrated``). Accounts that fail both
and share a schedule (median gap within ``period_tolerance`` of each other) form one cluster: one operator runs
them (an account alone is a finding of one member).

Reasons cite the schedule ("an event every 37 ± 2 min over 9.1 days, 0 rests of 5 hours or more") and a sample
of the events. Time O(E log E) for E events (sorting each account's times), O(A log A) to group A accounts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binom, norm

from ringscope.detection.calibration import calibrated
from ringscope.detection.findings import ClusterFinding, Evidence, Reason, iso_utc_epoch

DETECTOR = "automated_accounts"
EVENT_COLUMNS = ["account_id", "kind", "item_id", "at"]  # at: seconds since the epoch
CADENCE_COLUMNS = ["account_id", "events", "days", "median_gap", "gap_spread", "cv", "rests", "regular_surprise",
                   "rest_surprise", "first", "last"]
_LN10 = math.log(10)


@dataclass(frozen=True)
class AutomatedAccountParams:
    """``silence_days``: a silence this long ends a stretch of activity, and an account is judged on its stretch
    with the most events (a program switched on for two weeks in an account's long life; a person's days, nights
    included, are one stretch); ``min_events``: events (notes and comments) the stretch needs to be judged;
    ``min_days``: days it must span; ``rest_hours``: the shortest gap that counts as rest; ``rest_share``: the null's least share of
    days a person rests; ``period_tolerance``: relative difference of median gaps within which accounts share a
    schedule; ``max_evidence``: item ids cited per account."""

    min_events: int = 60
    min_days: float = 5.0
    silence_days: float = 2.0
    rest_hours: float = 5.0
    rest_share: float = 0.95
    period_tolerance: float = 0.05
    max_evidence: int = 20


def activity_events(notes: pd.DataFrame | None, comments: pd.DataFrame | None) -> pd.DataFrame:
    """Notes and comments as events ``account_id, kind, item_id, at`` (seconds since the epoch), sorted by
    account, time and id; rows without a time are left out. O(E log E)."""
    parts = []
    for frame, kind, id_col, time_col in ((notes, "note", "note_id", "posted_at"),
                                          (comments, "comment", "comment_id", "created_at")):
        if frame is None or frame.empty or time_col not in frame:
            continue
        at = pd.to_datetime(frame[time_col], utc=True, errors="coerce")
        keep = at.notna().to_numpy()
        seconds = at[keep].to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
        parts.append(pd.DataFrame({"account_id": frame["account_id"].astype(str).to_numpy()[keep], "kind": kind,
                                   "item_id": frame[id_col].astype(str).to_numpy()[keep], "at": seconds}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c != "at" else float) for c in EVENT_COLUMNS})
    events = pd.concat(parts, ignore_index=True)
    return events.sort_values(["account_id", "at", "item_id"], kind="mergesort").reset_index(drop=True)


def regularity_surprise(cv: float, gaps: int) -> float:
    """``-log10 P(Z >= (1 - cv) sqrt(gaps))``: how unlikely so regular a cadence is for a person (see the
    module). O(1)."""
    if gaps < 2:
        return 0.0
    z = (1.0 - cv) * math.sqrt(gaps)
    return max(0.0, -float(norm.logsf(z)) / _LN10)


def rest_surprise(rests: int, days: float, rest_share: float) -> float:
    """``-log10 P(Binomial(D, rest_share) <= rests)`` over ``D = floor(days)`` days: how unlikely so few rests are
    for a person. O(1)."""
    whole = int(math.floor(days))
    if whole < 1:
        return 0.0
    return max(0.0, -float(binom.logcdf(min(rests, whole), whole, rest_share)) / _LN10)


def longest_stretch(t: np.ndarray, silence: float) -> np.ndarray:
    """The times of the stretch with the most events (the earliest of equals), stretches cut where a gap is at
    least ``silence``. O(n)."""
    cuts = np.flatnonzero(np.diff(t) >= silence) + 1
    if not len(cuts):
        return t
    bounds = np.r_[0, cuts, len(t)]
    best = int(np.argmax(np.diff(bounds)))
    return t[bounds[best]:bounds[best + 1]]


def cadences(events: pd.DataFrame, params: AutomatedAccountParams = AutomatedAccountParams()) -> pd.DataFrame:
    """Per account whose longest stretch (``longest_stretch``) has at least ``min_events`` events over at least
    ``min_days`` days: the stretch's events, days spanned, median gap and the spread (median absolute deviation)
    of its gaps in seconds, the CV of its gaps, its rests, the two surprises, and its first and last time. Events must be sorted by account and time (``activity_events``). O(E)."""
    if events.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "account_id" else float) for c in CADENCE_COLUMNS})
    accounts = events["account_id"].to_numpy(dtype=object)
    at = events["at"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, accounts[1:] != accounts[:-1]])
    ends = np.r_[starts[1:], len(at)]
    rest = params.rest_hours * 3600.0
    rows = []
    for lo, hi in zip(starts, ends):
        if hi - lo < params.min_events:
            continue
        t = longest_stretch(at[lo:hi], params.silence_days * 86400.0)
        n = len(t)
        if n < params.min_events:
            continue
        days = (t[-1] - t[0]) / 86400.0
        if days < params.min_days:
            continue
        gaps = np.diff(t)
        mean = float(gaps.mean())
        cv = float(gaps.std() / mean) if mean > 0 else 0.0
        median = float(np.median(gaps))
        spread = float(np.median(np.abs(gaps - median)))
        rests = int((gaps >= rest).sum())
        rows.append((accounts[lo], n, days, median, spread, cv, rests, regularity_surprise(cv, len(gaps)),
                     rest_surprise(rests, days, params.rest_share), t[0], t[-1]))
    return pd.DataFrame(rows, columns=CADENCE_COLUMNS)


def schedule_groups(median_gaps: np.ndarray, tolerance: float) -> np.ndarray:
    """Group label per account: sorted by median gap, a new group starts where a gap exceeds the previous one's by
    more than ``tolerance`` (relative). O(A log A)."""
    if not len(median_gaps):
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(median_gaps, kind="mergesort")
    g = median_gaps[order]
    new = np.r_[True, g[1:] > g[:-1] * (1.0 + tolerance)]
    labels = np.empty(len(g), dtype=np.int64)
    labels[order] = np.cumsum(new) - 1
    return labels


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 2 * 3600 else f"{seconds / 3600:.1f} h"


def scored(c: pd.DataFrame) -> pd.DataFrame:
    """The accounts of ``cadences`` with evidence: ``surprise`` (the smaller of the two) and ``score`` (calibrated
    among all the accounts tested), those above 0 only. O(A)."""
    if c.empty:
        return c.assign(surprise=pd.Series(dtype=float), score=pd.Series(dtype=float))
    tested = len(c)
    c = c.assign(surprise=np.minimum(c["regular_surprise"], c["rest_surprise"]))
    c["score"] = [round(calibrated(x, tested), 6) for x in c["surprise"]]
    return c[c["score"] > 0].reset_index(drop=True)


def first_events(events: pd.DataFrame, accounts: set[str], n: int) -> dict[str, list[tuple[str, str]]]:
    """The first ``n`` events (kind, item id) of each of ``accounts``, from events sorted as
    ``activity_events`` sorts them. O(E)."""
    mine = events[events["account_id"].isin(accounts)]
    return {a: list(zip(g["kind"].head(n), g["item_id"].head(n))) for a, g in mine.groupby("account_id", sort=False)}


def detect_automated_accounts(events: pd.DataFrame,
                              params: AutomatedAccountParams = AutomatedAccountParams()) -> list[ClusterFinding]:
    """Accounts whose cadence fails both tests (see the module), grouped by shared schedule. Sorted by score, then
    members. O(E + A log A)."""
    c = cadences(events, params)
    flagged = scored(c)
    sample = first_events(events, set(flagged["account_id"]), params.max_evidence)
    return automated_findings(flagged, len(c), sample, params)


def automated_findings(flagged: pd.DataFrame, tested: int, sample: dict[str, list[tuple[str, str]]],
                       params: AutomatedAccountParams = AutomatedAccountParams()) -> list[ClusterFinding]:
    """The findings of the ``scored`` accounts among ``tested``: one per shared schedule, with ``sample`` events
    cited. O(A log A)."""
    if flagged.empty:
        return []
    c = flagged.assign(group=schedule_groups(flagged["median_gap"].to_numpy(dtype=float), params.period_tolerance))
    out = []
    for _, group in c.groupby("group", sort=True):
        members = sorted(group["account_id"])
        scores = dict(zip(group["account_id"], group["score"].astype(float)))
        lines = []
        for r in group.sort_values("account_id").itertuples(index=False):
            lines.append(f"{r.account_id}: an event every {_minutes(r.median_gap)} ± {_minutes(r.gap_spread)} "
                         f"over {r.days:.1f} days ({r.events} events, gaps' CV {r.cv:.2f}, people's is 1 or more), "
                         f"{r.rests} rests of {params.rest_hours:g} hours or more")
        shown = lines[:10] + ([f"... and {len(lines) - 10} more"] if len(lines) > 10 else [])
        who = "1 account runs" if len(members) == 1 else f"{len(members)} accounts run"
        text = (f"{who} on a program's clock, day and night: " + "; ".join(shown) + ". By chance a person's "
                f"cadence is this regular with p = 1e-{group['regular_surprise'].min():.1f} at most and rests this "
                f"rarely with p = 1e-{group['rest_surprise'].min():.1f} at most, among {tested:,} accounts tested.")
        evidence = [Evidence("account", tuple(members[:params.max_evidence]))]
        cited = [x for a in members for x in sample.get(a, ())][:params.max_evidence]
        for kind in sorted({k for k, _ in cited}):
            evidence.append(Evidence(kind, tuple(i for k, i in cited if k == kind)))
        evidence.append(Evidence("time_window", (iso_utc_epoch(group["first"].min()),
                                                 iso_utc_epoch(group["last"].max()))))
        out.append(ClusterFinding(DETECTOR, tuple(members), max(scores.values()),
                                  (Reason("automated_cadence", text, tuple(evidence)),), scores))
    return sorted(out, key=lambda f: (-f.score, f.members))
