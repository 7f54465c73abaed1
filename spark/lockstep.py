"""``lockstep`` on Spark: synchronized comment pairs are made on the executors, note by note, by
``detection.lockstep.synchronized_pair_rows`` itself; their support, the pairs' shared notes and the
accounts' degrees are aggregations and joins on Spark; the few pairs that can be edges come to the driver,
where the local ``lockstep_graph`` and ``lockstep_clusters`` make the findings.

Two comments pair only on one note, so the pair stage runs over batches of whole notes
(``groupBy(batch).applyInPandas``). What a note gives depends, besides its own comments, only on the ranks
of its accounts and of itself among all accounts and notes (the seeded subsampling of a crowded minute
hashes them), so those ranks are computed over the whole platform first (``spark.comment_codes``, shared
with ``dense_blocks``) and handed to every batch: each note gets exactly the pairs the local engine gives it. Then:

- support per account pair (distinct notes with a synchronized match) is a ``groupBy``; only pairs with
  the support a graph edge needs are kept (``min(min_support, core_support)``, what ``detect_lockstep``
  keeps);
- for those, each account's notes and the notes both commented on (at any time) are joins against the
  distinct (account, note) rows; the local ``pair_scores`` turns them into Jaccard and synchrony ratio;
- the synchronized pairs of the graph's edges (the evidence of the clusters) are fetched by a join.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ringscope.detection.findings import ClusterFinding
from ringscope.detection.lockstep import (
    COMMENT_COLUMNS, LockstepParams, lockstep_clusters, lockstep_graph, pair_scores, synchronized_pair_rows,
)
from ringscope.spark.comment_codes import CommentCodes, comment_codes, timed_comments
from ringscope.spark.source import PlatformSource

PAIR_SCHEMA = ("account_a string, account_b string, note_id string, comment_a string, comment_b string, "
               "time_a long, time_b long")
# comments per batch of notes in the pair stage: a few hundred MB of pandas at most
ROWS_PER_BATCH = 400_000


def synchronized_pairs(timed, codes: CommentCodes, params: LockstepParams, batches: int):
    """The local ``synchronized_pairs`` rows (times as ns) over ``timed`` comments, made per batch of
    whole notes with the platform's account and note ranks (``codes``). O(N log N + sum_i min(G_i, C)^2)
    over the executors."""
    from pyspark.sql import functions as F

    coded = codes.coded(timed)

    def pairs_of(frame: pd.DataFrame) -> pd.DataFrame:
        acc, note = frame["acc"].to_numpy(np.int64), frame["note"].to_numpy(np.int64)
        t, cid = frame["t"].to_numpy(np.int64), frame["comment_id"].to_numpy(dtype=object)
        A, B = synchronized_pair_rows(acc, note, t, cid, params.window, params.max_group_size, params.seed)
        account = frame["account_id"].to_numpy(dtype=object)
        return pd.DataFrame({"account_a": account[A], "account_b": account[B],
                             "note_id": frame["note_id"].to_numpy(dtype=object)[A], "comment_a": cid[A],
                             "comment_b": cid[B], "time_a": t[A], "time_b": t[B]})

    return (coded.withColumn("_batch", F.pmod(F.xxhash64("note_id"), F.lit(batches)))
            .groupBy("_batch").applyInPandas(pairs_of, PAIR_SCHEMA))


def pair_similarity(comments, pairs, min_support: int) -> pd.DataFrame:
    """The local ``pair_similarity`` of the synchronized ``pairs`` with ``min_support``: support is a
    count per pair, each account's notes and the notes both commented on are joins against the distinct
    (account, note) rows of all ``comments`` (with or without a time). O(P + sum over kept pairs of the
    first account's notes)."""
    from pyspark.sql import functions as F

    support = (pairs.groupBy("account_a", "account_b").agg(F.count(F.lit(1)).alias("support"))
               .where(F.col("support") >= min_support))
    an = (comments.where(F.col("account_id").isNotNull() & F.col("note_id").isNotNull())
          .select(F.col("account_id").cast("string"), F.col("note_id").cast("string")).distinct())
    degree = an.groupBy("account_id").agg(F.count(F.lit(1)).alias("notes"))
    a_notes = an.select(F.col("account_id").alias("account_a"), "note_id")
    b_notes = an.select(F.col("account_id").alias("account_b"), "note_id")
    shared = (support.select("account_a", "account_b").join(a_notes, "account_a").join(b_notes, ["account_b", "note_id"])
              .groupBy("account_a", "account_b").agg(F.count(F.lit(1)).alias("shared")))
    rows = (support.join(shared, ["account_a", "account_b"], "left")
            .join(degree.select(F.col("account_id").alias("account_a"), F.col("notes").alias("notes_a")), "account_a")
            .join(degree.select(F.col("account_id").alias("account_b"), F.col("notes").alias("notes_b")), "account_b")
            .toPandas())
    if rows.empty:
        return pair_scores(pd.DataFrame({"account_a": [], "account_b": [], "support": []}), [], [], [])
    rows = rows.sort_values(["account_a", "account_b"]).reset_index(drop=True)
    return pair_scores(rows[["account_a", "account_b", "support"]], rows["notes_a"].to_numpy(),
                       rows["notes_b"].to_numpy(), rows["shared"].fillna(0).to_numpy())


def detect_lockstep(source: PlatformSource, params: LockstepParams = LockstepParams(),
                    log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_lockstep`` makes on the same data (see the module)."""
    from pyspark import StorageLevel

    comments = source.frame("comments", [*COMMENT_COLUMNS])
    if comments is None:
        return []
    timed = timed_comments(comments).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        n = timed.count()
        if not n:
            return []
        batches = max(1, -(-n // ROWS_PER_BATCH))
        codes = comment_codes(source, timed)
        pairs = synchronized_pairs(timed, codes, params, batches).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            sim = pair_similarity(comments, pairs, min(params.min_support, params.core_support))
            graph = lockstep_graph(sim, params)
            log(f"  lockstep on Spark: {n:,} comments in {batches} batches of notes, {len(sim):,} account pairs "
                f"with repeated synchronized comments, {graph.number_of_edges():,} edges")
            evidence = _edge_pairs(source.spark, pairs, graph)
        finally:
            pairs.unpersist()
    finally:
        timed.unpersist()
    return lockstep_clusters(evidence, graph, params)


def _edge_pairs(spark, pairs, graph) -> pd.DataFrame:
    """The synchronized pairs of ``graph``'s edges, as the local ``synchronized_pairs`` gives them (sorted,
    UTC times). O(P) on Spark, O(E) here."""
    from pyspark.sql import functions as F

    columns = ["account_a", "account_b", "note_id", "comment_a", "comment_b", "time_a", "time_b"]
    if graph.number_of_edges() == 0:
        return pd.DataFrame(columns=columns)
    ends = pd.DataFrame(sorted((min(u, v), max(u, v)) for u, v in graph.edges()), columns=["account_a", "account_b"])
    edges = spark.createDataFrame(ends, "account_a string, account_b string")
    found = pairs.join(F.broadcast(edges), ["account_a", "account_b"]).select(*columns).toPandas()
    found = found.sort_values(["account_a", "account_b", "note_id"]).reset_index(drop=True)
    for column in ("time_a", "time_b"):
        found[column] = pd.to_datetime(found[column].to_numpy(np.int64), utc=True)
    return found
