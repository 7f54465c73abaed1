"""Farmed accounts in the declared channel: accounts taking declared orders with a bought audience.

Black-market operators raise fake accounts to a creator's audience (bulk registration, bought followers, copied
notes), open them to the platform's declared commercial channel and sell brand orders through it: a declared order
through a fake account is still illegal marketing (issue #15 item 5). The candidates are the accounts that took a
declared order (``orders.declared`` true); each is tested for three kinds of evidence, each against a stated null
model of an honest creator:

(a) **Bought followers** (a follower farm). A follower farm sells the same accounts to many buyers, so its accounts
    follow many declared-channel accounts at once. A follower is a *co-follower* of a declared-channel account
    when it follows ``min_cofollows`` or more declared-channel accounts besides that one: a property of the
    follower, not of the account judged. Honest creators have co-followers too: people follow several creators,
    a heavy user follows many, and farms follow popular accounts as camouflage. So the null for an account's
    followers is the platform's own share ``p0`` of co-followers among the follows into accounts *outside* the
    channel (each follow counted, so heavy users and popular accounts weigh as much as they do in follows: a
    farm's camouflage follows land there as on an honest creator); ``c`` co-followers of ``n`` followers have
    ``p = P(Binomial(n, p0) >= c)`` (CatchSync, Jiang et al., KDD 2014: followers of a bought audience are
    synchronised in whom they follow; CopyCatch, Beutel et al., WWW 2013). A viral creator's hundreds of new
    followers in a day are ordinary accounts that follow whom people follow: as many co-followers as anywhere.
    The densest window of ``burst_days`` of the account's follower arrivals is cited (how the followers came),
    not tested: a viral burst is one too.
(b) **Followers without an audience.** The platform's own relation between followers and interactions received
    per note (likes and comments): a least-squares line of ``log(1 + interactions per note)`` on
    ``log(1 + followers)`` over every author with ``min_notes`` notes, residuals scaled by their MAD (1.4826 MAD,
    at least ``min_scale``); under the null a candidate's residual is normal, ``p = Phi(z)`` (one-sided: too few
    interactions).
(c) **Copied notes.** The account's notes are near-duplicates of earlier notes by accounts outside its own circle
    (accounts an intermediary that manages it also manages: a creator reposting its assistant's drafts is not
    copying). Near-duplicates and the null rate ``lam`` are the ``copied_notes`` detector's
    (``copied_notes.note_families``, ``background_rate``: near-duplicates by another account per note judged, at
    the platform's rate); ``k`` copies among ``n`` notes judged have ``p = P(Binomial(n, min(1, lam)) >= k)``.

**The score.** The three tests are combined two ways, each valid under the null whatever else holds: Fisher's
method (independent tests: ``-2 sum ln p ~ chi2(6)``) and the smallest ``p`` times 3 (Bonferroni over the
tests); the stronger of the two surprises counts, less ``log10 2`` for having looked twice. It is corrected for
the number of candidates tested and mapped to [0, 1] (``calibration.calibrated``), the scale of every calibrated
detector: with weight 0.8 an account flags alone at a family-wise surprise of 12.5.

**Clusters.** Candidates with evidence that share ``min_shared_followers`` co-followers (one follower farm), or an
intermediary that manages them, are one cluster. Each member's reason names its declared orders, their brands and
the agency, and the evidence of each test ("took 4 declared orders for b0003 (3), b0005 via agency m0002; 1,140 of
1,210 followers are co-followers ...").

F follows, L likes and comments, N notes, C candidates: O(F log F + L + N) plus the near-duplicate search of
``copied_notes`` (O(N L num_perm)), and the pairs of candidates a co-follower follows (O(sum m^2)) for clusters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import binom, chi2, norm

from ringscope.detection.calibration import calibrated
from ringscope.detection.copied_notes import CopiedNoteParams, background_rate, note_families
from ringscope.detection.findings import ClusterFinding, Evidence, Reason, iso_utc_epoch
from ringscope.detection.frames import epoch_seconds

DETECTOR = "farmed_declared"
_LN10 = math.log(10)
SIGNALS = ("followers", "imbalance", "copies")


@dataclass(frozen=True)
class FarmedDeclaredParams:
    """Thresholds of :func:`detect_farmed_declared` (see the module).

    ``min_cofollows``: what makes a follower a co-follower; ``min_followers``: fewer followers
    are not tested for (a); ``burst_days``: the window of follower arrivals cited; ``min_notes``: notes an
    author needs to count in the relation of (b), and a candidate to be tested for it; ``min_scale``: the least
    scale of (b)'s residuals; ``copy_threshold``, ``copy_min_chars``: the near-duplicate test of (c) (as
    ``copied_notes``'); ``min_shared_followers``: co-followers two candidates share to be one cluster;
    ``max_evidence``: ids cited per kind."""

    min_cofollows: int = 3
    min_followers: int = 10
    burst_days: float = 3.0
    min_notes: int = 1
    min_scale: float = 0.25
    copy_threshold: float = CopiedNoteParams.threshold   # copied_notes' test: one search serves both
    copy_min_chars: int = CopiedNoteParams.min_chars
    min_shared_followers: int = 10
    max_evidence: int = 200


@dataclass(frozen=True)
class Candidate:
    """What the three tests found about one account that took declared orders."""

    account_id: str
    orders: tuple[str, ...]
    brands: tuple[tuple[str, int], ...]        # (brand, orders), most first
    agencies: tuple[str, ...]
    followers: int
    cofollowers: int
    expected_cofollowers: float
    others_followed: int                      # distinct other declared accounts its co-followers follow
    burst: tuple[int, float, float]           # (followers arrived in the densest window, its start, end: epoch s)
    interactions_per_note: float
    predicted_per_note: float
    z: float
    notes_judged: int
    copied: tuple[tuple[str, str, str], ...]  # (its note, the earlier note, that note's author)
    surprises: tuple[float, float, float]     # -log10 p of (a), (b), (c)
    surprise: float                           # combined
    score: float
    sample_cofollowers: tuple[str, ...]


def _ids(series: pd.Series) -> np.ndarray:
    return series.astype(str).to_numpy(dtype=object)


def _as_bool(series: pd.Series) -> np.ndarray:
    if series.dtype == bool:
        return series.to_numpy()
    return series.astype(str).str.strip().str.lower().isin(["true", "1", "yes"]).to_numpy()


def _surprise_of_log_p(log_p: float) -> float:
    """``-log10 p`` from ``ln p``; 300 when the tail is beyond floating point."""
    return min(300.0, -log_p / _LN10) if math.isfinite(log_p) else 300.0


def declared_orders(orders: pd.DataFrame | None) -> pd.DataFrame:
    """The declared orders with an account: ``order_id, brand_id, intermediary_id, account_id``. O(orders)."""
    cols = ["order_id", "brand_id", "intermediary_id", "account_id"]
    if orders is None or orders.empty or "declared" not in orders or "account_id" not in orders:
        return pd.DataFrame(columns=cols)
    o = orders[_as_bool(orders["declared"]) & orders["account_id"].notna()]
    out = pd.DataFrame({c: (o[c].astype(object).where(o[c].notna(), None) if c in o else None) for c in cols})
    out["account_id"] = out["account_id"].astype(str)
    return out.reset_index(drop=True)


def follower_evidence(follows: pd.DataFrame | None, candidates: set[str],
                      params: FarmedDeclaredParams = FarmedDeclaredParams()) -> tuple[pd.DataFrame, float, float, pd.DataFrame]:
    """(per candidate: ``account_id, followers, cofollowers, surprise, others_followed, burst_n, burst_start,
    burst_end``; ``q``; ``p0``; the co-follower edges into candidates: ``account_id, target_account_id``).
    O(F log F)."""
    if follows is None or follows.empty or not candidates:
        return follower_summary(None, 0.0, 0.0, params)
    mine, q, p0 = follow_edges(follows, candidates, params)
    return follower_summary(mine, q, p0, params)


def follow_edges(follows: pd.DataFrame, candidates: set[str],
                 params: FarmedDeclaredParams = FarmedDeclaredParams()) -> tuple[pd.DataFrame | None, float, float]:
    """(the follows into candidates, one per follower and candidate: ``src, dst, t`` (epoch s of the first, NaN
    if none has a time), ``co`` (the follower follows ``min_cofollows`` other candidates); ``q``, the share of
    follows into candidates; ``p0``, the share of co-followers' follows among the follows outside). Self-follows
    and repeats dropped. What grows with the platform; ``spark.farmed_declared`` computes the same on the
    executors. O(F log F)."""
    f = pd.DataFrame({"src": _ids(follows["account_id"]), "dst": _ids(follows["target_account_id"]),
                      "t": epoch_seconds(follows["created_at"]) if "created_at" in follows else np.nan})
    f = f[f["src"] != f["dst"]].sort_values(["src", "dst", "t"], na_position="last")
    f = f.drop_duplicates(["src", "dst"]).reset_index(drop=True)
    if f.empty:
        return None, 0.0, 0.0
    into = f["dst"].isin(candidates).to_numpy()
    q = float(into.mean())
    m = pd.Series(into, index=f.index).groupby(f["src"]).transform("sum").to_numpy()
    others = m - into                      # declared accounts followed besides this edge's target
    co = others >= params.min_cofollows
    outside = ~into
    p0 = shares_p0(int(co[outside].sum()), int(outside.sum()))
    f["co"] = co
    return f[into].reset_index(drop=True), q, p0


def shares_p0(co_outside: int, outside: int) -> float:
    """The co-followers' share of the follows outside the channel, at least one follow in all of them. O(1)."""
    p0 = co_outside / outside if outside else 0.0
    return float(min(max(p0, 1.0 / max(outside, 1)), 1.0))


FOLLOWER_COLUMNS = ["account_id", "followers", "cofollowers", "surprise", "others_followed", "burst_n",
                    "burst_start", "burst_end"]


def follower_summary(mine: pd.DataFrame | None, q: float, p0: float,
                     params: FarmedDeclaredParams = FarmedDeclaredParams()
                     ) -> tuple[pd.DataFrame, float, float, pd.DataFrame]:
    """``follower_evidence``'s answer from ``follow_edges``' (the follows into candidates and the shares).
    O(E log E) in the follows into candidates, plus ``cofollower_spread``'s."""
    if mine is None:
        return pd.DataFrame(columns=FOLLOWER_COLUMNS), 0.0, 0.0, pd.DataFrame(columns=["account_id", "target_account_id"])
    per = follower_rows(mine, p0, params)
    co_edges = mine.loc[mine["co"].to_numpy(dtype=bool), ["src", "dst"]] \
                   .rename(columns={"src": "account_id", "dst": "target_account_id"}).reset_index(drop=True)
    per["others_followed"] = per["account_id"].map(cofollower_spread(co_edges)).fillna(0).astype(int)
    return per, q, p0, co_edges


def follower_rows(follows_into: pd.DataFrame, p0: float, params: FarmedDeclaredParams = FarmedDeclaredParams()
                  ) -> pd.DataFrame:
    """Per target of ``follows_into`` (``src, dst, t, co``: the follows into candidates), sorted: its
    ``followers``, ``cofollowers``, the ``surprise`` of that many co-followers at ``p0`` (test (a)) and the
    densest window of ``burst_days`` of follower arrivals (``burst_n, burst_start, burst_end``);
    ``others_followed`` 0 (``cofollower_spread`` fills it). Spark runs it per target on the executors.
    O(E log E)."""
    rows = []
    window = params.burst_days * 86400.0
    for target, g in follows_into.groupby("dst", sort=True):
        n, c = len(g), int(g["co"].sum())
        surprise = 0.0
        if n >= params.min_followers and c > 0:
            surprise = _surprise_of_log_p(float(binom.logsf(c - 1, n, p0)))
        t = np.sort(g["t"].dropna().to_numpy(dtype=float))
        burst_n, start, end = 0, np.nan, np.nan
        if t.size:
            hi = np.searchsorted(t, t + window, side="right")
            best = int(np.argmax(hi - np.arange(t.size)))
            burst_n, start, end = int(hi[best] - best), float(t[best]), float(t[hi[best] - 1])
        rows.append((target, n, c, surprise, 0, burst_n, start, end))
    return pd.DataFrame(rows, columns=FOLLOWER_COLUMNS)


def cofollow_counts(co_edges: pd.DataFrame) -> tuple[coo_matrix, np.ndarray]:
    """(``S``, the candidates in id order): ``S[i, j]`` is how many co-followers follow both candidates ``i``
    and ``j`` (a repeated edge counts as often as it repeats; the diagonal, each one's co-followers), from the
    co-follower edges (``account_id, target_account_id``), only its non-zero entries stored. ``B^T B`` of the
    followers-by-candidates incidence ``B``: the same counts as joining the edges with themselves on the
    follower, without making a row per joined pair (126 M of them at 1 M simulated accounts, 15+ GB as a
    frame). O(sum over co-followers of (candidates followed)^2) time, O(E + nnz S) memory."""
    followers, _ = pd.factorize(co_edges["account_id"])
    targets, ids = pd.factorize(co_edges["target_account_id"], sort=True)
    incidence = coo_matrix((np.ones(len(co_edges), np.int32), (followers, targets)),
                           shape=(int(followers.max()) + 1, len(ids))).tocsr()
    return (incidence.T @ incidence).tocoo(), np.asarray(ids, dtype=object)


def cofollower_spread(co_edges: pd.DataFrame) -> pd.Series:
    """Per candidate (index): how many other candidates its co-followers follow between them, from the
    co-follower edges (``account_id, target_account_id``); candidates with none are left out.
    O(sum over co-followers of (candidates followed)^2) time (``cofollow_counts``)."""
    if co_edges.empty:
        return pd.Series(dtype="int64")
    counts, ids = cofollow_counts(co_edges)
    off = counts.row != counts.col
    spread = np.bincount(counts.row[off], minlength=len(ids))
    has = spread > 0
    return pd.Series(spread[has].astype("int64"), index=pd.Index(ids[has], name="target_account_id"),
                     name="target_account_id_other")


def shared_cofollowers(co_edges: pd.DataFrame, members: set[str]) -> pd.DataFrame:
    """Pairs of ``members`` (``a < b``) and how many co-followers follow both (``shared``), sorted by ``a`` then
    ``b``. O(sum over co-followers of (members followed)^2) time (``cofollow_counts``)."""
    edges = co_edges[co_edges["target_account_id"].isin(members)] if not co_edges.empty else co_edges
    if edges.empty:
        return pd.DataFrame({"a": pd.Series(dtype=object), "b": pd.Series(dtype=object),
                             "shared": pd.Series(dtype="int64")})
    counts, ids = cofollow_counts(edges)
    upper = counts.row < counts.col  # ids are sorted: a lower code is a smaller id
    row, col, shared = counts.row[upper], counts.col[upper], counts.data[upper]
    order = np.lexsort((col, row))
    return pd.DataFrame({"a": ids[row[order]], "b": ids[col[order]], "shared": shared[order].astype("int64")})


def interaction_evidence(accounts: pd.DataFrame | None, notes: pd.DataFrame | None, likes: pd.DataFrame | None,
                         comments: pd.DataFrame | None, follows: pd.DataFrame | None, candidates: set[str],
                         params: FarmedDeclaredParams = FarmedDeclaredParams()) -> pd.DataFrame:
    """Per candidate with ``min_notes`` notes: ``account_id, per_note, predicted, z, surprise`` against the
    platform's relation of interactions per note to followers (see the module, (b)). O(N + L)."""
    return interaction_fit(author_table(accounts, notes, likes, comments, follows), candidates, params)


def author_table(accounts: pd.DataFrame | None, notes: pd.DataFrame | None, likes: pd.DataFrame | None,
                 comments: pd.DataFrame | None, follows: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per author (index ``account_id``): ``notes``, ``received`` (likes and comments on them by others),
    ``followers`` (the accounts' count, else the follows into it); None without notes or followers. What grows
    with the platform (one row per author); ``spark.farmed_declared`` computes the same on the executors.
    O(N + L)."""
    if notes is None or notes.empty:
        return None
    author = pd.Series(_ids(notes["account_id"]), index=_ids(notes["note_id"]))
    author = author[~author.index.duplicated()]
    n_notes = author.value_counts()
    received = pd.Series(0.0, index=n_notes.index)
    for events in (likes, comments):
        if events is not None and not events.empty and "note_id" in events:
            by = author.reindex(_ids(events["note_id"])).dropna()
            if "account_id" in events:  # an author's own likes and comments are no audience
                actor = _ids(events["account_id"])[author.reindex(_ids(events["note_id"])).notna().to_numpy()]
                by = by[by.to_numpy() != actor]
            received = received.add(by.value_counts(), fill_value=0.0)
    if accounts is not None and not accounts.empty and "followers" in accounts:
        acc = accounts.drop_duplicates("account_id")
        followers = pd.Series(pd.to_numeric(acc["followers"], errors="coerce").to_numpy(), index=_ids(acc["account_id"]))
    elif follows is not None and not follows.empty:
        followers = pd.Series(_ids(follows["target_account_id"])).value_counts().astype(float)
    else:
        return None
    df = pd.DataFrame({"notes": n_notes, "received": received.reindex(n_notes.index).fillna(0.0)})
    df["followers"] = followers.reindex(df.index).fillna(0.0).clip(lower=0.0)
    df.index.name = "account_id"
    return df


def interaction_fit(table: pd.DataFrame | None, candidates: set[str],
                    params: FarmedDeclaredParams = FarmedDeclaredParams()) -> pd.DataFrame:
    """``interaction_evidence``'s answer from ``author_table``'s: the platform's line and each candidate's
    residual. O(authors log authors)."""
    cols = ["account_id", "per_note", "predicted", "z", "surprise"]
    if table is None:
        return pd.DataFrame(columns=cols)
    df = table.sort_index(kind="stable")
    df = df[df["notes"] >= params.min_notes]
    if len(df) < 10:
        return pd.DataFrame(columns=cols)
    x = np.log1p(df["followers"].to_numpy())
    y = np.log1p(df["received"].to_numpy() / df["notes"].to_numpy())
    slope, intercept = np.polyfit(x, y, 1) if np.ptp(x) > 0 else (0.0, float(np.mean(y)))
    resid = y - (slope * x + intercept)
    scale = max(1.4826 * float(np.median(np.abs(resid - np.median(resid)))), params.min_scale)
    z = (resid - float(np.median(resid))) / scale
    out = pd.DataFrame({"account_id": df.index.to_numpy(), "per_note": np.expm1(y),
                        "predicted": np.expm1(slope * x + intercept + float(np.median(resid))), "z": z})
    out = out[out["account_id"].isin(candidates)].copy()
    out["surprise"] = [_surprise_of_log_p(float(norm.logcdf(v))) if v < 0 else 0.0 for v in out["z"]]
    return out[cols].reset_index(drop=True)


def copy_evidence(notes: pd.DataFrame | None, intermediary_accounts: pd.DataFrame | None, candidates: set[str],
                  params: FarmedDeclaredParams = FarmedDeclaredParams()) -> tuple[pd.DataFrame, dict, float]:
    """(per candidate with notes judged: ``account_id, judged, copies, surprise``; candidate -> its copied notes
    as (note, earlier note, its author); ``lam``). Families and ``lam`` are ``copied_notes``'. O(N L num_perm)."""
    if notes is None or notes.empty or "text" not in notes or not candidates:
        return pd.DataFrame(columns=COPY_COLUMNS), {}, 0.0
    fam, judged = note_families(notes, copy_test(params))
    if fam.empty:
        return pd.DataFrame(columns=COPY_COLUMNS), {}, 0.0
    return copy_evidence_of(fam, judged, background_rate(fam, judged), intermediary_accounts, candidates, params)


COPY_COLUMNS = ["account_id", "judged", "copies", "surprise"]


def copy_test(params: FarmedDeclaredParams) -> CopiedNoteParams:
    """The near-duplicate test of (c): ``copied_notes``' with this detector's threshold and length."""
    return CopiedNoteParams(threshold=params.copy_threshold, min_chars=params.copy_min_chars)


def copy_evidence_of(fam: pd.DataFrame, judged: int, lam: float, intermediary_accounts: pd.DataFrame | None,
                     candidates: set[str], params: FarmedDeclaredParams = FarmedDeclaredParams()
                     ) -> tuple[pd.DataFrame, dict, float]:
    """``copy_evidence`` from ``note_families``' rows (those of the families holding a candidate's note are
    enough), the notes judged and ``lam`` over all of them. O(F log F) for F rows."""
    if fam.empty or not candidates:
        return pd.DataFrame(columns=COPY_COLUMNS), {}, lam
    fam = fam.assign(t=epoch_seconds(fam["posted_at"]))
    mine = fam[fam["account_id"].isin(candidates)]
    heads = family_heads(fam[fam["family"].isin(set(mine["family"]))])
    copied, _ = first_copies(mine, heads, circles(intermediary_accounts, candidates))
    return copy_counts(mine.groupby("account_id").size(), copied, lam), copied, lam


HEAD_COLUMNS = ["family", "note_id", "account_id", "t", "more"]


def family_heads(fam: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """Per family of ``fam`` (``note_families``' rows, with ``t`` in epoch seconds), the first note of each
    of its authors in posting order (time, then note id; notes without a time last), its first ``limit``
    authors (all without one): ``family, note_id, account_id, t, more`` (``more``: the family has authors beyond
    the ones kept). ``spark.farmed_declared`` makes the same on the executors. O(F log F)."""
    f = fam.sort_values(["family", "t", "note_id"], na_position="last", kind="mergesort")
    heads = f.drop_duplicates(["family", "account_id"])
    rank = heads.groupby("family").cumcount().to_numpy()
    authors = heads.groupby("family")["account_id"].transform("size").to_numpy()
    keep = np.ones(len(heads), dtype=bool) if limit is None else rank < limit
    out = heads.loc[keep, ["family", "note_id", "account_id", "t"]].reset_index(drop=True)
    out["more"] = (authors[keep] > limit) if limit is not None else False
    return out


def circles(intermediary_accounts: pd.DataFrame | None, candidates: set[str]) -> dict[str, set[str]]:
    """Candidate -> the accounts an intermediary that manages it also manages (its circle, itself aside).
    O(rows + sum of circles)."""
    circle: dict[str, set[str]] = {}
    if intermediary_accounts is not None and not intermediary_accounts.empty:
        ia = pd.DataFrame({"i": _ids(intermediary_accounts["intermediary_id"]),
                           "a": _ids(intermediary_accounts["account_id"])})
        by_i = ia.groupby("i")["a"].agg(set)
        for a, g in ia[ia["a"].isin(candidates)].groupby("a")["i"]:
            circle[a] = set().union(*(by_i[i] for i in set(g)))
    return circle


def first_copies(mine: pd.DataFrame, heads: pd.DataFrame, circle: dict[str, set[str]]
                 ) -> tuple[dict[str, list[tuple[str, str, str]]], set]:
    """(candidate -> its copied notes, sorted, as (note, the earliest note of its family posted before it by an
    account outside its circle, that note's author); the families whose heads were cut before one by an account
    outside a candidate's circle came: the answer for their notes needs their heads whole).

    ``mine``: the candidates' notes (``note_id, account_id, family, t``); ``heads``: ``family_heads``' rows of
    their families. The earliest earlier note by an account outside the circle is its author's first note in
    the family, and no head outside the circle comes before it: so it is the first head outside the circle, if
    that one was posted before the note, and there is none otherwise. O(M h) for M notes and h heads read
    per note (until the first outside the circle)."""
    order: dict = {}
    cut_off: dict = {}
    for family, g in heads.groupby("family", sort=False):
        order[family] = list(zip(g["note_id"].astype(str), g["account_id"].astype(str), g["t"].to_numpy()))
        cut_off[family] = bool(g["more"].any())
    copied: dict[str, list[tuple[str, str, str]]] = {}
    cut: set = set()
    for note, account, family, t in zip(mine["note_id"].astype(str), mine["account_id"].astype(str),
                                        mine["family"], mine["t"].to_numpy()):
        own = circle.get(account, set())
        for earlier, author, posted in order.get(family, ()):
            if author != account and author not in own:
                if posted < t:
                    copied.setdefault(account, []).append((note, earlier, author))
                break
        else:
            if cut_off.get(family, False):
                cut.add(family)
    return {a: sorted(v) for a, v in copied.items()}, cut


def copy_counts(judged: pd.Series, copied: dict[str, list], lam: float) -> pd.DataFrame:
    """Per candidate with notes judged (``judged``: notes judged by account): ``account_id, judged, copies,
    surprise``, ``k`` copies among ``n`` notes against ``Binomial(n, min(1, lam))``. O(C)."""
    p1 = min(1.0, lam)
    per = judged.sort_index().rename("judged").rename_axis("account_id").reset_index()
    per["judged"] = per["judged"].astype(int)
    per["copies"] = per["account_id"].map(lambda a: len(copied.get(a, ()))).astype(int)
    per["surprise"] = [_surprise_of_log_p(float(binom.logsf(k - 1, n, p1))) if k > 0 else 0.0
                       for n, k in zip(per["judged"], per["copies"])]
    return per[COPY_COLUMNS]


def combined_surprise(surprises: tuple[float, ...]) -> float:
    """The stronger of Fisher's combination and the smallest p times the number of tests, less ``log10 2``. O(1)."""
    k = len(surprises)
    statistic = 2.0 * _LN10 * sum(surprises)            # -2 sum ln p
    fisher = _surprise_of_log_p(float(chi2.logsf(statistic, 2 * k)))
    smallest = max(surprises) - math.log10(k)
    return max(0.0, max(fisher, smallest) - math.log10(2))


def detect_farmed_declared(accounts: pd.DataFrame | None, notes: pd.DataFrame | None, orders: pd.DataFrame | None,
                           intermediary_accounts: pd.DataFrame | None, likes: pd.DataFrame | None,
                           comments: pd.DataFrame | None, follows: pd.DataFrame | None,
                           params: FarmedDeclaredParams = FarmedDeclaredParams()) -> list[ClusterFinding]:
    """Farmed declared-channel accounts (see the module): one finding per cluster of candidates whose combined
    evidence is more than chance explains after the correction for the candidates tested; each member's reason
    names its declared orders, brands and agency. Sorted by score, then members."""
    declared = declared_orders(orders)
    if declared.empty:
        return []
    candidates = set(declared["account_id"])
    fol, q, p0, co_edges = follower_evidence(follows, candidates, params)
    inter = interaction_evidence(accounts, notes, likes, comments, follows, candidates, params)
    cop, copied, lam = copy_evidence(notes, intermediary_accounts, candidates, params)
    return findings_of(declared, fol, q, p0, co_edges, inter, cop, copied, lam, intermediary_accounts, params)


def evidenced(declared: pd.DataFrame, fol: pd.DataFrame, inter: pd.DataFrame, cop: pd.DataFrame
              ) -> dict[str, tuple[tuple[float, float, float], float, float]]:
    """Candidate -> (the three tests' surprises, combined, calibrated score) for the candidates whose score is
    above 0 (the others are not findings). O(C log C)."""
    tests = len(set(declared["account_id"]))
    by = [t.set_index("account_id")["surprise"] if len(t) else pd.Series(dtype=float) for t in (fol, inter, cop)]
    out = {}
    for account in sorted(set(declared["account_id"])):
        surprises = tuple(float(s.get(account, 0.0)) for s in by)
        surprise = combined_surprise(surprises)
        score = round(calibrated(surprise, tests), 6)
        if score > 0:
            out[account] = (surprises, surprise, score)
    return out


def findings_of(declared: pd.DataFrame, fol: pd.DataFrame, q: float, p0: float, co_edges: pd.DataFrame,
                inter: pd.DataFrame, cop: pd.DataFrame, copied: dict, lam: float,
                intermediary_accounts: pd.DataFrame | None,
                params: FarmedDeclaredParams = FarmedDeclaredParams(),
                pairs: pd.DataFrame | None = None) -> list[ClusterFinding]:
    """The findings from the three tests' answers (``follower_evidence``, ``interaction_evidence``,
    ``copy_evidence``) over the declared orders: combined, calibrated, clustered, cited. ``co_edges`` need only
    hold the co-follower edges into the candidates ``evidenced`` keeps, and ``pairs`` is their
    ``shared_cofollowers`` (made from ``co_edges`` when not given). The Spark engine computes the answers on
    the executors and calls this. O(C log C) plus the clusters'."""
    candidates = set(declared["account_id"])
    fol_by, inter_by, cop_by = (fol.set_index("account_id"), inter.set_index("account_id"),
                                cop.set_index("account_id"))
    managed = {}
    if intermediary_accounts is not None and not intermediary_accounts.empty:
        ia = pd.DataFrame({"i": _ids(intermediary_accounts["intermediary_id"]),
                           "a": _ids(intermediary_accounts["account_id"])})
        managed = {a: tuple(sorted(set(g))) for a, g in ia[ia["a"].isin(candidates)].groupby("a")["i"]}
    scored = evidenced(declared, fol, inter, cop)
    if not scored:
        return []
    co_edges = co_edges[co_edges["target_account_id"].isin(scored)] if not co_edges.empty else co_edges
    samples = (co_edges.groupby("target_account_id")["account_id"].agg(lambda s: tuple(sorted(s)[:params.max_evidence]))
               if not co_edges.empty else pd.Series(dtype=object))
    tests = len(candidates)
    found: dict[str, Candidate] = {}
    for account, g in declared[declared["account_id"].isin(scored)].groupby("account_id", sort=True):
        (s_a, s_b, s_c), surprise, score = scored[account]
        brands = g["brand_id"].dropna().astype(str).value_counts()
        via = tuple(sorted(set(g["intermediary_id"].dropna().astype(str)) | set(managed.get(account, ()))))
        frow = fol_by.loc[account] if account in fol_by.index else None
        irow = inter_by.loc[account] if account in inter_by.index else None
        crow = cop_by.loc[account] if account in cop_by.index else None
        found[account] = Candidate(
            account_id=account, orders=tuple(sorted(g["order_id"].astype(str))),
            brands=tuple(sorted(brands.items(), key=lambda kv: (-kv[1], kv[0]))), agencies=via,
            followers=int(frow["followers"]) if frow is not None else 0,
            cofollowers=int(frow["cofollowers"]) if frow is not None else 0,
            expected_cofollowers=(float(frow["followers"]) * p0) if frow is not None else 0.0,
            others_followed=int(frow["others_followed"]) if frow is not None else 0,
            burst=((int(frow["burst_n"]), float(frow["burst_start"]), float(frow["burst_end"])) if frow is not None
                   else (0, math.nan, math.nan)),
            interactions_per_note=float(irow["per_note"]) if irow is not None else math.nan,
            predicted_per_note=float(irow["predicted"]) if irow is not None else math.nan,
            z=float(irow["z"]) if irow is not None else math.nan,
            notes_judged=int(crow["judged"]) if crow is not None else 0,
            copied=tuple(copied.get(account, ())), surprises=(s_a, s_b, s_c), surprise=surprise, score=score,
            sample_cofollowers=tuple(samples.get(account, ())) if len(samples) else ())
    if pairs is None:
        pairs = shared_cofollowers(co_edges, set(found))
    return [_finding(group, found, co_edges, q, p0, lam, tests, params) for group in clusters(found, pairs, params)]


def clusters(found: dict[str, Candidate], pairs: pd.DataFrame,
             params: FarmedDeclaredParams = FarmedDeclaredParams()) -> list[list[str]]:
    """The candidates with evidence, grouped: sharing ``min_shared_followers`` co-followers (``pairs``:
    ``shared_cofollowers``' answer), or an agency. Sorted by their best score, then ids. O(C + pairs)."""
    names = sorted(found)
    index = {a: i for i, a in enumerate(names)}
    rows, cols = [], []
    strong = pairs[(pairs["shared"] >= params.min_shared_followers) & pairs["a"].isin(index) & pairs["b"].isin(index)]
    rows += [index[a] for a in strong["a"]]
    cols += [index[b] for b in strong["b"]]
    by_agency: dict[str, list[int]] = {}
    for a in names:
        for agency in found[a].agencies:
            by_agency.setdefault(agency, []).append(index[a])
    for members in by_agency.values():
        rows += members[:-1]
        cols += members[1:]
    n = len(names)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    groups: dict[int, list[str]] = {}
    for a in names:
        groups.setdefault(int(label[index[a]]), []).append(a)
    return sorted(groups.values(), key=lambda g: (-max(found[a].score for a in g), g))


def _count(n: float) -> str:
    return f"{int(round(n)):,}"


def member_reason(c: Candidate, p0: float, lam: float, tests: int, params: FarmedDeclaredParams) -> Reason:
    """One candidate's reason: its declared orders, brands and agency, then each test's evidence."""
    brands = ", ".join(f"{b} ({n})" if n > 1 else b for b, n in c.brands[:10])
    text = (f"took {len(c.orders)} declared order{'s' if len(c.orders) != 1 else ''} ({', '.join(c.orders[:10])}"
            f"{', ...' if len(c.orders) > 10 else ''}) for {brands or 'no named brand'}"
            f"{' via ' + ('agency ' if len(c.agencies) == 1 else 'agencies ') + ', '.join(c.agencies) if c.agencies else ''}.")
    s_a, s_b, s_c = c.surprises
    if c.followers:
        burst_n, start, end = c.burst
        text += (f" Followers: {c.cofollowers:,} of its {c.followers:,} followers are co-followers (each follows "
                 f"{params.min_cofollows}+ other declared-channel accounts)")
        if c.others_followed:
            text += f", who follow {c.others_followed:,} other declared-channel accounts between them"
        text += (f"; {c.expected_cofollowers:.1f} expected at the platform's share elsewhere ({p0:.2%})"
                 f" (p = 1e-{s_a:.1f})." if s_a > 0 else f"; as many as the platform's share elsewhere ({p0:.2%}) "
                 "explains.")
        if burst_n:
            text += (f" {burst_n:,} of them arrived within {params.burst_days:g} days "
                     f"({iso_utc_epoch(start, missing='?')[:10]} to {iso_utc_epoch(end, missing='?')[:10]}).")
    if not math.isnan(c.z):
        text += (f" Audience: {c.interactions_per_note:.1f} likes and comments per note where the platform's "
                 f"relation to {c.followers or 'its'} followers predicts {c.predicted_per_note:.1f} (z = {c.z:.1f}"
                 + (f", p = 1e-{s_b:.1f})." if s_b > 0 else ")."))
    if c.copied:
        shown = "; ".join(f"{n} copies {src} by {who}" for n, src, who in c.copied[:5])
        text += (f" Notes: {len(c.copied)} of its {c.notes_judged} notes judged are near-duplicates of earlier notes "
                 f"by accounts outside its circle ({shown}{'; ...' if len(c.copied) > 5 else ''}); "
                 f"near-duplicates per note at this platform's rate {lam:.2g} (p = 1e-{s_c:.1f}).")
    text += (f" Combined: p = 1e-{c.surprise:.1f} among {tests:,} accounts with declared orders "
             f"(score {c.score:.2f}).")
    evidence = [Evidence("order", c.orders[:params.max_evidence])]
    if c.brands:
        evidence.append(Evidence("brand", tuple(b for b, _ in c.brands[:params.max_evidence])))
    if c.agencies:
        evidence.append(Evidence("intermediary", c.agencies[:params.max_evidence]))
    if c.copied:
        evidence.append(Evidence("note", tuple(sorted({x for n, src, _ in c.copied for x in (n, src)}))
                                 [:params.max_evidence]))
    if c.sample_cofollowers:
        evidence.append(Evidence("account", c.sample_cofollowers[:params.max_evidence]))
    if c.burst[0] and not math.isnan(c.burst[1]):
        evidence.append(Evidence("time_window", (iso_utc_epoch(c.burst[1]), iso_utc_epoch(c.burst[2]))))
    return Reason("farmed_declared", text, tuple(evidence))


def _finding(group: list[str], found: dict[str, Candidate], co_edges: pd.DataFrame, q: float, p0: float, lam: float,
             tests: int, params: FarmedDeclaredParams) -> ClusterFinding:
    members = [found[a] for a in group]
    orders = sorted({o for c in members for o in c.orders})
    brands: dict[str, int] = {}
    for c in members:
        for b, n in c.brands:
            brands[b] = brands.get(b, 0) + n
    agencies = sorted({i for c in members for i in c.agencies})
    shared = 0
    if len(group) > 1 and not co_edges.empty:
        mine = co_edges[co_edges["target_account_id"].isin(group)]
        shared = int((mine.groupby("account_id").size() >= 2).sum())
    text = (f"{len(group)} account{'s' if len(group) > 1 else ''} with declared orders show a bought audience: "
            f"{len(orders)} declared orders for {len(brands)} brand{'s' if len(brands) != 1 else ''} "
            f"({', '.join(sorted(brands, key=lambda b: (-brands[b], b))[:10])})")
    if agencies:
        text += f" via {', '.join(agencies[:10])}"
    text += "."
    if shared:
        text += f" {shared:,} co-followers follow two or more of them (one follower farm)."
    text += (f" A co-follower follows {params.min_cofollows}+ other declared-channel accounts (the platform sends "
             f"{q:.1%} of its follows into the channel); co-followers make {p0:.2%} of the follows elsewhere.")
    evidence = [Evidence("order", tuple(orders[:params.max_evidence]))]
    if brands:
        evidence.append(Evidence("brand", tuple(sorted(brands)[:params.max_evidence])))
    if agencies:
        evidence.append(Evidence("intermediary", tuple(agencies[:params.max_evidence])))
    return ClusterFinding(DETECTOR, tuple(group), max(c.score for c in members),
                          (Reason("farmed_declared_cluster", text, tuple(evidence)),),
                          {c.account_id: c.score for c in members},
                          {c.account_id: (member_reason(c, p0, lam, tests, params),) for c in members})
