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

from ringscope.detection.frames import epoch_ns
from ringscope.detection.findings import ClusterFinding, comment_group_reason, iso_utc

DETECTOR = "lockstep"

COMMENT_COLUMNS = ["comment_id", "account_id", "note_id", "created_at"]
SIMILARITY_COLUMNS = ["account_a", "account_b", "support", "jaccard", "shared_notes", "sync_ratio", "notes_a",
                      "notes_b"]
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



def within_group_pairs(group_starts: np.ndarray, group_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    df = comments.loc[:, COMMENT_COLUMNS].dropna()
    if df.empty:
        return pd.DataFrame(columns=_PAIR_COLUMNS)
    acc_codes, acc_uni = pd.factorize(df["account_id"].astype(str), sort=True)
    note_codes, note_uni = pd.factorize(df["note_id"].astype(str), sort=True)
    cid = df["comment_id"].astype(str).to_numpy()
    t = epoch_ns(df["created_at"])
    A, B = synchronized_pair_rows(acc_codes, note_codes, t, cid, window, max_group_size, seed)
    # codes are sorted factorisations, so (a, b, n) order is the (account_a, account_b, note_id) order
    return pd.DataFrame(
        {
            "account_a": acc_uni[acc_codes[A]],
            "account_b": acc_uni[acc_codes[B]],
            "note_id": note_uni[note_codes[A]],
            "comment_a": cid[A],
            "comment_b": cid[B],
            "time_a": pd.to_datetime(t[A], utc=True),
            "time_b": pd.to_datetime(t[B], utc=True),
        }
    )


def synchronized_pair_rows(
    acc_codes: np.ndarray,
    note_codes: np.ndarray,
    t: np.ndarray,
    cid: np.ndarray,
    window: pd.Timedelta = LockstepParams.window,
    max_group_size: int = LockstepParams.max_group_size,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The comment rows ``(A, B)`` of :func:`synchronized_pairs`: one per (account a < account b, note),
    sorted by (a, b, note). ``acc_codes``/``note_codes`` rank each row's account and note among all of
    them (sorted order); ``t`` in int64 ns; ``cid`` the comment ids. What a note gives depends on its
    own rows and on those ranks alone (the subsampling hash reads them), so rows holding whole notes, with
    the ranks of the whole platform, give exactly their notes' pairs: how the Spark engine runs it.
    Time O(N log N + sum_i min(G_i, C)^2)."""
    w = int(pd.Timedelta(window).value)
    if w <= 0:
        raise ValueError("window must be positive")
    empty = np.empty(0, np.int64)
    if not len(t):
        return empty, empty
    # order by (note, account, time, comment id) so "first comment" is deterministic
    order = _note_account_time_order(note_codes, acc_codes, t, cid)
    acc_codes, note_codes, t, cid = acc_codes[order], note_codes[order], t[order], cid[order]

    lefts, rights = [], []
    for shift in (0, w):
        bucket = (t + shift) // (2 * w)
        # one row per (note, bucket, account): its first comment there, in (note, bucket, account) order
        by_group = np.lexsort((acc_codes, bucket, note_codes))  # stable: the first row of a run is the first comment
        g_note, g_bucket, g_acc = note_codes[by_group], bucket[by_group], acc_codes[by_group]
        first = np.r_[True, (g_note[1:] != g_note[:-1]) | (g_bucket[1:] != g_bucket[:-1]) | (g_acc[1:] != g_acc[:-1])]
        rows, g_note, g_bucket, g_acc = by_group[first], g_note[first], g_bucket[first], g_acc[first]
        starts = np.flatnonzero(np.r_[True, (g_note[1:] != g_note[:-1]) | (g_bucket[1:] != g_bucket[:-1])])
        sizes = np.diff(np.r_[starts, len(rows)])
        if sizes.max(initial=0) > max_group_size:
            # a group above max_group_size keeps the accounts of least seeded rank (ties: account code)
            size = np.repeat(sizes, sizes)
            rank = _mix64(g_acc.astype(np.uint64) * np.uint64(1_000_003) + g_note.astype(np.uint64) * np.uint64(7919)
                          + g_bucket.astype(np.uint64), seed)
            by_rank = np.lexsort((g_acc, rank, np.repeat(np.arange(len(sizes)), sizes)))
            place = np.empty(len(rows), np.int64)
            place[by_rank] = np.arange(len(rows)) - np.repeat(starts, sizes)
            keep = (size <= max_group_size) | (place < max_group_size)
            rows, g_note, g_bucket = rows[keep], g_note[keep], g_bucket[keep]
            starts = np.flatnonzero(np.r_[True, (g_note[1:] != g_note[:-1]) | (g_bucket[1:] != g_bucket[:-1])])
            sizes = np.diff(np.r_[starts, len(rows)])
        many = sizes >= 2
        if not many.any():
            continue
        rows, sizes = rows[np.repeat(many, sizes)], sizes[many]  # groups of one make no pair
        li, ri = within_group_pairs(np.cumsum(sizes) - sizes, sizes)
        lefts.append(rows[li])
        rights.append(rows[ri])
    if not lefts:
        return empty, empty
    L = np.concatenate(lefts)
    R = np.concatenate(rights)
    ok = (np.abs(t[L] - t[R]) <= w) & (acc_codes[L] != acc_codes[R])
    L, R = L[ok], R[ok]
    swap = acc_codes[L] > acc_codes[R]
    A = np.where(swap, R, L)
    B = np.where(swap, L, R)
    a, b, n, dt = acc_codes[A], acc_codes[B], note_codes[A], np.abs(t[A] - t[B])
    # per (account a, account b, note): the closest pair of comments (then the first rows)
    best = np.lexsort((B, A, dt, n, b, a))
    a, b, n, A, B = a[best], b[best], n[best], A[best], B[best]
    first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1]) | (n[1:] != n[:-1])] if len(a) else np.empty(0, bool)
    return order[A[first]], order[B[first]]


def _note_account_time_order(note: np.ndarray, acc: np.ndarray, t: np.ndarray, cid: np.ndarray) -> np.ndarray:
    """``np.lexsort((cid, t, acc, note))`` without comparing every comment id: sort on the integer keys,
    then order by comment id only the few runs that tie on all three. O(N log N)."""
    order = np.lexsort((t, acc, note))
    n, a, tt = note[order], acc[order], t[order]
    tie = (n[1:] == n[:-1]) & (a[1:] == a[:-1]) & (tt[1:] == tt[:-1])
    if tie.any():
        edge = np.diff(np.r_[0, tie.astype(np.int8), 0])
        for lo, hi in zip(np.flatnonzero(edge == 1).tolist(), (np.flatnonzero(edge == -1) + 1).tolist()):
            order[lo:hi] = sorted(order[lo:hi].tolist(), key=lambda r: cid[r])
    return order


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
    cols = SIMILARITY_COLUMNS
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
    return pair_scores(sup, deg[ia], deg[ib], shared)


def pair_scores(support: pd.DataFrame, notes_a: np.ndarray, notes_b: np.ndarray, shared: np.ndarray) -> pd.DataFrame:
    """:func:`pair_similarity`'s rows from each pair's ``support`` (``account_a, account_b, support``),
    the notes each account commented on and those both did (counts). O(K)."""
    s = support["support"].to_numpy().astype(float)
    # float32, as the local engine's sparse sums give them (exact integers either way)
    na, nb = np.asarray(notes_a, np.float32), np.asarray(notes_b, np.float32)
    shared = np.asarray(shared, np.float32)
    out = support.assign(
        jaccard=s / np.maximum(na + nb - s, 1.0),
        shared_notes=shared.astype(int),
        sync_ratio=s / np.maximum(shared, s),
        notes_a=na.astype(int),
        notes_b=nb.astype(int),
    )
    return out[SIMILARITY_COLUMNS].reset_index(drop=True)


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
    sync_ok = (sim["sync_ratio"] >= params.min_sync_ratio).to_numpy()
    support = sim["support"].to_numpy()
    strong = sync_ok & (support >= params.min_support) & (sim["jaccard"] >= params.min_jaccard).to_numpy()
    columns = [sim[c].to_numpy() for c in ("account_a", "account_b", "support", "jaccard", "sync_ratio")]
    for a, b, sup, jac, ratio in zip(*(c[strong].tolist() for c in columns)):
        g.add_edge(a, b, support=int(sup), jaccard=float(jac), sync_ratio=float(ratio), rule="strong")
    if params.core_k > 0:
        weak = np.flatnonzero(sync_ok & (support >= params.core_support))
        for u, v, row in _k_core_edges(columns[0][weak], columns[1][weak], params.core_k):
            if not g.has_edge(u, v):
                g.add_edge(u, v, support=int(columns[2][weak[row]]), jaccard=float(columns[3][weak[row]]),
                           sync_ratio=float(columns[4][weak[row]]), rule="core")
    return g


def _k_core_edges(a: np.ndarray, b: np.ndarray, k: int) -> list[tuple[str, str, int]]:
    """The edges ``(u, v, row)`` of the ``k``-core of the simple graph of pairs ``(a[row], b[row])``
    (self-loops dropped), sorted by ``(u, v)``, ``u`` being the end that first appears in the pairs
    (networkx's ``sorted(k_core(G, k).edges())`` for G built from the rows in order).  Iterated pruning
    of nodes under degree k (Batagelj & Zaversnik 2003 compute the same core), vectorised: O(E) per
    round."""
    if not len(a):
        return []
    ends = np.empty(2 * len(a), dtype=object)
    ends[0::2], ends[1::2] = a, b
    codes, names = pd.factorize(ends)  # codes in order of first appearance, as graph nodes are
    ca, cb = codes[0::2], codes[1::2]
    alive = ca != cb
    while True:
        degree = np.bincount(ca[alive], minlength=len(names)) + np.bincount(cb[alive], minlength=len(names))
        keep = alive & (degree[ca] >= k) & (degree[cb] >= k)
        if (keep == alive).all():
            break
        alive = keep
    rows = np.flatnonzero(alive)
    first, second = np.minimum(ca[rows], cb[rows]), np.maximum(ca[rows], cb[rows])
    names = np.asarray(names, dtype=object)
    return sorted(zip(names[first].tolist(), names[second].tolist(), rows.tolist()))


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
    # A component is a connected component: every edge of a member is inside it. One pass over the
    # graph's edges gives each component's edges (no subgraph views: those cost more than the rest).
    supports_of: list[list[float]] = [[] for _ in comps]
    ratios_of: list[list[float]] = [[] for _ in comps]
    ends: list[tuple[str, str, int]] = []
    for u, v, d in graph.edges(data=True):
        i = member_of.get(u)
        if i is None:
            continue
        supports_of[i].append(d["support"])
        ratios_of[i].append(d["sync_ratio"])
        ends.append((min(u, v), max(u, v), i))
    # the synchronized pairs that are edges of the graph, with their component
    edges = pd.DataFrame(ends, columns=["account_a", "account_b", "_c"])
    inside = pairs.merge(edges.astype({"account_a": pairs["account_a"].dtype,
                                       "account_b": pairs["account_b"].dtype}),
                         on=["account_a", "account_b"], how="inner") if len(pairs) and len(edges) else pairs.iloc[:0]
    by_comp = dict(tuple(inside.groupby("_c", sort=True))) if len(inside) else {}
    window_txt = _fmt_td(params.window)
    for i, members in enumerate(comps):
        supports = np.array(supports_of[i], dtype=float)
        ratios = np.array(ratios_of[i], dtype=float)
        own = {a: [d for d in graph.adj[a].values()] for a in members}
        strength = {a: sum(d["support"] - 1 for d in own[a]) for a in members}
        own_ratio = {a: float(np.mean([d["sync_ratio"] for d in own[a]])) for a in members}
        score = _strength_score(float(np.mean(list(strength.values()))), float(ratios.mean()))
        ev = by_comp.get(i)
        if ev is None or ev.empty:
            continue
        cids = sorted(set(ev["comment_a"].tolist()) | set(ev["comment_b"].tolist()))
        notes = sorted(set(ev["note_id"].tolist()))
        t0 = min(ev["time_a"].min(), ev["time_b"].min())
        t1 = max(ev["time_a"].max(), ev["time_b"].max())
        start, end = iso_utc(t0), iso_utc(t1)
        n_pairs = len(ev)
        text = (
            f"{len(members)} accounts commented on the same notes within {window_txt} of each other: "
            f"{n_pairs} synchronized comment pairs on {len(notes)} notes ({len(cids)} comments), "
            f"between {start} and {end}; {len(supports)} account pairs share "
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
