"""``trending_heat`` on Spark: the engagement that can matter is selected on Spark, and the local detector of
``detection.trending_heat`` runs over it on the driver.

Only notes carrying a topic that rose on the list can matter: the executors split each note's topics (a
``;``-separated text, items trimmed of ASCII whitespace, or a list, as ``ingest`` reads them) and keep the notes
with such a topic; the comments and likes on those notes (joined against them, broadcast) come to the driver with
the trending snapshots and the registration times (``registrations_on_spark``: the engagers' by id, and every
account's time alone, turned into seconds on the executors), and the local function gives the findings and
ratings it gives on the same data. What reaches the driver grows with the engagement on trending topics (tens of
thousands of rows at 100k simulated accounts) and with the platform's accounts at 8 bytes each (80 MB at 10 M
accounts; a platform of billions would count the registration windows on the executors instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

import numpy as np
import pandas as pd

from ringscope.detection.findings import RatedFindings
from ringscope.detection.frames import epoch_seconds
from ringscope.detection.trending_heat import (Registrations, TrendingHeatParams, detect_trending_heat as
                                               local_trending_heat, rises)
from ringscope.ingest.spec import TOPIC_SEPARATOR
from ringscope.spark.source import PlatformSource, id_frame, to_pandas

TRENDING_COLUMNS = ["captured_at", "rank", "topic", "score"]
COMMENT_COLUMNS = ["comment_id", "account_id", "note_id", "created_at"]
LIKE_COLUMNS = ["account_id", "note_id", "created_at"]
ACCOUNT_COLUMNS = ["account_id", "registered_at"]
# ASCII whitespace as ingest trims it (``spec.TOPIC_TRIM``), as a Java regular expression class.
_TRIM = r"^[ \t\n\r\x0B\f]+|[ \t\n\r\x0B\f]+$"


def registrations_on_spark(source: PlatformSource, engagers: set[str]) -> Registrations:
    """The ``Registrations`` the local function makes from every account's row, with only ``engagers`` by id:
    each account's first row (``dropDuplicates``) turned into seconds on the executors by the local
    ``epoch_seconds``, all the times (8 bytes per account) and the engagers' ids and times to the driver."""
    from pyspark.sql import functions as F

    accounts = (source.frame("accounts", ACCOUNT_COLUMNS)
                .select(F.col("account_id").cast("string").alias("account_id"), "registered_at")
                .dropDuplicates(["account_id"]))

    def seconds(batches):
        for batch in batches:
            t = epoch_seconds(batch["registered_at"])
            keep = ~np.isnan(t)
            yield pd.DataFrame({"account_id": batch["account_id"].to_numpy(dtype=object)[keep], "t": t[keep]})

    timed = accounts.mapInPandas(seconds, "account_id string, t double").localCheckpoint()
    platform = timed.select("t").toArrow().column("t").to_numpy()
    mine = to_pandas(timed.join(F.broadcast(id_frame(source.spark, engagers, "account_id")), "account_id"),
                     ["account_id", "t"]) if engagers else pd.DataFrame({"account_id": [], "t": []})
    times = pd.Series(mine["t"].to_numpy(dtype=float), index=mine["account_id"].astype(str).to_numpy())
    timed.unpersist()
    return Registrations(times, np.sort(np.asarray(platform, dtype=float)))


def detect_trending_heat(source: PlatformSource, flagged: Sequence[str],
                         params: TrendingHeatParams = TrendingHeatParams(),
                         log: Callable[[str], None] = lambda line: None) -> RatedFindings:
    """The findings and ratings the local ``detect_trending_heat`` makes on the same data (see the module).
    ``flagged``: ids, or a ``scoring.FlaggedAccounts`` (then the ratings carry the shares by detector)."""
    from pyspark.sql import functions as F

    trending = to_pandas(source.frame("trending", TRENDING_COLUMNS), TRENDING_COLUMNS)
    topics = sorted(set(rises(trending, params)["topic"])) if len(trending) else []
    notes = source.frame("notes", ["note_id", "topics"])
    if not topics or notes is None:
        return RatedFindings([], [])
    if dict(notes.dtypes)["topics"].startswith("array"):
        items = F.col("topics")
    else:
        items = F.split(F.col("topics").cast("string"), TOPIC_SEPARATOR)
    tagged = (notes.select(F.col("note_id").cast("string").alias("note_id"),
                           F.explode(items).alias("topic"))
              .select("note_id", F.regexp_replace(F.col("topic"), _TRIM, "").alias("topic"))
              .join(F.broadcast(id_frame(source.spark, topics, "topic")), "topic").distinct())
    tagged_pd = to_pandas(tagged.select("note_id", "topic"), ["note_id", "topic"])
    notes_pd = (tagged_pd.sort_values(["note_id", "topic"]).groupby("note_id", sort=True)["topic"].agg(list)
                .rename("topics").reset_index())
    ids = F.broadcast(tagged.select("note_id").distinct())

    def on_tagged(kind: str, columns: list[str]):
        frame = source.frame(kind, columns)
        if frame is None:
            return to_pandas(None, columns)
        return to_pandas(frame.withColumn("note_id", F.col("note_id").cast("string")).join(ids, "note_id")
                         .select(*columns), columns)

    comments, likes = on_tagged("comments", COMMENT_COLUMNS), on_tagged("likes", LIKE_COLUMNS)
    registered = registrations_on_spark(source, set(comments["account_id"].astype(str))
                                        | set(likes["account_id"].astype(str)))
    log(f"  trending_heat on Spark: {len(trending):,} snapshot rows, {len(notes_pd):,} notes on {len(topics):,} "
        f"topics that rose, {len(comments):,} comments and {len(likes):,} likes on them, registration times of "
        f"{len(registered.times):,} engagers and {registered.platform.size:,} accounts")
    return local_trending_heat(trending, notes_pd, comments, likes, registered, flagged, params)
