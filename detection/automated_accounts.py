"""Accounts run by a program, with no human in the loop: activity too regular, and no sign of a person.

The platform bans accounts fully managed by AI with no human participation. What the graph shows of them is
their clock, their words and their client: a program posts and comments on a schedule (every 37 minutes, give
or take two), fills the same sentences with other words, and posts through an API; people are bursty (a dozen
comments in ten minutes, then nothing for hours), sleep, write each comment anew and use the app. An account is
judged on its longest stretch of activity (cut at silences of ``silence_days``), by tests each against a stated
null model of a human account. It must fail the first and at least one of the others:

* **Regularity.** Under the null, the gaps between an account's events while it is active (gaps shorter than
  ``rest_hours``: a program paused at night is as regular by day) are at least as irregular as a Poisson
  process's (exponential gaps, coefficient of variation 1; people are burstier, CV > 1: Barabási, "The origin of
  bursts and heavy tails in human dynamics", Nature 2005). The sample CV of ``n`` exponential gaps is about
  normal with mean 1 and standard deviation ``1/sqrt(n)``, so an observed CV ``c`` has
  ``p = P(Z >= (1 - c) sqrt(n))``.
* **Rest.** Under the null, a person rests (a gap of at least ``rest_hours``, 5) on a day with probability at
  least ``rest_share`` (0.95: people sleep); over ``D`` days spanned, ``r`` rests or fewer have the binomial tail
  ``p = P(Binomial(D, rest_share) <= r)``.
* **Generated text.** A generator fills one skeleton with other words, so most of an account's texts have a
  near-duplicate among its own (character ``shingle``-grams, Jaccard >= ``text_similarity``: the share of
  structure two slot-filled sentences keep); under the null each of a person's ``n`` judged texts has one with
  probability at most ``text_null`` (0.3: the platform's own line for copied content, >= 30 % repetition), and
  ``k`` such texts or more have ``p = P(Binomial(n, text_null) >= k)``.
* **API client.** Where the input names the client (``client``, ``posted_via``), under the null a person posts
  through an API client (a name holding one of ``api_markers``) with probability at most ``api_null`` (0.05);
  ``k`` of ``n`` events or more: ``P(Binomial(n, api_null) >= k)``.

The two nulls are stated, as ``rest_share`` is, not estimated from the accounts tested: those are the few
busiest accounts of the platform, and programs can be most of them (at 10k simulated accounts, 3 of the 3 with
enough texts). ``benchmarks/results/detection_simulated.md`` shows the honest accounts' shares against them.

A brand or news account on a scheduler is regular by day and rests at night, writes each post anew through the
app: it fails the first test only and is not a finding (issue #13's scheduled posters, issue #15's look-alikes).
The evidence is ``min(s_regular, s_sign)`` (``-log10 p`` surprises), ``s_sign`` the largest surprise of the
``m`` other tests an account could be given (rest always; text with ``min_texts`` judged texts; client where
named) less ``log10 m``: P(min of m p-values <= x) <= m x, and P(both) <= either, whatever their dependence
(Bonferroni), so it is a lower bound of the joint surprise. It is corrected for the accounts tested and mapped to [0, 1] as every
calibrated detector's (``calibration.calibrated``). Accounts that fail and share a schedule at the same time (median gap within
``period_tolerance`` of each other, active stretches overlapping by ``min_overlap`` of the shorter) form one
cluster: one operator runs them (an account alone is a finding of one member). Two programs on the same period in
other weeks stay two findings, so a sanction on one operator's accounts never reaches another's; where every
member posts through the same client, the reason names it.

Reasons cite the schedule ("an event every 37 ± 2 min over 9.1 days, 0 rests of 5 hours or more"), the texts
and the client, and a sample of the events. Time O(E log E) for E events (sorting each account's times) plus
O(m^2) per account for its ``m <= max_texts`` texts compared, O(A log A) to group A accounts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binom, norm

from ringscope.detection.calibration import calibrated
from ringscope.detection.comment_text import normalize_text
from ringscope.detection.findings import ClusterFinding, Evidence, Reason, iso_utc_epoch
from ringscope.detection.params import as_names, policy_field

DETECTOR = "automated_accounts"
# at: seconds since the epoch; text: the note's title and body or the comment's text; client: its client and the
# way it was posted, joined ("" where the input has neither)
EVENT_COLUMNS = ["account_id", "kind", "item_id", "at", "text", "client"]
CADENCE_COLUMNS = ["account_id", "events", "days", "median_gap", "gap_spread", "cv", "rests", "regular_surprise",
                   "rest_surprise", "texts", "self_copied", "clients", "api_events", "top_client", "first", "last"]
_LN10 = math.log(10)


@dataclass(frozen=True)
class AutomatedAccountParams:
    """``silence_days``: a silence this long ends a stretch of activity, and an account is judged on its stretch
    with the most events (a program switched on for two weeks in an account's long life; a person's days, nights
    included, are one stretch); ``min_events``: events (notes and comments) the stretch needs to be judged;
    ``min_days``: days it must span; ``rest_hours``: the shortest gap that counts as rest; ``rest_share``: the null's least share of
    days a person rests; ``period_tolerance``: relative difference of median gaps within which accounts share a
    schedule, and ``min_overlap`` the share of the shorter of two accounts' stretches they must run at the same
    time to be one operator's; ``max_evidence``: item ids cited per account. Text: texts of at least ``min_text_chars``
    normalised characters are judged, the last ``max_texts`` of the stretch compared, an account needs
    ``min_texts`` judged; ``shingle`` and ``text_similarity`` define a near-duplicate; ``text_null`` is the
    null's share of a person's texts with a near-duplicate of their own. Client: ``api_markers`` (any case) name
    an API client; ``api_null`` the null's share of a person's events through one."""

    min_events: int = 60
    min_days: float = 5.0
    silence_days: float = 2.0
    rest_hours: float = 5.0
    rest_share: float = 0.95
    period_tolerance: float = 0.05
    min_overlap: float = 0.5
    max_evidence: int = 20
    min_text_chars: int = 15
    max_texts: int = 300
    min_texts: int = 20
    shingle: int = 3
    text_similarity: float = 0.5
    text_null: float = 0.3
    api_markers: frozenset[str] = policy_field(frozenset({"api", "sdk", "bot", "script", "automation"}), as_names,
                                               "list of names (parts of an API client's name, any case)")
    api_null: float = 0.05


def activity_events(notes: pd.DataFrame | None, comments: pd.DataFrame | None) -> pd.DataFrame:
    """Notes and comments as events ``account_id, kind, item_id, at, text, client`` (``at`` in seconds since the
    epoch; ``text`` a note's title and body, a comment's text; ``client`` its ``client`` and ``posted_via``
    joined by a space, "" where absent), sorted by account, time and id; rows without a time are left out.
    O(E log E)."""
    parts = []
    for frame, kind, id_col, time_col, text_cols in ((notes, "note", "note_id", "posted_at", ("title", "text")),
                                                     (comments, "comment", "comment_id", "created_at", ("text",))):
        if frame is None or frame.empty or time_col not in frame:
            continue
        at = pd.to_datetime(frame[time_col], utc=True, errors="coerce")
        keep = at.notna().to_numpy()
        seconds = at[keep].to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
        parts.append(pd.DataFrame({"account_id": frame["account_id"].astype(str).to_numpy()[keep], "kind": kind,
                                   "item_id": frame[id_col].astype(str).to_numpy()[keep], "at": seconds,
                                   "text": _joined(frame, text_cols)[keep], "client": _joined(frame, CLIENT_COLUMNS)[keep]}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "at" else object) for c in EVENT_COLUMNS})
    events = pd.concat(parts, ignore_index=True)
    return events.sort_values(["account_id", "at", "item_id"], kind="mergesort").reset_index(drop=True)


#: the input's columns that name how an item was posted (issue #15: app version or API client, and the way)
CLIENT_COLUMNS = ("client", "posted_via")


def _joined(frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """The ``columns`` of ``frame`` that it has, as text joined by a space per row ("" for none). O(n)."""
    present = [c for c in columns if c in frame]
    if not present:
        return np.full(len(frame), "", dtype=object)
    out = frame[present[0]].fillna("").astype(str)
    for c in present[1:]:
        out = (out + " " + frame[c].fillna("").astype(str)).str.strip()
    return out.to_numpy(dtype=object)


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


def longest_stretch(t: np.ndarray, silence: float) -> tuple[int, int]:
    """``(start, end)``: the slice of ``t`` holding the stretch with the most events (the earliest of equals),
    stretches cut where a gap is at least ``silence``. O(n)."""
    cuts = np.flatnonzero(np.diff(t) >= silence) + 1
    if not len(cuts):
        return 0, len(t)
    bounds = np.r_[0, cuts, len(t)]
    best = int(np.argmax(np.diff(bounds)))
    return int(bounds[best]), int(bounds[best + 1])


def cadences(events: pd.DataFrame, params: AutomatedAccountParams = AutomatedAccountParams()) -> pd.DataFrame:
    """Per account whose longest stretch (``longest_stretch``) has at least ``min_events`` events over at least
    ``min_days`` days: the stretch's events, days spanned, median gap and the spread (median absolute deviation)
    of its gaps in seconds, the CV of its active gaps (shorter than ``rest_hours``), its rests, the two cadence
    surprises, its judged texts and how many have a near-duplicate among them (``self_copied_texts``), its events
    with a client named and those through an API client, the client it names most (``top_client``, "" for none),
    and its first and last time. Events must be sorted by
    account and time (``activity_events``; ``text`` and ``client`` may be missing). O(E + A m^2)."""
    if events.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "account_id" else float) for c in CADENCE_COLUMNS})
    accounts = events["account_id"].to_numpy(dtype=object)
    at = events["at"].to_numpy(dtype=float)
    texts = events["text"].to_numpy(dtype=object) if "text" in events else None
    clients = events["client"].to_numpy(dtype=object) if "client" in events else None
    starts = np.flatnonzero(np.r_[True, accounts[1:] != accounts[:-1]])
    ends = np.r_[starts[1:], len(at)]
    rest = params.rest_hours * 3600.0
    markers = tuple(sorted(m.lower() for m in params.api_markers))
    rows = []
    for lo, hi in zip(starts, ends):
        if hi - lo < params.min_events:
            continue
        a, b = longest_stretch(at[lo:hi], params.silence_days * 86400.0)
        t = at[lo + a:lo + b]
        n = len(t)
        if n < params.min_events:
            continue
        days = (t[-1] - t[0]) / 86400.0
        if days < params.min_days:
            continue
        gaps = np.diff(t)
        active = gaps[gaps < rest]
        mean = float(active.mean()) if len(active) else 0.0
        cv = float(active.std() / mean) if mean > 0 else 0.0
        median = float(np.median(gaps))
        spread = float(np.median(np.abs(gaps - median)))
        rests = int((gaps >= rest).sum())
        judged, copied = (0, 0) if texts is None else self_copied_texts(texts[lo + a:lo + b], params)
        named, api = (0, 0) if clients is None else api_events(clients[lo + a:lo + b], markers)
        top = "" if clients is None else most_common_client(clients[lo + a:lo + b])
        rows.append((accounts[lo], n, days, median, spread, cv, rests, regularity_surprise(cv, len(active)),
                     rest_surprise(rests, days, params.rest_share), judged, copied, named, api, top, t[0], t[-1]))
    return pd.DataFrame(rows, columns=CADENCE_COLUMNS)


def self_copied_texts(texts: np.ndarray, params: AutomatedAccountParams) -> tuple[int, int]:
    """``(judged, copied)``: of the last ``max_texts`` texts, those of at least ``min_text_chars`` normalised
    characters, and how many of them have a near-duplicate among the others (character ``shingle``-gram sets,
    Jaccard >= ``text_similarity``). Sparse products over the shingles: O(m^2) for m texts."""
    from scipy import sparse

    norm = [normalize_text(x) for x in texts[-params.max_texts:] if isinstance(x, str) and x]
    norm = [x for x in norm if len(x) >= params.min_text_chars]
    m = len(norm)
    if m < 2:
        return m, 0
    k = params.shingle
    vocab: dict[str, int] = {}
    indices, indptr = [], [0]
    for x in norm:
        grams = {vocab.setdefault(x[i:i + k], len(vocab)) for i in range(len(x) - k + 1)}
        indices.extend(grams)
        indptr.append(len(indices))
    X = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(m, len(vocab)))
    sizes = np.diff(indptr).astype(float)
    inter = (X @ X.T).tocoo()
    off = inter.row != inter.col
    r, c, both = inter.row[off], inter.col[off], inter.data[off]
    near = both >= params.text_similarity * (sizes[r] + sizes[c] - both)
    return m, int(len(np.unique(r[near])))


def api_events(clients: np.ndarray, markers: tuple[str, ...]) -> tuple[int, int]:
    """``(named, api)``: events whose client is named, and those whose name holds one of ``markers`` (lower
    case). O(n)."""
    named = api = 0
    for x in clients:
        if isinstance(x, str) and x:
            named += 1
            low = x.lower()
            api += any(m in low for m in markers)
    return named, api


def most_common_client(clients: np.ndarray) -> str:
    """The client named most often among ``clients`` (the alphabetically first of equals), "" when none is
    named. O(n)."""
    named = [x for x in clients if isinstance(x, str) and x]
    if not named:
        return ""
    values, counts = np.unique(np.asarray(named, dtype=object), return_counts=True)
    return str(values[int(np.argmax(counts))])


def operator_groups(median_gaps: np.ndarray, first: np.ndarray, last: np.ndarray, tolerance: float,
                    min_overlap: float) -> np.ndarray:
    """Group label per account: the connected components of "same operator" links, two accounts linked when
    their median gaps are within ``tolerance`` (relative) of each other AND their active stretches
    ``[first, last]`` overlap by at least ``min_overlap`` of the shorter one (one scheduler runs its accounts at
    one period at the same time; two programs that happen to share a period in other weeks are two operators).
    Labels are numbered by each group's smallest median gap. O(A log A + P) for P pairs within the tolerance."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a = len(median_gaps)
    if not a:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(median_gaps, kind="mergesort")
    g, lo, hi = (np.asarray(x, dtype=float)[order] for x in (median_gaps, first, last))
    # for each account, the later ones (by gap) within the tolerance: a window of the sorted gaps
    reach = np.searchsorted(g, g * (1.0 + tolerance), side="right")
    rows, cols = [], []
    for i in range(a):
        j = np.arange(i + 1, reach[i])
        if not len(j):
            continue
        shared = np.minimum(hi[i], hi[j]) - np.maximum(lo[i], lo[j])
        shorter = np.minimum(hi[i] - lo[i], hi[j] - lo[j])
        linked = j[shared >= min_overlap * shorter]
        rows.extend([i] * len(linked))
        cols.extend(linked.tolist())
    _, comp = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(a, a)), directed=False)
    # number the groups in order of their first (smallest-gap) account, so labels are stable
    firsts = np.full(comp.max() + 1, a, dtype=np.int64)
    np.minimum.at(firsts, comp, np.arange(a))
    rank = np.empty_like(firsts)
    rank[np.argsort(firsts, kind="mergesort")] = np.arange(len(firsts))
    labels = np.empty(a, dtype=np.int64)
    labels[order] = rank[comp]
    return labels


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 2 * 3600 else f"{seconds / 3600:.1f} h"


def binomial_excess_surprise(k: int, n: int, p: float) -> float:
    """``-log10 P(Binomial(n, p) >= k)``; 0 for ``k`` 0. O(1)."""
    if k <= 0 or n <= 0:
        return 0.0
    return max(0.0, -float(binom.logsf(k - 1, n, p)) / _LN10)


def scored(c: pd.DataFrame, params: AutomatedAccountParams = AutomatedAccountParams()) -> pd.DataFrame:
    """The accounts of ``cadences`` with evidence: the text and client surprises (against the stated nulls),
    ``surprise`` (see the module) and ``score`` (calibrated among all the accounts tested), those above 0 only.
    O(A)."""
    extra = {name: pd.Series(dtype=float) for name in ("text_surprise", "client_surprise", "surprise", "score")}
    if c.empty:
        return c.assign(**extra)
    tested = len(c)
    texts, copied = c["texts"].to_numpy(dtype=np.int64), c["self_copied"].to_numpy(dtype=np.int64)
    named, api = c["clients"].to_numpy(dtype=np.int64), c["api_events"].to_numpy(dtype=np.int64)
    c = c.assign(text_surprise=[binomial_excess_surprise(int(k), int(n), params.text_null)
                                if n >= params.min_texts else 0.0 for k, n in zip(copied, texts)],
                 client_surprise=[binomial_excess_surprise(int(k), int(n), params.api_null)
                                  for k, n in zip(api, named)])
    # the strongest sign among the m tests an account could be given (Bonferroni: P(min p <= x) <= m x)
    measured = 1 + (texts >= params.min_texts) + (named > 0)
    strongest = np.maximum.reduce([c[name].to_numpy(float) for name in ("rest_surprise", "text_surprise",
                                                                       "client_surprise")])
    not_human = np.maximum(0.0, strongest - np.log10(measured))
    c["surprise"] = np.minimum(c["regular_surprise"].to_numpy(float), not_human)
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
    flagged = scored(c, params)
    sample = first_events(events, set(flagged["account_id"]), params.max_evidence)
    return automated_findings(flagged, len(c), sample, params)


def automated_findings(flagged: pd.DataFrame, tested: int, sample: dict[str, list[tuple[str, str]]],
                       params: AutomatedAccountParams = AutomatedAccountParams()) -> list[ClusterFinding]:
    """The findings of the ``scored`` accounts among ``tested``: one per shared schedule, with ``sample`` events
    cited. O(A log A)."""
    if flagged.empty:
        return []
    c = flagged.assign(group=operator_groups(flagged["median_gap"].to_numpy(dtype=float),
                                             flagged["first"].to_numpy(dtype=float),
                                             flagged["last"].to_numpy(dtype=float), params.period_tolerance,
                                             params.min_overlap))
    out = []
    for _, group in c.groupby("group", sort=True):
        members = sorted(group["account_id"])
        scores = dict(zip(group["account_id"], group["score"].astype(float)))
        lines = []
        for r in group.sort_values("account_id").itertuples(index=False):
            line = (f"{r.account_id}: an event every {_minutes(r.median_gap)} ± {_minutes(r.gap_spread)} "
                    f"over {r.days:.1f} days ({r.events} events, active gaps' CV {r.cv:.2f}, people's is 1 or "
                    f"more), {r.rests} rests of {params.rest_hours:g} hours or more")
            if r.text_surprise >= 1:
                line += (f", {r.self_copied} of its {r.texts} texts near-copies of its own (a person's: "
                         f"{params.text_null:.0%} at most)")
            if r.client_surprise >= 1:
                line += f", {r.api_events} of {r.clients} events through an API client"
            lines.append(line)
        shown = lines[:10] + ([f"... and {len(lines) - 10} more"] if len(lines) > 10 else [])
        who = "1 account runs" if len(members) == 1 else f"{len(members)} accounts run"
        signs = [name for name, col in (("no rest", "rest_surprise"), ("generated text", "text_surprise"),
                                        ("an API client", "client_surprise")) if group[col].max() >= 1]
        tops = set(group["top_client"]) if "top_client" in group else set()
        top = next(iter(tops)) if len(tops) == 1 else ""
        shared = ""
        if len(members) > 1:
            shared = (f" at the same time (between {iso_utc_epoch(group['first'].min())[:10]} and "
                      f"{iso_utc_epoch(group['last'].max())[:10]})")
            if top and any(m in top.lower() for m in params.api_markers):
                shared += f", all through the client {top!r}"
        text = (f"{who} on a program's clock{shared} ({', '.join(signs) or 'no sign of a person'}): "
                + "; ".join(shown) + f". By chance a person's cadence is this regular with p = 1e-{group['regular_surprise'].min():.1f} "
                f"at most, and shows none of the signs of a person with p = 1e-{group['surprise'].min():.1f} at "
                f"most, among {tested:,} accounts tested.")
        evidence = [Evidence("account", tuple(members[:params.max_evidence]))]
        cited = [x for a in members for x in sample.get(a, ())][:params.max_evidence]
        for kind in sorted({k for k, _ in cited}):
            evidence.append(Evidence(kind, tuple(i for k, i in cited if k == kind)))
        evidence.append(Evidence("time_window", (iso_utc_epoch(group["first"].min()),
                                                 iso_utc_epoch(group["last"].max()))))
        out.append(ClusterFinding(DETECTOR, tuple(members), max(scores.values()),
                                  (Reason("automated_cadence", text, tuple(evidence)),), scores))
    return sorted(out, key=lambda f: (-f.score, f.members))
