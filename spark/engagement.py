"""``engagement`` on Spark: the events are joined and counted on Spark, each batch of whole targets gets its
bursts from ``detection.engagement.engagement_bursts`` itself on the executors, and the driver ends with the
local ``engagement_findings`` over the bursts and the disproportionate authors.

What runs where, and why each step gives the local engine's rows:

1. Events (Spark): likes joined to their notes for the author (the target), and follows, as ``kind, target,
   actor, object_id, created_at``. Rows a bulk load would reject for a missing required id are left out
   (the graph the local engine reads never holds them); rows ``ordered_events`` drops for a missing
   timestamp or self-engagement are dropped here already (it drops them again, row by row).
2. Bursts (executors): the events are hashed on (kind, target) into batches of about
   ``EVENTS_PER_BATCH`` events (at least one per shuffle partition); each batch holds whole targets and
   goes to one call of the local ``ordered_events`` and ``engagement_bursts`` (one call per target would
   be a Python call per account). What ``engagement_bursts`` finds for a (kind, target) reads only that
   target's rows: its baseline rate (its own count and span), its windows (the keys are (group number <<
   32) | seconds, so a window ends at the latest at its group's end and the greedy choice never carries
   from one target to the next), and the burst ids; the batch's earliest time only shifts the keys.
   So a batch's bursts are the whole run's bursts of its targets. They come back with actors and objects
   as arrays and times as nanoseconds, and are sorted on the driver as ``engagement_bursts`` sorts them.
3. Disproportion: likes per (author, note) and per author by aggregation on Spark; the per-author table
   (one row per author with a like) with each author's raw ``followers`` to the driver, where the local
   ``disproportionate_authors`` takes the median and MAD (which do not depend on row order); then the
   per-note counts of the authors it flags only (a broadcast join) for ``with_top_notes``.
   Followers are the ``accounts.followers`` column, null where the dataset lacks it: the graph reader
   the local engine runs on gives that column always (null when never loaded), so its fallback to the
   in-degree of follows never applies to a platform, on either engine.

Steps 1 and 2 grow with the platform's likes and follows; what reaches the driver is the bursts, one row
per author with likes and the flagged authors' per-note counts. A single target with more events than
fit one executor call would still be one call: targets are never split.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ringscope.detection.engagement import (
    BURST_COLUMNS, DISPROPORTION_COLUMNS, EVENT_COLUMNS, EngagementParams, disproportionate_authors,
    engagement_bursts, engagement_findings, ordered_events, with_top_notes,
)
from ringscope.detection.findings import ClusterFinding
from ringscope.spark.source import PlatformSource, id_frame, utc_times

LIKE_COLUMNS = ["account_id", "note_id", "created_at"]
NOTE_COLUMNS = ["note_id", "account_id"]
FOLLOW_COLUMNS = ["account_id", "target_account_id", "created_at"]
ACCOUNT_COLUMNS = ["account_id", "followers"]
# Events per executor call of engagement_bursts (a few tens of MB of pandas frame).
EVENTS_PER_BATCH = 150_000
BURST_SCHEMA = ("burst_id string, kind string, target string, start long, end long, n_events long, "
                "expected double, ratio double, actors array<string>, objects array<string>")


def _with_ids(frame, columns: tuple[str, ...]):
    """``frame`` with its id ``columns`` as text (``source.frame`` has left out the rows missing one, as a bulk
    load rejects them). O(n)."""
    from pyspark.sql import functions as F

    for column in columns:
        frame = frame.withColumn(column, F.col(column).cast("string"))
    return frame


def _time_text(frame, column: str):
    """``column`` as text that ``utc_times`` reads as ``source.to_pandas`` reads the column: ISO 8601 text as it
    is, Spark timestamps written out in ISO 8601 to the microsecond (with ``Z``: the session runs in UTC;
    a timestamp without a zone is read as UTC, as pandas reads a naive one). O(n)."""
    from pyspark.sql import functions as F

    kind = dict(frame.dtypes)[column]
    if kind == "timestamp":
        return frame.withColumn(column, F.date_format(column, "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"))
    if kind == "timestamp_ntz":
        return frame.withColumn(column, F.date_format(column, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"))
    return frame.withColumn(column, F.col(column).cast("string"))


def likes_on_notes(source: PlatformSource):
    """``account_id, note_id, created_at, author``: each like with its note's author (likes of notes the
    dataset does not have left out, as the local merge leaves them); None without likes or notes. O(L)."""
    from pyspark.sql import functions as F

    likes, notes = source.frame("likes", LIKE_COLUMNS), source.frame("notes", NOTE_COLUMNS)
    if likes is None or notes is None:
        return None
    notes = _with_ids(notes, ("note_id", "account_id")).select("note_id", F.col("account_id").alias("author"))
    return _time_text(_with_ids(likes, ("account_id", "note_id")), "created_at").join(notes, "note_id")


def engagement_events(liked, source: PlatformSource):
    """``kind, target, actor, object_id, created_at`` (times as text) of the likes (``liked``, from
    :func:`likes_on_notes`) and follows, those without a time or on oneself left out; None when the
    dataset has neither. O(L + F)."""
    from pyspark.sql import functions as F

    parts = []
    if liked is not None:
        parts.append(liked.select(F.lit("like").alias("kind"), F.col("author").alias("target"),
                                  F.col("account_id").alias("actor"), F.col("note_id").alias("object_id"),
                                  "created_at"))
    follows = source.frame("follows", FOLLOW_COLUMNS)
    if follows is not None:
        follows = _time_text(_with_ids(follows, ("account_id", "target_account_id")), "created_at")
        parts.append(follows.select(F.lit("follow").alias("kind"), F.col("target_account_id").alias("target"),
                                    F.col("account_id").alias("actor"),
                                    F.col("target_account_id").alias("object_id"), "created_at"))
    if not parts:
        return None
    events = parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
    return events.where(F.col("created_at").isNotNull() & (F.col("actor") != F.col("target")))


def _bursts_of_batch(params: EngagementParams):
    """The executor side: one batch of whole (kind, target) groups to its bursts, by the local functions,
    in ``BURST_SCHEMA``. O(n log n) for the batch's n events."""
    def bursts(batch: pd.DataFrame) -> pd.DataFrame:
        found = engagement_bursts(ordered_events(batch[EVENT_COLUMNS].assign(created_at=utc_times(batch["created_at"]))),
                                  params, presorted=True)
        nanoseconds = lambda column: (pd.DatetimeIndex(found[column]).as_unit("ns").asi8  # noqa: E731
                                      if len(found) else np.empty(0, np.int64))
        return pd.DataFrame({
            "burst_id": found["burst_id"].astype(object), "kind": found["kind"].astype(object),
            "target": found["target"].astype(object), "start": nanoseconds("start"), "end": nanoseconds("end"),
            "n_events": found["n_events"].astype(np.int64), "expected": found["expected"].astype(np.float64),
            "ratio": found["ratio"].astype(np.float64),
            # object columns even when empty (Arrow cannot make a list column of an empty float column)
            "actors": pd.Series([list(a) for a in found["actors"]], dtype=object),
            "objects": pd.Series([list(o) for o in found["objects"]], dtype=object),
        })
    return bursts


def bursts_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The executors' burst rows (``BURST_SCHEMA``, in any order) as ``engagement_bursts`` gives them for all
    events: its dtypes (UTC nanosecond times, tuples of actors and objects), sorted by (kind, target,
    start). O(B log B)."""
    if rows.empty:
        return pd.DataFrame(columns=BURST_COLUMNS)  # what engagement_bursts gives for no events
    out = pd.DataFrame({
        "burst_id": rows["burst_id"].astype(str), "kind": rows["kind"].astype(str),
        "target": rows["target"].astype(str),
        "start": pd.to_datetime(rows["start"].to_numpy(np.int64), utc=True),
        "end": pd.to_datetime(rows["end"].to_numpy(np.int64), utc=True),
        "n_events": rows["n_events"].to_numpy(np.int64), "expected": rows["expected"].to_numpy(np.float64),
        "ratio": rows["ratio"].to_numpy(np.float64),
        "actors": [tuple(a) for a in rows["actors"]], "objects": [tuple(o) for o in rows["objects"]],
    })
    return out.sort_values(["kind", "target", "start"]).reset_index(drop=True)


def engagement_bursts_on_spark(events, params: EngagementParams = EngagementParams(),
                               log: Callable[[str], None] = lambda line: None) -> pd.DataFrame:
    """The bursts ``engagement_bursts`` finds in all of ``events`` (from :func:`engagement_events`, or
    None), found batch by batch on the executors (see the module). O(E log E) spread over the executors."""
    from pyspark.sql import functions as F

    if events is None:
        return bursts_frame(pd.DataFrame())
    spark = events.sparkSession
    count = events.count()
    batches = max(int(spark.conf.get("spark.sql.shuffle.partitions")), -(-count // EVENTS_PER_BATCH))
    found = (events.withColumn("bucket", F.pmod(F.hash("kind", "target"), F.lit(batches)))
             .groupBy("bucket").applyInPandas(_bursts_of_batch(params), BURST_SCHEMA))
    bursts = bursts_frame(found.toPandas())
    log(f"  engagement on Spark: {count:,} events in {batches:,} batches of whole targets, "
        f"{len(bursts):,} bursts")
    return bursts


def audience_disproportion_on_spark(liked, source: PlatformSource, params: EngagementParams = EngagementParams(),
                                    log: Callable[[str], None] = lambda line: None) -> pd.DataFrame:
    """What the local ``audience_disproportion`` returns, from ``liked`` (:func:`likes_on_notes`, or None):
    the counts on Spark, the statistics on the driver (see the module). O(L) on Spark, O(A log A) on the
    driver for A authors with likes."""
    from pyspark.sql import functions as F

    if liked is None:
        return pd.DataFrame(columns=DISPROPORTION_COLUMNS)
    per_note = liked.groupBy("author", "note_id").agg(F.count(F.lit(1)).alias("n")).persist()
    try:
        followers = (source.frame("accounts", ACCOUNT_COLUMNS).dropDuplicates(["account_id"])
                     .select(F.col("account_id").cast("string").alias("author"), "followers"))
        authors = (per_note.groupBy("author").agg(F.sum("n").alias("likes_received"))
                   .join(followers, "author", "left").toPandas())
        received = pd.Series(authors["likes_received"].to_numpy(np.int64), index=authors["author"].astype(str))
        hits = disproportionate_authors(received, pd.Series(authors["followers"].to_numpy(), index=received.index),
                                        params)
        hit_ids = F.broadcast(id_frame(source.spark, hits["account_id"], "author"))
        notes_of_hits = (per_note.join(hit_ids, "author").toPandas() if len(hits)
                         else pd.DataFrame({"author": [], "note_id": [], "n": []}))
    finally:
        per_note.unpersist()
    notes_of_hits = notes_of_hits.astype({"author": str, "note_id": str, "n": np.int64})
    log(f"  engagement on Spark: {len(authors):,} authors with likes, {len(hits):,} out of proportion to their "
        f"followers ({len(notes_of_hits):,} notes of theirs liked)")
    return with_top_notes(hits, notes_of_hits)


def detect_engagement(source: PlatformSource, params: EngagementParams = EngagementParams(),
                      log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_engagement`` makes on the same data (see the module)."""
    liked = likes_on_notes(source)
    if liked is not None:
        liked = liked.persist()  # read by the events and by the per-note counts
    try:
        bursts = engagement_bursts_on_spark(engagement_events(liked, source), params, log)
        disproportion = audience_disproportion_on_spark(liked, source, params, log)
    finally:
        if liked is not None:
            liked.unpersist()
    return engagement_findings(bursts, disproportion, params)
