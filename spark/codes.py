"""Sorted ranks on Spark: the integer codes the local engine gets from ``pd.factorize(..., sort=True)``.

Detectors that number ids (and hash or order by those numbers) must see the same numbers on Spark as
locally, so the codes are ranks in sorted order over the whole platform, computed in the JVM.

How, without sending every row through Python (what ``RDD.zipWithIndex`` does): after a sort each partition
holds one contiguous range of rows, in order, and ``monotonically_increasing_id`` is (partition << 33) + the
row's place in it; a row's rank is the rows of the partitions before it plus its place. The sorted rows are
kept (``persist``) while the per-partition totals and the ranks are made from them (one sort), and released
once the ranked rows are checkpointed: what ``sorted_ranks`` and ``sorted_runs`` return is checkpointed (``localCheckpoint``:
computed, cut from its plan, held by the executors until it is no longer referenced or unpersisted), and
nothing else of it stays cached.
"""

from __future__ import annotations

_PLACE_BITS = (1 << 33) - 1  # the row's place within its partition, in monotonically_increasing_id
# The most rows of a key table ``small`` sends to every executor rather than shuffling the other side of a join
# (8 bytes an id, ~16 in Spark's hash relation, with a few more columns: 5 M rows ~80-200 MB per executor).
BROADCAST_KEYS = 5_000_000


def sorted_ranks(frame, columns: list[str], rank: str = "rank", keep: tuple[str, ...] = ()):
    """``frame``'s distinct rows of ``columns``, each with ``rank``: its place among them sorted by
    ``columns`` (0, 1, 2, ...). ``keep``: more columns to carry, for a ``frame`` already distinct on
    ``columns`` (then no ``distinct`` is taken). O(D log D) for D distinct rows."""
    from pyspark.sql import functions as F

    rows = frame.select(*columns, *keep) if keep else frame.select(*columns).distinct()
    ranked = _sorted(rows, columns, keep)
    start = _partition_starts(ranked, {})
    return _checkpointed(ranked.join(F.broadcast(start), "_part").select(*columns, *keep, _rank().alias(rank)),
                         ranked)


def sorted_runs(frame, columns: list[str], size: str, rank: str = "rank", start: str = "start",
                keep: tuple[str, ...] = ()):
    """``frame`` (distinct on ``columns``, each row with a count ``size``), each row with ``rank`` (as
    ``sorted_ranks``) and ``start``: the sum of ``size`` over the rows before it in sorted order, i.e. where
    its run begins when the items of every row are numbered one after another in that order (an exclusive
    prefix sum). So a note with ``start`` s and ``size`` n numbers its comments s .. s + n - 1, and no
    other note uses those numbers: a global numbering in (note, comment) order from one sort of the notes,
    not one of the comments. O(D log D) for D rows."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ranked = _sorted(frame.select(*columns, size, *keep), columns, (size, *keep))
    starts = _partition_starts(ranked, {"_size_before": size})
    within = Window.partitionBy("_part").orderBy("_mono").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    return _checkpointed(ranked.join(F.broadcast(starts), "_part")
                         .select(*columns, size, *keep,
                                 _rank().alias(rank),
                                 (F.col("_size_before") + F.sum(size).over(within) - F.col(size)).alias(start)),
                         ranked)


def codes_within(frame, group: str, value: str, code: str = "code", keep: tuple[str, ...] = ()):
    """``(group, value, code, *keep)``: each distinct ``value``'s rank among the sorted values of its
    ``group`` (a factorisation per group), from one global sort: its global rank minus its group's first.
    ``keep`` as in ``sorted_ranks``. O(D log D)."""
    from pyspark.sql import functions as F

    ranked = sorted_ranks(frame, [group, value], keep=keep)
    first = ranked.groupBy(group).agg(F.min("rank").alias("_first"))
    return ranked.join(F.broadcast(first), group).select(group, value, (F.col("rank") - F.col("_first")).alias(code),
                                                         *keep)


def small(frame, rows: int):
    """``frame`` marked to be sent whole to every executor when it has at most ``BROADCAST_KEYS`` rows (a
    join with it then moves none of the other side's rows). ``rows``: its number of rows, when known."""
    from pyspark.sql import functions as F

    return F.broadcast(frame) if rows <= BROADCAST_KEYS else frame


def _checkpointed(result, ranked):
    """``result`` computed from the persisted ``ranked`` and checkpointed; ``ranked`` released."""
    try:
        return result.localCheckpoint()
    finally:
        ranked.unpersist()


def _sorted(rows, columns: list[str], carried: tuple[str, ...]):
    """``rows`` sorted by ``columns``, each with its partition (``_part``) and ``_mono``; kept."""
    from pyspark.sql import functions as F

    return (rows.orderBy(*columns)
            .select(*columns, *carried, F.spark_partition_id().alias("_part"),
                    F.monotonically_increasing_id().alias("_mono"))
            .persist())


def _rank():
    """A sorted row's rank: the rows of the partitions before its own plus its place in it (after the join
    with ``_partition_starts``)."""
    from pyspark.sql import functions as F

    return F.col("_rows_before") + F.col("_mono").bitwiseAND(F.lit(_PLACE_BITS))


def _partition_starts(ranked, sums: dict[str, str]):
    """Per partition of the sorted ``ranked``: ``_rows_before`` (the rows of the partitions before it) and,
    for each ``name: column`` of ``sums``, ``name`` (the sum of ``column`` over those rows). A few rows."""
    from pyspark.sql import functions as F

    totals = (ranked.groupBy("_part")
              .agg(F.count("*").alias("_rows"), *(F.sum(column).alias(name) for name, column in sums.items()))
              .collect())
    before = {"_rows_before": 0, **{name: 0 for name in sums}}
    starts = []
    for row in sorted(totals, key=lambda r: r["_part"]):
        starts.append((row["_part"], before["_rows_before"], *(before[name] for name in sums)))
        before["_rows_before"] += row["_rows"]
        for name in sums:
            before[name] += row[name] or 0
    schema = "_part int, _rows_before long" + "".join(f", {name} long" for name in sums)
    return ranked.sparkSession.createDataFrame(starts or [(0, 0, *(0 for _ in sums))], schema)
