"""Sorted ranks on Spark: the integer codes the local engine gets from ``pd.factorize(..., sort=True)``.

Detectors that number ids (and hash or order by those numbers) must see the same numbers on Spark as
locally, so the codes are ranks in sorted order over the whole platform, computed in the JVM.
"""

from __future__ import annotations


def sorted_ranks(frame, columns: list[str], rank: str = "rank", keep: tuple[str, ...] = ()):
    """``frame``'s distinct rows of ``columns``, each with ``rank``: its place among them sorted by
    ``columns`` (0, 1, 2, ...). ``keep``: more columns to carry, for a ``frame`` already distinct on
    ``columns`` (then no ``distinct`` is taken). O(D log D) for D distinct rows.

    What ``RDD.zipWithIndex`` gives, without sending every row through Python: after the sort each
    partition holds one contiguous range of rows, in order, and ``monotonically_increasing_id`` is
    (partition << 33) + the row's place in it; a row's rank is the rows of the partitions before it plus
    its place. The sorted rows are kept (``persist``) so the counts and the ranks come from one sort."""
    from pyspark.sql import functions as F

    rows = frame.select(*columns, *keep) if keep else frame.select(*columns).distinct()
    ranked = (rows.orderBy(*columns)
              .select(*columns, *keep, F.spark_partition_id().alias("_part"),
                      F.monotonically_increasing_id().alias("_mono"))
              .persist())
    counts = dict(ranked.groupBy("_part").count().collect())
    offsets, before = [], 0
    for part in sorted(counts):
        offsets.append((part, before))
        before += counts[part]
    start = ranked.sparkSession.createDataFrame(offsets or [(0, 0)], "_part int, _start long")
    return (ranked.join(F.broadcast(start), "_part")
            .select(*columns, *keep, (F.col("_start") + F.col("_mono").bitwiseAND(F.lit((1 << 33) - 1))).alias(rank)))


def codes_within(frame, group: str, value: str, code: str = "code", keep: tuple[str, ...] = ()):
    """``(group, value, code, *keep)``: each distinct ``value``'s rank among the sorted values of its
    ``group`` (a factorisation per group), from one global sort: its global rank minus its group's first.
    ``keep`` as in ``sorted_ranks``. O(D log D)."""
    from pyspark.sql import functions as F

    ranked = sorted_ranks(frame, [group, value], keep=keep)
    first = ranked.groupBy(group).agg(F.min("rank").alias("_first"))
    return ranked.join(F.broadcast(first), group).select(group, value, (F.col("rank") - F.col("_first")).alias(code),
                                                         *keep)
