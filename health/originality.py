"""Originality, pure: which of an account's texts (note titles, comments) are copies of another account's.

A text is *copied* when its normalised form (``detection.comment_text.normalize_text``) has at least ``min_chars``
characters and its character-shingle Jaccard with a text another account wrote is at least ``similarity`` (the
policy's 0.45; the platform says "repetition of 30 % or more counts as copied", but a Jaccard of 0.3 between note
bodies happens by chance once there are millions of them: at 1 M simulated accounts 8.7 % of the judged honest
accounts had such a partner, 0.5 % at 0.45; benchmarks/results/health_index.md). Shorter texts are not judged: a 30 % overlap of a
short text with one of a platform's millions of others happens by chance (measured on the 100k simulated
platform: at ``min_chars`` 12, 16 and 20 every judged comment and title had a partner at 0.3), so the rule is
applied to bodies long enough that it does not (the policy's 50).

A partner may be shorter than ``min_chars`` but not much: Jaccard(A, B) <= |B| / |A| for shingle sets |B| <= |A|, so
a judged text's partner has at least ``similarity`` x the shingles of the shortest judged text
(:func:`shortest_partner`). Both paths take that as the definition (a partner has at least that many characters;
it differs from the bound only for a judged text repeating a few shingles, e.g. fifty "哈"), and shorter texts are
never read into the platform's comparison.

* :func:`copied_against`: one text against the candidates the fulltext index proposed for it (one account, a brand's
  or an agency's accounts): exact, O(candidates x L).
* :func:`copied_by_account`: every text of the platform at once, MinHash-LSH candidates (``detection.comment_templates``,
  the comment-template detector's machinery, at the policy's similarity) verified by the exact Jaccard: vectorised,
  O(T x num_perm + candidates x L) for T shingles. LSH finds a pair of texts at the similarity with high probability,
  not certainty, and a bucket pairs each text with its next 32 mates only, so a text with very many variants may be
  found copied from fewer of them: the platform distribution is a close lower bound of the per-account figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import math

import numpy as np
import pandas as pd

from ringscope.detection.comment_templates import (
    CommentTemplateParams, ShingleSets, band_pairs, band_key, lsh_bands, shingles,
)
from ringscope.detection.comment_text import normalize_text
from ringscope.health.policy import Originality


def judged(text: str | None, rule: Originality) -> str | None:
    """The normalised text when long enough to judge, else None."""
    norm = normalize_text(text or "")
    return norm if len(norm) >= rule.min_chars else None


def shortest_partner(rule: Originality) -> int:
    """The fewest normalised characters a text needs to be a near-duplicate of a judged one (see the module)."""
    judged_shingles = max(1, rule.min_chars - rule.shingle + 1)
    return max(1, math.ceil(rule.similarity * judged_shingles) + rule.shingle - 1)


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def copied_against(text: str, candidates: Iterable[str | tuple[str | None, Any]], rule: Originality,
                   at: Any = None) -> bool:
    """Whether ``text`` (raw, posted at ``at``) is a near-duplicate of one of ``candidates`` by other accounts:
    raw texts, or (text, when posted) pairs; a candidate posted after ``text`` does not count (the original is not
    copied by being copied); an unknown time on either side does. A long text may copy a shorter one of at least
    :func:`shortest_partner` characters."""
    norm = judged(text, rule)
    if norm is None:
        return False
    own = shingles(norm, rule.shingle)
    shortest = shortest_partner(rule)
    mine = _when(at)
    for candidate in candidates:
        other, when = candidate if isinstance(candidate, tuple) else (candidate, None)
        theirs = _when(when)
        if mine is not None and theirs is not None and theirs >= mine:
            continue
        o = normalize_text(other or "")
        if len(o) >= shortest and jaccard(own, shingles(o, rule.shingle)) >= rule.similarity:
            return True
    return False


def _when(value: Any) -> datetime | None:
    """A time as an aware datetime (what the graph gives, as it is: this runs per candidate), None when unknown."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    t = pd.to_datetime(value, utc=True, errors="coerce")
    return None if pd.isna(t) else t.to_pydatetime()


def copied_by_account(texts: pd.DataFrame, rule: Originality, num_perm: int = 128, seed: int = 1) -> pd.DataFrame:
    """``texts`` (columns ``account_id``, ``text``, optionally ``at``: when it was posted; one row per note or
    comment) -> per account ``texts`` (judged) and ``copied``. A text is copied when the same normalised text, or
    one LSH proposes and the exact Jaccard confirms at ``similarity``, was written by another account before it
    (or when either time is unknown): the original is not copied by being copied. Texts shorter than
    :func:`shortest_partner` are dropped first: they can neither be judged nor be a judged text's partner."""
    if texts.empty:
        return pd.DataFrame({"account_id": pd.Series(dtype=object), "texts": pd.Series(dtype=np.int64),
                             "copied": pd.Series(dtype=np.int64)})
    norms = texts["text"].fillna("").astype(str).map(normalize_text)
    keep = (norms.str.len() >= shortest_partner(rule)).to_numpy()  # not judged itself, but may be copied
    rows = pd.DataFrame({"account_id": texts["account_id"].astype(str).to_numpy()[keep],
                         "norm": norms.to_numpy()[keep], "t": _seconds(texts, keep)})
    rows["judged"] = rows["norm"].str.len() >= rule.min_chars
    codes, uniques = pd.factorize(rows["norm"], sort=False)
    rows["u"] = codes
    first_author, first_t, other_t = _earliest(rows, len(uniques))
    account = rows["account_id"].to_numpy(dtype=object)
    t = rows["t"].to_numpy()
    copied = _before(codes, account, t, first_author, first_t, other_t)  # the very same text, earlier
    pairs = _similar_pairs([str(x) for x in uniques], rule, num_perm, seed)
    if len(pairs[0]):
        i, j = np.concatenate([pairs[0], pairs[1]]), np.concatenate([pairs[1], pairs[0]])
        partner = pd.DataFrame({"u": i, "v": j})
        mine = rows[["u"]].reset_index().merge(partner, on="u", how="inner")
        row, v = mine["index"].to_numpy(), mine["v"].to_numpy()
        hit = np.zeros(len(rows), dtype=bool)
        hit[row[_before(v, account[row], t[row], first_author, first_t, other_t)]] = True
        copied = copied | hit
    rows["copied"] = copied
    rows = rows[rows["judged"]]
    out = rows.groupby("account_id", sort=True).agg(texts=("u", "size"), copied=("copied", "sum")).reset_index()
    out["copied"] = out["copied"].astype(np.int64)
    return out


def _seconds(texts: pd.DataFrame, keep: np.ndarray) -> np.ndarray:
    """When each kept text was posted, in seconds since the epoch; NaN when unknown (or no ``at`` column)."""
    if "at" not in texts:
        return np.full(int(keep.sum()), np.nan)
    at = pd.to_datetime(texts["at"], utc=True, errors="coerce")[keep]
    ns = at.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    return np.where(at.isna().to_numpy(), np.nan, ns / 1e9)


def _earliest(rows: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct text: the author of its earliest use, that use's time, and the earliest time of a use by any
    other author (+inf: none). An unknown time counts as earliest (-inf), so it is never proof of originality."""
    t = np.where(np.isnan(rows["t"].to_numpy()), -np.inf, rows["t"].to_numpy())
    u = rows["u"].to_numpy()
    account = rows["account_id"].to_numpy(dtype=object)
    order = np.lexsort((account, t, u))
    head = np.ones(len(order), dtype=bool)
    head[1:] = u[order][1:] != u[order][:-1]
    first_author = np.empty(n, dtype=object)
    first_t = np.full(n, np.inf)
    first_author[u[order][head]] = account[order][head]
    first_t[u[order][head]] = t[order][head]
    other = account != first_author[u]
    other_t = np.full(n, np.inf)
    np.minimum.at(other_t, u[other], t[other])
    return first_author, first_t, other_t


def _before(v: np.ndarray, account: np.ndarray, t: np.ndarray, first_author: np.ndarray, first_t: np.ndarray,
            other_t: np.ndarray) -> np.ndarray:
    """Whether text ``v`` had a use by an account other than ``account`` before time ``t`` (NaN: any such use)."""
    unknown = np.isnan(t)
    tt = np.where(unknown, np.inf, t)
    not_first = first_author[v] != account
    return (not_first & (first_t[v] < tt)) | (other_t[v] < tt) | (unknown & (not_first | (other_t[v] < np.inf)))


def _similar_pairs(texts: list[str], rule: Originality, num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Verified pairs (i, j) of distinct normalised texts with shingle Jaccard >= similarity."""
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if len(texts) < 2:
        return empty
    params = CommentTemplateParams(shingle=rule.shingle, threshold=rule.similarity, num_perm=num_perm, seed=seed)
    sets = ShingleSets(texts, rule.shingle)
    if sets.empty:
        return empty
    sig = sets.signatures(params)
    labels = np.arange(len(texts), dtype=np.int64)  # every text its own: no bucket is skipped
    found_i, found_j = [empty[0]], [empty[1]]
    for band in range(lsh_bands(params.threshold, params.num_perm)[0]):
        i, j = band_pairs(band_key(sig, band, params), labels)
        i, j = sets.verified(i, j, params.threshold)
        found_i.append(i)
        found_j.append(j)
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    if not len(i):
        return empty
    pair = np.unique(np.minimum(i, j) * len(texts) + np.maximum(i, j))
    return pair // len(texts), pair % len(texts)
