"""The content-health index, pure: per-account indicator values in plain data -> the index 0-100, each indicator's
contribution in points, the effect band, and what is not measured. No I/O.

The formula (the figures are the policy's, ``policy/health.yaml``)::

    dimensions     W_quality = 40, W_compliance = 35, W_feedback = 25   (sum 100)
    deductions     originality            D = points x copied / texts          (content quality)
                   undeclared_commercial  D = points_each x undeclared notes   (compliance)
                   offplatform_lure       D = points_each x lure comments      (compliance)
                   verified_reports       D = points_each x counted reports    (user feedback)
                   invalid_interaction    D = points x share, share <= demote_share;
                                          D = demote_points,   share >  demote_share   (user feedback)
                   follower_imbalance     D = points when followers >= min_followers and
                                          likes per note < min_likes_per_note          (user feedback)
    a dimension    P_d = W_d - min(W_d, sum of its D)       (never below 0)
    the index      H = P_quality + P_compliance + P_feedback   (0-100)
    contribution   C_i = -D_i x min(1, W_d / sum of D in d)  (so 100 + sum C_i = H)

``copied / texts`` is the share of the account's note titles and comments (normalised texts of at least
``min_chars``) that have a near-duplicate written by another account (character-shingle Jaccard >= ``similarity``,
0.45 in the shipped policy, stricter than the platform's "30 %": see ``health.originality``); ``share`` is the likes and comments on the account's notes
from accounts the latest run flagged, over all likes and comments on them from other accounts.

Bands (the policy's ``effects``): H >= boost_at (80) ``boost``; >= commercial_at (70) ``normal``; >= throttle_below
(60) ``no_commercial`` (no commercial programmes); below it ``throttled`` (reach x throttle_reach_factor, 0.5, and
no commercial programmes).

:func:`scores` computes every account of a frame at once, vectorised (O(n)); :func:`account_health` is one account
through the same function, with each indicator's contribution in words.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ringscope.health.policy import DIMENSIONS, HealthPolicy

#: Each measured indicator and the dimension it deducts from, in the order they are shown.
INDICATORS: tuple[tuple[str, str], ...] = (
    ("originality", "content_quality"),
    ("undeclared_commercial", "compliance"),
    ("offplatform_lure", "compliance"),
    ("verified_reports", "user_feedback"),
    ("invalid_interaction", "user_feedback"),
    ("follower_imbalance", "user_feedback"),
)
BANDS = ("boost", "normal", "no_commercial", "throttled")
#: What each band does, in words ({factor}: the throttle's reach factor).
BAND_EFFECTS = {
    "boost": "boosted",
    "normal": "normal",
    "no_commercial": "no commercial programmes",
    "throttled": "throttled (reach x {factor:g}) and no commercial programmes",
}


@dataclass(frozen=True)
class Measures:
    """One account's indicators as read from the graph (plain counts)."""
    account_id: str
    texts: int = 0  # its note titles and comments long enough to judge
    copied: int = 0  # of those, how many have a near-duplicate by another account
    undeclared_commercial: int = 0  # notes promoting a brand or paid by an order, not declared commercial
    lures: int = 0  # comments with an off-platform lure
    verified_reports: int = 0  # verified reports against it, its notes and comments, outside coordinated bursts
    engagement: int = 0  # likes and comments on its notes by other accounts
    flagged_engagement: int = 0  # of those, by accounts the latest completed run flagged
    followers: int | None = None  # None: the input does not say
    notes: int = 0
    likes: int = 0  # likes on its notes


MEASURES = tuple(f.name for f in dataclasses.fields(Measures))


@dataclass(frozen=True)
class Contribution:
    indicator: str
    dimension: str
    value: float  # the indicator as measured: a share (originality, invalid_interaction) or a count
    detail: str  # the value in words
    deduction: float  # the rule's points
    points: float  # what it takes off the index (<= 0), after its dimension's floor


@dataclass(frozen=True)
class Dimension:
    name: str
    weight: float
    points: float  # what is left of the weight


@dataclass(frozen=True)
class Unmeasured:
    name: str
    dimension: str
    why: str


@dataclass(frozen=True)
class AccountHealth:
    account_id: str
    index: float  # 0-100
    band: str  # boost | normal | no_commercial | throttled
    commercial: bool  # may take part in commercial programmes
    reach_factor: float  # 1, or the throttle's factor
    contributions: tuple[Contribution, ...]
    dimensions: tuple[Dimension, ...]
    not_measured: tuple[Unmeasured, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Distribution:
    """Indexes of many accounts: counts per band and per bin of 10 points, and their quantiles."""
    accounts: int
    bands: dict[str, int]
    bins: tuple[tuple[int, int, int], ...]  # (from, to, accounts): [0,10) ... [90,100]
    mean: float | None
    median: float | None
    p10: float | None
    p90: float | None


def frame(measures: list[Measures]) -> pd.DataFrame:
    """Measures as a frame with the columns :func:`scores` reads. O(n)."""
    return pd.DataFrame([dataclasses.astuple(m) for m in measures], columns=list(MEASURES))


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    whole = whole.astype(float)
    return (part.astype(float) / whole.where(whole > 0)).fillna(0.0)


def scores(measures: pd.DataFrame, policy: HealthPolicy) -> pd.DataFrame:
    """Every account of ``measures`` (columns :data:`MEASURES`) at once: ``account_id``, ``index``, ``band``, the
    deduction ``d_<indicator>`` and contribution ``c_<indicator>`` of each indicator, the points ``p_<dimension>``
    left of each dimension, and the shares and the imbalance flag the details cite. O(n), vectorised."""
    ind = policy.indicators
    m = measures
    out = pd.DataFrame({"account_id": m["account_id"].astype(str)})
    out["copied_share"] = _share(m["copied"], m["texts"])
    out["invalid_share"] = _share(m["flagged_engagement"], m["engagement"])
    notes = m["notes"].astype(float)
    out["likes_per_note"] = (m["likes"].astype(float) / notes.where(notes > 0)).fillna(0.0)
    followers = pd.to_numeric(m["followers"], errors="coerce").fillna(0.0)
    out["imbalanced"] = ((followers >= ind.follower_imbalance.min_followers) & (notes > 0)
                         & (out["likes_per_note"] < ind.follower_imbalance.min_likes_per_note))
    rule = ind.invalid_interaction
    out["d_originality"] = ind.originality.points * out["copied_share"]
    out["d_undeclared_commercial"] = ind.undeclared_commercial.points_each * m["undeclared_commercial"].astype(float)
    out["d_offplatform_lure"] = ind.offplatform_lure.points_each * m["lures"].astype(float)
    out["d_verified_reports"] = ind.verified_reports.points_each * m["verified_reports"].astype(float)
    out["d_invalid_interaction"] = np.where(out["invalid_share"] > rule.demote_share, rule.demote_points,
                                            rule.points * out["invalid_share"])
    out["d_follower_imbalance"] = np.where(out["imbalanced"], ind.follower_imbalance.points, 0.0)
    index = np.zeros(len(out))
    for dimension in DIMENSIONS:
        weight = policy.weights.of(dimension)
        names = [name for name, d in INDICATORS if d == dimension]
        total = sum((out[f"d_{n}"] for n in names), pd.Series(0.0, index=out.index))
        scale = (weight / total.where(total > weight)).fillna(1.0)  # only a dimension overdrawn is scaled
        for n in names:
            out[f"c_{n}"] = 0.0 - out[f"d_{n}"] * scale  # 0.0 - x: no -0.0
        out[f"p_{dimension}"] = weight - np.minimum(total, weight)
        index = index + out[f"p_{dimension}"].to_numpy()
    out["index"] = np.clip(np.round(index, 6), 0.0, 100.0)
    out["band"] = band_of(out["index"], policy)
    return out


def effect_of(h: "AccountHealth") -> str:
    """The band's effect in words."""
    return BAND_EFFECTS[h.band].format(factor=h.reach_factor)


def band_of(index: pd.Series, policy: HealthPolicy) -> np.ndarray:
    """Each index's band. O(n)."""
    e = policy.effects
    h = np.asarray(index, dtype=float)
    return np.select([h >= e.boost_at, h >= e.commercial_at, h >= e.throttle_below],
                     ["boost", "normal", "no_commercial"], default="throttled")


def unmeasured(policy: HealthPolicy) -> tuple[Unmeasured, ...]:
    return tuple(Unmeasured(n.name, n.dimension, n.why) for n in policy.not_measured)


def account_health(m: Measures, policy: HealthPolicy) -> AccountHealth:
    """One account's index, band, contributions (with the measured values in words) and warnings."""
    return healths(frame([m]), [m], policy)[0]


def healths(measures: pd.DataFrame, rows: list[Measures], policy: HealthPolicy) -> list[AccountHealth]:
    """:func:`account_health` of many accounts (``rows`` in the order of ``measures``). O(n)."""
    s = scores(measures, policy)
    ind = policy.indicators
    out = []
    for m, r in zip(rows, s.itertuples(index=False)):
        values = {
            "originality": (r.copied_share, f"{m.copied} of {m.texts} texts copied ({r.copied_share:.0%})"
                            if m.texts else "no texts long enough to judge"),
            "undeclared_commercial": (m.undeclared_commercial,
                                      f"{m.undeclared_commercial} undeclared commercial notes"),
            "offplatform_lure": (m.lures, f"{m.lures} comments with an off-platform lure"),
            "verified_reports": (m.verified_reports, f"{m.verified_reports} verified reports outside coordinated "
                                                     "bursts"),
            "invalid_interaction": (r.invalid_share, f"{m.flagged_engagement} of {m.engagement} likes and comments "
                                                     f"from flagged accounts ({r.invalid_share:.0%})"
                                    if m.engagement else "no likes or comments from others"),
            "follower_imbalance": (float(r.imbalanced), f"{m.followers if m.followers is not None else '?'} "
                                                        f"followers, {r.likes_per_note:.0f} likes per note over "
                                                        f"{m.notes} notes"),
        }
        contributions = tuple(
            Contribution(name, dimension, float(values[name][0]), values[name][1],
                         float(getattr(r, f"d_{name}")), float(getattr(r, f"c_{name}")))
            for name, dimension in INDICATORS)
        dimensions = tuple(Dimension(d, policy.weights.of(d), float(getattr(r, f"p_{d}"))) for d in DIMENSIONS)
        warnings = []
        if r.imbalanced:
            warnings.append(f"follower/interaction imbalance: {m.followers} followers (at least "
                            f"{ind.follower_imbalance.min_followers}) with {r.likes_per_note:.0f} likes per note "
                            f"(fewer than {ind.follower_imbalance.min_likes_per_note:g})")
        if r.invalid_share > ind.invalid_interaction.demote_share:
            warnings.append(f"demoted: {r.invalid_share:.0%} of its likes and comments come from flagged accounts "
                            f"(more than {ind.invalid_interaction.demote_share:.0%})")
        band = str(r.band)
        out.append(AccountHealth(m.account_id, float(r.index), band, band in ("boost", "normal"),
                                 policy.effects.throttle_reach_factor if band == "throttled" else 1.0,
                                 contributions, dimensions, unmeasured(policy), tuple(warnings)))
    return out


def distribution(index: pd.Series, bands: pd.Series | np.ndarray) -> Distribution:
    """Counts per band and per 10-point bin (the last bin holds 100), mean, median, 10th and 90th percentiles."""
    h = np.asarray(index, dtype=float)
    band_counts = {b: 0 for b in BANDS}
    for b, n in zip(*np.unique(np.asarray(bands, dtype=str), return_counts=True)):
        band_counts[str(b)] = int(n)
    counts = np.bincount(np.minimum((h // 10).astype(np.int64), 9), minlength=10) if len(h) else np.zeros(10, int)
    bins = tuple((10 * i, 10 * (i + 1), int(counts[i])) for i in range(10))
    if not len(h):
        return Distribution(0, band_counts, bins, None, None, None, None)
    p10, median, p90 = (float(x) for x in np.percentile(h, [10, 50, 90]))
    return Distribution(len(h), band_counts, bins, float(h.mean()), median, p10, p90)
