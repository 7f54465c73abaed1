"""Copied and mass-produced notes: many accounts posting near-duplicate note bodies.

Agencies publish templated, rewashed notes in bulk ("模板化洗稿"): one skeleton with the product and the
adjectives swapped, or a popular creator's note copied with a few words changed; farmed accounts post copied
notes to look alive. The platform's rule: content with 30 % or more repetition counts as copied. Note bodies
(``notes.text``, an extension of the input format) are normalised (``comment_text.normalize_text``), those of at
least ``min_chars`` characters are compared by character ``k``-shingle Jaccard with MinHash-LSH candidates
verified exactly (the comment-template detector's machinery, ``comment_templates.near_duplicate_components``;
Broder, "On the resemblance and containment of documents", 1997), and near-duplicates form families
(connected components). A family posted by ``min_accounts`` or more distinct accounts is a campaign.

**Why a Jaccard of 0.45, not 0.3.** Families are connected components, so they chain: two honest bodies reach a
Jaccard just over 0.3 by chance (stock phrases), a note's chance partners grow with the number of notes (about
``n q`` for ``n`` notes and a chance rate ``q`` per pair), and once that nears one, components percolate. On the
simulated platform at 0.3 that happened between 1 M and 10 M accounts: at 1 M this detector alone flagged 1,640
honest accounts in chains, at 10 M its largest family held 102,898 authors, 90 % honest. Chance overlaps sit
just above the line (in that family, honest pairs at >= 0.3, 0.35, 0.4, 0.45 and 0.5: 129,090, 14,406, 1,540,
122 and 8: about ten times fewer per 0.05), while copies sit higher (word for word 1.0; rewashed, a fifth of the
words redrawn, median 0.52; an agency's skeleton 0.5-0.8). At 0.45 a note's chance partners stay far under one
up to platforms ~100x the 10 M one; the cost is the rewashed copies under 0.45 from their original (about a
quarter on the simulator) that no other copy links either.

**Who is a member.** The author of a family's first note (earliest ``posted_at``, then note id) is presumed its
original author and is not a member, unless an intermediary that manages it also manages another of the
family's authors (an agency's own skeleton). Every other author is a member.

**The null model and the score.** Without coordination, a note's near-duplicates by other accounts come from
chance and from individual copying, at the platform's own rate: ``lam`` = near-duplicates per judged note
observed in two-author families (twice their number over the judged notes, at least one over the judged
notes). Under the null, the other authors of a note's family are Poisson(``lam``); a family of ``k`` authors
has ``p = P(X >= k - 1)``, surprise ``-log10 p``, corrected for the number of judged notes tested
(``calibration.calibrated``), the one scale every calibrated detector uses. So a campaign of a few accounts
needs corroboration, and one of dozens flags alone.

N notes, U distinct normalised bodies of length L: normalising O(N L); MinHash U L num_perm; LSH and
verification as in ``comment_templates``; families O(N log N).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import poisson

from ringscope.detection.calibration import calibrated
from ringscope.detection.comment_templates import CommentTemplateParams, near_duplicate_components
from ringscope.detection.comment_text import normalize_text
from ringscope.detection.findings import ClusterFinding, Evidence, Reason, iso_utc
from ringscope.detection.params import as_share, policy_field

DETECTOR = "copied_notes"


@dataclass(frozen=True)
class CopiedNoteParams:
    """Thresholds of :func:`detect_copied_notes`.

    ``shingle``, ``threshold`` (0.45, see the module: chance overlaps of honest bodies chain at 0.3 on a large
    platform), ``num_perm``, ``seed``: the near-duplicate test (as the comment-template detector's);
    ``min_chars``: shorter normalised bodies are not compared (an overlap of short texts happens by chance);
    ``min_accounts``: distinct authors for a family to be a campaign; ``max_evidence``: note ids cited per
    reason; ``max_reasons``: not used per family (one reason each), kept for the policy's symmetry with the other
    text detectors. ``signed_share``: a body's MinHash signature is made of its rarer half of shingles
    (``comment_templates.common_shingles``): on 100k bodies of the simulated 1 M platform, 220 candidates per
    body instead of 945 (largest bucket 2,952 instead of 7,511), 99.1 % of planted rewashed copies joined to
    their original (99.4 % signing every shingle); ``num_perm`` 192 (96 bands of 2 rows, not 64) wins back what
    signing half loses (at 128: 98.1 %). Verbatim and skeleton copies: 100 % either way. (Measured at the
    threshold of then, 0.3; at 0.45 the bands are 64 of 3 rows.)"""

    shingle: int = 3
    threshold: float = 0.45
    num_perm: int = 192
    seed: int = 1
    signed_share: float = policy_field(0.5, as_share, "share in (0, 1]")
    min_chars: int = 50
    min_accounts: int = 3
    max_evidence: int = 200

    def near_duplicates(self) -> CommentTemplateParams:
        return CommentTemplateParams(shingle=self.shingle, threshold=self.threshold, num_perm=self.num_perm,
                                     seed=self.seed, signed_share=self.signed_share)

    def family_test(self) -> tuple:
        """What decides the families (the near-duplicate test and the bodies compared), and nothing else: two
        detectors whose tests are equal share one search (``note_families``' cache, Spark's per source)."""
        return (self.shingle, self.threshold, self.num_perm, self.seed, self.min_chars, self.signed_share)


FAMILY_COLUMNS = ["note_id", "account_id", "posted_at", "brand_id", "norm", "family"]


# The last families made in this process: copied_notes and farmed_declared run one after another in one process
# (``pipeline.Detector.shares``) on the same notes frame with the same test, and the near-duplicate search is
# most of each one's time. It holds its frame, so no other frame can take that frame's place while it is cached;
# ``release_families`` lets both go (the pipeline calls it with ``comment_text.release_prepared``).
_LAST: tuple[pd.DataFrame, tuple, tuple[pd.DataFrame, int]] | None = None


def note_families(notes: pd.DataFrame, params: CopiedNoteParams = CopiedNoteParams()) -> tuple[pd.DataFrame, int]:
    """(each note with a body of at least ``min_chars`` normalised characters and its near-duplicate family,
    numbered by the family's first distinct body in sorted order; how many notes were judged). The families made
    before when it is the same frame object and the same test (callers only read them). O(N L + U L num_perm +
    candidates L); O(1) when cached."""
    global _LAST
    if notes is None or notes.empty or "text" not in notes:
        return pd.DataFrame(columns=FAMILY_COLUMNS), 0
    key = params.family_test()
    if _LAST is not None and _LAST[0] is notes and _LAST[1] == key:
        return _LAST[2]
    made = _note_families(notes, params)
    _LAST = (notes, key, made)
    return made


def release_families() -> None:
    """Drop the cached families and their frame."""
    global _LAST
    _LAST = None


def _note_families(notes: pd.DataFrame, params: CopiedNoteParams) -> tuple[pd.DataFrame, int]:
    raw = notes["text"].fillna("").astype(str)
    codes, distinct = pd.factorize(raw, sort=False)
    norms = np.array([normalize_text(t) for t in distinct], dtype=object)
    long = np.fromiter((len(t) >= params.min_chars for t in norms), dtype=bool, count=len(norms))
    rows = np.flatnonzero(long[codes]) if len(codes) else np.zeros(0, dtype=np.int64)
    if not len(rows):
        return pd.DataFrame(columns=FAMILY_COLUMNS), 0
    uniq = sorted(set(norms[long]))
    position = {u: i for i, u in enumerate(uniq)}
    labels = near_duplicate_components(uniq, params.near_duplicates())
    norm_of_row = norms[codes[rows]]
    out = pd.DataFrame({
        "note_id": notes["note_id"].astype(str).to_numpy()[rows],
        "account_id": notes["account_id"].astype(str).to_numpy()[rows],
        "posted_at": (notes["posted_at"].array[rows] if "posted_at" in notes
                      else np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[ns]")),
        "brand_id": (notes["brand_id"].to_numpy(dtype=object)[rows] if "brand_id" in notes
                     else np.full(len(rows), None, dtype=object)),
        "norm": norm_of_row,
        "family": labels[[position[u] for u in norm_of_row]],
    })
    return out, len(rows)


def background_rate(families: pd.DataFrame, judged: int) -> float:
    """``lam``: near-duplicates by another account per judged note, from two-author families (chance and
    individual copying), at least ``1 / judged``. O(N)."""
    if judged <= 0:
        return 0.0
    authors = families.groupby("family")["account_id"].nunique()
    return background_rate_of(int((authors == 2).sum()), judged)


def background_rate_of(two_author_families: int, judged: int) -> float:
    """``background_rate`` from its two counts: ``max(2 pairs / judged, 1 / judged)``, 0 with nothing judged.
    O(1)."""
    if judged <= 0:
        return 0.0
    return max(2.0 * two_author_families / judged, 1.0 / judged)


def family_surprise(authors: int, lam: float) -> float:
    """``-log10 P(X >= authors - 1)`` for X ~ Poisson(``lam``): how unlikely so many other authors are for one
    note's family under the null. O(1)."""
    if authors <= 1:
        return 0.0
    log_sf = float(poisson.logsf(authors - 2, lam))  # P(X > authors - 2) = P(X >= authors - 1)
    return -log_sf / math.log(10) if math.isfinite(log_sf) else 300.0


def _members(group: pd.DataFrame, managers: dict[str, frozenset[str]]) -> tuple[list[str], str, str]:
    """(the members, the presumed original author, the first note's id) of one family (see the module)."""
    first = group.sort_values(["posted_at", "note_id"], na_position="last").iloc[0]
    source = str(first["account_id"])
    others = sorted(set(group["account_id"]) - {source})
    own = managers.get(source, frozenset())
    if own and any(managers.get(a, frozenset()) & own for a in others):
        return sorted(set(others) | {source}), source, str(first["note_id"])
    return others, source, str(first["note_id"])


def detect_copied_notes(notes: pd.DataFrame, intermediary_accounts: pd.DataFrame | None = None,
                        params: CopiedNoteParams = CopiedNoteParams()) -> list[ClusterFinding]:
    """Campaigns of copied and mass-produced notes: one finding per family of near-duplicate note bodies posted
    by at least ``min_accounts`` distinct accounts and more surprising than chance after the correction (see the
    module for members and the score). Reasons cite the
    notes, the time window, the brands they promote and the intermediaries that manage the members. Sorted by
    score, then members. O(N L num_perm + N log N)."""
    families, judged = note_families(notes, params)
    if families.empty:
        return []
    return campaign_findings(families, judged, background_rate(families, judged), intermediary_accounts, params)


def campaign_findings(families: pd.DataFrame, judged: int, lam: float, intermediary_accounts: pd.DataFrame | None,
                      params: CopiedNoteParams = CopiedNoteParams()) -> list[ClusterFinding]:
    """The findings of ``detect_copied_notes`` from ``note_families``' rows (those of the campaign families
    are enough: no other family is read), the notes judged and ``lam`` over all of them. O(N log N)."""
    authors = families.groupby("family")["account_id"].nunique()
    campaigns = authors[authors >= params.min_accounts].index
    if not len(campaigns):
        return []
    managers: dict[str, frozenset[str]] = {}
    if intermediary_accounts is not None and not intermediary_accounts.empty:
        ia = intermediary_accounts.dropna(subset=["intermediary_id", "account_id"])
        ia = ia[ia["account_id"].astype(str).isin(set(families["account_id"]))]
        managers = {str(a): frozenset(g.astype(str)) for a, g in ia.groupby("account_id")["intermediary_id"]}
    out: list[ClusterFinding] = []
    chosen = families[families["family"].isin(campaigns)]
    for _, group in chosen.groupby("family", sort=True):
        members, source, first_note = _members(group, managers)
        if len(members) < 2:
            continue
        k = int(group["account_id"].nunique())
        surprise = family_surprise(k, lam)
        score = round(calibrated(surprise, judged), 6)
        if score <= 0:  # no more than chance explains, after the correction for the notes compared
            continue
        out.append(_finding(group, members, source, first_note, surprise, lam, judged, score, managers, params))
    return sorted(out, key=lambda f: (-f.score, f.members))


def _finding(group: pd.DataFrame, members: list[str], source: str, first_note: str, surprise: float, lam: float,
             judged: int, score: float, managers: dict[str, frozenset[str]],
             params: CopiedNoteParams) -> ClusterFinding:
    note_ids = sorted(group["note_id"])
    bodies = group["norm"].nunique()
    brands = sorted({str(b) for b in group["brand_id"] if b is not None and not pd.isna(b) and str(b)})
    agencies: dict[str, int] = {}
    for a in members:
        for m in managers.get(a, ()):
            agencies[m] = agencies.get(m, 0) + 1
    agency_ids = sorted((m for m, n in agencies.items() if n >= 2), key=lambda m: (-agencies[m], m))
    t0, t1 = group["posted_at"].min(), group["posted_at"].max()
    start, end = iso_utc(t0, missing=""), iso_utc(t1, missing="")
    source_said = ("its author is a member too (managed by the same intermediary as others)" if source in members
                   else f"presumed the original, its author {source} is not a member")
    text = (f"{group['account_id'].nunique()} accounts posted {len(note_ids)} near-duplicate notes ({bodies} "
            f"distinct bodies, character {params.shingle}-shingle Jaccard >= {params.threshold:g}) from "
            f"{start or '?'} to {end or '?'}; the first is note {first_note} ({source_said}).")
    if brands:
        text += f" They promote brand{'s' if len(brands) > 1 else ''} {', '.join(brands[:10])}."
    if agency_ids:
        text += " Intermediaries managing several of them: " + ", ".join(
            f"{m} ({agencies[m]} accounts)" for m in agency_ids[:5]) + "."
    text += (f" By chance (other authors of a note's near-duplicates ~ Poisson({lam:.2g}), this platform's rate), "
             f"a family this large has p = 1e-{surprise:.1f} among {judged:,} notes compared.")
    if len(note_ids) > params.max_evidence:
        text += f" Evidence lists the first {params.max_evidence} note ids."
    evidence = [Evidence("note", tuple(note_ids[:params.max_evidence]))]
    if brands:
        evidence.append(Evidence("brand", tuple(brands[:params.max_evidence])))
    if agency_ids:
        evidence.append(Evidence("intermediary", tuple(agency_ids[:params.max_evidence])))
    if start and end:
        evidence.append(Evidence("time_window", (start, end)))
    return ClusterFinding(DETECTOR, tuple(members), score, (Reason("copied_notes", text, tuple(evidence)),),
                          {a: score for a in members})
