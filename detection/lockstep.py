"""Lockstep commenting: accounts whose comments land on the same notes in the same minutes.

Follows two papers:

* SynchroTrap (Cao, Yang, Yu, Palow; "Uncovering Large Groups of Active
  Malicious Accounts in Online Social Networks", ACM CCS 2014): every account
  is a set of timestamped actions; two accounts are similar when many of their
  actions match (same object, times within a tolerance), measured by the
  Jaccard similarity of the two action sets; similar pairs form a graph whose
  connected components are the suspicious groups.  Pairs are only generated
  from accounts that share an (object, time bucket), so the cost follows the
  size of those groups, never the square of the number of accounts.
* CopyCatch (Beutel, Xu, Guruswami, Palow, Faloutsos; "CopyCatch: Stopping
  Group Attacks by Spotting Lockstep Behavior in Social Networks", WWW 2013):
  a fraudulent group acts on a common set of pages, each page within a short
  window, but each member only on *part* of the pages.  Sparse farms therefore
  hold few repeated matches per pair, yet the same accounts meet again and
  again; the ``core`` rule below (a k-core over pairs with >= 2 synchronized
  notes) keeps such groups without letting chance pairs in.

Pipeline (N comments, G_i the size of (note, bucket) group i after the cap C,
P the number of synchronized pairs, P <= sum_i min(G_i, C)^2 / 2):

1. :func:`synchronized_pairs` - every pair of distinct accounts that commented
   on one note within ``window`` of each other, with both comment ids.
   Buckets are ``2 * window`` wide on two grids shifted by ``window``, so any
   two comments at most ``window`` apart share a bucket in one grid: a bucket
   boundary never splits a ring.  Groups larger than ``max_group_size`` (a
   viral note's hot minute) are subsampled deterministically.
2. :func:`pair_similarity` - per account pair: support (distinct notes with a
   synchronized match), SynchroTrap Jaccard, and the synchrony ratio (support
   over all notes both accounts ever commented on, at any time).  Genuine
   heavy reviewers who co-review the same popular items on different days
   have a low ratio and usually no match at all.
3. :func:`lockstep_clusters` - connected components of the graph of strong
   pairs (plus the CopyCatch-style core of weaker repeated pairs) turned into
   :class:`~detection.findings.ClusterFinding` with comment ids, note ids and
   the time window as evidence.

Everything is deterministic: ids are factorized in sorted order, subsampling
uses a seeded integer hash, findings are sorted.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse

from ringscope.detection.findings import ClusterFinding, comment_group_reason, iso_utc

DETECTOR = "lockstep"

_PAIR_COLUMNS = [
    "account_a",
    "account_b",
    "note_id",
    "comment_a",
    "comment_b",
    "time_a",
    "time_b",
]


@dataclass(frozen=True)
class LockstepParams:
    """Thresholds of :func:`detect_lockstep` (defaults tuned on YelpChi, see benchmarks).

    ``window``: two comments on one note match when at most this far apart.
    ``max_group_size``: a (note, bucket) group above this is subsampled to it.
    ``min_support``/``min_jaccard``/``min_sync_ratio``: a *strong* pair.
    ``core_support``/``core_k``: the CopyCatch-style rule - pairs with at least
    ``core_support`` synchronized notes are kept when both accounts have at
    least ``core_k`` such partners (k-core); ``core_k=0`` disables it.
    ``min_cluster_size``: smallest reported group.
    ``pair_min_support``: a group of only two accounts (a couple, two friends
    who go out together) is reported only when the two share at least this
    many synchronized notes; CopyCatch's clusters likewise need a minimum
    number of members.  On YelpChi, four genuine pairs meet on 3 notes on the
    same day each, and nothing planted is a pair.
    ``max_evidence``: most comment ids cited per finding (the text gives totals).
    """

    window: pd.Timedelta = pd.Timedelta(minutes=15)
    max_group_size: int = 100
    min_support: int = 3
    min_jaccard: float = 0.02
    min_sync_ratio: float = 0.5
    core_support: int = 2
    core_k: int = 3
    min_cluster_size: int = 2
    pair_min_support: int = 6
    max_evidence: int = 2000
    seed: int = 0


def _mix64(x: np.ndarray, seed: int) -> np.ndarray:
    """SplitMix64 finaliser over uint64: a seeded, platform-independent hash. O(n)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64((0x9E3779B97F4A7C15 * (seed + 1)) & 0xFFFFFFFFFFFFFFFF)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _to_ns(ts: pd.Series) -> np.ndarray:
    """UTC timestamps as int64 nanoseconds since the epoch (any input resolution). O(n)."""
    s = pd.to_datetime(ts, utc=True).dt.tz_convert(None).dt.as_unit("ns")
    return s.to_numpy().astype(np.int64)


def _within_group_pairs(group_starts: np.ndarray, group_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs (i < j) inside contiguous groups of rows.

    Rows are assumed sorted by group; group k covers
    ``group_starts[k] : group_starts[k] + group_sizes[k]``.
    Time and memory O(sum_k G_k^2 / 2), fully vectorised.
    """
    sizes = group_sizes.astype(np.int64)
    n_rows = int(sizes.sum())
    if n_rows == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    pos = np.arange(n_rows, dtype=np.int64) - np.repeat(group_starts.astype(np.int64), sizes)
    # rows are exactly the concatenation of groups, so row index = start + pos
    rows = np.repeat(group_starts.astype(np.int64), sizes) + pos
    followers = np.repeat(sizes, sizes) - 1 - pos
    left = np.repeat(rows, followers)
    if left.size == 0:
        return left, left
    first = np.cumsum(followers) - followers
    offset = np.arange(left.size, dtype=np.int64) - np.repeat(first, followers) + 1
    return left, left + offset


def synchronized_pairs(
    comments: pd.DataFrame,
    window: pd.Timedelta = LockstepParams.window,
    max_group_size: int = LockstepParams.max_group_size,
    seed: int = 0,
) -> pd.DataFrame:
    """Every pair of accounts that commented on the same note within ``window``.

    Returns one row per (account_a < account_b, note) with columns
    ``account_a, account_b, note_id, comment_a, comment_b, time_a, time_b``
    (the closest-in-time matching comments of the two accounts seen in a shared
    bucket), sorted.  Buckets are ``2*window`` wide on two grids offset by
    ``window`` (SynchroTrap's overlapping windows, Cao et al. CCS 2014), so
    every pair of comments at most ``window`` apart is found; the exact
    distance is then checked.  A group above ``max_group_size`` accounts is
    cut to that many by a seeded hash rank (deterministic).

    Time O(N log N + sum_i min(G_i, C)^2), memory the same order.
    """
    cols = ["comment_id", "account_id", "note_id", "created_at"]
    df = comments.loc[:, cols].dropna()
    if df.empty:
        return pd.DataFrame(columns=_PAIR_COLUMNS)
    acc_codes, acc_uni = pd.factorize(df["account_id"].astype(str), sort=True)
    note_codes, note_uni = pd.factorize(df["note_id"].astype(str), sort=True)
    cid = df["comment_id"].astype(str).to_numpy()
    t = _to_ns(df["created_at"])
    w = int(pd.Timedelta(window).value)
    if w <= 0:
        raise ValueError("window must be positive")
    # order by (note, account, time, comment id) so "first comment" is deterministic
    order = np.lexsort((cid, t, acc_codes, note_codes))
    acc_codes, note_codes, t, cid = acc_codes[order], note_codes[order], t[order], cid[order]

    lefts, rights = [], []
    for shift in (0, w):
        bucket = (t + shift) // (2 * w)
        frame = pd.DataFrame(
            {"note": note_codes, "bucket": bucket, "acc": acc_codes, "row": np.arange(t.size)}
        )
        # one row per (note, bucket, account): its first comment there
        frame = frame.drop_duplicates(["note", "bucket", "acc"], keep="first")
        size = frame.groupby(["note", "bucket"], sort=False)["acc"].transform("size").to_numpy()
        frame = frame[size >= 2]
        if frame.empty:
            continue
        size = size[size >= 2]
        big = size > max_group_size
        if big.any():
            rank = _mix64(
                frame["acc"].to_numpy().astype(np.uint64) * np.uint64(1_000_003)
                + frame["note"].to_numpy().astype(np.uint64) * np.uint64(7919)
                + frame["bucket"].to_numpy().astype(np.uint64),
                seed,
            )
            frame = frame.assign(_big=big, _rank=rank)
            keep_small = frame[~frame["_big"]]
            keep_big = (
                frame[frame["_big"]]
                .sort_values(["note", "bucket", "_rank", "acc"])
                .groupby(["note", "bucket"], sort=False)
                .head(max_group_size)
            )
            frame = pd.concat([keep_small, keep_big]).drop(columns=["_big", "_rank"])
        frame = frame.sort_values(["note", "bucket", "acc"], kind="mergesort")
        gnote = frame["note"].to_numpy()
        gbucket = frame["bucket"].to_numpy()
        change = np.r_[True, (np.diff(gnote) != 0) | (np.diff(gbucket) != 0)]
        starts = np.flatnonzero(change)
        sizes = np.diff(np.r_[starts, len(frame)])
        li, ri = _within_group_pairs(starts, sizes)
        rows = frame["row"].to_numpy()
        lefts.append(rows[li])
        rights.append(rows[ri])
    if not lefts:
        return pd.DataFrame(columns=_PAIR_COLUMNS)
    L = np.concatenate(lefts)
    R = np.concatenate(rights)
    ok = (np.abs(t[L] - t[R]) <= w) & (acc_codes[L] != acc_codes[R])
    L, R = L[ok], R[ok]
    swap = acc_codes[L] > acc_codes[R]
    A = np.where(swap, R, L)
    B = np.where(swap, L, R)
    pairs = pd.DataFrame(
        {
            "a": acc_codes[A],
            "b": acc_codes[B],
            "n": note_codes[A],
            "dt": np.abs(t[A] - t[B]),
            "ra": A,
            "rb": B,
        }
    )
    pairs = pairs.sort_values(["a", "b", "n", "dt", "ra", "rb"], kind="mergesort").drop_duplicates(
        ["a", "b", "n"], keep="first"
    )
    out = pd.DataFrame(
        {
            "account_a": acc_uni[pairs["a"].to_numpy()],
            "account_b": acc_uni[pairs["b"].to_numpy()],
            "note_id": note_uni[pairs["n"].to_numpy()],
            "comment_a": cid[pairs["ra"].to_numpy()],
            "comment_b": cid[pairs["rb"].to_numpy()],
            "time_a": pd.to_datetime(t[pairs["ra"].to_numpy()], utc=True),
            "time_b": pd.to_datetime(t[pairs["rb"].to_numpy()], utc=True),
        }
    )
    return out.sort_values(["account_a", "account_b", "note_id"]).reset_index(drop=True)


def pair_similarity(comments: pd.DataFrame, pairs: pd.DataFrame, min_support: int = 1) -> pd.DataFrame:
    """Per account pair: synchronized support, Jaccard and synchrony ratio.

    ``support`` = distinct notes on which the two commented within the window;
    ``jaccard`` = support / (notes_a + notes_b - support), SynchroTrap's
    similarity of the two (note, time) action sets (Cao et al. CCS 2014);
    ``shared_notes`` = notes both ever commented on, at any time;
    ``sync_ratio`` = support / shared_notes (1.0 for a ring, near 0 for heavy
    reviewers of the same popular items on different days).
    Only pairs with support >= ``min_support`` are kept (and scored).

    Time O(P log P + K * d) for P synchronized pairs and K kept pairs of mean
    comment-note degree d (sparse row products).
    """
    cols = ["account_a", "account_b", "support", "jaccard", "shared_notes", "sync_ratio", "notes_a", "notes_b"]
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    sup = pairs.groupby(["account_a", "account_b"], sort=True).size().rename("support").reset_index()
    sup = sup[sup["support"] >= min_support]
    if sup.empty:
        return pd.DataFrame(columns=cols)
    an = comments[["account_id", "note_id"]].dropna().astype(str).drop_duplicates()
    acc_codes, acc_uni = pd.factorize(an["account_id"], sort=True)
    note_codes, _ = pd.factorize(an["note_id"], sort=True)
    M = sparse.csr_matrix(
        (np.ones(len(an), dtype=np.float32), (acc_codes, note_codes)),
        shape=(len(acc_uni), int(note_codes.max()) + 1),
    )
    deg = np.asarray(M.sum(axis=1)).ravel()
    ia = acc_uni.get_indexer(sup["account_a"])
    ib = acc_uni.get_indexer(sup["account_b"])
    shared = np.asarray(M[ia].multiply(M[ib]).sum(axis=1)).ravel()
    s = sup["support"].to_numpy().astype(float)
    na, nb = deg[ia], deg[ib]
    out = sup.assign(
        jaccard=s / np.maximum(na + nb - s, 1.0),
        shared_notes=shared.astype(int),
        sync_ratio=s / np.maximum(shared, s),
        notes_a=na.astype(int),
        notes_b=nb.astype(int),
    )
    return out[cols].reset_index(drop=True)


def lockstep_graph(sim: pd.DataFrame, params: LockstepParams = LockstepParams()) -> nx.Graph:
    """The graph of suspicious account pairs (undirected, edge attrs support/jaccard/sync_ratio).

    An edge is kept when the pair is *strong* (support >= min_support,
    jaccard >= min_jaccard, sync_ratio >= min_sync_ratio; SynchroTrap) or when
    it is in the CopyCatch-style core: support >= core_support and
    sync_ratio >= min_sync_ratio, and both ends keep >= core_k such partners
    after iterated pruning (networkx k-core).  Time O(K) for K candidate pairs.
    """
    g = nx.Graph()
    if sim.empty:
        return g
    sync_ok = sim["sync_ratio"] >= params.min_sync_ratio
    strong = sim[
        sync_ok & (sim["support"] >= params.min_support) & (sim["jaccard"] >= params.min_jaccard)
    ]
    for r in strong.itertuples(index=False):
        g.add_edge(r.account_a, r.account_b, support=int(r.support), jaccard=float(r.jaccard),
                   sync_ratio=float(r.sync_ratio), rule="strong")
    if params.core_k > 0:
        weak = sim[sync_ok & (sim["support"] >= params.core_support)]
        wg = nx.Graph()
        for r in weak.itertuples(index=False):
            wg.add_edge(r.account_a, r.account_b, support=int(r.support), jaccard=float(r.jaccard),
                        sync_ratio=float(r.sync_ratio), rule="core")
        wg.remove_edges_from(nx.selfloop_edges(wg))
        core = nx.k_core(wg, k=params.core_k)
        for u, v, d in sorted(core.edges(data=True)):
            if not g.has_edge(u, v):
                g.add_edge(u, v, **d)
    return g


def lockstep_clusters(
    pairs: pd.DataFrame, graph: nx.Graph, params: LockstepParams = LockstepParams()
) -> list[ClusterFinding]:
    """Connected components of ``graph`` as findings citing comment ids, notes and the window.

    A component of two accounts needs ``params.pair_min_support`` synchronized
    notes (two people going out together is not a ring).
    Scores count *repeated meetings*: a pair that met on ``support`` notes
    met ``support - 1`` times more than one chance encounter explains.  A
    member's strength is the sum of ``support - 1`` over its edges in the
    component, so an account that keeps meeting many partners of a sparse
    ring (CopyCatch's core) is as clear as one that meets a single partner
    often.  Member score = mean synchrony ratio of its edges *
    (1 - exp(-strength / 3)); cluster score = the same over the component's
    mean member strength and mean ratio.
    Time O(V + E + P) for the graph and the synchronized pairs P.
    """
    findings: list[ClusterFinding] = []
    if graph.number_of_nodes() == 0:
        return findings
    comps = [sorted(c) for c in nx.connected_components(graph)
             if len(c) >= max(params.min_cluster_size, 2)
             and (len(c) > 2 or graph.edges[tuple(c)]["support"] >= params.pair_min_support)]
    comps.sort(key=lambda c: (-len(c), c[0]))
    if not comps:
        return findings
    member_of = {a: i for i, c in enumerate(comps) for a in c}
    pa = pairs["account_a"].map(member_of)
    pb = pairs["account_b"].map(member_of)
    inside = pairs[(pa.notna()) & (pa == pb)].assign(_c=pa[(pa.notna()) & (pa == pb)].astype(int))
    # keep only synchronized pairs that are edges of the graph
    edge_mask = [graph.has_edge(a, b) for a, b in zip(inside["account_a"], inside["account_b"])]
    inside = inside[np.asarray(edge_mask, dtype=bool)] if len(inside) else inside
    by_comp = dict(tuple(inside.groupby("_c", sort=True))) if len(inside) else {}
    window_txt = _fmt_td(params.window)
    for i, members in enumerate(comps):
        sub = graph.subgraph(members)
        supports = np.array([d["support"] for _, _, d in sub.edges(data=True)], dtype=float)
        ratios = np.array([d["sync_ratio"] for _, _, d in sub.edges(data=True)], dtype=float)
        strength = {a: sum(d["support"] - 1 for _, _, d in sub.edges(a, data=True)) for a in members}
        own_ratio = {a: float(np.mean([d["sync_ratio"] for _, _, d in sub.edges(a, data=True)])) for a in members}
        score = _strength_score(float(np.mean(list(strength.values()))), float(ratios.mean()))
        ev = by_comp.get(i)
        if ev is None or ev.empty:
            continue
        cids = sorted(set(ev["comment_a"]) | set(ev["comment_b"]))
        notes = sorted(set(ev["note_id"]))
        t0 = min(ev["time_a"].min(), ev["time_b"].min())
        t1 = max(ev["time_a"].max(), ev["time_b"].max())
        start, end = iso_utc(t0), iso_utc(t1)
        n_pairs = len(ev)
        text = (
            f"{len(members)} accounts commented on the same notes within {window_txt} of each other: "
            f"{n_pairs} synchronized comment pairs on {len(notes)} notes ({len(cids)} comments), "
            f"between {start} and {end}; {sub.number_of_edges()} account pairs share "
            f"on average {supports.mean():.1f} synchronized notes (synchrony ratio {ratios.mean():.2f})."
        )
        reason = comment_group_reason("lockstep_comments", text, cids, notes, (start, end),
                                      params.max_evidence)
        member_scores = {a: round(_strength_score(strength[a], own_ratio[a]), 6) for a in members}
        findings.append(
            ClusterFinding(
                detector=DETECTOR,
                members=tuple(members),
                score=round(score, 6),
                reasons=(reason,),
                member_scores=member_scores,
            )
        )
    findings.sort(key=lambda f: (-f.score, -len(f.members), f.members))
    return findings


def _strength_score(strength: float, sync_ratio: float) -> float:
    """(1 - exp(-strength / 3)) * sync_ratio, clipped to [0, 1]: 3 repeated meetings give 0.63, 9 give 0.95."""
    return float(np.clip((1.0 - np.exp(-strength / 3.0)) * sync_ratio, 0.0, 1.0))


def _fmt_td(td: pd.Timedelta) -> str:
    secs = int(pd.Timedelta(td).total_seconds())
    if secs % 3600 == 0:
        return f"{secs // 3600} h"
    if secs % 60 == 0:
        return f"{secs // 60} min"
    return f"{secs} s"


def detect_lockstep(comments: pd.DataFrame, params: LockstepParams = LockstepParams()) -> list[ClusterFinding]:
    """Lockstep comment groups in ``comments`` (columns of the input format).

    Runs :func:`synchronized_pairs`, :func:`pair_similarity`,
    :func:`lockstep_graph` and :func:`lockstep_clusters` (SynchroTrap, Cao et
    al. CCS 2014; CopyCatch, Beutel et al. WWW 2013).  Returns findings sorted
    by score.  Time O(N log N + sum_i min(G_i, C)^2); never quadratic in the
    number of accounts.
    """
    pairs = synchronized_pairs(comments, params.window, params.max_group_size, params.seed)
    sim = pair_similarity(comments, pairs, min_support=min(params.min_support, params.core_support))
    graph = lockstep_graph(sim, params)
    return lockstep_clusters(pairs, graph, params)
