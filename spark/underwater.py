"""``underwater`` and ``intermediary_flagged_accounts`` on Spark: the rows that can matter are selected on
Spark, and the local detectors of ``detection.underwater`` run over them on the driver.

Undeclared orders are few next to notes (every order is read to the driver); a note can only be linked
to one when it names a brand an undeclared order names, is not declared commercial, and is named by such
an order, or written by an account such an order names, or by an account an intermediary such an order
names manages. Those notes, and the management rows of those intermediaries, are selected on Spark (a
superset of what ``underwater_links`` joins), so the local detector finds over them exactly what it finds
over everything. ``intermediary_flagged_accounts`` reads, of the management rows, only those of
intermediaries that manage a flagged account: all their rows (their share of flagged accounts needs them).
"""

from __future__ import annotations

from typing import Callable


from ringscope.detection.findings import ClusterFinding
from ringscope.detection.underwater import (
    FlaggedIntermediaryParams, UnderwaterParams, detect_flagged_intermediaries as local_flagged_intermediaries,
    detect_underwater as local_underwater, input_bool,
)
from ringscope.spark.source import PlatformSource, id_frame, to_pandas

ORDER_COLUMNS = ["order_id", "brand_id", "intermediary_id", "account_id", "note_id", "placed_at", "declared"]
NOTE_COLUMNS = ["note_id", "account_id", "posted_at", "brand_id", "declared_commercial"]
MANAGED_COLUMNS = ["intermediary_id", "account_id", "since"]


def detect_underwater(source: PlatformSource, params: UnderwaterParams = UnderwaterParams(),
                      log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_underwater`` makes on the same data (see the module)."""
    from pyspark.sql import functions as F

    spark = source.spark
    orders = to_pandas(source.frame("orders", ORDER_COLUMNS), ORDER_COLUMNS)
    notes = source.frame("notes", NOTE_COLUMNS)
    if orders.empty or notes is None:
        return []
    undeclared = orders[~input_bool(orders["declared"])]
    intermediaries = undeclared["intermediary_id"].dropna()
    managed_frame = source.frame("intermediary_accounts", MANAGED_COLUMNS)
    managed = None
    if managed_frame is not None:
        managed = to_pandas(managed_frame.join(F.broadcast(id_frame(spark, intermediaries, "intermediary_id")),
                                               "intermediary_id").select(*MANAGED_COLUMNS), MANAGED_COLUMNS)
    authors = set(undeclared["account_id"].dropna().astype(str))
    if managed is not None:
        authors |= set(managed["account_id"].astype(str))
    # declared_commercial is left to the local detector (it reads the input's booleans its own way)
    candidates = (notes.where(F.col("brand_id").isNotNull())
                  .join(F.broadcast(id_frame(spark, undeclared["brand_id"].dropna(), "brand_id")), "brand_id"))
    by_note = candidates.join(F.broadcast(id_frame(spark, undeclared["note_id"].dropna(), "note_id")), "note_id")
    by_author = candidates.join(F.broadcast(id_frame(spark, authors, "account_id")), "account_id")
    selected = to_pandas(by_note.select(*NOTE_COLUMNS).unionByName(by_author.select(*NOTE_COLUMNS)).distinct(),
                         NOTE_COLUMNS)
    log(f"  underwater on Spark: {len(undeclared):,} undeclared orders, {len(selected):,} brand notes they can "
        f"explain, {0 if managed is None else len(managed):,} management rows of their intermediaries")
    return local_underwater(selected, orders, managed, params)


def detect_flagged_intermediaries(source: PlatformSource, flagged: list[str],
                                  params: FlaggedIntermediaryParams = FlaggedIntermediaryParams(),
                                  log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_flagged_intermediaries`` makes on the same data (see the module)."""
    from pyspark.sql import functions as F

    managed = source.frame("intermediary_accounts", MANAGED_COLUMNS)
    if managed is None or not flagged:
        return []
    managed = managed.withColumn("intermediary_id", F.col("intermediary_id").cast("string")) \
                     .withColumn("account_id", F.col("account_id").cast("string"))
    involved = (managed.join(F.broadcast(id_frame(source.spark, flagged, "account_id")), "account_id")
                .select("intermediary_id").distinct())
    rows = to_pandas(managed.join(involved, "intermediary_id").select(*MANAGED_COLUMNS), MANAGED_COLUMNS)
    log(f"  intermediary_flagged_accounts on Spark: {rows['intermediary_id'].nunique():,} intermediaries "
        f"manage a flagged account ({len(rows):,} management rows)")
    return local_flagged_intermediaries(rows, flagged, params)
