"""``automated_accounts`` on Spark: each account's cadence is measured on the executors by the local
``detection.automated_accounts.cadences``, over batches of whole accounts; the driver scores the (few) judged
accounts, reads the first events of those with evidence, and makes the findings with the local functions.

1. Events (Spark): notes and comments as ``account_id, kind, item_id, at, text, client`` (times as the lake
   has them), of the accounts with at least ``min_events`` events (the others cannot be judged).
2. Cadences (executors): the events are hashed on the account into batches of about ``EVENTS_PER_BATCH``
   events; a batch holds whole accounts, so ``cadences`` of a batch (its events typed and sorted as
   ``activity_events`` types and sorts them) are exactly those rows of the whole platform's. One row per judged
   account comes back (``min_events`` events over ``min_days`` days).
3. Driver: ``scored`` over all the rows (the calibration needs how many were tested), the first
   ``max_evidence`` events of the accounts with evidence (a broadcast join), ``automated_findings``.

Step 2 grows with the platform's notes and comments; what reaches the driver is a row per judged account and a
few events of the accounts with evidence.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ringscope.detection.automated_accounts import (
    CADENCE_COLUMNS, CLIENT_COLUMNS, EVENT_COLUMNS, AutomatedAccountParams, automated_findings, cadences, first_events, scored,
)
from ringscope.detection.findings import ClusterFinding
from ringscope.spark.source import PlatformSource, id_frame, utc_times

EVENTS_PER_BATCH = 400_000
COUNT_COLUMNS = ("events", "rests", "texts", "self_copied", "clients", "api_events")
STRING_COLUMNS = ("account_id", "top_client")
CADENCE_SCHEMA = ", ".join(f"{name} {'string' if name in STRING_COLUMNS else 'long' if name in COUNT_COLUMNS else 'double'}"
                           for name in CADENCE_COLUMNS)


def activity_on_spark(source: PlatformSource):
    """Notes and comments as ``account_id, kind, item_id, at, text, client`` (``at`` as the lake has it; ``text``
    a note's title and body, a comment's text; ``client`` its client and the way it was posted, as
    ``activity_events`` joins them), rows without a time left out; None when the lake has neither."""
    from pyspark.sql import functions as F

    parts = []
    for kind, id_col, time_col, name, text_cols in (("notes", "note_id", "posted_at", "note", ("title", "text")),
                                                    ("comments", "comment_id", "created_at", "comment", ("text",))):
        frame = source.frame(kind, ["account_id", id_col, time_col, *text_cols, *CLIENT_COLUMNS])
        if frame is not None:
            parts.append(frame.where(F.col(time_col).isNotNull()).select(
                F.col("account_id").cast("string").alias("account_id"), F.lit(name).alias("kind"),
                F.col(id_col).cast("string").alias("item_id"), F.col(time_col).cast("string").alias("at"),
                _joined(text_cols).alias("text"), _joined(CLIENT_COLUMNS).alias("client")))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])


def _joined(columns):
    """The ``columns`` as text joined by a space, "" for none: ``activity_events``' ``_joined``."""
    from pyspark.sql import functions as F

    return F.trim(F.concat_ws(" ", *[F.coalesce(F.col(c).cast("string"), F.lit("")) for c in columns]))


def typed_events(rows: pd.DataFrame) -> pd.DataFrame:
    """Event rows from Spark typed and sorted as ``activity_events`` gives them (``at`` in seconds since the
    epoch, unparsable times left out). O(n log n)."""
    at = utc_times(rows["at"])
    keep = at.notna().to_numpy()
    seconds = at[keep].to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
    out = pd.DataFrame({"account_id": rows["account_id"].to_numpy(dtype=object)[keep],
                        "kind": rows["kind"].to_numpy(dtype=object)[keep],
                        "item_id": rows["item_id"].to_numpy(dtype=object)[keep], "at": seconds,
                        "text": rows["text"].fillna("").to_numpy(dtype=object)[keep],
                        "client": rows["client"].fillna("").to_numpy(dtype=object)[keep]})
    return out.sort_values(["account_id", "at", "item_id"], kind="mergesort").reset_index(drop=True)[EVENT_COLUMNS]


def _cadences_of_batch(params: AutomatedAccountParams):
    def batch_cadences(batch: pd.DataFrame) -> pd.DataFrame:
        c = cadences(typed_events(batch), params)
        return c.astype({name: np.int64 for name in COUNT_COLUMNS})[CADENCE_COLUMNS]
    return batch_cadences


def detect_automated_accounts(source: PlatformSource, params: AutomatedAccountParams = AutomatedAccountParams(),
                              log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_automated_accounts`` makes on the same data (see the module)."""
    from pyspark.sql import functions as F

    events = activity_on_spark(source)
    if events is None:
        return []
    count = events.count()
    # only the accounts with enough events to be judged are sent to the batches, with their texts
    busy = events.groupBy("account_id").count().where(F.col("count") >= params.min_events).select("account_id")
    judged = events.join(busy, "account_id", "left_semi")
    batches = max(int(source.spark.conf.get("spark.sql.shuffle.partitions")), -(-count // EVENTS_PER_BATCH))
    rows = (judged.withColumn("bucket", F.pmod(F.hash("account_id"), F.lit(batches)))
            .groupBy("bucket").applyInPandas(_cadences_of_batch(params), CADENCE_SCHEMA)).toPandas()
    c = rows.sort_values("account_id").reset_index(drop=True)
    flagged = scored(c, params)
    sample: dict[str, list[tuple[str, str]]] = {}
    if len(flagged):
        mine = events.join(F.broadcast(id_frame(source.spark, flagged["account_id"], "account_id")), "account_id")
        sample = first_events(typed_events(mine.toPandas()), set(flagged["account_id"]), params.max_evidence)
    log(f"  automated_accounts on Spark: {count:,} notes and comments in {batches:,} batches of whole accounts, "
        f"{len(c):,} accounts judged, {len(flagged):,} with evidence")
    return automated_findings(flagged, len(c), sample, params)
