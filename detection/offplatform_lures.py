"""Off-platform lures: comments that move users off the platform, and accounts advertising one contact.

Paid comment rings sell outside the platform: 私我, 链接私你, vx, V信, 微信,
加微, QQ numbers, WeChat ids.  The patterns are data: :data:`LURE_PATTERNS`
(name, regex, what it catches), replaceable by the caller or loaded from YAML
with :func:`load_lure_patterns`.  :func:`find_lures` lists the matching
comments (:func:`match_lures` over prepared comments, which the
comment-template and Q&A-act detectors use too);
:func:`detect_offplatform_lures` clusters the accounts that advertise the same
contact id (one WeChat id, one QQ number, one phone number): many accounts
pointing at one seller's contact are one seller's crew.

N comments, U distinct texts of average length L: matching is
O(N + U * L * patterns) (each distinct text is matched once, and a text
without any character a pattern needs is skipped); clustering O(M log M)
for M matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ringscope.detection.comment_text import PreparedComments, has_text, prepared
from ringscope.detection.findings import ClusterFinding, Evidence, Reason

DETECTOR = "offplatform_lure"

# --------------------------------------------------------------------------- lure table
# (name, regex over the NFKC-lower-cased text, description).  A pattern with a
# named group ``contact`` extracts the advertised id (WeChat id, QQ number,
# phone) so that accounts sharing one contact can be clustered.  Patterns are
# matched against the normalised text and against its "compact" form (spaces,
# punctuation and emoji removed), which defeats "V 信", "v❤x", "加 微".
LurePatterns = tuple[tuple[str, str, str], ...]
"""Lure patterns: (name, regex, description) triples."""

_WX = r"(?:v信|v芯|v心|威信|薇信|徽信|维信|微信|wei\s*xin|weixin|wechat|vx|wx|(?<![a-z])v(?![a-z])|卫星|绿泡泡|🛰)"
LURE_PATTERNS: LurePatterns = (
    ("dm_me", r"私我|私信我|私聊我|滴滴我|dd我|戳我|call我|扣我|踢我|来私|私戳", "asks users to message privately (私我, 滴滴我)"),
    ("sent_privately", r"(?:链接|资料|方法|联系方式|地址|店铺|店名|购买方式)?已?私(?:信)?(?:你|您)(?:了|啦)?|已私|私发(?:你|您)|发你私信", "claims a link/contact was sent in private (链接私你了, 已私)"),
    ("wechat_id", _WX + r"\s*[:：号]?\s*(?P<contact>[a-z][-_a-z0-9]{5,19})", "a WeChat id after vx/V信/微信 (加V信abc123)"),
    ("add_wechat", r"加\s*" + _WX + r"|\+\s*" + _WX + r"|加微|➕v|\+v|加我" + _WX + r"|" + _WX + r"\s*(?:联系|私聊|详聊|找我|咨询|聊|加我)", "add-me-on-WeChat phrasing (加微, 加V, +vx)"),
    ("qq_number", r"(?:qq|扣扣|企鹅|(?<![a-z])q(?![a-z弹]))\s*[:：号群]?\s*(?P<contact>[1-9][0-9]{4,11})(?![0-9])", "a QQ number (Q 123456789, 扣扣12345)"),
    ("phone_number", r"(?<![0-9])(?P<contact>1[3-9][0-9]{9})(?![0-9])", "a mainland mobile number"),
    ("offsite_shop", r"(?:某宝|tb|淘宝|闲鱼|拼夕夕|pdd|咸鱼)\s*(?:搜|店|有|链接|同款)", "points to an outside shop (tb搜, 某宝有)"),
)
"""Off-platform lures: (name, regex, description).  Replace or extend freely."""


def load_lure_patterns(path: Path) -> LurePatterns:
    """Lure patterns from a YAML list of ``{name, regex, description}`` mappings. O(patterns)."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return tuple((str(d["name"]), str(d["regex"]), str(d.get("description", ""))) for d in data)


@dataclass(frozen=True)
class OffplatformLureParams:
    """Thresholds of :func:`detect_offplatform_lures`.

    ``min_contact_accounts``: distinct accounts advertising one contact for a
    cluster; ``max_evidence``: ids cited per reason.
    """

    min_contact_accounts: int = 2
    max_evidence: int = 2000


_LURE_COLUMNS = ["comment_id", "account_id", "note_id", "pattern", "match", "contact"]


def find_lures(
    comments: pd.DataFrame, patterns: LurePatterns = LURE_PATTERNS
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
    return match_lures(prepared(comments), patterns)


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


def match_lures(prep: PreparedComments, patterns: LurePatterns) -> pd.DataFrame:
    """:func:`find_lures` over comments already prepared (distinct texts normalised once).

    Same columns and order.  O(N + U * L * patterns).
    """
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


def lure_contact_clusters(
    lures: pd.DataFrame, params: OffplatformLureParams = OffplatformLureParams()
) -> list[ClusterFinding]:
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
        out.append(ClusterFinding(DETECTOR, tuple(accs), round(1 - 1 / len(accs), 6), (reason,)))
    return sorted(out, key=lambda f: (-f.score, f.members))


def detect_offplatform_lures(
    comments: pd.DataFrame,
    params: OffplatformLureParams = OffplatformLureParams(),
    *,
    patterns: LurePatterns = LURE_PATTERNS,
) -> list[ClusterFinding]:
    """Accounts advertising the same off-platform contact in their comments, sorted by score.

    Needs columns comment_id, account_id, note_id, text; returns [] when there
    is no text.  Time O(N + U * L * patterns + M log M) (module docstring).
    """
    if not has_text(comments):
        return []
    return lure_contact_clusters(match_lures(prepared(comments), patterns), params)
