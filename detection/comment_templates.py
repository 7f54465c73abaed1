"""Comment templates: many accounts posting near-duplicate texts, together.

A paid comment ring posts one script with a word, an emoji or the punctuation
changed.  Texts are normalised (:func:`comment_text.normalize_text`), cut
into character ``k``-shingles (k = 3 by default; Chinese has no spaces, so
character n-grams are the usual unit), summarised by MinHash and candidate
pairs are found with banded LSH (Broder, "On the resemblance and containment
of documents", 1997; Leskovec, Rajaraman & Ullman, *Mining of Massive
Datasets*, ch. 3), vectorised with numpy (see the section below).
Candidates are verified with the exact shingle Jaccard, so LSH only prunes;
its bands are chosen so that a pair at the threshold is missed with
probability < 1% (:func:`lsh_bands`).  Near-duplicate texts form template
groups (connected components); accounts sharing a template with enough other
accounts, posted together on one note, are clustered (Lee, Caverlee & Webb,
"Uncovering social spammers", SIGIR 2010, and Wang et al., "Serf and Turf:
Crowdturfing for Fun and Profit", WWW 2012, describe such crowdturfing
templates).  Off-platform lures inside a cluster's template comments
(:mod:`offplatform_lures`) are cited and raise its score.

N comments, U distinct normalised texts, L average text length: normalising
O(N + U L); MinHash U L * num_perm; LSH U bands log U plus windowed bucket
pairs, verified ones at O(L) each; lure matching O(U L * patterns);
clustering O(N log N).  Farm comments repeat: each distinct text is
normalised, matched and MinHashed once (a template posted 10,000 times costs
one signature).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ringscope.detection.comment_text import PreparedComments, has_text, isin_objects, object_array, prepared
from ringscope.detection.findings import ClusterFinding, Evidence, Reason
from ringscope.detection.offplatform_lures import LURE_PATTERNS, LurePatterns, match_lures
from ringscope.detection.params import as_share, policy_field

DETECTOR = "comment_template"



@dataclass(frozen=True)
class CommentTemplateParams:
    """Thresholds of :func:`detect_comment_templates`.

    ``shingle``: character k-gram length; ``threshold``: verified Jaccard of
    two shingle sets for "same template"; ``num_perm``: MinHash size;
    ``min_chars``: shorter normalised texts ("好看", "哈哈哈") are ignored as
    templates (they are too generic to mean coordination); ``min_accounts``:
    distinct accounts for a template to count; ``max_template_accounts``:
    templates used by more accounts are set aside as generic phrases (counted
    in no cluster); ``max_evidence``: ids cited per reason; ``max_reasons``:
    templates spelled out per cluster (the most used first). ``co_window`` and
    ``min_colocated_share``: a template is evidence of coordination only where
    it is *co-located*: posted on one note by at least ``min_accounts``
    accounts in a burst with gaps of at most ``co_window``. Only co-located
    uses link accounts (genuine users repeat "好用，回购了" across thousands of
    unrelated notes; a water army posts its script together), and a template
    whose uses are co-located less than ``min_colocated_share`` of the time
    is set aside as a common phrase, even where a ring also posts it together
    (the lockstep detector sees that ring; precision comes first here).
    A template used by at most ``max_scattered_accounts`` accounts counts even
    when scattered (a small crew seeding one script over a brand's notes). Off
    by default (0): on the simulated platforms rare organic phrases chain
    thousands of genuine accounts into one component, so scattered crews are
    left to the infrastructure, burst and underwater detectors. ``seed``:
    MinHash permutations and band hashes. ``signed_share``: the share of a
    text's shingles its MinHash signature is made of, the rarest over all the
    texts compared first (:func:`common_shingles`; 1: every shingle); the exact
    Jaccard still counts them all.
    """

    shingle: int = 3
    threshold: float = 0.6
    num_perm: int = 128
    min_chars: int = 8
    min_accounts: int = 3
    max_template_accounts: int = 50000
    co_window: pd.Timedelta = pd.Timedelta(hours=6)
    min_colocated_share: float = 0.3
    max_scattered_accounts: int = 0
    max_evidence: int = 2000
    max_reasons: int = 50
    seed: int = 1
    signed_share: float = policy_field(1.0, as_share, "share in (0, 1]")


def shingles(text: str, k: int = 3) -> set[str]:
    """Character k-shingles of an already normalised text (the whole text if shorter). O(len)."""
    if len(text) <= k:
        return {text} if text else set()
    return {text[i : i + k] for i in range(len(text) - k + 1)}


# --------------------------------------------------------------------------- MinHash-LSH
# Near-duplicate texts with vectorised MinHash-LSH (numpy; no Python loop per
# text, shingle or pair):
#
# * Shingle ids: the k code points of a shingle packed into one uint64
#   (21 bits each: exact for k <= 3; 64-bit FNV-1a over the code points for
#   longer shingles), so the exact Jaccard can be computed on ids.  A text
#   shorter than k is one shingle (the text, padded with a non-character).
# * MinHash (Broder 1997): each shingle id is scrambled (splitmix64) and
#   reduced mod the Mersenne prime p = 2^31 - 1; permutation i is the
#   universal hash (a_i x + b_i) mod p (Carter & Wegman 1979) with a_i, b_i
#   drawn from ``params.seed``; a text's signature is the column-wise minimum
#   over its shingles: a (texts x num_perm) uint32 matrix.
# * Banding: ``b`` bands of ``r`` rows (:func:`lsh_bands`); the r values of a
#   band are hashed to one uint64 key and texts with equal keys share a
#   bucket.  In a bucket each text is paired with the next ``BUCKET_WINDOW``
#   texts in text order (all pairs in buckets of up to ``BUCKET_WINDOW`` + 1
#   texts; a huge bucket, one template with thousands of variants, costs
#   O(size * window) and its near-duplicates still chain into one component).
# * Verification: exact shingle Jaccard >= threshold (sparse row products).
#   Bands are processed one after the other and a candidate pair whose texts
#   are already connected is not verified (it cannot change the components),
#   nor one whose set sizes alone bound the Jaccard below the threshold.
#   The components are those of all verified candidate pairs: deterministic,
#   independent of hash-table order.
_MERSENNE31 = np.uint64((1 << 31) - 1)
_NONCHAR = 0x110000          # pads texts shorter than k: above every code point
BUCKET_WINDOW = 32          # partners of a text in one LSH bucket
_BLOCK_CELLS = 1 << 22       # cells per MinHash block
_TABLE_CELLS = 1 << 25       # tabulate permuted shingle values up to 128 MiB
_VERIFY_CHUNK = 1 << 18      # candidate pairs per verification block
SKETCH_CELLS = 512           # cells of the intersection bound (a power of two, 64 or more)
SKETCH_PLANES = 2            # bit planes of the intersection bound: counts known up to this
_MIN_CANDIDATE_PROBABILITY = 0.99


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that spreads every input bit. O(n)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows)``, bands * rows <= num_perm, for a Jaccard threshold.

    The most rows per band (fewest chance candidates) such that a pair with
    Jaccard exactly ``threshold`` still shares a bucket with probability
    1 - (1 - t^r)^b >= 0.99; more similar pairs more surely.  Candidates are
    verified exactly, so a missed pair is lost quality while a chance
    candidate only costs time.  For 0.6 and 128 permutations: 42 bands of 3
    rows, a pair at Jaccard 0.6 is missed with probability 4e-5
    (datasketch's default, b=18 r=7, balances the two errors and finds only
    40% of the pairs at 0.6, 79% at 0.7).  O(num_perm).
    """
    best = (num_perm, 1)
    for r in range(1, num_perm + 1):
        b = num_perm // r
        if 1 - (1 - threshold ** r) ** b >= _MIN_CANDIDATE_PROBABILITY:
            best = (b, r)
    return best


def _run_starts(values: np.ndarray) -> np.ndarray:
    """True where a value differs from the one before it (the first value included): where each run of equal
    values starts. O(n)."""
    return np.concatenate([np.ones(min(len(values), 1), dtype=bool), values[1:] != values[:-1]])


def _unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a plain sort: faster than numpy's hash-based ``unique`` here). O(n log n)."""
    s = np.sort(values)
    return s[_run_starts(s)]


def _shingle_ids(texts: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(text index, shingle id)`` of every shingle occurrence, in text order. O(total length)."""
    n = len(texts)
    lens = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cps = np.concatenate([cps.astype(np.uint64), np.full(k, _NONCHAR, dtype=np.uint64)])
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    per_text = np.where(lens > k, lens - k + 1, (lens > 0).astype(np.int64))
    total = int(per_text.sum())
    tid = np.repeat(np.arange(n, dtype=np.int64), per_text)
    pos = np.repeat(starts - (np.cumsum(per_text) - per_text), per_text) + np.arange(total, dtype=np.int64)
    # Only a text of at most k characters (its one shingle) reaches past its end; ``cps`` is padded by k,
    # so every other read is inside its text and needs no test.
    short = np.flatnonzero(np.repeat(lens <= k, per_text))
    end = (starts + lens)[tid[short]]
    sid = np.zeros(total, dtype=np.uint64)
    for j in range(k):
        v = cps[pos + j]
        if len(short):
            v[short] = np.where(pos[short] + j < end, v[short], np.uint64(_NONCHAR))
        if k <= 3:
            sid = (sid << np.uint64(21)) | v
        else:
            sid = (sid ^ v) * np.uint64(0x100000001B3)
    return tid, sid


def _minhash(indptr: np.ndarray, sid: np.ndarray, x: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """(texts x num_perm) uint32 MinHash signatures.

    Text t's shingles are ``sid[indptr[t]:indptr[t+1]]`` (ids into ``x``, the
    shingle values in [0, p)); permutation i maps x to (a_i x + b_i) mod p.
    Texts are taken in blocks of equal shingle count, so the minimum is a
    plain ``min`` over an axis (``ufunc.reduceat`` is ten times slower).  The
    permuted values are tabulated once per shingle when the vocabulary is
    small enough, else computed per block.  O(T * num_perm) for T shingles.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(_MERSENNE31), size=num_perm, dtype=np.uint64)
    b = rng.integers(0, int(_MERSENNE31), size=num_perm, dtype=np.uint64)

    def permuted(values: np.ndarray) -> np.ndarray:     # a x + b < 2^62: no overflow
        return ((values[..., None] * a + b) % _MERSENNE31).astype(np.uint32)

    table = None
    if len(x) * num_perm <= _TABLE_CELLS:
        table = np.empty((len(x), num_perm), dtype=np.uint32)
        step = max(1, _BLOCK_CELLS // num_perm)
        for lo in range(0, len(x), step):
            table[lo:lo + step] = permuted(x[lo:lo + step])
    counts = np.diff(indptr)
    sig = np.full((len(counts), num_perm), int(_MERSENNE31), dtype=np.uint32)   # an empty text: all p
    for length in np.unique(counts[counts > 0]):
        texts = np.flatnonzero(counts == length)
        step = max(1, _BLOCK_CELLS // (int(length) * num_perm))
        for lo in range(0, len(texts), step):
            t = texts[lo:lo + step]
            ids = sid[indptr[t][:, None] + np.arange(length)]
            sig[t] = (table[ids] if table is not None else permuted(x[ids])).min(axis=1)
    return sig


def band_pairs(key: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs ``(i, j)``, i < j, of one band: texts with equal band key.

    In a bucket each text is paired with its next ``BUCKET_WINDOW`` bucket
    mates in text order.  Buckets whose texts are all in one component
    already (``labels``) are skipped: their pairs cannot change anything.
    O(n log n + pairs).
    """
    order = np.argsort(key, kind="stable")                 # ties keep the text order
    k = key[order]
    start = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]]))
    size = np.diff(np.concatenate([start, [len(k)]]))
    lab = labels[order]
    mixed = (size > 1) & (np.minimum.reduceat(lab, start) != np.maximum.reduceat(lab, start))
    if not mixed.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    start, size = start[mixed], size[mixed]
    pos = np.repeat(start - np.concatenate([[0], np.cumsum(size)[:-1]]), size) + np.arange(int(size.sum()))
    left = np.repeat(size, size) - 1 - (pos - np.repeat(start, size))   # bucket mates after each text
    count = np.minimum(left, BUCKET_WINDOW)
    first = np.repeat(pos, count)
    step = np.arange(len(first), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count) + 1
    return order[first].astype(np.int64), order[first + step].astype(np.int64)


def merge_components(labels: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Component labels after adding edges (i, j). O(n + edges)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(labels)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (labels[i], labels[j])), shape=(n, n))
    return connected_components(graph, directed=False)[1][labels]


def possible_pairs(size: np.ndarray, sketch: np.ndarray, i: np.ndarray, j: np.ndarray,
                   threshold: float) -> np.ndarray:
    """Which pairs ``(i, j)`` two upper bounds of the Jaccard leave possible (>= ``threshold``): the set
    sizes' ratio, and the sketch bound (``ShingleSets.sketch``: per cell the smaller count, a pair whose
    texts both overflow one cell always possible). A pair set aside has a Jaccard below the threshold for
    certain. Taken ``_VERIFY_CHUNK`` pairs at a time (each gathers two sketch rows).
    O(pairs * SKETCH_CELLS / 64)."""
    counted = SKETCH_PLANES * (SKETCH_CELLS // 64)
    out = np.zeros(len(i), dtype=bool)
    for lo in range(0, len(i), _VERIFY_CHUNK):
        ci, cj = i[lo:lo + _VERIFY_CHUNK], j[lo:lo + _VERIFY_CHUNK]
        si, sj = size[ci], size[cj]
        both = sketch[ci] & sketch[cj]
        bound = np.bitwise_count(both[:, :counted]).astype(np.int64).sum(axis=1)
        unbounded = both[:, counted:].any(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):       # two empty texts: nan, never possible
            fit = np.minimum(si, sj) / np.maximum(si, sj) >= threshold             # Jaccard <= small / large
            out[lo:lo + _VERIFY_CHUNK] = fit & ((bound / (si + sj - bound) >= threshold) | unbounded)
    return out


class ShingleSets:
    """The character k-shingle sets of distinct normalised texts: what MinHash summarises and the exact
    Jaccard compares.

    A text's shingle ids (its code points packed), their permutation inputs
    (hashes of the ids), its sketch and so its signature depend on that text
    alone, never on the other texts beside it: any batch of texts gives a
    text the same ones (the Spark engine builds these over batches of texts).
    O(T log T) for T shingles.
    """

    def __init__(self, texts: list[str], k: int) -> None:
        from scipy.sparse import csc_matrix

        n = len(texts)
        tid, raw = _shingle_ids(texts, k)
        # One stable sort by shingle puts each shingle's occurrences together in text order, so a repeat
        # within a text sits next to its first: the vocabulary, the distinct (shingle, text) pairs and, by
        # column, the sets come out of it without a lookup of every occurrence in the vocabulary (that
        # binary search and a second sort of the pairs were twice this one's cost on 160,000 note bodies).
        order = np.argsort(raw, kind="stable")
        raw, tid = raw[order], tid[order]
        first = _run_starts(raw)                             # a shingle's first occurrence
        distinct = first | _run_starts(tid)                  # a text's first occurrence of a shingle
        raw, tid, first = raw[distinct], tid[distinct], first[distinct]
        vocab = raw[first]
        by_shingle = np.concatenate([np.flatnonzero(first), [len(raw)]])
        self.empty = len(vocab) == 0
        self.vocab = vocab                                   # each shingle id's packed code points
        # by text, shingle ids ascending in each row (scipy's conversion is a counting sort)
        self.sets = csc_matrix((np.ones(len(raw), dtype=np.int32), tid, by_shingle), shape=(n, len(vocab))).tocsr()
        self.size = np.diff(self.sets.indptr).astype(np.int64)   # shingles per text
        self.indptr = self.sets.indptr.astype(np.int64)
        self.values = _mix64(vocab) % _MERSENNE31            # what the permutations map, per shingle id

    @cached_property
    def sketch(self) -> np.ndarray:
        """(texts x (SKETCH_PLANES + 1) * SKETCH_CELLS / 64) uint64: each text's shingles counted in
        ``SKETCH_CELLS`` cells (by shingle hash), as bit planes, the saturation plane last
        (:func:`possible_pairs`). Made on first use: a caller that only tests pairs already bounded
        (``exact``) never pays for it. O(T log T)."""
        # The sum over cells of the smaller count bounds the intersection from above, and rejects most
        # chance candidates cheaply. The counts are kept as bit planes (bit c of plane k: cell c holds more
        # than k shingles), so the bound is a few popcounts per pair. A count above SKETCH_PLANES is known
        # only as "more" (the saturation plane): the bound holds unless both texts of a pair have more in one
        # cell (then the pair is verified exactly). With 64 cells and no saturation plane, 55 % of the note
        # bodies (~90 shingles) had a full cell and went to the exact test with every candidate: on 100k
        # bodies of the 1 M lake, 99.8 % of 65 M candidates were chance pairs costing a sparse row product
        # each, 87.6 s (now 17 s; benchmarks/results/spark_detection.md, 2026-12-06).
        n, sid = len(self.size), self.sets.indices
        tid = np.repeat(np.arange(n, dtype=np.int64), self.size)
        words, log2_cells = SKETCH_CELLS // 64, SKETCH_CELLS.bit_length() - 1
        cell = np.sort(tid * SKETCH_CELLS + (_mix64(self.vocab)[sid] >> np.uint64(64 - log2_cells)).astype(np.int64))
        starts = np.flatnonzero(np.concatenate([[len(cell) > 0], cell[1:] != cell[:-1]]))
        cell, count = cell[starts], np.diff(np.concatenate([starts, [len(tid)]]))

        def plane(cells: np.ndarray) -> np.ndarray:    # (n, words) bit sets; O(cells), no n x CELLS temporary
            out = np.zeros(n * words, dtype=np.uint64)
            word = cells // 64                         # text * words + the cell's word (cells sorted: ascending)
            first = np.flatnonzero(np.concatenate([[len(word) > 0], word[1:] != word[:-1]]))
            bits = np.left_shift(np.uint64(1), (cells % 64).astype(np.uint64))
            out[word[first]] = np.bitwise_or.reduceat(bits, first) if len(first) else bits[:0]
            return out.reshape(n, words)

        return np.hstack([plane(cell[count > c]) for c in range(SKETCH_PLANES + 1)])

    @property
    def saturated(self) -> np.ndarray:
        """The sketch's saturation plane: bit c set where a text has more than SKETCH_PLANES shingles in cell c."""
        return self.sketch[:, SKETCH_PLANES * (SKETCH_CELLS // 64):]

    def document_frequency(self) -> tuple[np.ndarray, np.ndarray]:
        """(each shingle's packed code points, the number of texts holding it), shingles ascending. O(T)."""
        return self.vocab, np.bincount(self.sets.indices, minlength=len(self.vocab))

    def signatures(self, params: CommentTemplateParams, common: tuple[np.ndarray, np.ndarray] | None = None
                   ) -> np.ndarray:
        """(texts x num_perm) uint32 MinHash signatures (:func:`_minhash`).

        With ``common`` (:func:`common_shingles`: the common shingles, ascending, and how many texts hold
        each) and ``signed_share`` < 1, a text is signed by its rarer shingles only: every one not common,
        and at least ``ceil(signed_share * size)`` of them, the least common first (ties by shingle id).
        Which a text keeps depends on the text and ``common`` alone, never on the batch.
        O(T * num_perm + T log T)."""
        indptr, sid = self.indptr, self.sets.indices
        if common is not None and params.signed_share < 1:
            shingles, frequency = common
            at = np.minimum(np.searchsorted(shingles, self.vocab), max(len(shingles) - 1, 0))
            known = (shingles[at] == self.vocab) if len(shingles) else np.zeros(len(self.vocab), dtype=bool)
            often = np.where(known, frequency[at] if len(shingles) else 0, 0)[sid]   # 0: not common
            n = len(self.size)
            tid = np.repeat(np.arange(n, dtype=np.int64), self.size)
            order = np.lexsort((sid, often, tid))           # per text, the least common first (sid: id order)
            rank = np.arange(len(sid), dtype=np.int64) - np.repeat(indptr[:-1], self.size)
            quota = np.maximum(np.bincount(tid[often == 0], minlength=n),
                               np.ceil(params.signed_share * self.size).astype(np.int64))
            sid = sid[np.sort(order[rank < np.repeat(quota, self.size)])]
            indptr = np.concatenate([[0], np.cumsum(quota)])
        return _minhash(indptr, sid, self.values, params.num_perm, params.seed)

    def verified(self, i: np.ndarray, j: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """The pairs ``(i, j)`` whose shingle Jaccard is >= ``threshold``, exactly.

        Two upper bounds of the Jaccard, the set sizes' ratio and the sketch
        bound (:func:`possible_pairs`), set most chance candidates aside before
        the exact intersection (:meth:`exact`).  O(pairs * L).
        """
        maybe = possible_pairs(self.size, self.sketch, i, j, threshold)
        return self.exact(i[maybe], j[maybe], threshold)

    def exact(self, i: np.ndarray, j: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """The pairs ``(i, j)`` whose shingle Jaccard is >= ``threshold``, by the exact intersection (sparse
        row products) of every pair: for pairs a bound has already let through. O(pairs * L)."""
        size = self.size
        keep_i, keep_j = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for lo in range(0, len(i), _VERIFY_CHUNK):
            ci, cj = i[lo:lo + _VERIFY_CHUNK], j[lo:lo + _VERIFY_CHUNK]
            inter = np.asarray(self.sets[ci].multiply(self.sets[cj]).sum(axis=1)).reshape(-1)
            ok = inter / (size[ci] + size[cj] - inter) >= threshold
            keep_i.append(ci[ok])
            keep_j.append(cj[ok])
        return np.concatenate(keep_i), np.concatenate(keep_j)


# Shingles held by at most this share of the texts are "rare" alike when a signature keeps a text's rarer
# shingles (``signed_share``): only the common ones' counts are needed, and the Spark engine sends the
# driver and every task at most 1 / COMMON_SHARE shingles per text.
COMMON_SHARE = 0.01


def common_shingles(shingles: np.ndarray, frequency: np.ndarray, texts: int) -> tuple[np.ndarray, np.ndarray]:
    """The shingles (packed code points, ascending) held by more than ``COMMON_SHARE`` of ``texts`` texts and
    their document ``frequency``: what a signature with ``signed_share`` < 1 leaves out first.

    Unrelated texts share common phrases ("姐妹们", "好物分享"), so at a low threshold (copied notes: 0.3)
    their signatures collide through them: on 100k note bodies of the simulated 1 M platform each body
    had 644 chance candidates, and at 10 M buckets of 341,067 bodies. A copy shares its original's rarer
    shingles too. Signing each text by its rarer half keeps the shingles a large mass-produced family
    shares (common by then) in its members' signatures, where leaving every common shingle out would not;
    the candidates' exact test keeps every shingle, so this prunes and never adds. What it loses is a pair
    whose overlap is mostly common shingles (Broder et al., "Syntactic clustering of the Web", 1997,
    section "Common shingles", set such shingles aside; measured in benchmarks/results/spark_detection.md,
    2026-12-06). O(V)."""
    common = frequency > COMMON_SHARE * texts
    return shingles[common], np.asarray(frequency)[common].astype(np.int64)


def band_key(sig: np.ndarray, band: int, params: CommentTemplateParams) -> np.ndarray:
    """Each text's bucket in LSH band ``band``: the band's ``rows`` signature values hashed to one
    uint64 (multipliers drawn from ``seed + 1``).  A text's key depends on its signature alone. O(n * rows)."""
    rows = lsh_bands(params.threshold, params.num_perm)[1]
    mult = np.random.default_rng(params.seed + 1).integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)
    block = sig[:, band * rows:(band + 1) * rows].astype(np.uint64)
    return _mix64((block * mult).sum(axis=1, dtype=np.uint64))


def link_band(labels: np.ndarray, key: np.ndarray, sets: ShingleSets, threshold: float,
              texts: np.ndarray | None = None) -> np.ndarray:
    """Component labels after one LSH band: the band's candidate pairs (:func:`band_pairs`) whose texts
    are not connected yet, verified exactly (:meth:`ShingleSets.verified`), merged into ``labels``.

    ``key[r]`` is the band key of text ``texts[r]`` (of text r when ``texts`` is None); ``texts`` is
    ascending, so each bucket sees its texts in text order.  A pair whose texts are connected already
    cannot change the components, so the components after every band are those of all verified
    candidate pairs, whatever the order the bands (or batches of buckets) come in.
    O(n log n + candidates * L).
    """
    rows = np.arange(len(labels), dtype=np.int64) if texts is None else texts
    i, j = band_pairs(key, labels[rows])
    i, j = rows[i], rows[j]
    open_ = labels[i] != labels[j]
    i, j = sets.verified(i[open_], j[open_], threshold)
    return merge_components(labels, i, j) if len(i) else labels


def near_duplicate_components(
    texts: list[str], params: CommentTemplateParams = CommentTemplateParams()
) -> np.ndarray:
    """Component label per text: texts linked by verified Jaccard >= threshold share one.

    ``texts`` are distinct normalised texts.  MinHash-LSH (vectorised, see
    above) proposes candidate pairs, the exact shingle Jaccard confirms them,
    connected components join them.  Labels are 0..C-1 in order of each
    component's first text.  Time O(T * num_perm + U * bands log U +
    candidates * L) for T shingles in U texts.
    """
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sets = ShingleSets(texts, params.shingle)
    if sets.empty:                                         # only the empty text
        return np.arange(n, dtype=np.int64)
    common = common_shingles(*sets.document_frequency(), n) if params.signed_share < 1 else None
    sig = sets.signatures(params, common)
    labels = np.arange(n, dtype=np.int64)
    for band in range(lsh_bands(params.threshold, params.num_perm)[0]):
        labels = link_band(labels, band_key(sig, band, params), sets, params.threshold)
    _, first = np.unique(labels, return_index=True)        # number components by their first text
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[labels]


def template_groups(comments: pd.DataFrame, params: CommentTemplateParams = CommentTemplateParams()) -> pd.DataFrame:
    """Assign each comment with a long-enough text to a near-duplicate template group.

    Returns ``comment_id, account_id, note_id, norm, template`` where
    ``template`` is the group's id (its most used normalised variant, ties
    broken by the smallest text, so deterministic).  Texts are normalised
    once per distinct raw text; MinHash-LSH proposes candidate pairs among
    the distinct normalised texts (a template posted 10,000 times costs one
    signature), exact shingle Jaccard >= ``threshold`` confirms them,
    connected components form groups (:func:`near_duplicate_components`).
    Time O(N + U * L * num_perm + candidates * L).
    """
    if comments.empty or "text" not in comments:
        return pd.DataFrame(columns=_GROUP_COLUMNS)
    return _template_groups(prepared(comments), params)


_GROUP_COLUMNS = ["comment_id", "account_id", "note_id", "created_at", "norm", "template"]


def long_enough(norms: list[str] | np.ndarray, params: CommentTemplateParams) -> np.ndarray:
    """Which normalised texts may be templates: those of at least ``min_chars`` characters. O(U)."""
    return np.fromiter((len(t) >= params.min_chars for t in norms), dtype=bool, count=len(norms))


def _template_groups(prep: PreparedComments, params: CommentTemplateParams) -> pd.DataFrame:
    norms = np.array(prep.compact, dtype=object)
    kept = long_enough(norms, params)
    rows = np.flatnonzero(kept[prep.codes])
    if len(rows) == 0:
        return pd.DataFrame(columns=_GROUP_COLUMNS)
    uniq = sorted(set(norms[kept]))
    position = {u: i for i, u in enumerate(uniq)}
    of_text = np.full(len(norms), -1, dtype=np.int64)      # distinct raw text -> distinct normalised text
    of_text[kept] = [position[u] for u in norms[kept]]
    labels = near_duplicate_components(uniq, params)
    # the most used variant names the template (ties: the smallest text, i.e. the lowest index)
    freq = np.bincount(of_text[prep.codes[rows]], minlength=len(uniq))
    order = np.lexsort((np.arange(len(uniq)), -freq, labels))
    head = np.concatenate([[True], labels[order][1:] != labels[order][:-1]])
    rep = np.empty(int(labels.max()) + 1, dtype=np.int64)
    rep[labels[order][head]] = order[head]
    names = np.array(uniq, dtype=object)
    text_u = of_text[prep.codes[rows]]
    df = pd.DataFrame({
        "comment_id": prep.column("comment_id")[rows],
        "account_id": prep.column("account_id")[rows],
        "note_id": prep.frame["note_id"].to_numpy()[rows],
        # .array keeps a time zone's datetimes as one typed array (to_numpy() makes an object per row)
        "created_at": (prep.frame["created_at"].array[rows] if "created_at" in prep.frame
                       else np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[ns]")),
        "norm": names[text_u],
        "template": names[rep[labels[text_u]]],
    })
    return df.sort_values(["template", "comment_id"]).reset_index(drop=True)


def colocated_uses(t_code: np.ndarray, groups: pd.DataFrame, window: pd.Timedelta, min_accounts: int) -> np.ndarray:
    """For each row of ``groups``: is it part of a *burst* of one template on one note,
    i.e. a run of uses with gaps of at most ``window`` that holds at least
    ``min_accounts`` distinct accounts? Sort by (template, note, time), cut runs
    at gaps, count distinct accounts per run. O(N log N). Rows without a time never match."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=bool)
    note_code = pd.factorize(groups["note_id"])[0]
    acc_code = pd.factorize(groups["account_id"])[0].astype(np.int64)
    times = pd.to_datetime(groups["created_at"], utc=True)
    t_ns = times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    valid = times.notna().to_numpy()
    order = np.lexsort((t_ns, note_code, t_code))
    tc, nc, ac, tn, ok = t_code[order], note_code[order], acc_code[order], t_ns[order], valid[order]
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (tc[1:] != tc[:-1]) | (nc[1:] != nc[:-1]) | (tn[1:] - tn[:-1] > int(window.value)) \
        | ~ok[1:] | ~ok[:-1]
    run = np.cumsum(new_run) - 1
    pairs = np.unique(run * (int(ac.max()) + 1) + ac)          # distinct (run, account)
    accounts_in_run = np.bincount(pairs // (int(ac.max()) + 1), minlength=int(run[-1]) + 1)
    hit = (accounts_in_run[run] >= min_accounts) & ok
    out = np.zeros(n, dtype=bool)
    out[order] = hit
    return out


def linking_uses(groups: pd.DataFrame, params: CommentTemplateParams = CommentTemplateParams()) -> np.ndarray:
    """Positions of the rows of ``groups`` (:func:`template_groups`' columns) that link accounts.

    A template counts when >= ``min_accounts`` distinct accounts used it and
    at most ``max_template_accounts``, and when its uses are co-located
    (:func:`colocated_uses`) at least ``min_colocated_share`` of the time or
    it is used by at most ``max_scattered_accounts`` accounts.  Rare
    templates link through every use, common ones only where co-located; a
    template whose linking uses hold fewer than ``min_accounts`` accounts
    counts for nothing.  Everything here is per template, so any set of whole
    templates gives its rows the same answer as all of them (the Spark
    engine runs this over batches of templates).  Ascending.  O(N log N).
    """
    if groups.empty:
        return np.zeros(0, dtype=np.int64)
    t_code, t_names = pd.factorize(groups["template"])
    a_code, a_names = pd.factorize(groups["account_id"])
    n_t, n_a = len(t_names), len(a_names)
    ta = _unique_sorted(t_code.astype(np.int64) * n_a + a_code)        # distinct (template, account)
    per_t = np.bincount(ta // n_a, minlength=n_t)                       # accounts per template
    good = (per_t >= params.min_accounts) & (per_t <= params.max_template_accounts)
    colocated = colocated_uses(t_code, groups, params.co_window, params.min_accounts)
    share = np.bincount(t_code, weights=colocated, minlength=n_t) / np.maximum(np.bincount(t_code, minlength=n_t), 1)
    scattered_ok = per_t <= params.max_scattered_accounts
    good &= (share >= params.min_colocated_share) | scattered_ok
    # Rare templates link through every use; common ones only where co-located.
    use = np.flatnonzero(good[t_code] & (colocated | scattered_ok[t_code]))
    if len(use) == 0:
        return use.astype(np.int64)
    # Accounts per template now counts only the uses that link.
    ta = _unique_sorted(t_code[use].astype(np.int64) * n_a + a_code[use])
    per_t = np.bincount(ta // n_a, minlength=n_t)
    good &= per_t >= params.min_accounts
    return use[good[t_code[use]]].astype(np.int64)


def quoted_comments(uses: pd.DataFrame) -> np.ndarray:
    """The comment ids whose text a finding quotes: each template's first linking comment (smallest id)
    among ``uses`` (the rows :func:`linking_uses` keeps), the example its reason cites.  Per template,
    like :func:`linking_uses`.  O(N)."""
    return object_array(uses.groupby("template", sort=False)["comment_id"].min())


def template_clusters(
    groups: pd.DataFrame,
    lures: pd.DataFrame | None = None,
    params: CommentTemplateParams = CommentTemplateParams(),
    comments_text: dict[str, str] | None = None,
) -> list[ClusterFinding]:
    """Cluster accounts that share templates; one finding per connected component.

    The rows that link (:func:`linking_uses`) are clustered by
    :func:`linked_template_clusters`.  Time O(N log N).
    """
    return linked_template_clusters(groups.iloc[linking_uses(groups, params)].reset_index(drop=True),
                                    lures, params, comments_text)


def linked_template_clusters(
    uses: pd.DataFrame,
    lures: pd.DataFrame | None = None,
    params: CommentTemplateParams = CommentTemplateParams(),
    comments_text: dict[str, str] | None = None,
) -> list[ClusterFinding]:
    """Cluster accounts through the linking uses of templates (the rows of ``groups`` that
    :func:`linking_uses` keeps, and only those); one finding per connected component.

    Accounts are linked through shared templates (bipartite account-template
    graph, scipy components).  Score = 1 - exp(-(A - 1) / 3 - (T - 1) / 2)
    with A the mean number of accounts per template and T the number of
    templates in the cluster (+0.1, capped at 1, when template comments
    carry lures).  Lure matches (``lures``: comment_id, pattern) inside the
    cluster's template comments add an ``offplatform_lure`` reason;
    ``comments_text`` gives the raw text of the comments a reason may quote.
    Time O(N log N).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    out: list[ClusterFinding] = []
    if uses.empty:
        return out
    t_code, t_names = pd.factorize(uses["template"])
    a_code, a_names = pd.factorize(uses["account_id"])
    t_names = np.asarray(t_names, dtype=object)
    n_t, n_a = len(t_names), len(a_names)
    ta = _unique_sorted(t_code.astype(np.int64) * n_a + a_code)        # distinct (template, account)
    per_t = np.bincount(ta // n_a, minlength=n_t)                       # accounts per template
    graph = coo_matrix((np.ones(len(uses), dtype=np.int8), (a_code, n_a + t_code)),
                       shape=(n_a + n_t, n_a + n_t))
    _, comp = connected_components(graph, directed=False)
    cid = object_array(uses["comment_id"])
    acc = object_array(uses["account_id"])
    note = object_array(uses["note_id"])
    norm = object_array(uses["norm"])
    lure_pats: dict[str, set[str]] = defaultdict(set)
    if lures is not None and not lures.empty:
        lured_ids = set(cid[isin_objects(cid, object_array(lures["comment_id"]))])
        for c, p in zip(object_array(lures["comment_id"]), object_array(lures["pattern"])):
            if c in lured_ids:
                lure_pats[c].add(p)
    # rows of each template, and templates of each component
    by_t = np.argsort(t_code, kind="stable")
    t_bounds = np.searchsorted(t_code[by_t], np.arange(n_t + 1))
    good_t = np.argsort(t_names, kind="stable")                        # by template text
    t_comp = comp[n_a + good_t]
    order = np.argsort(t_comp, kind="stable")
    c_bounds = np.flatnonzero(np.concatenate([[True], t_comp[order][1:] != t_comp[order][:-1], [True]]))
    for lo, hi in zip(c_bounds[:-1], c_bounds[1:]):
        temps = good_t[order[lo:hi]]                                   # codes in sorted template order
        rows = np.concatenate([by_t[t_bounds[t]:t_bounds[t + 1]] for t in temps])
        accs = sorted(set(acc[rows]))
        apt = float(np.mean(per_t[temps]))
        score = float(np.clip(1 - np.exp(-(apt - 1) / 3) * np.exp(-(len(temps) - 1) / 2) * 1.0, 0, 1))
        reasons = []
        shown = sorted(temps, key=lambda t: (-int(per_t[t]), t_names[t]))[: params.max_reasons]
        if len(temps) > len(shown):
            reasons.append(Reason(
                code="comment_template",
                text=f"The {len(accs)} accounts share {len(temps)} templates; the {len(shown)} most used follow.",
                evidence=(Evidence("comment", tuple(sorted(cid[rows]))[: params.max_evidence]),),
            ))
        for t in shown:
            trows = by_t[t_bounds[t]:t_bounds[t + 1]]
            name = t_names[t]
            cids = sorted(cid[trows])
            notes = note[trows]
            n_variants = len(set(norm[trows]))
            example = str(comments_text.get(cids[0], "")) if comments_text else ""
            reasons.append(
                Reason(
                    code="comment_template",
                    text=(
                        f"{int(per_t[t])} accounts posted {len(cids)} near-duplicate comments "
                        f"on {pd.Series(notes, dtype=object).nunique()} notes following the template '{name}' "
                        f"({n_variants} variants; e.g. {cids[0]}: '{example}')."
                    ),
                    evidence=(Evidence("comment", tuple(cids[: params.max_evidence])),
                              Evidence("note", tuple(sorted({str(x) for x in notes}))[: params.max_evidence])),
                )
            )
        lured = sorted(c for c in cid[rows] if c in lure_pats)
        if lured:
            pats = sorted({p for c in lured for p in lure_pats[c]})
            reasons.append(
                Reason(
                    code="offplatform_lure",
                    text=f"{len(lured)} of these template comments lure users off the platform ({', '.join(pats)}).",
                    evidence=(Evidence("comment", tuple(lured[: params.max_evidence])),),
                )
            )
            score = min(1.0, score + 0.1)
        out.append(ClusterFinding(DETECTOR, tuple(accs), round(score, 6), tuple(reasons)))
    return sorted(out, key=lambda f: (-f.score, -len(f.members), f.members))


def detect_comment_templates(
    comments: pd.DataFrame,
    params: CommentTemplateParams = CommentTemplateParams(),
    *,
    patterns: LurePatterns = LURE_PATTERNS,
) -> list[ClusterFinding]:
    """Clusters of accounts posting near-duplicate comments together, sorted by score.

    Needs columns comment_id, account_id, note_id, text (created_at for
    co-location); returns [] when there is no text.  The comments are
    prepared (distinct texts normalised) once; template comments that match a
    lure pattern (``patterns``) are cited.  Time: see the module docstring.
    """
    if not has_text(comments):
        return []
    prep = prepared(comments)
    groups = _template_groups(prep, params)
    if groups.empty:
        return []
    uses = groups.iloc[linking_uses(groups, params)].reset_index(drop=True)
    cid = prep.column("comment_id")
    # the reasons quote each template's first linking comment (before 2026-12-04 they looked up the
    # template's first comment overall, and quoted '' whenever that one did not link)
    quoted = isin_objects(cid, quoted_comments(uses))
    texts = dict(zip(cid[quoted], np.asarray(prep.texts, dtype=object)[prep.codes[quoted]]))
    return linked_template_clusters(uses, match_lures(prep, patterns), params, texts)
