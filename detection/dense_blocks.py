"""Dense blocks: groups of accounts that comment together on the same notes, in the same burst.

A comment farm of m accounts paid to comment on n notes is a dense block of
the account x note matrix; if each account works only part of the notes
(density p well below 1) and adds "camouflage" comments elsewhere, the block
is sparse and small blocks of genuine heavy users compete with it.  This
detector looks for such blocks and reports only those that a significance
test separates from what random data keeping every account's activity over time produces.

Papers it follows:

* FRAUDAR (Hooi, Song, Beutel, Shah, Shin, Faloutsos, "FRAUDAR: Bounding
  Graph Fraud in the Face of Camouflage", KDD 2016): greedy peeling of a
  bipartite graph, always removing the node of least weighted degree, keeping
  the prefix of densest average weighted degree f(S)/|S|; columns weighted by
  1 / log(degree + 5) so that edges to popular objects count less.  Its
  guarantee (the block found is within a factor 2 of the densest) holds for any
  non-negative edge weights, and camouflage (extra edges from fraud rows to
  other columns) cannot lower the block's density.
* Dense subtensors with a time mode: CrossSpot (Jiang, Beutel, Cui, Hooi, Yang,
  Cheng, Faloutsos, "A General Suspiciousness Metric for Dense Blocks in
  Multimodal Data", ICDM 2015), M-Zoom (Shin, Hooi, Faloutsos, PKDD 2016) and
  D-Cube (Shin, Hooi, Kim, Faloutsos, WSDM 2017) treat account x object x time
  as a tensor.  A farm that visits each target note in its own burst is not a
  Cartesian block of (notes x times), so here time enters the columns instead:
  a column is an *event* = one note's burst of comments (comments on one note
  that follow each other within ``gap``, cut at ``max_span``).  A farm's
  comments on a target note fall in one event; genuine users who comment on
  the same note on different days fall in different ones, so heavy reviewers
  of the same popular notes stop looking like a block.  With day-resolution
  timestamps an event is simply (note, day).
* Significance by randomisation, as suggested for dense-block detection by
  D-Cube/CrossSpot's comparisons with random tensors: the same peeling is run
  on ``null_copies`` random copies of the account x event graph that keep
  *activity over time*: the event end of every edge is permuted among the
  edges of the same time window (``null_window``, a week, widened until it
  holds ``null_window_edges`` edges), so every account keeps its number of
  events in every window and every event its size, while any group structure
  is destroyed; duplicates the permutation makes are switched away (Milo et
  al., Science 2002) so that a busy account keeps all its edges.  Accounts
  that are merely active in the same weeks (a program posting around the
  clock, heavy commenters, scheduled posters: each on its own, all touching
  most notes of those weeks) form a block the copies rebuild; a time-free
  null (permuting over the whole span) called them a farm.  The mean of the
  copies' densest-block densities, g0, is what chance produces from this
  activity (the mean, not the largest: three copies' largest is a noisy
  estimate of a high quantile, and farms at the edge of the test came and
  went with it; the margin below is the allowance for the spread, which is
  a few per cent between copies).  A block S is
  reported when its density g(S) exceeds
  ``density_margin * g0`` and its *excess* - the number of its comments beyond
  what a block of the null's density would hold, e(S) * (1 - margin*g0/g(S)) -
  is at least ``min_excess``; it must also have ``min_accounts`` accounts.
  Maximising the excess along the peeling order (rather than the density) is
  the Lagrangian form of the densest-subgraph problem, f(S) - lambda*|S|
  (Goldberg 1984); it prefers one large farm of moderate density to a handful
  of pairs of friends who reviewed two restaurants on the same day.
* Every edge also weighs its surprise 1 - P, P being its probability under
  the same null, d_w(a) * s_w(c) / m_w in its week w (Chung-Lu; the residual
  of modularity, Newman 2006, bipartite in Barber 2007): co-activity that an
  account's own activity explains (a busy account on a note of its busy
  week, P near 1) weighs nothing, so it neither forms a block nor lifts the
  null's density above a quiet farm's.
* Rows are weighted by 1 / log(degree + 5) as well (degree = the account's
  number of events, including the ones it shares with nobody): an account
  whose activity is mostly outside the block weighs less, as in the
  degree-corrected (configuration) null of CrossSpot's suspiciousness.  Column
  weights use the note's number of distinct commenters, not the event's, so
  that a popular note's events stay cheap whatever their size.

Blocks are found one after the other (the accounts and events of a peeled
block are removed and the peel is repeated), as FRAUDAR's ``detectMultiple``;
each block is split into connected components, each tested on its own, and
the search stops at the first round whose best block fails the test.
Inside a block, accounts with fewer than ``min_member_events`` of its
events are dropped (with day timestamps an account with a single event in the
block is as likely a genuine reviewer of that note that day as a farm account).
The peel drops a sparse farm's weakest members first (an account that
worked two of the targets and commented elsewhere too), so after a block
passes, accounts outside every block *join* it when their number of the
block's columns is beyond chance: under the configuration null an account
with d columns hits the block's columns Poisson(d * s) times, s being the
block columns' share of all edges; an account joins when it holds
>= ``min_member_events`` of them and that tail probability, times the
number of accounts touching the block (Bonferroni), is below ``join_alpha``;
columns join by the same test on their number of the block's accounts, so a
target note the peel left out brings in the members that worked it
(alternating, a few rounds; a seed-and-grow step in the spirit of OSLOM's
significance-based community expansion, Lancichinetti et al. PLoS ONE 2011).
Member scores come from each account's contribution to its block (its
weighted degree inside it).  The cluster score is 1 - exp(-excess / 4): a block that
just passes (excess 1.5) scores 0.31, 10 excess comments 0.92.  A member's
score is the cluster score times 0.75 + 0.25 * (its weighted degree in the
block / the largest): every member already holds >= ``min_member_events`` of
the block's events, and in a farm of density p how many targets a member
works is chance, so the spread inside a block stays narrow.

Two views are searched, each with its own null: ``event`` (account x event,
time-aware) and ``note`` (account x note, time-free, which still finds dense
farms that do not post in bursts).  When a block of one view shares half of
its accounts with a block of the other, only the one that stands out more
from its own null (higher density / g0) is kept: a farm that posts in bursts
is sharper in the event view, one that spreads its comments over days is
sharper in the note view, and the blurred copy would add its neighbours.

Cost, for N comments, E distinct (account, event) edges and V accounts+events:
building the views O(N log N); a null copy O(E log E) to permute within
windows and switch duplicates away, plus one peel; a
peel is first restricted, by vectorised pruning, to the core of nodes whose
weighted degree can reach the threshold (every node of the optimal block has
weighted degree >= its density, so pruning never loses it), then run exactly
with a binary heap, O(E' log V') on the core.  So the whole detector is
O(N log N + (null_copies + 1) * E log V) in the worst case, far less when the
cores are small; the 3.0 million comments of the 1M simulated platform take ~50 s on one core.

Everything is deterministic: ids are factorised in sorted order, the null
copies use a seeded generator, heap ties break on node ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.stats import poisson

from ringscope.detection.calibration import calibrated, family_wise
from ringscope.detection.frames import epoch_ns
from ringscope.detection.findings import ClusterFinding, comment_group_reason, iso_utc_epoch
from ringscope.detection.shared_infrastructure import unique_ints

DETECTOR = "dense_blocks"


@dataclass(frozen=True)
class DenseBlockParams:
    """Settings of :func:`detect_dense_blocks` (defaults checked on YelpChi, see benchmarks).

    ``gap``/``max_span``: comments on one note at most ``gap`` apart chain into
    one event, an event never spans more than ``max_span``.
    ``views``: ``"event"``, ``"note"`` or ``"event+note"``.
    ``null_copies``: random copies (activity per window kept) used to calibrate g0
    (the mean of their densest-block densities).
    ``density_margin``: a block must be this many times denser than g0.
    ``min_excess``: comments beyond what the null density would hold.
    ``min_accounts``: smallest reported block (pairs are the lockstep detector's).
    ``max_blocks``: most blocks searched per view.
    ``min_member_events``: an account needs this many of the block's events.
    ``join_alpha``: an account outside the blocks joins one when its count of
    the block's columns is this improbable under the null (Bonferroni over
    the accounts touching the block); 0 disables.
    ``member_alpha``: a member of a block must hold more of its columns than
    its own activity explains: P(X >= its count) under Poisson(its expected
    count, :func:`expected_hits`) at most this (per member; 0 disables).  A
    busy account that lands in a farm's bursts as often as its activity
    makes it land anywhere is not a member.
    ``null_window``: the null holds every account's and every column's
    activity per window of this length (a time-stratified configuration
    model): accounts that are merely busy in the same weeks are what chance
    produces, not a block.  ``0`` = one window (the time-free null).
    ``null_window_edges``: consecutive windows are merged until each holds at
    least this many edges: in a quiet window a farm's own comments would be
    most of what the null reshuffles, and the null would rebuild the farm.
    ``max_evidence``: most comment ids cited per finding.
    """

    gap: pd.Timedelta = pd.Timedelta(hours=2)
    max_span: pd.Timedelta = pd.Timedelta(days=1)
    views: str = "event+note"
    null_copies: int = 3
    density_margin: float = 1.15
    min_excess: float = 1.5
    min_accounts: int = 5
    max_blocks: int = 20
    min_member_events: int = 2
    join_alpha: float = 0.01
    member_alpha: float = 0.01
    null_window: pd.Timedelta = pd.Timedelta(days=7)
    null_window_edges: int = 6000
    max_evidence: int = 2000
    seed: int = 0


# --------------------------------------------------------------------------- views


@dataclass
class View:
    """One bipartite view: accounts x columns (events or notes), binary edges.

    ``acc``/``col``: the distinct edges (codes); ``row_deg``: each account's
    number of columns (all of them, shared or not); ``col_weight``: FRAUDAR's
    1/log(K + 5) with K the column's note's distinct commenters;
    ``edge_rows``: for every edge, the comment rows behind it (CSR-like:
    ``edge_ptr``), for evidence.  ``stratum``: each edge's time window (of
    its first comment, see ``null_window``); ``expected``: each edge's
    probability under the time-stratified null (:func:`expected_edges`).
    ``weight``: each edge's weight in the peel (:func:`edge_weights`); ``shared``:
    whether its column has at least two accounts (only those edges can be in a block).

    A view may hold only part of the edges (the Spark engine's, which reads them from the
    platform as it needs them): then :meth:`ensure` brings in every edge of the nodes asked for
    before anything reads them, and ``row_deg``, ``col_size``, ``col_weight`` and ``col_note``
    may be None (the per-edge values carry what they say).  Here it holds them all.
    """

    name: str
    acc: np.ndarray
    col: np.ndarray
    n_acc: int
    n_col: int
    row_deg: np.ndarray
    col_size: np.ndarray
    col_weight: np.ndarray
    col_note: np.ndarray
    edge_ptr: np.ndarray
    edge_rows: np.ndarray
    stratum: np.ndarray
    window: np.ndarray
    expected: np.ndarray
    weight: np.ndarray = None
    shared: np.ndarray = None
    # per side, the windows of each node's edges grouped by node (edges_by), and the windows' sizes
    _by_side: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.shared is None:
            self.shared = np.bincount(self.col, minlength=self.n_col)[self.col] >= 2
        if self.weight is None:
            self.weight = edge_weights(self.acc, self.col, self.row_deg, self.col_weight, self.expected)

    def ensure(self, side: str, nodes: np.ndarray) -> None:
        """Make sure every edge of the ``side`` (``"acc"`` or ``"col"``) ``nodes`` is held; this view
        holds them all already."""

    def matrices(self) -> tuple[sparse.csr_matrix, sparse.csr_matrix, sparse.csr_matrix]:
        """``(W, B, Bt)`` of the shared edges held: the weights, the 0/1 matrix of the same edges
        whatever their weight (an edge the null all but guarantees weighs 0 but is still a comment a
        block holds) and its transpose. Built once per set of edges held, O(E log E)."""
        if "matrices" not in self._by_side:
            keep = self.shared
            shape = (self.n_acc, self.n_col)
            W = sparse.csr_matrix((self.weight[keep], (self.acc[keep], self.col[keep])), shape=shape)
            B = sparse.csr_matrix((np.ones(int(keep.sum()), np.int64), (self.acc[keep], self.col[keep])), shape=shape)
            self._by_side["matrices"] = (W, B, B.T.tocsr())
        return self._by_side["matrices"]

    def notes_of(self, cols: np.ndarray) -> np.ndarray:
        """The note code of each of the columns ``cols``."""
        return self.col_note[cols]

    def edges_by(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        """``(ptr, w)``: the null windows (from 0) of every ``side`` (``"acc"`` or ``"col"``) node's edges,
        node ``i``'s at ``w[ptr[i]:ptr[i + 1]]`` in edge order. Built once per side, O(E log E)."""
        if side not in self._by_side:
            own, n = (self.acc, self.n_acc) if side == "acc" else (self.col, self.n_col)
            w = self.stratum  # windows are numbered from 0 (time_windows)
            # edges are sorted by account already; a stable sort by column keeps edge order inside a column
            order = None if side == "acc" else np.argsort(own, kind="stable")
            ptr = np.r_[0, np.cumsum(np.bincount(own, minlength=n))].astype(np.int64)
            self._by_side[side] = (ptr, w if order is None else w[order])
        return self._by_side[side]

    def window_sizes(self) -> np.ndarray:
        """The number of edges in each null window (from 0), as floats. Built once, O(E)."""
        if "windows" not in self._by_side:
            _, w = self.edges_by("acc")
            self._by_side["windows"] = np.bincount(w, minlength=int(w.max()) + 1 if len(w) else 1).astype(float)
        return self._by_side["windows"]



def segment_events(note: np.ndarray, t: np.ndarray, gap: int, max_span: int) -> np.ndarray:
    """Event id per comment: comments of one note, in time order, chained while
    consecutive ones are at most ``gap`` ns apart and the event spans at most
    ``max_span`` ns.  Input must be sorted by (note, t).  O(N) vectorised, plus
    O(N) in a loop only over the rare chains longer than ``max_span``.
    """
    n = len(t)
    if n == 0:
        return np.empty(0, np.int64)
    new = np.ones(n, bool)
    new[1:] = (note[1:] != note[:-1]) | (t[1:] - t[:-1] > gap)
    starts = np.flatnonzero(new)
    # long chains: split greedily at max_span from each event's first comment
    span = t[np.r_[starts[1:], n] - 1] - t[starts]
    for s in np.flatnonzero(span > max_span):
        lo, hi = starts[s], (starts[s + 1] if s + 1 < len(starts) else n)
        first = t[lo]
        for i in range(lo + 1, hi):
            if t[i] - first > max_span:
                new[i] = True
                first = t[i]
    return np.cumsum(new) - 1


def sorted_comments(comments: pd.DataFrame) -> dict:
    """The comments both views are built from, as code arrays in (note, time, comment id) order.

    ``acc``/``note``: codes into the sorted distinct ids ``acc_uni``/``note_uni``;
    ``cid``: comment ids; ``t``: int64 ns. Ties on (note, time) are broken by
    comment id (a sorted factorisation, so the order is the string order).
    O(N log N); built once and shared by the views.
    """
    cols = ["comment_id", "account_id", "note_id", "created_at"]
    df = comments.loc[:, cols].dropna()
    acc_codes, acc_uni = pd.factorize(df["account_id"].astype(str), sort=True)
    note_codes, note_uni = pd.factorize(df["note_id"].astype(str), sort=True)
    cid_codes, cid_uni = pd.factorize(df["comment_id"].astype(str), sort=True)
    t = epoch_ns(df["created_at"])
    order = np.lexsort((cid_codes, t, note_codes))
    cid = np.asarray(cid_uni, dtype=object)[cid_codes[order]]
    return {"acc": acc_codes[order], "acc_uni": acc_uni, "note": note_codes[order], "note_uni": note_uni,
            "cid": cid, "t": t[order]}


def build_view(comments: pd.DataFrame, name: str, params: DenseBlockParams = DenseBlockParams(),
               prepared: dict | None = None) -> tuple[View, dict]:
    """The ``event`` or ``note`` view of ``comments`` and the id tables behind it. O(N log N).

    ``prepared``: :func:`sorted_comments` of ``comments``, when already at hand.
    """
    prepared = prepared if prepared is not None else sorted_comments(comments)
    acc_codes, note_codes, t, cid = prepared["acc"], prepared["note"], prepared["t"], prepared["cid"]
    acc_uni, note_uni = prepared["acc_uni"], prepared["note_uni"]
    if name == "event":
        colc = segment_events(note_codes, t, int(pd.Timedelta(params.gap).value),
                              int(pd.Timedelta(params.max_span).value))
    elif name == "note":
        colc = note_codes.astype(np.int64)
    else:
        raise ValueError(f"unknown view {name!r} (event or note)")
    n_col = int(colc.max()) + 1 if len(colc) else 0
    col_note = np.zeros(n_col, np.int64)
    col_note[colc] = note_codes
    # distinct (account, column) edges, with the comment rows behind each
    key = acc_codes.astype(np.int64) * max(n_col, 1) + colc
    eorder = np.argsort(key, kind="stable")
    skey = key[eorder]
    first = np.r_[True, skey[1:] != skey[:-1]] if len(skey) else np.empty(0, bool)
    edge_ptr = np.r_[np.flatnonzero(first), len(skey)]
    ukey = skey[first]
    e_acc = ukey // max(n_col, 1)
    e_col = ukey % max(n_col, 1)
    n_acc = len(acc_uni)
    row_deg = np.bincount(e_acc, minlength=n_acc).astype(float)
    col_size = np.bincount(e_col, minlength=n_col).astype(float)
    # distinct commenters per note
    note_key = unique_ints(acc_codes.astype(np.int64) * max(len(note_uni), 1) + note_codes)
    note_k = np.bincount(note_key % max(len(note_uni), 1), minlength=len(note_uni)).astype(float)
    # an edge's time is its first comment's: rows are in (note, time) order and the sort above is stable
    edge_t = t[eorder[edge_ptr[:-1]]]
    window = time_windows(edge_t, params.null_window)
    stratum = time_windows(edge_t, params.null_window, params.null_window_edges)
    view = View(name, e_acc, e_col, n_acc, n_col, row_deg, col_size, 1.0 / np.log(note_k[col_note] + 5.0),
                col_note, edge_ptr, eorder, stratum, window, expected_edges(e_acc, e_col, window))
    tables = {"acc": acc_uni, "note": note_uni, "cid": cid, "t": t}
    return view, tables


def time_windows(t: np.ndarray, window, min_count: int = 0) -> np.ndarray:
    """Window number (0, 1, ...) of each int64-ns time: windows of length ``window``, consecutive
    ones merged until each holds at least ``min_count`` times (a short last one joins the one
    before); all 0 when ``window`` is 0.  O(n log n)."""
    w = int(pd.Timedelta(window).value) if window else 0
    if w <= 0 or not len(t):
        return np.zeros(len(t), np.int64)
    raw = np.floor_divide(t, w).astype(np.int64)
    uniq, inverse, counts = np.unique(raw, return_inverse=True, return_counts=True)
    return merged_windows(counts, min_count)[inverse]


def merged_windows(counts, min_count: int = 0) -> np.ndarray:
    """The window (0, 1, ...) of each raw window, given their ``counts`` in time order: consecutive
    raw windows merged until each holds at least ``min_count`` (a short last one joins the one
    before). O(number of raw windows)."""
    counts = [int(c) for c in counts]
    group = np.empty(len(counts), np.int64)
    g, held = 0, 0
    for i, c in enumerate(counts):
        if held >= max(min_count, 1):
            g, held = g + 1, 0
        group[i] = g
        held += c
    if g > 0 and held < min_count:
        group[group == g] = g - 1
    return group


def expected_edges(acc: np.ndarray, col: np.ndarray, stratum: np.ndarray) -> np.ndarray:
    """Each edge's probability under the time-stratified configuration null, clipped to [0, 1].

    In window w an account with d_w(a) edges and a column with s_w(c) edges,
    among the window's m_w edges, are joined with probability about
    d_w(a) * s_w(c) / m_w (Chung & Lu, "Connected components in random graphs
    with given expected degree sequences", 2002; the expectation behind
    Newman's modularity, bipartite form in Barber, Phys. Rev. E 2007).  An
    account commenting on most notes of its weeks gets probabilities near 1
    on all its edges: its co-activity with other busy accounts is what its
    own activity explains.  O(E) (hash factorisation).
    """
    if not len(acc):
        return np.zeros(0)
    n_s = int(stratum.max()) + 1 - int(stratum.min())
    s = stratum - stratum.min()
    a_code, _ = pd.factorize(acc.astype(np.int64) * n_s + s)
    c_code, _ = pd.factorize(col.astype(np.int64) * n_s + s)
    s_code, _ = pd.factorize(s)
    d = np.bincount(a_code)[a_code].astype(float)
    k = np.bincount(c_code)[c_code].astype(float)
    m = np.bincount(s_code)[s_code].astype(float)
    return np.minimum(d * k / m, 1.0)


# --------------------------------------------------------------------------- peeling


def _shared(acc: np.ndarray, col: np.ndarray, n_col: int) -> np.ndarray:
    """Mask of edges whose column has at least two accounts."""
    size = np.bincount(col, minlength=n_col)
    return size[col] >= 2


def edge_weights(acc, col, row_deg, col_weight, expected) -> np.ndarray:
    """FRAUDAR's log weights times each edge's surprise 1 - P(edge) under the time-stratified null.

    The residual A - P is modularity's (Newman 2006; Barber 2007), kept
    non-negative so that FRAUDAR's guarantee still holds: an edge chance all
    but guarantees (a busy account on a note of its busy week) weighs
    nothing, an edge between a quiet account and a quiet note keeps its
    weight.
    """
    return col_weight[col] / np.log(row_deg[acc] + 5.0) * (1.0 - expected)


def prune_core(W: sparse.csr_matrix, level: float, alive_r=None, alive_c=None) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the ``level``-core: iteratively drop every node whose
    weighted degree among the survivors is below ``level``.  No node of a block
    of density >= level, nor of the optimum of f(S) - level*|S|, is dropped.
    Vectorised, O(E') per pass over the E' edges still alive (the matrix is
    cut down to the survivors after each pass; a degree is the same sum in the
    same order either way).
    """
    R, C = W.shape
    rows = np.arange(R) if alive_r is None else np.flatnonzero(alive_r)
    cols = np.arange(C) if alive_c is None else np.flatnonzero(alive_c)
    sub = _submatrix(W, rows, cols)
    while True:
        rdeg = sub @ np.ones(sub.shape[1])
        cdeg = _column_sums(sub)
        kr, kc = rdeg >= level, cdeg >= level
        if kr.all() and kc.all():
            return rows, cols
        rows, cols, sub = rows[kr], cols[kc], _submatrix(sub, np.flatnonzero(kr), np.flatnonzero(kc))


def _submatrix(W: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> sparse.csr_matrix:
    """``W[rows][:, cols]`` for sorted index arrays, skipping the copy when nothing is cut. O(E).

    Columns are cut with a mask over the stored entries (one pass, entries kept in order) rather
    than scipy's column fancy indexing, which sorts and counts; the result is the same matrix."""
    W = sparse.csr_matrix(W)
    if len(rows) < W.shape[0]:
        W = W[rows]
    if len(cols) < W.shape[1]:
        remap = np.full(W.shape[1], -1, np.int64)
        remap[cols] = np.arange(len(cols))
        new = remap[W.indices]
        keep = new >= 0
        kept_before = np.r_[0, np.cumsum(keep)]
        W = sparse.csr_matrix((W.data[keep], new[keep], kept_before[W.indptr]), shape=(W.shape[0], len(cols)))
    return W


def _column_sums(W: sparse.csr_matrix) -> np.ndarray:
    """``W.T @ 1`` without building the transpose: each column's entries added in row order, as the
    transpose's product adds them. O(nnz)."""
    return np.bincount(W.indices, weights=W.data, minlength=W.shape[1])


def peel(W: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FRAUDAR's greedy peeling (Hooi et al. KDD 2016) of a bipartite weighted graph.

    Repeatedly removes the node (row or column) of least weighted degree.
    Returns ``order`` (node ids; rows ``0..R-1``, columns ``R + j``), ``mass``
    (total weight left *before* each removal) and ``edges`` (edges left before
    each removal); the block before step k is ``order[k:]``.  Binary heap with
    lazy deletion, ties broken by node id: O(E log V), compiled
    (:func:`_peel_heap`; the loop is inherently sequential).
    """
    W = sparse.csr_matrix(W)
    R, C = W.shape
    Wt = W.T.tocsr()
    deg = np.r_[np.asarray(W.sum(axis=1)).ravel(), np.asarray(W.sum(axis=0)).ravel()].astype(np.float64)
    cnt = np.r_[np.diff(W.indptr), np.diff(Wt.indptr)].astype(np.int64)
    # the total as Python adds it up, left to right (the running mass starts from it)
    cur = float(sum(W.data.tolist()))
    return _peel_heap(R, deg, cnt, W.indptr.astype(np.int64), W.indices.astype(np.int64),
                      W.data.astype(np.float64), Wt.indptr.astype(np.int64), Wt.indices.astype(np.int64),
                      Wt.data.astype(np.float64), cur)


@numba.njit(cache=True, nogil=True)
def _heap_less(hd, hi, a, b):  # pragma: no cover - compiled
    return hd[a] < hd[b] or (hd[a] == hd[b] and hi[a] < hi[b])


@numba.njit(cache=True, nogil=True)
def _heap_push(hd, hi, size, d, i):  # pragma: no cover - compiled
    k = size
    hd[k] = d
    hi[k] = i
    while k > 0:
        parent = (k - 1) >> 1
        if _heap_less(hd, hi, k, parent):
            hd[k], hd[parent] = hd[parent], hd[k]
            hi[k], hi[parent] = hi[parent], hi[k]
            k = parent
        else:
            break
    return size + 1


@numba.njit(cache=True, nogil=True)
def _heap_pop(hd, hi, size):  # pragma: no cover - compiled
    d, i = hd[0], hi[0]
    size -= 1
    hd[0], hi[0] = hd[size], hi[size]
    k = 0
    while True:
        left = 2 * k + 1
        if left >= size:
            break
        small = left
        if left + 1 < size and _heap_less(hd, hi, left + 1, left):
            small = left + 1
        if _heap_less(hd, hi, small, k):
            hd[k], hd[small] = hd[small], hd[k]
            hi[k], hi[small] = hi[small], hi[k]
            k = small
        else:
            break
    return d, i, size


@numba.njit(cache=True, nogil=True)
def _peel_heap(R, deg, cnt, rptr, rind, rval, cptr, cind, cval, cur):  # pragma: no cover - compiled
    """The peeling loop of :func:`peel`: a min-heap of (degree, node) with lazy deletion.

    The same float operations in the same order as a ``heapq`` loop would do
    (each neighbour's degree lowered by the removed node's edge weights in CSR
    order, the running mass lowered by each removed node's degree), so the order
    and the sums are exactly those of the plain-Python peel.  O(E log V).
    """
    n = len(deg)
    cap = n + len(rval) + len(cval) + 1
    hd = np.empty(cap, np.float64)
    hi = np.empty(cap, np.int64)
    size = 0
    for i in range(n):
        size = _heap_push(hd, hi, size, deg[i], i)
    alive = np.ones(n, np.bool_)
    order = np.empty(n, np.int64)
    mass = np.empty(n, np.float64)
    edges = np.empty(n, np.int64)
    ecur = len(rval)
    m = 0
    while size > 0:
        d, u, size = _heap_pop(hd, hi, size)
        if not alive[u] or d != deg[u]:
            continue
        alive[u] = False
        order[m] = u
        mass[m] = cur
        edges[m] = ecur
        m += 1
        cur -= d
        ecur -= cnt[u]
        if u < R:
            lo, hi_, off = rptr[u], rptr[u + 1], R
            for k in range(lo, hi_):
                v = rind[k] + off
                if alive[v]:
                    deg[v] -= rval[k]
                    cnt[v] -= 1
                    size = _heap_push(hd, hi, size, deg[v], v)
        else:
            lo, hi_ = cptr[u - R], cptr[u - R + 1]
            for k in range(lo, hi_):
                v = cind[k]
                if alive[v]:
                    deg[v] -= cval[k]
                    cnt[v] -= 1
                    size = _heap_push(hd, hi, size, deg[v], v)
    return order[:m], mass[:m], edges[:m]


def densest_density(W: sparse.csr_matrix, min_rows: int = 2) -> float:
    """Greedy densest-block density f(S)/|S| (with >= ``min_rows`` rows) of ``W``.

    First a lower bound from one vectorised batch peel (Bahmani, Kumar,
    Vassilvitskii, VLDB 2012: drop all nodes below (1+eps) times the current
    density, eps = 0.1), then the exact heap peel on the core at that level.
    """
    R, C = W.shape
    if W.nnz == 0:
        return 0.0
    lb, _rounds = batch_peel_bound(sparse.csr_matrix(W), np.arange(R), np.arange(C), R, min_rows)
    rows, cols = prune_core(W, lb)
    return densest_in_core(W, rows, cols, lb, min_rows)


BATCH_PEEL_ROUNDS = 200


def batch_peel_bound(sub: sparse.csr_matrix, ri: np.ndarray, ci: np.ndarray, R: int, min_rows: int,
                     lb: float = 0.0, rounds: int = BATCH_PEEL_ROUNDS) -> tuple[float, bool]:
    """Bahmani et al.'s batch peel from the survivors ``ri``/``ci`` (of a matrix with ``R`` rows;
    ``sub`` = its entries among them) and the bound ``lb`` so far, for at most ``rounds`` passes:
    ``(lb, whether it stopped before running out of rounds)``.  The Spark engine runs the first
    passes over the platform and this function the rest, on what is left.  O(E') per pass."""
    # the batch peel runs on the submatrix of the survivors; the degrees are the same sums in
    # the same order, and the mass is summed over the full-length vector as before (zeros for
    # the removed rows), so the bound is bit for bit that of the whole matrix
    full = np.zeros(R)
    for _ in range(rounds):
        rdeg = sub @ np.ones(len(ci))
        cdeg = _column_sums(sub)
        full[:] = 0.0
        full[ri] = rdeg
        mass = full.sum()
        size = len(ri) + len(ci)
        if size == 0 or mass == 0:
            return lb, True
        if len(ri) >= min_rows:
            lb = max(lb, mass / size)
        thr = 1.1 * mass / size
        kr, kc = rdeg > thr, cdeg > thr
        if kr.all() and kc.all():
            return lb, True  # a fixed point: every further pass would see the same degrees and bound
        ri, ci, sub = ri[kr], ci[kc], _submatrix(sub, np.flatnonzero(kr), np.flatnonzero(kc))
    return lb, False


def densest_in_core(W: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray, lb: float, min_rows: int) -> float:
    """The exact greedy peel of ``W``'s ``lb``-core ``rows``/``cols`` (of all of ``W`` when the core has
    fewer than ``min_rows`` rows): the densest prefix's density, or ``lb`` if higher. O(E' log V')."""
    R, C = W.shape
    if len(rows) < min_rows:
        rows, cols = np.arange(R), np.arange(C)
    sub = W[rows][:, cols]
    order, mass, _ = peel(sub)
    n = len(order)
    if n == 0:
        return lb
    size = n - np.arange(n)
    rows_left = (order < len(rows))[::-1].cumsum()[::-1]
    g = np.where(rows_left >= min_rows, mass / size, -1.0)
    return float(max(lb, g.max()))


def permute_within_windows(acc: np.ndarray, col: np.ndarray, stratum: np.ndarray, n_col: int,
                           seed: int, copy: int, rounds: int = 8) -> np.ndarray:
    """The column end of every edge, permuted among the edges of its window, with few duplicates.

    Each window is permuted on its own (:func:`permute_window`) with its own generator, seeded by
    ``(seed, copy, window)``: a window's copy depends on that window's edges alone (in the order
    given, the view's (account, column) order), so the Spark engine permutes the windows on its
    executors and gets the same copy.  A duplicate across two windows (one account given the same
    column in both) stays and is dropped by the caller.  O(rounds * E log E).
    """
    out = col.copy()
    if not len(col):
        return out
    by_window = np.argsort(stratum, kind="stable")
    sw = stratum[by_window]
    starts = np.r_[0, np.flatnonzero(sw[1:] != sw[:-1]) + 1, len(sw)]
    for lo, hi in zip(starts[:-1], starts[1:]):
        edges = by_window[lo:hi]
        rng = np.random.default_rng([int(seed), int(copy), int(sw[lo])])
        out[edges] = permute_window(acc[edges], col[edges], n_col, rng, rounds)
    return out


def permute_window(acc: np.ndarray, col: np.ndarray, n_col: int, rng: np.random.Generator,
                   rounds: int = 8) -> np.ndarray:
    """The column ends of one window's edges, randomly permuted among them, with few duplicates.

    A plain permutation puts a busy account on the same column twice more
    often than its real edges are (its duplicates then vanish and the copy is
    sparser than chance would make it: a busy account covering most notes of
    its week would look denser than its null).  Each duplicate is therefore
    switched with a random edge of the window, (a, c), (b, d) -> (a, d), (b, c),
    when neither new edge exists (the edge switching of Milo et al., "Network
    motifs", Science 2002), for ``rounds`` vectorised rounds; a duplicate
    that cannot be placed stays (and is dropped by the caller).  Every account's
    and every column's number of edges in the window is kept exactly.
    O(rounds * E log E) for the window's E edges.
    """
    n = len(col)
    col = col[rng.permutation(n)] if n else col.copy()
    if not n:
        return col
    acc64 = acc.astype(np.int64)
    for _ in range(rounds):
        key = acc64 * n_col + col
        order = np.argsort(key, kind="stable")
        skey = key[order]
        dup = np.zeros(n, bool)
        dup[order[1:][skey[1:] == skey[:-1]]] = True
        d = np.flatnonzero(dup)
        if not len(d):
            break
        partner = (rng.random(len(d)) * n).astype(np.int64)
        new_a = acc64[d] * n_col + col[partner]
        new_b = acc64[partner] * n_col + col[d]
        ok = ~dup[partner] & ~_present(skey, new_a) & ~_present(skey, new_b) & (new_a != new_b)
        # one switch per edge and per new edge in a round
        ok &= ~pd.Series(partner).duplicated().to_numpy()
        ok &= ~pd.Series(new_a).duplicated().to_numpy() & ~pd.Series(new_b).duplicated().to_numpy()
        ok &= ~np.isin(new_a, new_b[ok])
        d, partner = d[ok], partner[ok]
        col[d], col[partner] = col[partner], col[d].copy()
    return col


def _present(sorted_keys: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Whether each of ``x`` is in ``sorted_keys``, by binary search. O(len(x) log n)."""
    i = np.minimum(np.searchsorted(sorted_keys, x), len(sorted_keys) - 1)
    return sorted_keys[i] == x


def null_density(view: View, copies: int, seed: int, min_rows: int) -> tuple[float, list[float]]:
    """Densest-block density in ``copies`` random copies of ``view`` that keep activity over time.

    Each copy permutes the column end of the edges within each time window
    (``view.stratum``): a bipartite configuration model per window, so every
    account keeps its number of edges in every window and every column its
    size in every window, while any group structure is destroyed (duplicates
    are dropped).  Then it keeps the shared columns and weights edges as the
    real graph (surprise under the same null).  Returns g0 (``null_level`` of
    the copies' densities) and the list.  O(copies * (E log E + peel)).
    """
    out = []
    n = max(view.n_col, 1)
    for copy in range(max(copies, 1)):
        col = permute_within_windows(view.acc, view.col, view.stratum, n, seed, copy)
        key, first = np.unique(view.acc.astype(np.int64) * n + col, return_index=True)
        acc, col = key // n, key % n
        expected = expected_edges(acc, col, view.window[first])
        keep = _shared(acc, col, view.n_col)
        w = edge_weights(acc[keep], col[keep], view.row_deg, view.col_weight, expected[keep])
        W = sparse.csr_matrix((w, (acc[keep], col[keep])), shape=(view.n_acc, view.n_col))
        out.append(densest_density(W, min_rows))
    return null_level(out), out


def null_level(densities: list[float]) -> float:
    """g0 from the null copies' densest-block densities: their mean (both engines). A block must be
    ``density_margin`` times denser. O(copies)."""
    return float(np.mean(densities)) if len(densities) else 0.0


@dataclass
class Block:
    rows: np.ndarray
    cols: np.ndarray
    density: float
    edges: int
    excess: float
    # accounts and columns that joined after the test (see _with_joiners)
    joined: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    joined_cols: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


def find_blocks(view: View, params: DenseBlockParams, g0: float) -> list[Block]:
    """Blocks of ``view`` that pass the test against the null density ``g0``.

    Level lambda = density_margin * g0.  Repeatedly: prune to the lambda-core,
    peel it, take the prefix maximising the excess f(S) - lambda*|S|, split it
    into connected components, keep the components with >= min_accounts
    accounts, density > lambda and excess comments e * (1 - lambda/g) >=
    min_excess; remove the block's rows and columns; stop when nothing passes
    or after ``max_blocks`` rounds.
    """
    lam = params.density_margin * g0
    alive_r = np.ones(view.n_acc, bool)
    alive_c = np.ones(view.n_col, bool)
    blocks: list[Block] = []
    for _ in range(params.max_blocks):
        W, B, _ = view.matrices()
        rows, cols = prune_core(W, lam, alive_r, alive_c)
        if len(rows) < params.min_accounts or len(cols) == 0:
            break
        sub = W[rows][:, cols]
        order, mass, _ = peel(sub)
        n = len(order)
        size = n - np.arange(n)
        rows_left = (order < len(rows))[::-1].cumsum()[::-1]
        gain = np.where(rows_left >= params.min_accounts, mass - lam * size, -np.inf)
        k = int(np.argmax(gain))
        if not np.isfinite(gain[k]):
            break
        # no "gain <= 0: stop" here: the prefix may join a farm with a few loose
        # pairs that pull its density under lambda; its components are tested below
        rem = order[k:]
        brow = rows[rem[rem < len(rows)]]
        bcol = cols[rem[rem >= len(rows)] - len(rows)]
        brow, bcol = _trim(B, brow, bcol, params.min_member_events)
        if params.member_alpha > 0:
            brow, bcol = _beyond_own_activity(view, brow, bcol, params)
            W, B, _ = view.matrices()
        found = False
        for crow, ccol in _components(W, brow, bcol):
            f = float(W[crow][:, ccol].sum())
            e = int(B[crow][:, ccol].sum())
            g = f / (len(crow) + len(ccol))
            excess = e * (1.0 - lam / g) if g > 0 else 0.0
            if len(crow) >= params.min_accounts and g > lam and excess >= params.min_excess:
                blocks.append(Block(np.sort(crow), np.sort(ccol), g, e, excess))
                found = True
        alive_r[rows[rem[rem < len(rows)]]] = False
        alive_c[cols[rem[rem >= len(rows)] - len(rows)]] = False
        if not found:
            # stop at the first round whose best block fails the test (FRAUDAR's
            # detectMultiple takes a fixed number of blocks; here the test decides)
            break
    if params.join_alpha > 0 and blocks:
        _hold_around(view, blocks)
        taken = np.zeros(view.n_acc, bool)
        taken_cols = np.zeros(view.n_col, bool)
        for b in blocks:
            taken[b.rows] = True
            taken_cols[b.cols] = True
        for i, b in enumerate(blocks):
            blocks[i] = _with_joiners(view, b, taken, taken_cols, params)
            taken[blocks[i].joined] = True
            taken_cols[blocks[i].joined_cols] = True
    return blocks


def _hold_around(view: View, blocks: list[Block]) -> None:
    """Have ``view`` hold, in one go, what the joiners' first round reads for every block: the edges of the
    blocks' columns, of the accounts on them and of the columns of the blocks' accounts (a view holding
    every edge, as here, holds them already; the Spark engine's fetches them in three passes, not per
    block)."""
    cols = np.unique(np.concatenate([b.cols for b in blocks]))
    rows = np.unique(np.concatenate([b.rows for b in blocks]))
    view.ensure("col", cols)
    _, B, Bt = view.matrices()
    view.ensure("acc", np.unique(Bt.indices[_segments(Bt.indptr, cols)]))
    view.ensure("col", np.unique(B.indices[_segments(B.indptr, rows)]))


def _trim(B: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Inside a block, keep accounts with >= k of its columns and columns with >= 2 of its accounts (iterated)."""
    while len(rows) and len(cols):
        sub = B[rows][:, cols]
        rk = np.asarray(sub.sum(axis=1)).ravel() >= k
        ck = np.asarray(sub.sum(axis=0)).ravel() >= 2
        if rk.all() and ck.all():
            break
        rows, cols = rows[rk], cols[ck]
    return rows, cols


def _beyond_own_activity(view: View, rows: np.ndarray, cols: np.ndarray,
                         params: DenseBlockParams) -> tuple[np.ndarray, np.ndarray]:
    """Keep the block's accounts whose number of its columns is improbable (tail <= ``member_alpha``)
    under Poisson(their expected number given their own activity over time), then re-trim. O(E)."""
    for _ in range(3):
        if not len(rows) or not len(cols):
            break
        view.ensure("col", cols)
        view.ensure("acc", rows)
        _, B, Bt = view.matrices()
        colmask = np.zeros(view.n_col, bool)
        colmask[cols] = True
        hits = _hits(Bt, colmask)
        tail = poisson.sf(hits[rows] - 1, expected_hits(view, colmask, "acc", at=rows))
        keep = tail <= params.member_alpha
        if keep.all():
            break
        rows, cols = _trim(B, rows[keep], cols, params.min_member_events)
    return rows, cols


def _components(W: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray):
    sub = W[rows][:, cols]
    R = len(rows)
    G = sparse.bmat([[None, sub], [sub.T, None]]).tocsr() if R and len(cols) else None
    if G is None:
        return
    n, lab = connected_components(G, directed=False)
    for k in np.unique(lab):
        yield rows[np.flatnonzero(lab[:R] == k)], cols[np.flatnonzero(lab[R:] == k)]


def _beyond_chance(hits: np.ndarray, expected, candidates: np.ndarray,
                   k: int, alpha: float) -> np.ndarray:
    """Candidates whose ``hits`` (>= k) are improbable under Poisson(``expected(those candidates)``),
    Bonferroni over the nodes with at least one hit. O(len(hits) + the expectation's cost)."""
    touching = int((hits >= 1).sum())
    cand = candidates[hits[candidates] >= k]
    if not len(cand) or touching == 0:
        return cand
    tail = poisson.sf(hits[cand] - 1, expected(cand))
    return cand[tail * touching <= alpha]


def expected_hits(view: View, selected: np.ndarray, side: str, at: np.ndarray | None = None) -> np.ndarray:
    """Each account's (``side="acc"``) or column's expected number of edges to the ``selected``
    columns (accounts) under the time-stratified null: the sum over its edges of the selected
    nodes' share of the edges of that edge's window.  For the nodes ``at`` (in that order), or
    for every node.  O(edges of the selected nodes + edges of ``at``), from :meth:`View.edges_by`
    (the same sums in the same order as one pass over all edges)."""
    other = "col" if side == "acc" else "acc"
    own_ptr, own_w = view.edges_by(side)
    other_ptr, other_w = view.edges_by(other)
    per_window = view.window_sizes()
    n_w = len(per_window)
    in_sel = np.bincount(other_w[_segments(other_ptr, np.flatnonzero(selected))], minlength=n_w).astype(float)
    share = np.divide(in_sel, per_window, out=np.zeros(n_w), where=per_window > 0)
    nodes = np.arange(len(own_ptr) - 1) if at is None else np.asarray(at, dtype=np.int64)
    seg = _segments(own_ptr, nodes)
    node_of = np.repeat(np.arange(len(nodes)), own_ptr[nodes + 1] - own_ptr[nodes])
    return np.bincount(node_of, weights=share[own_w[seg]], minlength=len(nodes))


def _hits(M: sparse.csr_matrix, selected: np.ndarray) -> np.ndarray:
    """For every column of the 0/1 matrix ``M``, its number of edges from the ``selected`` rows
    (``M.T @ selected``), read from those rows alone: O(their edges), not O(E). Counts as floats."""
    return np.bincount(M.indices[_segments(M.indptr, np.flatnonzero(selected))],
                       minlength=M.shape[1]).astype(float)


def _segments(ptr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The positions ``ptr[i]:ptr[i + 1]`` of every ``i`` in ``idx``, concatenated in that order. O(output)."""
    lo, n = ptr[idx], ptr[idx + 1] - ptr[idx]
    if not len(idx):
        return np.empty(0, np.int64)
    return np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))


def _with_joiners(view: View, b: Block, taken: np.ndarray, taken_cols: np.ndarray, params: DenseBlockParams,
                  rounds: int = 5) -> Block:
    """Grow a tested block by the accounts and columns tied to it beyond chance.

    Under the time-stratified configuration null an account hits the block's
    columns ~ Poisson(sum over its edges of the block columns' share of the
    edges of that edge's window) (:func:`expected_hits`); it joins when it holds >= ``min_member_events`` of them
    and P(X >= hits) times the number of accounts touching the block is at
    most ``join_alpha`` (Bonferroni).  Columns join the same way, by their
    number of the block's accounts (>= 2), so target notes the peel left out
    bring in the members that worked them.  Accounts and columns already in
    a block stay where they are.  At most ``rounds`` alternations, each
    O(E).
    """
    rows = np.zeros(view.n_acc, bool)
    rows[b.rows] = True
    cols = np.zeros(view.n_col, bool)
    cols[b.cols] = True
    k = max(params.min_member_events, 2)

    def expected(selected: np.ndarray, side: str):
        def at_nodes(at: np.ndarray) -> np.ndarray:
            view.ensure(side, at)
            return expected_hits(view, selected, side, at)
        return at_nodes

    for _ in range(rounds):
        view.ensure("col", np.flatnonzero(cols))
        new_rows = _beyond_chance(_hits(view.matrices()[2], cols), expected(cols, "acc"),
                                  np.flatnonzero(~rows & ~taken), k, params.join_alpha)
        rows[new_rows] = True
        view.ensure("acc", np.flatnonzero(rows))
        new_cols = _beyond_chance(_hits(view.matrices()[1], rows), expected(rows, "col"),
                                  np.flatnonzero(~cols & ~taken_cols), 2, params.join_alpha)
        cols[new_cols] = True
        if not len(new_rows) and not len(new_cols):
            break
    return Block(b.rows, b.cols, b.density, b.edges, b.excess,
                 joined=np.setdiff1d(np.flatnonzero(rows), b.rows),
                 joined_cols=np.setdiff1d(np.flatnonzero(cols), b.cols))


# --------------------------------------------------------------------------- findings


def _finding(view: View, tables: dict, b: Block, g0: float, params: DenseBlockParams) -> ClusterFinding:
    acc_uni, note_uni, cid, t = tables["acc"], tables["note"], tables["cid"], tables["t"]
    colset = np.zeros(view.n_col, bool)
    colset[b.cols] = True
    colset[b.joined_cols] = True
    members_all = np.r_[b.rows, b.joined]
    view.ensure("col", np.flatnonzero(colset))
    view.ensure("acc", members_all)
    rowset = np.zeros(view.n_acc, bool)
    rowset[members_all] = True
    inside = rowset[view.acc] & colset[view.col]  # the block's edges
    eidx = np.flatnonzero(inside)
    crow = view.edge_rows[_segments(view.edge_ptr, eidx)]
    cids = sorted(set(cid[crow].tolist()))
    notes = sorted(set(np.asarray(note_uni[view.notes_of(np.flatnonzero(colset))], dtype=object).tolist()))
    t0, t1 = (int(t[crow].min()), int(t[crow].max())) if len(crow) else (0, 0)
    start, end = iso_utc_epoch(t0, unit="ns"), iso_utc_epoch(t1, unit="ns")
    ratio = b.density / g0 if g0 > 0 else float("inf")
    # calibrated score: the block's comments against what its members' own activity explains
    hits = np.bincount(view.acc[inside], minlength=view.n_acc).astype(float)
    expected = np.zeros(view.n_acc)
    expected[members_all] = expected_hits(view, colset, "acc", at=members_all)
    observed, chance = float(hits[members_all].sum()), float(expected[members_all].sum())
    surprise = block_surprise(observed, chance)
    score = calibrated(surprise, view.n_acc)
    what = "bursts (events)" if view.name == "event" else "notes"
    text = (
        f"{len(b.rows)} accounts commented together on {len(b.cols)} {what} of {len(notes)} notes: "
        f"{b.edges} comments inside the block, weighted density {b.density:.3f}, {ratio:.2f} times the densest block "
        f"of random copies that keep every account's activity week by week ({g0:.3f}, the mean of "
        f"{params.null_copies}); {b.excess:.1f} comments more than "
        f"a block of {params.density_margin:g} times that density would hold; between {start} and {end}. "
        f"Its members' own activity explains {chance:.1f} of their {observed:.0f} {what} in it "
        f"(Poisson surprise {surprise:.1f}, {family_wise(surprise, view.n_acc):.1f} after {view.n_acc:,} accounts)."
    )
    if len(b.joined) or len(b.joined_cols):
        text += (f" {len(b.joined)} more accounts and {len(b.joined_cols)} more {what} joined it: each is tied to "
                 f"the block so strongly that chance explains it with probability below {params.join_alpha:g} "
                 f"(Poisson, Bonferroni).")
    reason = comment_group_reason("dense_block", text, cids, notes, (start, end),
                                  params.max_evidence)
    # member score: the block's calibrated score times the member's share of its hits beyond chance
    member_ids = [str(a) for a in np.asarray(acc_uni[members_all], dtype=object).tolist()]
    member_scores = {}
    for r, member in zip(members_all, member_ids):
        beyond = 1.0 - expected[r] / hits[r] if hits[r] > 0 else 0.0
        member_scores[member] = round(score * float(np.clip(beyond, 0.0, 1.0)), 6)
    return ClusterFinding(
        detector=DETECTOR,
        members=tuple(member_ids),
        score=round(score, 6),
        reasons=(reason,),
        member_scores=member_scores,
    )


def block_surprise(observed: float, expected: float) -> float:
    """-log10 P(X >= ``observed``) for X ~ Poisson(``expected``): how unlikely a block's comments are
    given its members' own activity (0 when nothing beyond chance). O(1)."""
    if observed <= 0 or observed <= expected:
        return 0.0
    if expected <= 0:
        return 300.0
    return float(-poisson.logsf(observed - 1, expected) / np.log(10.0))


def view_names(params: DenseBlockParams) -> list[str]:
    names = [v.strip() for v in str(params.views).replace(",", "+").split("+") if v.strip()]
    bad = [v for v in names if v not in ("event", "note")]
    if bad or not names:
        raise ValueError(f"views: {params.views!r} (use event, note or event+note)")
    return names


def detect_dense_blocks(comments: pd.DataFrame, params: DenseBlockParams = DenseBlockParams()) -> list[ClusterFinding]:
    """Dense account x event (and account x note) blocks in ``comments`` that beat random copies.

    ``comments`` has the input format's columns ``comment_id, account_id,
    note_id, created_at``.  For each view: calibrate g0 on random copies that
    keep every account's activity per window (:func:`null_density`), find and test blocks
    (:func:`find_blocks`), turn them into findings citing the comments, notes
    and time window.  A farm both views find is kept once (:func:`merged_findings`).
    Sorted by score.
    """
    need = {"comment_id", "account_id", "note_id", "created_at"}
    if comments is None or len(comments) == 0 or not need <= set(comments.columns):
        return []
    found: list[tuple[float, int, ClusterFinding]] = []
    prepared = sorted_comments(comments)
    for vi, name in enumerate(view_names(params)):
        view, tables = build_view(comments, name, params, prepared)
        if len(view.acc) == 0:
            continue
        g0, _ = null_density(view, params.null_copies, params.seed, params.min_accounts)
        found += view_findings(view, tables, vi, g0, params)
    return merged_findings(found)


def view_findings(view: View, tables: dict, vi: int, g0: float,
                  params: DenseBlockParams) -> list[tuple[float, int, ClusterFinding]]:
    """``(density / g0, vi, finding)`` of every block of ``view`` (the ``vi``-th searched) against the null
    density ``g0``; none when ``g0`` is 0."""
    if g0 <= 0:
        return []
    return [(b.density / g0, vi, _finding(view, tables, b, g0, params)) for b in find_blocks(view, params, g0)]


def merged_findings(found: list[tuple[float, int, ClusterFinding]]) -> list[ClusterFinding]:
    """The findings of all views, a farm seen by both views kept once: in the view where it stands out
    more (higher density / g0). Sorted by score."""
    findings: list[ClusterFinding] = []
    found = sorted(found, key=lambda x: (-x[0], x[1], x[2].members))
    kept: list[tuple[int, set]] = []
    for _ratio, vi, f in found:
        m = set(f.members)
        if any(v != vi and len(m & k) >= 0.5 * min(len(m), len(k)) for v, k in kept):
            continue
        kept.append((vi, m))
        findings.append(f)
    findings.sort(key=lambda f: (-f.score, -len(f.members), f.members))
    return findings
