"""``offplatform_lure`` and ``qa_act`` on Spark: lures are matched where the comments are, on the
executors, by ``detection.offplatform_lures.match_lures`` itself; the local detectors then cluster
what matched on the driver.

Whether a comment is a lure depends on its text alone, so matching is a map over batches of comments
(``mapInPandas``; each batch normalises its distinct texts once, as the local engine does for all).
What comes back is the matches (lures are a small share of comments); ``offplatform_lure`` clusters them
by contact (``lure_contact_clusters``). ``qa_act`` needs, besides the lures among replies, only the
questions those replies answer: a join on Spark brings both sides of each candidate act, and the local
``prepared_qa_acts``/``qa_clusters`` pair and cluster them.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from ringscope.detection.comment_text import PreparedComments
from ringscope.detection.findings import ClusterFinding
from ringscope.detection.offplatform_lures import (
    LURE_PATTERNS, OffplatformLureParams, lure_contact_clusters, match_lures,
)
from ringscope.detection.qa_acts import QaActParams, prepared_qa_acts, qa_clusters
from ringscope.spark.source import PlatformSource, to_pandas

COMMENT_COLUMNS = ["comment_id", "account_id", "note_id", "text", "reply_to"]
LURE_SCHEMA = ("comment_id string, account_id string, note_id string, pattern string, match string, "
               "contact string")


def lures(comments):
    """The lure matches of ``comments`` (a Spark frame with ``COMMENT_COLUMNS``): one row per comment and
    pattern, as ``match_lures`` gives them. O(N + U * L * patterns), spread over the executors."""
    def match(batches):
        for batch in batches:
            batch = batch.astype({c: "string" for c in COMMENT_COLUMNS}).reset_index(drop=True)
            if batch["text"].notna().any():
                found = match_lures(PreparedComments(batch), LURE_PATTERNS)
                if len(found):
                    yield found.astype(str)

    return comments.mapInPandas(match, LURE_SCHEMA)


def _sorted_lures(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["comment_id", "account_id", "note_id", "pattern", "match", "contact"]
    if frame.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return frame[columns].sort_values(["comment_id", "pattern"]).reset_index(drop=True)


def detect_offplatform_lures(source: PlatformSource, params: OffplatformLureParams = OffplatformLureParams(),
                             log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_offplatform_lures`` makes on the same data (see the module)."""
    comments = source.frame("comments", COMMENT_COLUMNS)
    if comments is None:
        return []
    found = _sorted_lures(lures(comments).toPandas())
    log(f"  offplatform_lure on Spark: {len(found):,} lure matches in {found['comment_id'].nunique():,} comments")
    return lure_contact_clusters(found, params)


def detect_qa_acts(source: PlatformSource, params: QaActParams = QaActParams(),
                   log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_qa_acts`` makes on the same data (see the module)."""
    from pyspark.sql import functions as F

    comments = source.frame("comments", COMMENT_COLUMNS)
    if comments is None:
        return []
    replies = comments.where(F.col("reply_to").isNotNull() & (F.length(F.col("reply_to").cast("string")) > 0))
    answers = lures(replies).persist()
    try:
        found = _sorted_lures(answers.toPandas())
        if found.empty:
            return []
        answering = replies.join(answers.select("comment_id").distinct(), "comment_id")
        asked = (comments.join(answering.select(F.col("reply_to").alias("comment_id")).distinct(), "comment_id")
                 .select(*COMMENT_COLUMNS))
        both = to_pandas(answering.select(*COMMENT_COLUMNS).unionByName(asked).distinct(), COMMENT_COLUMNS)
    finally:
        answers.unpersist()
    log(f"  qa_act on Spark: {found['comment_id'].nunique():,} replies with a lure, "
        f"{len(both) - found['comment_id'].nunique():,} comments they answer")
    prepared = PreparedComments(both.sort_values("comment_id", kind="mergesort").reset_index(drop=True))
    return qa_clusters(prepared_qa_acts(prepared, found), params)
