"""Staged question-and-answer acts: one account asks, another answers with an off-platform lure.

One account asks ("求链接", "哪里买", "?") and another answers it through
``reply_to`` with a lure ("链接私你了"); the same pair, or a ring rotating the
roles, doing it on several notes is a staged act: the "托" (shill) pattern of
paid comment rings, where a planted question lets a planted answer advertise.
No paper describes this exact signal; the rings that stage it are the paid
crowdturfing crews of Wang et al., "Serf and Turf: Crowdturfing for Fun and
Profit", WWW 2012.  Accounts linked by asker-answerer acts form components
(networkx).

N comments, R of them replies with U distinct texts of average length L:
lure matching O(N + U * L * patterns) (:func:`offplatform_lures.match_lures`,
over the replies only), pairing questions with answers O(N), clustering
O(A log A) for A acts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from ringscope.detection.comment_text import PreparedComments, has_text, isin_objects, object_array, prepared
from ringscope.detection.findings import ClusterFinding, Evidence, Reason
from ringscope.detection.offplatform_lures import LURE_PATTERNS, LurePatterns, match_lures

DETECTOR = "qa_act"

_QUESTION = re.compile(
    r"[?？]|求(?:链接|购买|方法|店|地址|分享|推荐|同款)|哪里买|在哪(?:里)?买|怎么买|多少钱|什么牌子|哪个牌子|链接呢|有链接吗|蹲(?:一个)?链接|怎么联系|求带|想要"
)


@dataclass(frozen=True)
class QaActParams:
    """Thresholds of :func:`detect_qa_acts`.

    ``min_qa_acts``: staged acts for a pair or ring to be reported;
    ``max_evidence``: ids cited per reason.
    """

    min_qa_acts: int = 2
    max_evidence: int = 2000


def qa_acts(comments: pd.DataFrame, lures: pd.DataFrame) -> pd.DataFrame:
    """Question comments answered (``reply_to``) by another account's lure.

    Returns ``asker, answerer, question_id, answer_id, note_id, question, answer``
    sorted by (asker, answerer, question_id).  A question matches the
    ``_QUESTION`` regex (求链接, 哪里买, ?...).  Time O(N).
    """
    if comments.empty or "reply_to" not in comments or lures.empty:
        return pd.DataFrame(columns=_QA_COLUMNS)
    return prepared_qa_acts(prepared(comments), lures)


_QA_COLUMNS = ["asker", "answerer", "question_id", "answer_id", "note_id", "question", "answer"]


def prepared_qa_acts(prep: PreparedComments, lures: pd.DataFrame) -> pd.DataFrame:
    """:func:`qa_acts` over comments already prepared: every answer in ``lures`` and the question it
    replies to must be among them (the Spark engine passes only those). O(N)."""
    cid = prep.column("comment_id")
    reply = prep.frame["reply_to"]
    reply_ids = prep.column("reply_to")
    answers = np.flatnonzero(isin_objects(cid, object_array(lures["comment_id"])) & reply.notna().to_numpy()
                             & (reply_ids != ""))
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


def qa_clusters(acts: pd.DataFrame, params: QaActParams = QaActParams()) -> list[ClusterFinding]:
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
        out.append(ClusterFinding(DETECTOR, tuple(accs), round(score, 6), (reason,)))
    return sorted(out, key=lambda f: (-f.score, f.members))


def detect_qa_acts(
    comments: pd.DataFrame,
    params: QaActParams = QaActParams(),
    *,
    patterns: LurePatterns = LURE_PATTERNS,
) -> list[ClusterFinding]:
    """Rings of accounts staging question-and-answer acts, sorted by score.

    An answer is a comment matching a lure pattern (``patterns``) that replies
    to another account's question.  Needs columns comment_id, account_id,
    note_id, text, reply_to; returns [] without texts or replies.  Time: see
    the module docstring.
    """
    if not has_text(comments) or "reply_to" not in comments:
        return []
    prep = prepared(comments)
    # Only replies can be answers: match lures on the comments whose id a reply carries
    # (every row with that id, as an id may repeat), a small share of all comments.
    replies = comments["reply_to"].notna().to_numpy() & (prep.column("reply_to") != "")
    cid = prep.column("comment_id")
    lures = match_lures(PreparedComments(comments[isin_objects(cid, cid[replies])]), patterns)
    if lures.empty:
        return []
    return qa_clusters(prepared_qa_acts(prep, lures), params)
