"""Bought engagement: bursts of likes/follows from one group, and audience-disproportionate accounts.

Signals (Beutel et al., CopyCatch, WWW 2013, for Page likes arriving in
lockstep; Jiang, Cui, Beutel, Faloutsos & Yang, "CatchSync: Catching
Synchronized Behavior in Large Directed Graphs", KDD 2014, for follower
bursts; Kleinberg, "Bursty and Hierarchical Structure in Streams", KDD 2002,
for bursts as rate excess over a baseline):

1. :func:`engagement_bursts` - on one target (a note's author for likes, the
   followed account for follows), a window of ``window`` holding at least
   ``min_events`` events and ``min_ratio`` times what the target's own rate
   predicts.  The baseline rate is the target's events over
   max(its active span, ``baseline_span``), so a target whose whole
   engagement arrived in ten minutes still has a low baseline.
2. :func:`burst_groups` - accounts that engage together in at least
   ``min_shared_bursts`` bursts (different targets or times): "one group of
   accounts" doing the buying, clustered as connected components and scored
   against chance (:func:`pair_surprise`, :func:`group_surprise`: an
   account in many bursts meets others often; on a platform of millions two
   accounts meet twice by chance, a group of dozens meeting again and again
   never does). A burst
   that no group repeats is evidence about its target, not its engagers (a
   viral note draws the same), so alone it never flags (``max_single_score``).
3. :func:`audience_disproportion` - accounts whose likes received are out of
   proportion to their followers: robust z-score of log((likes+1)/(followers+1))
   against the population (median/MAD).

All functions are pure, deterministic (sorted output, seeded subsampling) and
avoid all-pairs work: pairs are only formed inside a burst, capped at
``max_burst_size`` actors.  :func:`detect_engagement` reads the frames and
ends with :func:`engagement_findings`; the Spark engine (``spark/engagement.py``)
feeds that same function with the bursts of batches of whole targets and the
statistics of :func:`disproportionate_authors` over per-author counts.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

from ringscope.detection.calibration import calibrated
from ringscope.detection.findings import ClusterFinding, Evidence, Reason, iso_utc
from ringscope.detection.frames import epoch_ns
from ringscope.detection.shared_infrastructure import unique_ints

DETECTOR = "engagement"
PAIR_BLOCK = 1 << 23  # within-burst actor pairs counted at once in repeated_pairs (~8 M: a few hundred MB)
EVENT_COLUMNS = ["actor", "target", "object_id", "created_at", "kind"]
BURST_COLUMNS = ["burst_id", "kind", "target", "start", "end", "n_events", "expected", "ratio", "actors",
                 "objects"]
DISPROPORTION_COLUMNS = ["account_id", "likes_received", "followers", "z", "top_notes"]


@dataclass(frozen=True)
class EngagementParams:
    """Thresholds of :func:`detect_engagement` (see the module docstring)."""

    window: pd.Timedelta = pd.Timedelta(minutes=10)
    min_events: int = 10
    min_ratio: float = 10.0
    baseline_span: pd.Timedelta = pd.Timedelta(days=7)
    min_shared_bursts: int = 2
    max_burst_size: int = 500
    min_single_size: int = 30
    min_single_ratio: float = 50.0
    max_single_score: float = 0.5
    min_likes: int = 100
    min_z: float = 4.0
    max_evidence: int = 2000
    seed: int = 0


def engagement_events(
    likes: pd.DataFrame | None, notes: pd.DataFrame | None, follows: pd.DataFrame | None
) -> pd.DataFrame:
    """Likes and follows as one event list ``actor, target, object_id, created_at, kind``.

    A like's target is the liked note's author (``object_id`` the note); a
    follow's target is the followed account (``object_id`` the same).  Rows
    without a timestamp or a known note author are dropped (:func:`ordered_events`).
    O(n) hash joins.
    """
    parts = []
    if likes is not None and len(likes) and notes is not None and len(notes):
        lk = likes.merge(notes[["note_id", "account_id"]].rename(columns={"account_id": "target"}), on="note_id")
        parts.append(pd.DataFrame({"actor": lk["account_id"], "target": lk["target"], "object_id": lk["note_id"],
                                   "created_at": lk["created_at"], "kind": "like"}))
    if follows is not None and len(follows):
        parts.append(pd.DataFrame({"actor": follows["account_id"], "target": follows["target_account_id"],
                                   "object_id": follows["target_account_id"], "created_at": follows["created_at"],
                                   "kind": "follow"}))
    if not parts:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    return ordered_events(pd.concat(parts, ignore_index=True))


def ordered_events(events: pd.DataFrame) -> pd.DataFrame:
    """Raw events ``actor, target, object_id, created_at, kind`` as :func:`engagement_events` gives them:
    rows without a timestamp, actor or target dropped, and self-engagement (actor == target); ids as
    strings, times as UTC; sorted by (kind, target, created_at, actor, object_id). Each row is kept or
    dropped on its own values, so any subset of the events gives the matching subset of the result (the
    Spark engine runs this on batches of whole targets). O(n log n).
    """
    cols = EVENT_COLUMNS
    ev = events.dropna(subset=["created_at", "actor", "target"])
    ev = ev.astype({"actor": str, "target": str, "object_id": str})
    ev["created_at"] = pd.to_datetime(ev["created_at"], utc=True)
    ev = ev[ev["actor"] != ev["target"]][cols]
    # sort_values(["kind", "target", "created_at", "actor", "object_id"]) as one lexsort of sorted codes
    # (what pandas does inside, without its per-column categoricals: half the time at 6.7 M events)
    keys = [pd.factorize(ev[c], sort=True)[0] for c in ("object_id", "actor")]
    keys += [epoch_ns(ev["created_at"])] + [pd.factorize(ev[c], sort=True)[0] for c in ("target", "kind")]
    return ev.iloc[np.lexsort(keys)].reset_index(drop=True)


def engagement_bursts(events: pd.DataFrame, params: EngagementParams = EngagementParams(),
                      presorted: bool = False) -> pd.DataFrame:
    """Bursts of engagement on one target (per kind), greedy non-overlapping windows.

    Returns ``burst_id, kind, target, start, end, n_events, expected, ratio,
    actors (tuple), objects (tuple)`` sorted by (kind, target, start).
    ``expected`` = target's events * window / max(active span, baseline_span).
    Time O(E log E) (one sort, one vectorised searchsorted) plus a Python loop
    over candidate windows only. ``presorted``: ``events`` are already in
    ``engagement_events``' order (kind, target, created_at, actor, object_id),
    so the sort is skipped (at 1 M accounts it is ~10 s of 6.7 M events).
    """
    cols = BURST_COLUMNS
    if events.empty:
        return pd.DataFrame(columns=cols)
    if not presorted:
        events = events.sort_values(["kind", "target", "created_at", "actor", "object_id"])
    ev = events.reset_index(drop=True)
    # Groups (kind, target) are runs of the sorted rows: numbered in sorted order, as factorize(sort=True) would.
    # Integer codes, not the values as Python objects: equal codes are equal values, and at 1 M accounts
    # the two object arrays of 6.7 M strings were 0.9 GB of the detector's 2.8 GB peak.
    kind, target = pd.factorize(ev["kind"])[0], pd.factorize(ev["target"])[0]
    code = np.cumsum(np.r_[True, (kind[1:] != kind[:-1]) | (target[1:] != target[:-1])]) - 1
    t_sec = epoch_ns(ev["created_at"]) // 1_000_000_000
    t_rel = t_sec - t_sec.min()
    if t_rel.max() >= 2**32:
        raise ValueError("time span too long for burst keys")
    key = (code.astype(np.int64) << 32) | t_rel
    w = int(pd.Timedelta(params.window).total_seconds())
    j = np.searchsorted(key, key + w, side="left")  # first event at or after t + window
    n = j - np.arange(len(key))
    g = pd.DataFrame({"code": code, "t": t_sec})
    stats = g.groupby("code")["t"].agg(["size", "min", "max"])
    span = np.maximum((stats["max"] - stats["min"]).to_numpy(), int(params.baseline_span.total_seconds()))
    rate = stats["size"].to_numpy() / span
    expected = rate[code] * w
    cand = np.flatnonzero((n >= params.min_events) & (n >= params.min_ratio * expected))
    # greedy non-overlapping windows: a loop over candidate positions only (plain ints)
    chosen: list[int] = []
    last_end = -1
    for i in cand.tolist():
        if i < last_end:
            continue
        chosen.append(i)
        last_end = int(j[i])
    sel = np.asarray(chosen, dtype=np.int64)
    ends = j[sel]
    created = ev["created_at"]
    out = pd.DataFrame(list(zip(
        ev["kind"].iloc[sel].tolist(), ev["target"].iloc[sel].tolist(),
        created.iloc[sel].tolist(), created.iloc[ends - 1].tolist(),
        (ends - sel).tolist(), expected[sel].astype(float).tolist(),
        (n[sel] / np.maximum(expected[sel], 1e-9)).astype(float).tolist(),
        _distinct_per_window(ev["actor"], sel, ends), _distinct_per_window(ev["object_id"], sel, ends),
    )), columns=cols[1:])
    out.insert(0, "burst_id", [f"{k}:{t}:{s.isoformat()}" for k, t, s in zip(out["kind"], out["target"], out["start"])])
    return out.sort_values(["kind", "target", "start"]).reset_index(drop=True)


def _distinct_per_window(values: pd.Series, starts: np.ndarray, ends: np.ndarray) -> list[tuple]:
    """For each row window ``starts[k]:ends[k]`` of ``values``, its distinct values as a sorted tuple.

    One sorted factorisation (code order = string order) and one sort of the
    (window, code) keys, instead of a set and a sort per window.
    O(W log W) for W rows in all windows.
    """
    if not len(starts):
        return []
    sizes = ends - starts
    rows = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes) + np.arange(int(sizes.sum()))
    window = np.repeat(np.arange(len(starts), dtype=np.int64), sizes)
    present = np.unique(rows)
    codes, uniques = pd.factorize(values.iloc[present], sort=True)  # only the rows in some window
    codes = codes[np.searchsorted(present, rows)]
    key = unique_ints(window * max(len(uniques), 1) + codes)
    owner, code = key // max(len(uniques), 1), key % max(len(uniques), 1)
    names = np.asarray(uniques, dtype=object)[code]
    bounds = np.searchsorted(owner, np.arange(len(starts) + 1))
    return [tuple(names[bounds[k]:bounds[k + 1]].tolist()) for k in range(len(starts))]


@dataclass(frozen=True)
class BurstActors:
    """The actors pairs are formed among, one row per (burst, actor): ``actors`` the sorted distinct ids,
    ``codes`` each row's actor as a code into them (bursts in row order, actors sorted within), ``sizes``
    each burst's row count."""

    actors: pd.Index
    codes: np.ndarray
    sizes: np.ndarray

    def degrees(self) -> np.ndarray:
        """How many bursts each actor is in (by code). O(rows)."""
        return np.bincount(self.codes, minlength=len(self.actors))


def burst_actors(bursts: pd.DataFrame, params: EngagementParams = EngagementParams()) -> BurstActors:
    """Each burst's actors, at most ``max_burst_size`` of them, kept by a seeded hash rank (CRC-32 of seed,
    burst id, actor), as codes. O(sum of burst sizes)."""
    lists = []
    for bid, actors in zip(bursts["burst_id"], bursts["actors"]):
        acts = list(actors)
        if len(acts) > params.max_burst_size:
            rank = [zlib.crc32(f"{params.seed}\x1f{bid}\x1f{a}".encode("utf-8")) for a in acts]
            acts = sorted(a for _, a in sorted(zip(rank, acts))[: params.max_burst_size])
        lists.append(sorted(acts))
    sizes = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    codes, actors = pd.factorize(pd.Series([a for acts in lists for a in acts], dtype=object), sort=True)
    return BurstActors(pd.Index(actors), codes.astype(np.int64), sizes)


def repeated_pairs(bursts: pd.DataFrame, params: EngagementParams = EngagementParams(),
                   members: BurstActors | None = None
                   ) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Actor pairs that engaged together in >= ``min_shared_bursts`` bursts, as arrays.

    Returns ``(actors, a, b, pair, burst)``: ``actors`` the sorted distinct actor
    ids; ``a < b`` codes into it, one per kept pair, in (a, b) order; ``pair``/
    ``burst`` one entry per (kept pair, shared burst row), in pair then burst
    order. Pairs are only formed inside a burst, whose actors are capped at
    ``max_burst_size`` by a seeded hash rank (CRC-32 of seed, burst id, actor).
    The pairs are counted in blocks of their first actor's code, about
    ``PAIR_BLOCK`` pairs at a time: all of them at once took 12.6 GiB for the 10 M
    platform's 1.16 M bursts (benchmarks/results/spark_detection.md, 2026-12-06).
    Time O(sum_b min(|b|, C)^2) vectorised (one sort of each block's pair keys).
    """
    empty = np.empty(0, np.int64)
    if bursts.empty:
        return pd.Index([], dtype=object), empty, empty, empty, empty
    members = members or burst_actors(bursts, params)
    actors, codes, sizes = members.actors, members.codes, members.sizes
    n = max(len(actors), 1)
    starts = np.cumsum(sizes) - sizes
    # each row's partners after it in its burst (actors are sorted in a burst: a pair's first actor is the row's)
    followers = np.repeat(sizes, sizes) - 1 - (np.arange(len(codes), dtype=np.int64) - np.repeat(starts, sizes))
    burst_row = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    # blocks of first-actor codes of about PAIR_BLOCK pairs each, in code order: (a, b) order across blocks
    per_code = np.bincount(codes, weights=followers, minlength=n)
    block_of_code = ((np.cumsum(per_code) - per_code) // PAIR_BLOCK).astype(np.int64)
    block = block_of_code[codes]
    by_block = np.argsort(block, kind="stable")              # rows of a block in row (so burst) order
    cuts = np.flatnonzero(np.r_[True, block[by_block][1:] != block[by_block][:-1], True])
    out_a, out_b, out_pair, out_burst, pairs_before = [], [], [], [], 0
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        left_rows = by_block[lo:hi]
        count = followers[left_rows]
        li = np.repeat(left_rows, count)
        ri = li + np.arange(len(li), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count) + 1
        key = codes[li].astype(np.int64) * n + codes[ri]
        burst_of = burst_row[li]
        del li, ri
        order = np.argsort(key, kind="stable")               # burst order kept inside a pair
        key, burst_of = key[order], burst_of[order]
        first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
        pair_of = np.cumsum(first) - 1
        shared = np.bincount(pair_of, minlength=int(first.sum()))
        kept = shared >= params.min_shared_bursts
        entry = kept[pair_of]
        ukey = key[first][kept]
        out_a.append(ukey // n)
        out_b.append(ukey % n)
        out_pair.append((np.cumsum(kept) - 1)[pair_of[entry]] + pairs_before)
        out_burst.append(burst_of[entry])
        pairs_before += len(ukey)
    joined = [np.concatenate(x) if x else empty for x in (out_a, out_b, out_pair, out_burst)]
    return actors, *joined


def pair_surprise(shared: np.ndarray, degree_a: np.ndarray, degree_b: np.ndarray, slots: int,
                  pair_slots: int) -> np.ndarray:
    """-log10 P(X >= shared) per pair of accounts, X ~ Poisson(lambda): how unlikely it is that two accounts
    in ``degree_a`` and ``degree_b`` bursts meet in ``shared`` of them if each account's bursts were drawn at
    random (the configuration model: an account's places in bursts are spread over all ``slots`` places, so
    two of its and the other's places fall in one burst with probability ``pair_slots / slots^2``, with
    ``pair_slots`` = sum of s(s - 1) over bursts of s actors; Newman, *Networks*, 2010, ch. 13).
    lambda = degree_a x degree_b x pair_slots / slots^2. Where the tail underflows (hundreds of shared
    bursts), its first term, a lower bound of the surprise. O(pairs)."""
    lam = np.asarray(degree_a, float) * np.asarray(degree_b, float) * pair_slots / max(float(slots), 1.0) ** 2
    lam = np.maximum(lam, 1e-300)
    k = np.asarray(shared, float)
    return -np.maximum(stats.poisson.logsf(k - 1, lam), stats.poisson.logpmf(k, lam)) / np.log(10)


def group_surprise(pair_surprises: float, members: int, candidates: int) -> float:
    """A repeated-pair group's family-wise surprise: the sum of its pairs' surprises (:func:`pair_surprise`;
    treated as independent given each account's bursts), less the tests a group of ``members`` stands for
    among ``candidates`` accounts that could repeat (in two bursts or more): log10 of the pairs for its first
    two, and log10(candidates) for each further member (Bonferroni over the ways to grow a connected group).
    Floored at 0. O(1)."""
    n = max(int(candidates), 2)
    tests = np.log10(n * (n - 1) / 2) + max(int(members) - 2, 0) * np.log10(n)
    return max(0.0, float(pair_surprises) - float(tests))


def burst_groups(bursts: pd.DataFrame, params: EngagementParams = EngagementParams()) -> nx.Graph:
    """Graph of actors who engaged together in >= ``min_shared_bursts`` bursts.

    Edge attribute ``bursts`` lists the shared burst ids. Pairs are only
    formed inside a burst, whose actors are capped at ``max_burst_size`` by a
    seeded hash rank (:func:`repeated_pairs`). Time O(sum_b min(|b|, C)^2).
    """
    g = nx.Graph()
    actors, a, b, pair, burst = repeated_pairs(bursts, params)
    ids = bursts["burst_id"].to_numpy() if not bursts.empty else np.empty(0, object)
    bounds = np.searchsorted(pair, np.arange(len(a) + 1))
    for k, (x, y) in enumerate(zip(actors[a], actors[b])):
        g.add_edge(x, y, bursts=tuple(sorted(ids[burst[bounds[k]:bounds[k + 1]]].tolist())))
    return g


def _split_by(label: np.ndarray, values: np.ndarray) -> dict[int, np.ndarray]:
    """``values`` grouped by ``label`` (each group in input order). O(n log n)."""
    order = np.argsort(label, kind="stable")
    label, values = label[order], values[order]
    cuts = np.flatnonzero(np.r_[True, label[1:] != label[:-1]]) if len(label) else np.empty(0, np.int64)
    return {int(label[c]): part for c, part in zip(cuts, np.split(values, cuts[1:]))}


def _burst_reason(bs: pd.DataFrame, n_members: int, params: EngagementParams, shared: bool) -> Reason:
    windows = "; ".join(
        f"{r.n_events} {r.kind}s on {r.target} between {iso_utc(r.start)} and {iso_utc(r.end)} "
        f"({r.ratio:.0f}x its usual rate)" for r in bs.head(5).itertuples()
    )
    actors = sorted({a for acts in bs["actors"] for a in acts})
    text = (f"{n_members} accounts engaged together in {len(bs)} bursts" if shared
            else f"A burst of engagement from {n_members} accounts") + f": {windows}" + (" ..." if len(bs) > 5 else "") + "."
    liked = sorted({o for objs in bs.loc[bs["kind"] == "like", "objects"] for o in objs})
    ev = [Evidence("account", tuple(actors[: params.max_evidence])),
          Evidence("time_window", (iso_utc(bs["start"].min()), iso_utc(bs["end"].max())))]
    if liked:
        ev.append(Evidence("note", tuple(liked[: params.max_evidence])))
    ev.append(Evidence("account", tuple(sorted(set(bs["target"])))))
    return Reason("engagement_burst", text, tuple(ev))


def audience_disproportion(
    likes: pd.DataFrame | None,
    notes: pd.DataFrame | None,
    accounts: pd.DataFrame | None = None,
    follows: pd.DataFrame | None = None,
    params: EngagementParams = EngagementParams(),
) -> pd.DataFrame:
    """Authors whose likes received are out of proportion to their followers.

    Followers = ``accounts.followers`` when present, else in-degree in
    ``follows``.  r = log((likes + 1) / (followers + 1)); z = (r - median) /
    (1.4826 * MAD) over all authors with likes; rows with likes >=
    ``min_likes`` and z >= ``min_z`` are returned as ``account_id,
    likes_received, followers, z, top_notes`` sorted by z descending
    (:func:`disproportionate_authors`, :func:`with_top_notes`).
    O(L + A log A).
    """
    if likes is None or notes is None or likes.empty or notes.empty:
        return pd.DataFrame(columns=DISPROPORTION_COLUMNS)
    lk = likes.merge(notes[["note_id", "account_id"]].rename(columns={"account_id": "author"}), on="note_id")
    per_note = lk.groupby(["author", "note_id"]).size().rename("n").reset_index()
    if accounts is not None and "followers" in accounts:
        followers = accounts.set_index(accounts["account_id"].astype(str))["followers"]
    elif follows is not None and len(follows):
        followers = follows.groupby(follows["target_account_id"].astype(str)).size()
    else:
        return pd.DataFrame(columns=DISPROPORTION_COLUMNS)
    hits = disproportionate_authors(per_note.groupby("author")["n"].sum(), followers, params)
    return with_top_notes(hits, per_note)


def disproportionate_authors(received: pd.Series, followers: pd.Series,
                             params: EngagementParams = EngagementParams()) -> pd.DataFrame:
    """The authors out of proportion, from ``received`` (likes per author, indexed by every author with a
    like) and ``followers`` (indexed by account id: raw counts, read as numbers, unreadable ones and
    authors it lacks as 0; it may hold other accounts too).

    r = log((likes + 1) / (followers + 1)), z = (r - median) / max(1.4826 * MAD, 0.25) over all of
    ``received``; returns ``account_id, likes_received, followers, z`` of the authors with likes >=
    ``min_likes`` and z >= ``min_z``, sorted by z descending then id. The median and MAD do not depend
    on the row order. O(A log A).
    """
    cols = DISPROPORTION_COLUMNS[:-1]
    if received.empty:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame({"likes_received": received.sort_index()})
    fol = pd.to_numeric(followers, errors="coerce")
    df["followers"] = fol.reindex(df.index).fillna(0).to_numpy()
    r = np.log((df["likes_received"] + 1) / (df["followers"] + 1))
    med = float(np.median(r))
    mad = float(np.median(np.abs(r - med))) * 1.4826
    df["z"] = (r - med) / max(mad, 0.25)
    hit = df[(df["likes_received"] >= params.min_likes) & (df["z"] >= params.min_z)]
    hit = hit.rename_axis("account_id").reset_index()
    return hit[cols].sort_values(["z", "account_id"], ascending=[False, True]).reset_index(drop=True)


def with_top_notes(hits: pd.DataFrame, per_note: pd.DataFrame) -> pd.DataFrame:
    """``hits`` (from :func:`disproportionate_authors`) with ``top_notes``: each author's ten most-liked
    notes (most likes first, then by note id) from ``per_note`` (``author, note_id, n``: likes per note;
    it may hold other authors too). O(N log N) for N rows of the hits' notes.
    """
    mine = per_note[per_note["author"].isin(hits["account_id"])]
    top = (mine.sort_values(["author", "n", "note_id"], ascending=[True, False, True])
           .groupby("author").head(10).groupby("author")["note_id"].agg(tuple))
    return hits.assign(top_notes=top.reindex(hits["account_id"]).to_numpy())[DISPROPORTION_COLUMNS]


def detect_engagement(
    likes: pd.DataFrame | None,
    notes: pd.DataFrame | None,
    follows: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    params: EngagementParams = EngagementParams(),
) -> list[ClusterFinding]:
    """Bought-engagement findings (:func:`engagement_findings`) from the platform's likes, notes, follows
    and accounts. Time O(E log E + sum_b min(|b|, C)^2).
    """
    bursts = engagement_bursts(engagement_events(likes, notes, follows), params, presorted=True)
    return engagement_findings(bursts, audience_disproportion(likes, notes, accounts, follows, params), params)


def engagement_findings(bursts: pd.DataFrame, disproportion: pd.DataFrame,
                        params: EngagementParams = EngagementParams()) -> list[ClusterFinding]:
    """Bought-engagement findings from the bursts (:func:`engagement_bursts`, in its order) and the
    disproportionate authors (:func:`audience_disproportion`): repeat burst groups, single extreme
    bursts, disproportion.

    * groups (components of :func:`burst_groups`): score = ``calibrated`` of
      :func:`group_surprise` (the sum of its pairs' :func:`pair_surprise`,
      corrected for the pairs and groups that could have formed), evidence =
      liker ids, burst windows, liked notes, targets. A group flags alone at
      a family-wise surprise of 14.3 (weight 0.7); two accounts that met in
      two bursts of viral notes are at chance on a platform of a million
      (score 0; the rule before 2026-12-07, 1 - 0.5^(shared bursts - 1) x
      exp(-members / 20), gave them 0.55, and a bare profile then flagged 78
      ordinary users at 1 M accounts);
    * a single burst with >= ``min_single_size`` events at >=
      ``min_single_ratio`` x the baseline: score = min(``max_single_score``,
      1 - min_ratio / ratio), members = its engagers. Capped because one
      burst on one target says the *target's* rate jumped, not that its
      engagers act together: a viral note's audience arrives exactly so (at
      1 M simulated accounts, 24 such bursts on honest viral creators flagged
      779 ordinary users and 1 fake account; benchmarks/results/
      engagement_scale.md). With the shipped weight it raises the risk of
      accounts other detectors found and never flags alone;
    * each disproportionate author (one-member finding, code
      ``engagement_disproportion``): score = 1 - exp(-(z - min_z + 1) / 2).
    Time O(B + sum_b min(|b|, C)^2) for B bursts.
    """
    out: list[ClusterFinding] = []
    # Python strings, not Arrow-backed ones: the loops below take a few rows at a time, thousands of
    # times, and each Arrow take costs ~2 ms at 1 M accounts (6 s in all) against microseconds here
    bursts = bursts.astype({c: object for c in ("burst_id", "kind", "target") if c in bursts})
    members = burst_actors(bursts, params) if not bursts.empty else None
    actors, a, b, pair, burst = repeated_pairs(bursts, params, members)
    reported: set[str] = set()
    if len(a):
        # the null: each pair's shared bursts against its two accounts' bursts (pair_surprise)
        degrees, sizes = members.degrees(), members.sizes
        surprise = pair_surprise(np.bincount(pair, minlength=len(a)), degrees[a], degrees[b], int(sizes.sum()),
                                 int((sizes * (sizes - 1)).sum()))
        candidates = int((degrees >= params.min_shared_bursts).sum())
        # components of the repeated-pair graph, each with the burst rows its pairs share
        n = len(actors)
        _, label = connected_components(sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
        in_graph = np.zeros(n, bool)
        in_graph[a] = True
        in_graph[b] = True
        nodes = np.flatnonzero(in_graph)                       # sorted codes = sorted ids
        comp_nodes = _split_by(label[nodes], nodes)
        comp_bursts = _split_by(label[a[pair]], burst)
        comp_surprise = pd.Series(surprise).groupby(label[a]).sum()
        names = np.asarray(actors, dtype=object)
        ids = bursts["burst_id"].to_numpy()
        comps = sorted(((names[m].tolist(), comp) for comp, m in comp_nodes.items()),
                       key=lambda x: (-len(x[0]), x[0][0]))
        for comp, label_k in comps:
            rows = unique_ints(comp_bursts[label_k])
            bs = bursts.iloc[rows].copy()
            members = set(comp)
            bs["actors"] = [tuple(x for x in acts if x in members) for acts in bs["actors"]]
            score = calibrated(group_surprise(comp_surprise[label_k], len(comp), candidates))
            out.append(ClusterFinding(DETECTOR, tuple(comp), round(float(score), 6),
                                      (_burst_reason(bs, len(comp), params, shared=True),)))
            reported.update(ids[rows].tolist())
    single = bursts[(bursts["n_events"] >= params.min_single_size) & (bursts["ratio"] >= params.min_single_ratio)
                    & ~bursts["burst_id"].isin(reported)]
    for i, r in enumerate(single.itertuples(index=False)):
        score = float(np.clip(1 - params.min_ratio / r.ratio, 0, params.max_single_score))
        out.append(ClusterFinding(DETECTOR, r.actors, round(score, 6),
                                  (_burst_reason(single.iloc[[i]], len(r.actors), params, shared=False),)))
    for r in disproportion.itertuples(index=False):
        score = float(1 - np.exp(-(r.z - params.min_z + 1) / 2))
        reason = Reason(
            "engagement_disproportion",
            f"Account {r.account_id} received {int(r.likes_received)} likes with only {int(r.followers)} followers "
            f"(robust z = {r.z:.1f} against all authors); most-liked notes {', '.join(r.top_notes[:5])}.",
            (Evidence("account", (r.account_id,)), Evidence("note", tuple(r.top_notes))),
        )
        out.append(ClusterFinding(DETECTOR, (r.account_id,), round(score, 6), (reason,)))
    return sorted(out, key=lambda f: (-f.score, -len(f.members), f.members))
