"""Comment templates, off-platform lures and staged question-and-answer acts.

Three signals of paid comment rings on a RED-like platform:

1. **Templates** - many accounts posting near-duplicate texts (the same praise
   with a word, emoji or punctuation changed).  Texts are normalised (NFKC,
   lower case, emoji/punctuation/space removed), cut into character
   ``k``-shingles (k = 3 by default; Chinese has no spaces, so character
   n-grams are the usual unit), summarised by MinHash and candidate pairs are
   found with banded LSH (Broder, "On the resemblance and containment of
   documents", 1997; Leskovec, Rajaraman & Ullman, *Mining of Massive
   Datasets*, ch. 3), vectorised with numpy (see the templates section).
   Candidates are verified with the exact shingle Jaccard, so LSH only
   prunes; its bands are chosen so that a pair at the threshold is missed
   with probability < 1% (:func:`lsh_bands`).  Near-duplicate texts form
   template groups (connected components); accounts sharing a template with
   enough other accounts are clustered (Lee, Caverlee & Webb, "Uncovering
   social spammers", SIGIR 2010, and Wang et al. "Serf and turf", IMC 2012,
   describe such crowdturfing templates).
2. **Lures** - texts that move users off the platform (私我, 链接私你, vx, V信,
   微信, 加微, QQ numbers, WeChat ids ...).  The patterns are data:
   :data:`LURE_PATTERNS` (name, regex, what it catches), replaceable by the
   caller or loaded from YAML with :func:`load_lure_patterns`.  Accounts that
   advertise the same contact id (one WeChat id, one QQ number) are clustered.
3. **Q&A acts** - one account asks ("求链接", "哪里买", "?") and another answers
   via ``reply_to`` with a lure ("链接私你了"); the same pair or ring doing it
   repeatedly is a staged act (the "托" pattern of paid comment rings).

N comments, D distinct raw texts, U distinct normalised texts, L average
text length: normalising D L, matching lures D L * patterns (a text without
any character a pattern needs is skipped); MinHash U L * num_perm; LSH
U bands log U plus windowed bucket pairs, verified ones at O(L) each;
clustering O(N + A + edges).  Farm comments repeat: each distinct text is
normalised, matched and MinHashed once (a template posted 10,000 times costs
one signature).  100,000 simulated comments take about 1 s of CPU, 3,000,000
about 20 s (benchmarks/results/detection_speed.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from ringscope.detection.findings import ClusterFinding, Evidence, Reason

DETECTOR_TEMPLATE = "comment_template"
DETECTOR_LURE = "offplatform_lure"
DETECTOR_QA = "qa_act"

# --------------------------------------------------------------------------- lure table
# (name, regex over the NFKC-lower-cased text, description).  A pattern with a
# named group ``contact`` extracts the advertised id (WeChat id, QQ number,
# phone) so that accounts sharing one contact can be clustered.  Patterns are
# matched against the normalised text and against its "compact" form (spaces,
# punctuation and emoji removed), which defeats "V 信", "v❤x", "加 微".
_WX = r"(?:v信|v芯|v心|威信|薇信|徽信|维信|微信|wei\s*xin|weixin|wechat|vx|wx|(?<![a-z])v(?![a-z])|卫星|绿泡泡|🛰)"
LURE_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("dm_me", r"私我|私信我|私聊我|滴滴我|dd我|戳我|call我|扣我|踢我|来私|私戳", "asks users to message privately (私我, 滴滴我)"),
    ("sent_privately", r"(?:链接|资料|方法|联系方式|地址|店铺|店名|购买方式)?已?私(?:信)?(?:你|您)(?:了|啦)?|已私|私发(?:你|您)|发你私信", "claims a link/contact was sent in private (链接私你了, 已私)"),
    ("wechat_id", _WX + r"\s*[:：号]?\s*(?P<contact>[a-z][-_a-z0-9]{5,19})", "a WeChat id after vx/V信/微信 (加V信abc123)"),
    ("add_wechat", r"加\s*" + _WX + r"|\+\s*" + _WX + r"|加微|➕v|\+v|加我" + _WX + r"|" + _WX + r"\s*(?:联系|私聊|详聊|找我|咨询|聊|加我)", "add-me-on-WeChat phrasing (加微, 加V, +vx)"),
    ("qq_number", r"(?:qq|扣扣|企鹅|(?<![a-z])q(?![a-z弹]))\s*[:：号群]?\s*(?P<contact>[1-9][0-9]{4,11})(?![0-9])", "a QQ number (Q 123456789, 扣扣12345)"),
    ("phone_number", r"(?<![0-9])(?P<contact>1[3-9][0-9]{9})(?![0-9])", "a mainland mobile number"),
    ("offsite_shop", r"(?:某宝|tb|淘宝|闲鱼|拼夕夕|pdd|咸鱼)\s*(?:搜|店|有|链接|同款)", "points to an outside shop (tb搜, 某宝有)"),
)
"""Off-platform lures: (name, regex, description).  Replace or extend freely."""


def load_lure_patterns(path: Path) -> tuple[tuple[str, str, str], ...]:
    """Lure patterns from a YAML list of ``{name, regex, description}`` mappings. O(patterns)."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return tuple((str(d["name"]), str(d["regex"]), str(d.get("description", ""))) for d in data)


_QUESTION = re.compile(
    r"[?？]|求(?:链接|购买|方法|店|地址|分享|推荐|同款)|哪里买|在哪(?:里)?买|怎么买|多少钱|什么牌子|哪个牌子|链接呢|有链接吗|蹲(?:一个)?链接|怎么联系|求带|想要"
)
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class TemplateParams:
    """Thresholds of :func:`detect_templates`.

    ``shingle``: character k-gram length; ``threshold``: verified Jaccard of
    two shingle sets for "same template"; ``num_perm``: MinHash size;
    ``min_chars``: shorter normalised texts ("好看", "哈哈哈") are ignored as
    templates (they are too generic to mean coordination); ``min_accounts``:
    distinct accounts for a template to count; ``max_template_accounts``:
    templates used by more accounts are set aside as generic phrases (counted
    in no cluster); ``min_qa_acts``: staged Q&A acts for a pair/ring;
    ``max_evidence``: ids cited per reason; ``max_reasons``: templates
    spelled out per cluster (the most used first). ``co_window`` and
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
    left to the infrastructure, burst and underwater detectors.
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
    min_qa_acts: int = 2
    min_contact_accounts: int = 2
    max_evidence: int = 2000
    max_reasons: int = 50
    seed: int = 1


# --------------------------------------------------------------------------- normalisation
def normalize_text(text: str) -> str:
    """NFKC, lower case, emoji/punctuation/whitespace removed (CJK, letters, digits kept). O(len)."""
    # Every symbol (Unicode category S*: emoji, currency, math, modifiers) is
    # also a non-word character, so ``_DROP`` alone removes them
    # (tests/detection/test_templates.py checks this over all code points).
    return _DROP.sub("", unicodedata.normalize("NFKC", str(text)).lower())


def shingles(text: str, k: int = 3) -> set[str]:
    """Character k-shingles of an already normalised text (the whole text if shorter). O(len)."""
    if len(text) <= k:
        return {text} if text else set()
    return {text[i : i + k] for i in range(len(text) - k + 1)}


# --------------------------------------------------------------------------- preparation
class _Comments:
    """A comments frame prepared once for all three signals.

    Columns become numpy object arrays (iterating pandas' Arrow-backed strings,
    or ``isin`` against a large pool of them, is slow) and each distinct raw
    text is normalised once: farm comments repeat, so U distinct texts are
    far fewer than N comments.  Everything is computed on first use. O(N + U L).
    """

    def __init__(self, comments: pd.DataFrame) -> None:
        self.frame = comments
        self._columns: dict[str, np.ndarray] = {}
        self._codes: np.ndarray | None = None

    def column(self, name: str) -> np.ndarray:
        """``frame[name].astype(str)`` as an object array (cached)."""
        if name not in self._columns:
            self._columns[name] = self.frame[name].astype(str).to_numpy(dtype=object)
        return self._columns[name]

    def _distinct(self) -> None:
        codes, uniques = pd.factorize(self.frame["text"].fillna("").astype(str), sort=False)
        self._codes = np.asarray(codes, dtype=np.int64)
        self._texts = [str(t) for t in np.asarray(uniques, dtype=object).tolist()]
        self._plain = [unicodedata.normalize("NFKC", t).lower() for t in self._texts]
        self._compact = [_DROP.sub("", p) for p in self._plain]     # == normalize_text(text)

    @property
    def codes(self) -> np.ndarray:
        """Each comment's index into the distinct texts."""
        if self._codes is None:
            self._distinct()
        return self._codes

    @property
    def texts(self) -> list[str]:
        """Distinct raw texts (missing -> "")."""
        self.codes
        return self._texts

    @property
    def plain(self) -> list[str]:
        """Distinct texts NFKC-normalised and lower-cased."""
        self.codes
        return self._plain

    @property
    def compact(self) -> list[str]:
        """Distinct texts normalised by :func:`normalize_text`."""
        self.codes
        return self._compact


def _obj(column: pd.Series) -> np.ndarray:
    """A column as a numpy object array. O(n)."""
    return column.to_numpy(dtype=object)


def _isin(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``values[i] in pool`` for object arrays, by hashing. O(n + m)."""
    return pd.Index(values, dtype=object).isin(np.asarray(pool, dtype=object))


# --------------------------------------------------------------------------- lures
def find_lures(
    comments: pd.DataFrame, patterns: tuple[tuple[str, str, str], ...] = LURE_PATTERNS
) -> pd.DataFrame:
    """Comments that match an off-platform lure pattern.

    Returns columns ``comment_id, account_id, note_id, pattern, match, contact``
    (one row per comment and pattern, ``contact`` the extracted id or empty),
    sorted by comment id then pattern.  Matched on the NFKC-lower-cased text and
    on its compact form.  Each distinct text is matched once and the matches
    are joined back to its comments: time O(N + U * L * patterns) for U
    distinct texts.
    """
    if comments.empty or "text" not in comments:
        return pd.DataFrame(columns=_LURE_COLUMNS)
    return _find_lures(_Comments(comments), patterns)


_LURE_COLUMNS = ["comment_id", "account_id", "note_id", "pattern", "match", "contact"]


def _required_chars(regex: str) -> frozenset[str] | None:
    """Characters of which every match of ``regex`` contains at least one, or None if unknown.

    Read off the parsed pattern: a literal requires itself, a character class
    of literals one of its members, an alternation the union of its
    branches, a sequence its most selective required element (repeats at
    least once count; optional parts, lookarounds, anchors, case-insensitive
    groups and classes like ``\\d`` do not).  Used to skip texts that cannot
    match.  O(pattern length).
    """
    from re import _constants as c, _parser

    def seq(items) -> frozenset[str] | None:
        best = None
        for op, av in items:
            r = item(op, av)
            if r is not None and (best is None or len(r) < len(best)):
                best = r
        return best

    def item(op, av) -> frozenset[str] | None:
        if op is c.LITERAL:
            return frozenset(chr(av))
        if op is c.IN:
            chars: set[str] = set()
            for o, a in av:
                if o is c.LITERAL:
                    chars.add(chr(a))
                elif o is c.RANGE and a[1] - a[0] < 256:
                    chars.update(map(chr, range(a[0], a[1] + 1)))
                else:
                    return None
            return frozenset(chars)
        if op is c.BRANCH:
            union: set[str] = set()
            for branch in av[1]:
                r = seq(branch)
                if r is None:
                    return None
                union |= r
            return frozenset(union)
        if op is c.SUBPATTERN:
            return None if av[1] & c.SRE_FLAG_IGNORECASE else seq(av[3])
        if op is c.ATOMIC_GROUP:
            return seq(av)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            return seq(av[2]) if av[0] >= 1 else None
        return None

    try:
        parsed = _parser.parse(regex)
    except Exception:                                     # let re.compile report the error
        return None
    if parsed.state.flags & (c.SRE_FLAG_IGNORECASE | c.SRE_FLAG_VERBOSE):
        return None
    return seq(parsed)


def _find_lures(prep: _Comments, patterns: tuple[tuple[str, str, str], ...]) -> pd.DataFrame:
    # Characters of the distinct texts, for skipping texts without a character a pattern needs
    # (the compact form's characters are a subset of the plain form's).
    texts, plain, compact = prep.texts, prep.plain, prep.compact
    lens = np.fromiter((len(t) for t in plain), dtype=np.int64, count=len(plain))
    chars = np.frombuffer("".join(plain).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    owner = np.repeat(np.arange(len(plain), dtype=np.int32), lens)
    hit_u, hit_name, hit_match, hit_contact = [], [], [], []
    for name, rx, _ in patterns:
        search = re.compile(rx).search
        needed = _required_chars(rx)
        if needed is None:
            candidates = range(len(plain))
        else:
            table = np.zeros(0x110000, dtype=bool)
            table[[ord(ch) for ch in needed]] = True
            candidates = np.unique(owner[table[chars]]).tolist()
        for u in candidates:
            if not texts[u]:
                continue
            p, q = plain[u], compact[u]
            m = search(p) or (search(q) if q != p else None)
            if m:
                hit_u.append(u)
                hit_name.append(name)
                hit_match.append(m.group(0))
                hit_contact.append(m.groupdict().get("contact") or "")
    if not hit_u:
        return pd.DataFrame(columns=_LURE_COLUMNS)
    hits = pd.DataFrame({"u": np.asarray(hit_u, dtype=np.int64), "pattern": hit_name, "match": hit_match,
                         "contact": hit_contact})
    rows = np.flatnonzero(np.isin(prep.codes, hits["u"].to_numpy()))
    base = pd.DataFrame({
        "comment_id": prep.column("comment_id")[rows],
        "account_id": prep.column("account_id")[rows],
        "note_id": prep.column("note_id")[rows],
        "u": prep.codes[rows],
    })
    out = base.merge(hits, on="u", how="inner")[_LURE_COLUMNS]
    return out.sort_values(["comment_id", "pattern"]).reset_index(drop=True)


def lure_contact_clusters(lures: pd.DataFrame, params: TemplateParams = TemplateParams()) -> list[ClusterFinding]:
    """Accounts advertising the same off-platform contact (WeChat id, QQ, phone).

    One finding per contact id used by >= ``min_contact_accounts`` accounts;
    score = 1 - 1/n_accounts.  Time O(M log M) for M lure matches.
    """
    out: list[ClusterFinding] = []
    if lures.empty:
        return out
    withc = lures[lures["contact"] != ""]
    for contact, grp in withc.groupby("contact", sort=True):
        accs = sorted(set(grp["account_id"]))
        if len(accs) < params.min_contact_accounts:
            continue
        cids = sorted(set(grp["comment_id"]))
        reason = Reason(
            code="offplatform_lure",
            text=(
                f"{len(accs)} accounts advertise the same off-platform contact '{contact}' "
                f"({', '.join(sorted(set(grp['pattern'])))}) in {len(cids)} comments."
            ),
            evidence=(Evidence("comment", tuple(cids[: params.max_evidence])),
                      Evidence("account", tuple(accs))),
        )
        out.append(ClusterFinding(DETECTOR_LURE, tuple(accs), round(1 - 1 / len(accs), 6), (reason,)))
    return sorted(out, key=lambda f: (-f.score, f.members))


# --------------------------------------------------------------------------- templates
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
#   bucket.  In a bucket each text is paired with the next ``_BUCKET_WINDOW``
#   texts in text order (all pairs in buckets of up to ``_BUCKET_WINDOW`` + 1
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
_BUCKET_WINDOW = 32          # partners of a text in one LSH bucket
_BLOCK_CELLS = 1 << 22       # cells per MinHash block
_TABLE_CELLS = 1 << 25       # tabulate permuted shingle values up to 128 MiB
_VERIFY_CHUNK = 1 << 18      # candidate pairs per verification block
_SKETCH_PLANES = 4           # bit planes of the intersection bound
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


def _unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a plain sort: faster than numpy's hash-based ``unique`` here). O(n log n)."""
    s = np.sort(values)
    return s[np.concatenate([[True], s[1:] != s[:-1]])] if len(s) else s


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
    end = np.repeat(starts + lens, per_text)
    sid = np.zeros(total, dtype=np.uint64)
    for j in range(k):
        at = pos + j
        v = np.where(at < end, cps[np.minimum(at, len(cps) - 1)], np.uint64(_NONCHAR))
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


def _band_pairs(key: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs ``(i, j)``, i < j, of one band: texts with equal band key.

    In a bucket each text is paired with its next ``_BUCKET_WINDOW`` bucket
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
    count = np.minimum(left, _BUCKET_WINDOW)
    first = np.repeat(pos, count)
    step = np.arange(len(first), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count) + 1
    return order[first].astype(np.int64), order[first + step].astype(np.int64)


def _merge(labels: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Component labels after adding edges (i, j). O(n + edges)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(labels)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (labels[i], labels[j])), shape=(n, n))
    return connected_components(graph, directed=False)[1][labels]


def near_duplicate_components(texts: list[str], params: TemplateParams = TemplateParams()) -> np.ndarray:
    """Component label per text: texts linked by verified Jaccard >= threshold share one.

    ``texts`` are distinct normalised texts.  MinHash-LSH (vectorised, see
    above) proposes candidate pairs, the exact shingle Jaccard confirms them,
    connected components join them.  Labels are 0..C-1 in order of each
    component's first text.  Time O(T * num_perm + U * bands log U +
    candidates * L) for T shingles in U texts.
    """
    from scipy.sparse import csr_matrix

    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    tid, raw = _shingle_ids(texts, params.shingle)
    vocab = _unique_sorted(raw)
    if len(vocab) == 0:                                    # only the empty text
        return np.arange(n, dtype=np.int64)
    pair = _unique_sorted(tid * len(vocab) + np.searchsorted(vocab, raw))   # each shingle once per text
    tid, sid = pair // len(vocab), pair % len(vocab)
    size = np.bincount(tid, minlength=n)
    indptr = np.concatenate([[0], np.cumsum(size)])
    sig = _minhash(indptr, sid, _mix64(vocab) % _MERSENNE31, params.num_perm, params.seed)
    sets = csr_matrix((np.ones(len(sid), dtype=np.int32), sid, indptr), shape=(n, len(vocab)))
    # Shingles per text counted in 64 cells (by shingle hash): the sum over cells of the smaller
    # count bounds the intersection from above, and rejects most chance candidates cheaply.  The
    # counts are kept as bit planes (bit c of plane k: cell c holds more than k shingles), so
    # the bound is a few popcounts per pair; a text with more than _SKETCH_PLANES shingles in one
    # cell gets no bound (always verified exactly).
    cell = np.sort(tid * 64 + (_mix64(vocab)[sid] >> np.uint64(58)).astype(np.int64))
    starts = np.flatnonzero(np.concatenate([[True], cell[1:] != cell[:-1]]))
    cell, count = cell[starts], np.diff(np.concatenate([starts, [len(tid)]]))
    planes = []
    for k in range(_SKETCH_PLANES):
        bits = np.zeros(n * 64, dtype=bool)
        bits[cell[count > k]] = True
        planes.append(np.packbits(bits.reshape(n, 64), axis=1, bitorder="little").view(np.uint64).reshape(n))
    exact_only = np.zeros(n, dtype=bool)
    exact_only[cell[count > _SKETCH_PLANES] // 64] = True
    del tid, raw, pair, sid, cell, count, bits
    bands, rows = lsh_bands(params.threshold, params.num_perm)
    mult = np.random.default_rng(params.seed + 1).integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)
    labels = np.arange(n, dtype=np.int64)
    for band in range(bands):
        block = sig[:, band * rows:(band + 1) * rows].astype(np.uint64)
        i, j = _band_pairs(_mix64((block * mult).sum(axis=1, dtype=np.uint64)), labels)
        small, large = np.minimum(size[i], size[j]), np.maximum(size[i], size[j])
        open_ = (labels[i] != labels[j]) & (small / large >= params.threshold)   # Jaccard <= small / large
        i, j = i[open_], j[open_]
        keep_i, keep_j = [], []
        for lo in range(0, len(i), _VERIFY_CHUNK):
            ci, cj = i[lo:lo + _VERIFY_CHUNK], j[lo:lo + _VERIFY_CHUNK]
            bound = sum(np.bitwise_count(p[ci] & p[cj]).astype(np.int64) for p in planes)
            maybe = (bound / (size[ci] + size[cj] - bound) >= params.threshold) | exact_only[ci] | exact_only[cj]
            ci, cj = ci[maybe], cj[maybe]
            inter = np.asarray(sets[ci].multiply(sets[cj]).sum(axis=1)).reshape(-1)
            ok = inter / (size[ci] + size[cj] - inter) >= params.threshold
            keep_i.append(ci[ok])
            keep_j.append(cj[ok])
        if keep_i and sum(len(x) for x in keep_i):
            labels = _merge(labels, np.concatenate(keep_i), np.concatenate(keep_j))
    _, first = np.unique(labels, return_index=True)        # number components by their first text
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[labels]


def template_groups(comments: pd.DataFrame, params: TemplateParams = TemplateParams()) -> pd.DataFrame:
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
    return _template_groups(_Comments(comments), params)


_GROUP_COLUMNS = ["comment_id", "account_id", "note_id", "created_at", "norm", "template"]


def _template_groups(prep: _Comments, params: TemplateParams) -> pd.DataFrame:
    norms = np.array(prep.compact, dtype=object)
    long_enough = np.fromiter((len(t) >= params.min_chars for t in norms), dtype=bool, count=len(norms))
    rows = np.flatnonzero(long_enough[prep.codes])
    if len(rows) == 0:
        return pd.DataFrame(columns=_GROUP_COLUMNS)
    uniq = sorted(set(norms[long_enough]))
    position = {u: i for i, u in enumerate(uniq)}
    of_text = np.full(len(norms), -1, dtype=np.int64)      # distinct raw text -> distinct normalised text
    of_text[long_enough] = [position[u] for u in norms[long_enough]]
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
        "created_at": (prep.frame["created_at"].to_numpy()[rows] if "created_at" in prep.frame
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


def template_clusters(
    groups: pd.DataFrame,
    lures: pd.DataFrame | None = None,
    params: TemplateParams = TemplateParams(),
    comments_text: dict[str, str] | None = None,
) -> list[ClusterFinding]:
    """Cluster accounts that share templates; one finding per connected component.

    A template counts when >= ``min_accounts`` distinct accounts used it and
    at most ``max_template_accounts``.  Accounts are linked through shared
    templates (bipartite account-template graph, scipy components).
    Score = 1 - exp(-(A - 1) / 3 - (T - 1) / 2) with A the mean number of
    accounts per template and T the number of templates in the cluster (+0.1,
    capped at 1, when template comments carry lures).  Lure matches inside the cluster's template comments add an
    ``offplatform_lure`` reason.  Time O(N log N).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    out: list[ClusterFinding] = []
    if groups.empty:
        return out
    t_code, t_names = pd.factorize(groups["template"])
    a_code, a_names = pd.factorize(groups["account_id"])
    t_names = np.asarray(t_names, dtype=object)
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
        return out
    # Accounts per template now counts only the uses that link.
    ta = _unique_sorted(t_code[use].astype(np.int64) * n_a + a_code[use])
    per_t = np.bincount(ta // n_a, minlength=n_t)
    good &= per_t >= params.min_accounts
    use = use[good[t_code[use]]]
    if len(use) == 0:
        return out
    graph = coo_matrix((np.ones(len(use), dtype=np.int8), (a_code[use], n_a + t_code[use])),
                       shape=(n_a + n_t, n_a + n_t))
    _, comp = connected_components(graph, directed=False)
    cid = _obj(groups["comment_id"])
    acc = _obj(groups["account_id"])
    note = _obj(groups["note_id"])
    norm = _obj(groups["norm"])
    lure_pats: dict[str, set[str]] = defaultdict(set)
    if lures is not None and not lures.empty:
        lured_rows = use[_isin(cid[use], _obj(lures["comment_id"]))]
        lured_ids = set(cid[lured_rows])
        for c, p in zip(_obj(lures["comment_id"]), _obj(lures["pattern"])):
            if c in lured_ids:
                lure_pats[c].add(p)
    # rows of each good template, and good templates of each component
    by_t = use[np.argsort(t_code[use], kind="stable")]
    t_bounds = np.searchsorted(t_code[by_t], np.arange(n_t + 1))
    good_t = np.flatnonzero(good)
    good_t = good_t[np.argsort(t_names[good_t], kind="stable")]        # by template text
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
        out.append(ClusterFinding(DETECTOR_TEMPLATE, tuple(accs), round(score, 6), tuple(reasons)))
    return sorted(out, key=lambda f: (-f.score, -len(f.members), f.members))


# --------------------------------------------------------------------------- Q&A acts
def qa_acts(comments: pd.DataFrame, lures: pd.DataFrame) -> pd.DataFrame:
    """Question comments answered (``reply_to``) by another account's lure.

    Returns ``asker, answerer, question_id, answer_id, note_id, question, answer``
    sorted by (asker, answerer, question_id).  A question matches the
    ``_QUESTION`` regex (求链接, 哪里买, ?...).  Time O(N).
    """
    if comments.empty or "reply_to" not in comments or lures.empty:
        return pd.DataFrame(columns=_QA_COLUMNS)
    return _qa_acts(_Comments(comments), lures)


_QA_COLUMNS = ["asker", "answerer", "question_id", "answer_id", "note_id", "question", "answer"]


def _qa_acts(prep: _Comments, lures: pd.DataFrame) -> pd.DataFrame:
    cid = prep.column("comment_id")
    reply = prep.frame["reply_to"]
    reply_ids = prep.column("reply_to")
    answers = np.flatnonzero(_isin(cid, _obj(lures["comment_id"])) & reply.notna().to_numpy() & (reply_ids != ""))
    first = np.flatnonzero(~pd.Index(cid, dtype=object).duplicated())     # a repeated id: its first row
    found = pd.Index(cid[first], dtype=object).get_indexer(reply_ids[answers])
    answers, questions = answers[found >= 0], first[found[found >= 0]]
    if len(answers) == 0:
        return pd.DataFrame(columns=_QA_COLUMNS)
    account = prep.column("account_id")
    text = prep.frame["text"].fillna("").astype(str).to_numpy(dtype=object)
    out = pd.DataFrame(
        {
            "asker": account[questions],
            "answerer": account[answers],
            "question_id": cid[questions],
            "answer_id": cid[answers],
            "note_id": prep.column("note_id")[answers],
            "question": text[questions],
            "answer": text[answers],
        }
    )
    out = out[(out["asker"] != out["answerer"]) & out["question"].str.contains(_QUESTION)]
    return out.sort_values(["asker", "answerer", "question_id"]).reset_index(drop=True)


def qa_clusters(acts: pd.DataFrame, params: TemplateParams = TemplateParams()) -> list[ClusterFinding]:
    """Rings of accounts staging question-and-answer acts, repeated.

    Accounts linked by asker->answerer acts form components (networkx); a
    component is reported when it holds >= ``min_qa_acts`` acts on >= 2 notes
    (one pair repeating, or a ring rotating roles).  Score = 1 - 0.5^(acts - 1)
    capped at 1.  Evidence: question and answer comment ids, the texts in the
    reason.  Time O(A log A) for A acts.
    """
    out: list[ClusterFinding] = []
    if acts.empty:
        return out
    g = nx.Graph()
    g.add_edges_from(zip(acts["asker"], acts["answerer"]))
    for comp in nx.connected_components(g):
        rows = acts[acts["asker"].isin(comp)]
        if len(rows) < params.min_qa_acts or rows["note_id"].nunique() < 2:
            continue
        accs = sorted(comp)
        pairs = rows.groupby(["asker", "answerer"]).size()
        examples = "; ".join(
            f"{r.question_id} '{r.question}' -> {r.answer_id} '{r.answer}'" for r in rows.head(3).itertuples()
        )
        reason = Reason(
            code="qa_act",
            text=(
                f"{len(rows)} staged question-and-answer acts on {rows['note_id'].nunique()} notes among "
                f"{len(accs)} accounts ({len(pairs)} asker/answerer pairs): a question answered by another "
                f"account's off-platform lure, e.g. {examples}."
            ),
            evidence=(
                Evidence("comment", tuple(sorted(set(rows["question_id"]) | set(rows["answer_id"])))[: params.max_evidence]),
                Evidence("note", tuple(sorted(set(rows["note_id"])))),
            ),
        )
        score = min(1.0, 1 - 0.5 ** (len(rows) - 1))
        out.append(ClusterFinding(DETECTOR_QA, tuple(accs), round(score, 6), (reason,)))
    return sorted(out, key=lambda f: (-f.score, f.members))


def detect_templates(
    comments: pd.DataFrame,
    params: TemplateParams = TemplateParams(),
    patterns: tuple[tuple[str, str, str], ...] = LURE_PATTERNS,
) -> list[ClusterFinding]:
    """All template, shared-contact lure and Q&A-act findings for ``comments``.

    Returns template clusters, then contact clusters, then Q&A rings, each
    sorted by score.  Needs columns comment_id, account_id, note_id, text
    (reply_to for Q&A); returns [] when there is no text.  The comments are
    prepared (distinct texts normalised) once for the three signals.  Time:
    see the module docstring.
    """
    if comments.empty or "text" not in comments or not comments["text"].fillna("").astype(str).str.len().any():
        return []
    prep = _Comments(comments)
    lures = _find_lures(prep, patterns)
    groups = _template_groups(prep, params)
    texts = {}
    if len(groups):   # template_clusters quotes each template's first comment
        cid = prep.column("comment_id")
        quoted = _isin(cid, _obj(groups.groupby("template", sort=False)["comment_id"].min()))
        texts = dict(zip(cid[quoted], np.asarray(prep.texts, dtype=object)[prep.codes[quoted]]))
    out = template_clusters(groups, lures, params, texts)
    out += lure_contact_clusters(lures, params)
    if "reply_to" in comments and not lures.empty:
        out += qa_clusters(_qa_acts(prep, lures), params)
    return out
