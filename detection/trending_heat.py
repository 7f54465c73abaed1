"""Manufactured trending heat: accounts that push topics onto the trending list, and each entry's integrity.

A trending list ranks topics (hashtags, ``notes.topics``) by the engagement the notes carrying them draw. A heat
campaign (买热搜, 刷榜; on Twitter, Elmas, Overdorf, Özkalay and Aberer, "Ephemeral Astroturfing Attacks: The Case of
Fake Twitter Trends", EuroS&P 2021: bulk accounts push a keyword onto the list, then go quiet) hires accounts
to comment on and like a topic's notes in the hours before the operator wants
it on the list, and stops once it is there; the same workers push topic after topic for their clients. Organic
heat has look-alikes that any timing rule would flag: a celebrity's fans comment by the thousand in the minutes
after a concert starts, and fans engage every topic about their idol. What separates the campaign is *who* pushes
and *when relative to the rise*, tested here against stated null models:

* **Rises.** An entry rises when its topic is on the list at a capture and was not on it for ``absent_hours``
  before (while the list was captured), or climbs ``rank_jump`` places between two captures. Its engagement is
  every comment and (timed) like on a note carrying the topic: *before* the rise (``window_hours``) it made the
  rise; *around* it (``window_hours`` before to ``after_hours`` after) is everyone who cared.
* **Repeat pushers** (the finding that needs no other detector). Of the ``N`` accounts that engaged two topics
  around rises whose spans do not overlap, an organic engager's timing relative to each rise is independent of
  the other's (its interest in both topics may not be: fans engage both, which is why only the timing is
  tested), so it engaged both *before* their rises with probability ``q1 q2``, where ``q`` is the share of an
  entry's engagers around its rise who engaged before it. ``K`` such accounts have the binomial tail
  ``p = P(Binomial(N, q1 q2) >= K)``, tested for every pair of rises (Bonferroni over the pairs). Workers who
  push several entries for one operator stand out however old their accounts are; pairs that share members are
  one cluster (union-find), so an operation pushing four topics is one finding naming all of them.
* **Registered in a burst.** An entry's ``n`` pre-rise engagers include ``k`` accounts registered within
  ``burst_hours`` of each other, where the platform registered a share ``F`` of all its accounts: the binomial
  tail ``P(Binomial(n, F) >= k)`` (the background includes the pushers themselves, so a busy day of honest
  sign-ups, a campus's freshman wave, raises ``F`` and explains itself); tested at every engager's registration
  time as the window's start, Bonferroni over all of them.

Both surprises go on the calibrated scale (``calibration.calibrated``). The detector runs after the others
(``after_flagging``): the accounts they flagged are not evidence for its findings (a cluster cannot lift itself)
but enter each entry's integrity. **Integrity** of an entry = the share of its pre-rise comments and likes that did
*not* come from accounts flagged by the other detectors or found here pushing that entry (1: all organic, 0: all
manufactured); with the shares by source (flagged accounts, and among them each detector's: an entry pushed by a
comment ring in lockstep just before it rose shows ``lockstep``'s share, one pushed by a bulk farm
``registration_bursts``'), stored with the run (``DetectorResult.ratings``) for the app.

Reasons cite the entries, their rise times and ranks, the volumes and shares ("62 % of the 1,840 comments and likes
on #xyz in the 6 h before it entered the list at rank 3 ... came from 41 accounts registered within 2 h of each
other"). Time O(E log E) for E engagement events on trending topics, plus O(R^2) for R rises' pairs (sparse
products: only pairs that share engagers are formed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import binom

from ringscope.detection.calibration import calibrated
from ringscope.detection.findings import ClusterFinding, Evidence, RatedFindings, Reason, iso_utc_epoch
from ringscope.detection.scoring import FlaggedAccounts
from ringscope.detection.frames import epoch_seconds

DETECTOR = "trending_heat"
EVENT_COLUMNS = ["account_id", "topic", "at", "kind", "item_id"]
RISE_COLUMNS = ["entry_id", "topic", "at", "rank", "kind"]
_LN10 = math.log(10)
HOUR = 3600.0


@dataclass(frozen=True)
class TrendingHeatParams:
    """``window_hours``: the span before a rise whose engagement made it; ``after_hours``: the span after it that
    still counts as engaging around the rise; ``absent_hours``: how long a topic must have been off the list for
    its return to be a new rise; ``rank_jump``: places climbed between two captures that count as a rise;
    ``burst_hours``: the registration window of a burst; ``min_members``: the fewest accounts a finding names;
    ``min_events``: pre-rise comments and likes an entry needs to be rated; ``young_days``: accounts registered
    this close before a rise count as young (shown, not tested); ``min_score``: the least calibrated score a test
    needs to count (0.05: a family-wise surprise of 1, p 0.1 after the correction; below it chance explains the
    members); ``max_evidence``: ids cited per reason."""

    window_hours: float = 6.0
    after_hours: float = 6.0
    absent_hours: float = 12.0
    rank_jump: int = 10
    burst_hours: float = 2.0
    min_members: int = 5
    min_events: int = 20
    young_days: float = 30.0
    min_score: float = 0.05
    max_evidence: int = 20


# ---------------------------------------------------------------------------------------------- inputs

def entry_id(topic: str, at_seconds: float) -> str:
    """The key the graph gives the entry (``ingest.writers.trending_entry_id``: topic@epoch-milliseconds)."""
    return f"{topic}@{int(round(at_seconds * 1000))}"


def rises(trending: pd.DataFrame, params: TrendingHeatParams = TrendingHeatParams()) -> pd.DataFrame:
    """The rises of the list's entries (``RISE_COLUMNS``; ``at`` in seconds, ``kind`` ``entered`` or ``climbed``),
    by time then topic. A topic on the list at the first capture, or first seen less than ``absent_hours`` after
    it, has no rise the captures show. O(S log S) for S snapshot rows."""
    if trending is None or trending.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "at" else object) for c in RISE_COLUMNS})
    t = pd.DataFrame({"topic": trending["topic"].astype(str), "at": epoch_seconds(trending["captured_at"]),
                      "rank": pd.to_numeric(trending["rank"], errors="coerce")}).dropna()
    t = t.sort_values(["topic", "at", "rank"], kind="mergesort").drop_duplicates(["topic", "at"])
    captures = np.unique(t["at"].to_numpy())
    first = captures[0]
    previous_capture = dict(zip(captures[1:], captures[:-1]))
    absent = params.absent_hours * HOUR
    same = t["topic"].to_numpy()[1:] == t["topic"].to_numpy()[:-1]
    at, rank = t["at"].to_numpy(), t["rank"].to_numpy()
    prev_at = np.r_[np.nan, np.where(same, at[:-1], np.nan)]
    prev_rank = np.r_[np.nan, np.where(same, rank[:-1], np.nan)]
    entered = np.where(np.isnan(prev_at), at - first >= absent, at - prev_at >= absent)
    contiguous = np.array([previous_capture.get(a) == p for a, p in zip(at, prev_at)], dtype=bool)
    climbed = ~entered & contiguous & (prev_rank - rank >= params.rank_jump)
    keep = entered | climbed
    out = pd.DataFrame({"topic": t["topic"].to_numpy()[keep], "at": at[keep], "rank": rank[keep].astype(int),
                        "kind": np.where(entered[keep], "entered", "climbed")})
    out.insert(0, "entry_id", [entry_id(tp, a) for tp, a in zip(out["topic"], out["at"])])
    return out.sort_values(["at", "topic"], kind="mergesort").reset_index(drop=True)[RISE_COLUMNS]


def topic_events(topics: set[str], notes: pd.DataFrame, comments: pd.DataFrame | None,
                 likes: pd.DataFrame | None) -> pd.DataFrame:
    """Comments and timed likes on notes carrying one of ``topics`` (``EVENT_COLUMNS``: ``at`` in seconds; a like's
    ``item_id`` is its note), one row per topic of the note; sorted by topic, time, account. O(E log E)."""
    empty = pd.DataFrame({c: pd.Series(dtype=float if c == "at" else object) for c in EVENT_COLUMNS})
    if not topics or notes is None or notes.empty or "topics" not in notes:
        return empty
    tagged = notes[["note_id", "topics"]].dropna().explode("topics").dropna()
    tagged = tagged[tagged["topics"].isin(topics)].rename(columns={"topics": "topic"})
    if tagged.empty:
        return empty
    parts = []
    for frame, kind, time_col, id_col in ((comments, "comment", "created_at", "comment_id"),
                                          (likes, "like", "created_at", "note_id")):
        if frame is None or frame.empty or time_col not in frame:
            continue
        rows = frame[["account_id", "note_id", time_col] + ([id_col] if id_col != "note_id" else [])]
        rows = rows.merge(tagged, on="note_id", how="inner")
        if rows.empty:
            continue
        parts.append(pd.DataFrame({"account_id": rows["account_id"].astype(str).to_numpy(),
                                   "topic": rows["topic"].to_numpy(), "at": epoch_seconds(rows[time_col]),
                                   "kind": kind, "item_id": rows[id_col].astype(str).to_numpy()}))
    if not parts:
        return empty
    events = pd.concat(parts, ignore_index=True).dropna(subset=["at"])
    return events.sort_values(["topic", "at", "account_id", "item_id"], kind="mergesort").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- the tests

def binomial_surprise(k: int, n: int, p: float) -> float:
    """``-log10 P(Binomial(n, p) >= k)``; 0 when ``k`` is 0. O(1)."""
    if k <= 0 or n <= 0:
        return 0.0
    if p <= 0:
        return 300.0  # impossible under the null
    return max(0.0, -float(binom.logsf(k - 1, n, min(p, 1.0))) / _LN10)


@dataclass
class _Rise:
    index: int
    entry_id: str
    topic: str
    at: float
    rank: int
    kind: str
    before: pd.DataFrame     # its pre-rise events
    around: np.ndarray       # accounts engaging around it (sorted unique)
    pushers: np.ndarray      # accounts engaging before it (sorted unique)


def _rise_events(rise_rows: pd.DataFrame, events: pd.DataFrame, params: TrendingHeatParams) -> list[_Rise]:
    window, after = params.window_hours * HOUR, params.after_hours * HOUR
    by_topic = {topic: (g["at"].to_numpy(), g) for topic, g in events.groupby("topic", sort=False)}
    out = []
    for i, r in enumerate(rise_rows.itertuples(index=False)):
        at, group = by_topic.get(r.topic, (np.zeros(0), events.iloc[:0]))
        lo, mid, hi = np.searchsorted(at, [r.at - window, r.at, r.at + after], side="left")
        before = group.iloc[lo:mid]
        around = np.unique(group["account_id"].to_numpy()[lo:hi].astype(str))
        pushers = np.unique(before["account_id"].to_numpy().astype(str))
        out.append(_Rise(i, r.entry_id, r.topic, float(r.at), int(r.rank), r.kind, before, around, pushers))
    return out


@dataclass
class _Push:
    """A significant test: ``rises`` pushed by ``members`` with ``surprise`` among ``tests``."""

    kind: str  # "repeat" or "burst"
    rises: tuple[int, ...]
    members: np.ndarray
    surprise: float
    score: float
    text: str


def repeat_pushes(rs: list[_Rise], params: TrendingHeatParams) -> list[_Push]:
    """Pairs of rises with more accounts engaging both before their rises than timing explains (see the module).
    O(R^2 + E) with sparse products."""
    if len(rs) < 2:
        return []
    accounts = np.unique(np.concatenate([r.around for r in rs] + [np.zeros(0, dtype=object)]).astype(str))
    if not accounts.size:
        return []

    def matrix(attr: str) -> sparse.csr_matrix:
        rows = np.concatenate([np.full(getattr(r, attr).size, r.index) for r in rs])
        cols = np.concatenate([np.searchsorted(accounts, getattr(r, attr)) for r in rs])
        return sparse.csr_matrix((np.ones(rows.size, np.int32), (rows, cols)), shape=(len(rs), accounts.size))

    pushed, engaged = matrix("pushers"), matrix("around")
    both = (pushed @ pushed.T).tocoo()
    shared = engaged @ engaged.T
    around = shared.tocsr()
    q = np.array([r.pushers.size / r.around.size if r.around.size else 0.0 for r in rs])
    at = np.array([r.at for r in rs])
    apart = (params.window_hours + params.after_hours) * HOUR
    keep = (both.row < both.col) & (both.data >= params.min_members) & (np.abs(at[both.row] - at[both.col]) >= apart)
    i, j, k = both.row[keep], both.col[keep], both.data[keep]
    # Every pair of separate rises sharing enough engagers around them is a test (one count however many pass).
    tested = shared.tocoo()
    ok = (tested.row < tested.col) & (tested.data >= params.min_members) \
        & (np.abs(at[tested.row] - at[tested.col]) >= apart)
    tests = max(int(ok.sum()), 1)
    out = []
    for a, b, kk in zip(i, j, k):
        n = int(around[a, b])
        p = q[a] * q[b]
        surprise = binomial_surprise(int(kk), n, p)
        score = calibrated(surprise, tests)
        if score < params.min_score:
            continue
        members = np.intersect1d(rs[a].pushers, rs[b].pushers)
        text = (f"{kk:,} of the {n:,} accounts that engaged both {rs[a].topic} and {rs[b].topic} around their rises "
                f"did so before each rose ({_when(rs[a])}; {_when(rs[b])}), where timing explains {n * p:.1f} "
                f"(a share {q[a]:.0%} of {rs[a].topic}'s engagers came before its rise, {q[b]:.0%} of "
                f"{rs[b].topic}'s): p = 1e-{surprise:.1f} among {tests:,} pairs of rises tested")
        out.append(_Push("repeat", (int(a), int(b)), members, surprise, score, text))
    return out


@dataclass(frozen=True)
class Registrations:
    """When accounts registered, in seconds since the epoch: ``times`` of the accounts a run asks about (indexed by
    account id: the engagers of the rising topics are enough; an account's first row, rows without a time left
    out), and ``platform``: every account's time, sorted (the null's share of the platform's registrations in a
    window). Apart so that a platform's accounts need not all come to one process by id (``spark.trending_heat``
    sends the engagers' ids and the platform's times only)."""

    times: pd.Series
    platform: np.ndarray

    @classmethod
    def of(cls, registered: pd.DataFrame | None) -> "Registrations":
        """From ``account_id, registered_at`` rows of every account. O(A log A)."""
        if registered is None or registered.empty:
            return cls(pd.Series(dtype=float), np.zeros(0))
        times = pd.Series(epoch_seconds(registered["registered_at"]),
                          index=registered["account_id"].astype(str).to_numpy())
        times = times[~times.index.duplicated()].dropna()
        return cls(times, np.sort(times.to_numpy()))


def burst_pushes(rs: list[_Rise], registered: Registrations, params: TrendingHeatParams) -> list[_Push]:
    """Per rise, the registration window (``burst_hours``) holding more of its pushers than the platform's own
    registrations there explain (see the module); the best window of each rise. O(P log A) for P pushers."""
    platform = registered.platform
    if not platform.size:
        return []
    reg = registered.times
    total = platform.size
    width = params.burst_hours * HOUR
    candidates = []
    tests = 0
    for r in rs:
        if r.pushers.size < params.min_members:
            continue
        known = reg.reindex(r.pushers).dropna()
        times = np.sort(known.to_numpy())
        n = times.size
        tests += n
        if n < params.min_members:
            continue
        ends = np.searchsorted(times, times + width, side="left")
        k = ends - np.arange(n)
        share = (np.searchsorted(platform, times + width, side="left") - np.searchsorted(platform, times, "left")) \
            / total
        best, best_s = -1, 0.0
        for s in np.flatnonzero(k >= params.min_members):
            surprise = binomial_surprise(int(k[s]), n, float(share[s]))
            if surprise > best_s:
                best, best_s = int(s), surprise
        if best >= 0:
            start = times[best]
            members = np.sort(known.index[(known >= start) & (known < start + width)].to_numpy().astype(str))
            candidates.append((r, members, best_s, int(k[best]), n, float(share[best]) * n, start))
    out = []
    for r, members, surprise, k, n, expected, start in candidates:
        score = calibrated(surprise, max(tests, 1))
        if score < params.min_score:
            continue
        text = (f"{k:,} of the {n:,} accounts that engaged {r.topic} before it {_when(r)} were registered within "
                f"{params.burst_hours:g} h of each other ({iso_utc_epoch(start)} to "
                f"{iso_utc_epoch(start + width)}), where the platform's own registrations explain {expected:.1f}: "
                f"p = 1e-{surprise:.1f} among {tests:,} windows tested")
        out.append(_Push("burst", (r.index,), members, surprise, score, text))
    return out


def _when(r: _Rise) -> str:
    verb = "entered the list" if r.kind == "entered" else "climbed"
    return f"{verb} at rank {r.rank} at {iso_utc_epoch(r.at)}"


# ---------------------------------------------------------------------------------------------- findings

def _union(pushes: list[_Push]) -> list[list[int]]:
    """Groups of pushes sharing a member (union-find over the pushes). O(M log M) for M member slots."""
    parent = list(range(len(pushes)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    owner: dict[str, int] = {}
    for p, push in enumerate(pushes):
        for a in push.members:
            if a in owner:
                parent[find(p)] = find(owner[a])
            else:
                owner[a] = p
    groups: dict[int, list[int]] = {}
    for p in range(len(pushes)):
        groups.setdefault(find(p), []).append(p)
    return list(groups.values())


def _share_line(r: _Rise, members: set[str], what: str, hours: float) -> str:
    accounts = r.before["account_id"].astype(str)
    mine = accounts.isin(members)
    total = len(accounts)
    n = int(mine.sum())
    who = int(accounts[mine].nunique())
    return (f"{n / total:.0%} of the {total:,} comments and likes on {r.topic} in the {hours:g} h before it "
            f"{_when(r)} came from {who:,} {what}")


def detect_trending_heat(trending: pd.DataFrame, notes: pd.DataFrame, comments: pd.DataFrame | None,
                         likes: pd.DataFrame | None, registered: "pd.DataFrame | Registrations", flagged=(),
                         params: TrendingHeatParams = TrendingHeatParams()) -> RatedFindings:
    """The clusters that pushed entries onto the list and every rise's integrity (see the module). ``registered``:
    ``account_id, registered_at`` of the platform's accounts, or their ``Registrations``; ``flagged``: the accounts the other detectors
    flagged (ids; a ``scoring.FlaggedAccounts`` also names the detectors with evidence on each, so a rating says
    which detectors' accounts its engagement came from). O(E log E + R^2)."""
    rise_rows = rises(trending, params)
    if rise_rows.empty:
        return RatedFindings([], [])
    events = topic_events(set(rise_rows["topic"]), notes, comments, likes)
    rs = _rise_events(rise_rows, events, params)
    if not isinstance(registered, Registrations):
        registered = Registrations.of(registered)
    pushes = repeat_pushes(rs, params) + burst_pushes(rs, registered, params)
    findings: list[ClusterFinding] = []
    by_rise: dict[int, set[str]] = {}
    keys_by_rise: dict[int, list[str]] = {}
    for group in _union(pushes):
        mine = [pushes[p] for p in group]
        member_scores: dict[str, float] = {}
        for push in mine:
            for a in push.members:
                member_scores[a] = max(member_scores.get(a, 0.0), push.score)
        members = sorted(member_scores)
        if len(members) < params.min_members:
            continue
        pushed = sorted({i for push in mine for i in push.rises}, key=lambda i: rs[i].at)
        lines = []
        for i in pushed:
            lines.append(_share_line(rs[i], set(members), "accounts of this cluster", params.window_hours))
        head = (f"{len(members):,} accounts pushed {len(pushed)} entr{'y' if len(pushed) == 1 else 'ies'} onto the "
                f"trending list: " + "; ".join(lines) + ".")
        reasons = [Reason("trending_heat", head, (
            Evidence("account", tuple(members[:params.max_evidence])),
            Evidence("trending_entry", tuple(rs[i].entry_id for i in pushed)),
            *_cited(rs, pushed, set(members), params),
        ))]
        for push in sorted(mine, key=lambda p: -p.surprise)[:5]:
            window = (iso_utc_epoch(min(rs[i].at for i in push.rises) - params.window_hours * HOUR),
                      iso_utc_epoch(max(rs[i].at for i in push.rises)))
            reasons.append(Reason("repeat_pusher" if push.kind == "repeat" else "heat_burst", push.text + ".",
                                  (Evidence("account", tuple(push.members[:params.max_evidence])),
                                   Evidence("time_window", window))))
        finding = ClusterFinding(DETECTOR, tuple(members), max(member_scores.values()), tuple(reasons),
                                 {a: round(s, 6) for a, s in member_scores.items()})
        findings.append(finding)
        for i in pushed:
            by_rise.setdefault(i, set()).update(members)
            keys_by_rise.setdefault(i, []).append(finding.key)
    flagged_by = flagged.detectors if isinstance(flagged, FlaggedAccounts) else {}
    ratings = entry_ratings(rs, by_rise, keys_by_rise, set(map(str, flagged)), registered, params, flagged_by)
    return RatedFindings(sorted(findings, key=lambda f: (-f.score, f.members)), ratings)


def _cited(rs: list[_Rise], pushed: list[int], members: set[str], params: TrendingHeatParams) -> list[Evidence]:
    comments, notes = [], []
    for i in pushed:
        b = rs[i].before
        mine = b[b["account_id"].astype(str).isin(members)]
        comments.extend(mine.loc[mine["kind"] == "comment", "item_id"].head(params.max_evidence))
        notes.extend(mine.loc[mine["kind"] == "like", "item_id"].head(params.max_evidence))
    out = []
    if comments:
        out.append(Evidence("comment", tuple(comments[:params.max_evidence])))
    if notes:
        out.append(Evidence("note", tuple(dict.fromkeys(notes))[:params.max_evidence]))
    return out


def entry_ratings(rs: list[_Rise], by_rise: dict[int, set[str]], keys_by_rise: dict[int, list[str]],
                  flagged: set[str], registered: Registrations, params: TrendingHeatParams,
                  flagged_by: Mapping[str, Sequence[str]] | None = None) -> list[dict]:
    """Per rise: its pre-rise volume, the shares from flagged accounts (and, with ``flagged_by``, from the
    accounts each detector found among them: ``flagged_by_detector``, largest first, e.g. how much came from
    accounts commenting in lockstep or registered in a burst), from this detector's clusters and from young
    accounts, and its integrity (None below ``min_events``). JSON-safe dicts, by time. O(E)."""
    out = []
    for r in rs:
        accounts = r.before["account_id"].astype(str).to_numpy()
        n = accounts.size
        pushed = by_rise.get(r.index, set())
        from_flagged = np.fromiter((a in flagged for a in accounts), bool, n)
        from_clusters = np.fromiter((a in pushed for a in accounts), bool, n)
        young_cut = r.at - params.young_days * 86400.0
        young = registered.times.reindex(accounts).fillna(-math.inf).to_numpy(dtype=float) >= young_cut
        share = (lambda mask: round(float(mask.mean()), 4) if n else None)
        out.append({
            "entry_id": r.entry_id, "topic": r.topic, "rose_at": iso_utc_epoch(r.at), "rank": r.rank,
            "kind": r.kind, "events_before": int(n), "accounts_before": int(np.unique(accounts).size),
            "engagers_around": int(r.around.size), "flagged_share": share(from_flagged),
            "cluster_share": share(from_clusters), "young_share": share(young),
            "integrity": round(1.0 - float((from_flagged | from_clusters).mean()), 4) if n >= params.min_events
            else None,
            "clusters": keys_by_rise.get(r.index, []),
            "flagged_by_detector": _shares_by_detector(accounts, flagged, flagged_by or {}),
        })
    return out


def _shares_by_detector(accounts: np.ndarray, flagged: set[str], flagged_by: Mapping[str, Sequence[str]]
                        ) -> dict[str, float]:
    """Per detector, the share of the events by ``accounts`` that came from flagged accounts it has evidence on
    (an account found by two counts for both), those above 0, largest first. O(n)."""
    n = accounts.size
    if not n or not flagged_by:
        return {}
    counts: dict[str, int] = {}
    for a in accounts:
        if a in flagged:
            for d in flagged_by.get(a, ()):
                counts[d] = counts.get(d, 0) + 1
    return {d: round(c / n, 4) for d, c in sorted(counts.items(), key=lambda x: (-x[1], x[0]))}
