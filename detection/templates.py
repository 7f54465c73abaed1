"""Comment templates, off-platform lures and staged question-and-answer acts.

Three signals of paid comment rings on a RED-like platform:

1. **Templates** - many accounts posting near-duplicate texts (the same praise
   with a word, emoji or punctuation changed).  Texts are normalised (NFKC,
   lower case, emoji/punctuation/space removed), cut into character
   ``k``-shingles (k = 3 by default; Chinese has no spaces, so character
   n-grams are the usual unit), summarised by MinHash and candidate pairs are
   found with banded LSH (Broder, "On the resemblance and containment of
   documents", 1997; Leskovec, Rajaraman & Ullman, *Mining of Massive
   Datasets*, ch. 3), via ``datasketch``.  Candidates are verified with the
   exact shingle Jaccard, so LSH only prunes.  Near-duplicate texts form
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

N comments, U distinct normalised texts, L average text length:
normalising and matching lures O(N L); MinHash O(U L * num_perm); LSH
candidates O(U * bands) plus verified candidate pairs; clustering
O(U + A + edges).  Exact duplicates are merged before MinHash, so a template
posted 10,000 times costs one MinHash.
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

from detection.findings import ClusterFinding, Evidence, Reason

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
    spelled out per cluster (the most used first).
    """

    shingle: int = 3
    threshold: float = 0.6
    num_perm: int = 128
    min_chars: int = 8
    min_accounts: int = 3
    max_template_accounts: int = 50000
    min_qa_acts: int = 2
    min_contact_accounts: int = 2
    max_evidence: int = 2000
    max_reasons: int = 50
    seed: int = 1


# --------------------------------------------------------------------------- normalisation
def normalize_text(text: str) -> str:
    """NFKC, lower case, emoji/punctuation/whitespace removed (CJK, letters, digits kept). O(len)."""
    t = unicodedata.normalize("NFKC", str(text)).lower()
    return _DROP.sub("", "".join(ch for ch in t if unicodedata.category(ch)[0] != "S"))


def shingles(text: str, k: int = 3) -> set[str]:
    """Character k-shingles of an already normalised text (the whole text if shorter). O(len)."""
    if len(text) <= k:
        return {text} if text else set()
    return {text[i : i + k] for i in range(len(text) - k + 1)}


# --------------------------------------------------------------------------- lures
def find_lures(
    comments: pd.DataFrame, patterns: tuple[tuple[str, str, str], ...] = LURE_PATTERNS
) -> pd.DataFrame:
    """Comments that match an off-platform lure pattern.

    Returns columns ``comment_id, account_id, note_id, pattern, match, contact``
    (one row per comment and pattern, ``contact`` the extracted id or empty),
    sorted by comment id then pattern.  Matched on the NFKC-lower-cased text and
    on its compact form.  Time O(N * L * patterns).
    """
    cols = ["comment_id", "account_id", "note_id", "pattern", "match", "contact"]
    if comments.empty or "text" not in comments:
        return pd.DataFrame(columns=cols)
    compiled = [(name, re.compile(rx)) for name, rx, _ in patterns]
    rows = []
    for cid, acc, note, text in zip(
        comments["comment_id"].astype(str), comments["account_id"].astype(str),
        comments["note_id"].astype(str), comments["text"].fillna("").astype(str)
    ):
        if not text:
            continue
        plain = unicodedata.normalize("NFKC", text).lower()
        compact = normalize_text(text)
        for name, rx in compiled:
            m = rx.search(plain) or rx.search(compact)
            if m:
                contact = m.groupdict().get("contact") or ""
                rows.append((cid, acc, note, name, m.group(0), contact))
    out = pd.DataFrame(rows, columns=cols)
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
def template_groups(comments: pd.DataFrame, params: TemplateParams = TemplateParams()) -> pd.DataFrame:
    """Assign each comment with a long-enough text to a near-duplicate template group.

    Returns ``comment_id, account_id, note_id, norm, template`` where
    ``template`` is the group's id (its most used normalised variant, ties
    broken by the smallest text, so deterministic).  MinHash-LSH (datasketch) proposes candidate pairs
    among distinct normalised texts, exact shingle Jaccard >= ``threshold``
    confirms them, connected components form groups.
    Time O(U * L * num_perm + candidates * L).
    """
    from datasketch import MinHash, MinHashLSH

    cols = ["comment_id", "account_id", "note_id", "norm", "template"]
    if comments.empty or "text" not in comments:
        return pd.DataFrame(columns=cols)
    df = comments[["comment_id", "account_id", "note_id", "text"]].copy()
    df["norm"] = [normalize_text(t) for t in df["text"].fillna("").astype(str)]
    df = df[df["norm"].str.len() >= params.min_chars]
    if df.empty:
        return pd.DataFrame(columns=cols)
    uniq = sorted(set(df["norm"]))
    sh = [shingles(u, params.shingle) for u in uniq]
    lsh = MinHashLSH(threshold=params.threshold, num_perm=params.num_perm)
    hashes = []
    for i, s in enumerate(sh):
        mh = MinHash(num_perm=params.num_perm, seed=params.seed)
        mh.update_batch([x.encode("utf-8") for x in sorted(s)])
        hashes.append(mh)
        lsh.insert(i, mh, check_duplication=False)
    g = nx.Graph()
    g.add_nodes_from(range(len(uniq)))
    for i, mh in enumerate(hashes):
        for j in lsh.query(mh):
            if j <= i:
                continue
            inter = len(sh[i] & sh[j])
            if inter / (len(sh[i]) + len(sh[j]) - inter) >= params.threshold:
                g.add_edge(i, j)
    freq = df["norm"].value_counts()
    label = {}
    for comp in nx.connected_components(g):
        # the most used variant names the template (ties: smallest text)
        rep = min((uniq[i] for i in comp), key=lambda u: (-int(freq[u]), u))
        for i in comp:
            label[uniq[i]] = rep
    df["template"] = df["norm"].map(label)
    df["comment_id"] = df["comment_id"].astype(str)
    df["account_id"] = df["account_id"].astype(str)
    return df[cols].sort_values(["template", "comment_id"]).reset_index(drop=True)


def template_clusters(
    groups: pd.DataFrame,
    lures: pd.DataFrame | None = None,
    params: TemplateParams = TemplateParams(),
    comments_text: dict[str, str] | None = None,
) -> list[ClusterFinding]:
    """Cluster accounts that share templates; one finding per connected component.

    A template counts when >= ``min_accounts`` distinct accounts used it and
    at most ``max_template_accounts``.  Accounts are linked through shared
    templates (bipartite account-template graph, networkx components).
    Score = 1 - exp(-(A - 1) / 3 - (T - 1) / 2) with A the mean number of
    accounts per template and T the number of templates in the cluster (+0.1,
    capped at 1, when template comments carry lures).  Lure matches inside the cluster's template comments add an
    ``offplatform_lure`` reason.  Time O(N log N).
    """
    out: list[ClusterFinding] = []
    if groups.empty:
        return out
    per_t = groups.groupby("template")["account_id"].nunique()
    good = per_t[(per_t >= params.min_accounts) & (per_t <= params.max_template_accounts)].index
    use = groups[groups["template"].isin(good)]
    if use.empty:
        return out
    b = nx.Graph()
    b.add_edges_from(("a\x1f" + a, "t\x1f" + t) for a, t in zip(use["account_id"], use["template"]))
    lure_by_comment = (
        lures.groupby("comment_id")["pattern"].apply(lambda s: sorted(set(s))).to_dict()
        if lures is not None and not lures.empty else {}
    )
    by_template = dict(tuple(use.groupby("template", sort=True)))
    for comp in nx.connected_components(b):
        accs = sorted(x[2:] for x in comp if x.startswith("a\x1f"))
        temps = sorted(x[2:] for x in comp if x.startswith("t\x1f"))
        rows = pd.concat([by_template[t] for t in temps])
        apt = float(np.mean([per_t[t] for t in temps]))
        score = float(np.clip(1 - np.exp(-(apt - 1) / 3) * np.exp(-(len(temps) - 1) / 2) * 1.0, 0, 1))
        reasons = []
        shown = sorted(temps, key=lambda t: (-int(per_t[t]), t))[: params.max_reasons]
        if len(temps) > len(shown):
            reasons.append(Reason(
                code="comment_template",
                text=f"The {len(accs)} accounts share {len(temps)} templates; the {len(shown)} most used follow.",
                evidence=(Evidence("comment", tuple(sorted(rows["comment_id"]))[: params.max_evidence]),),
            ))
        for t in shown:
            trows = by_template[t]
            cids = sorted(trows["comment_id"])
            variants = sorted(set(trows["norm"]))
            example = str(comments_text.get(cids[0], "")) if comments_text else ""
            reasons.append(
                Reason(
                    code="comment_template",
                    text=(
                        f"{trows['account_id'].nunique()} accounts posted {len(cids)} near-duplicate comments "
                        f"on {trows['note_id'].nunique()} notes following the template '{t}' "
                        f"({len(variants)} variants; e.g. {cids[0]}: '{example}')."
                    ),
                    evidence=(Evidence("comment", tuple(cids[: params.max_evidence])),
                              Evidence("note", tuple(sorted(set(trows["note_id"].astype(str)))[: params.max_evidence]))),
                )
            )
        lured = sorted(c for c in rows["comment_id"] if c in lure_by_comment)
        if lured:
            pats = sorted({p for c in lured for p in lure_by_comment[c]})
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
    cols = ["asker", "answerer", "question_id", "answer_id", "note_id", "question", "answer"]
    if comments.empty or "reply_to" not in comments or lures.empty:
        return pd.DataFrame(columns=cols)
    c = comments[["comment_id", "account_id", "note_id", "text", "reply_to"]].copy()
    c["comment_id"] = c["comment_id"].astype(str)
    lured = set(lures["comment_id"])
    ans = c[c["comment_id"].isin(lured) & c["reply_to"].notna() & (c["reply_to"].astype(str) != "")]
    ans = ans.assign(reply_to=ans["reply_to"].astype(str))
    q = c.set_index("comment_id")
    ans = ans[ans["reply_to"].isin(q.index)]
    if ans.empty:
        return pd.DataFrame(columns=cols)
    qrows = q.loc[ans["reply_to"]]
    out = pd.DataFrame(
        {
            "asker": qrows["account_id"].astype(str).to_numpy(),
            "answerer": ans["account_id"].astype(str).to_numpy(),
            "question_id": ans["reply_to"].to_numpy(),
            "answer_id": ans["comment_id"].to_numpy(),
            "note_id": ans["note_id"].astype(str).to_numpy(),
            "question": qrows["text"].fillna("").astype(str).to_numpy(),
            "answer": ans["text"].fillna("").astype(str).to_numpy(),
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
    (reply_to for Q&A); returns [] when there is no text.  Time: see the
    module docstring (MinHash-LSH, Broder 1997).
    """
    if comments.empty or "text" not in comments or not comments["text"].fillna("").astype(str).str.len().any():
        return []
    lures = find_lures(comments, patterns)
    groups = template_groups(comments, params)
    texts = dict(zip(groups["comment_id"], comments.set_index(comments["comment_id"].astype(str)).loc[groups["comment_id"], "text"].astype(str))) if len(groups) else {}
    out = template_clusters(groups, lures, params, texts)
    out += lure_contact_clusters(lures, params)
    out += qa_clusters(qa_acts(comments, lures), params)
    return out
