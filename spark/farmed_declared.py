"""``farmed_declared`` on Spark: what the local detector needs is selected on Spark, and the local function of
``detection.farmed_declared`` runs over it on the driver.

The executors cut each kind to the columns the detector reads (orders, management rows, notes with their bodies,
the accounts' follower counts, the likes and comments as (account, note) pairs, the follows with their times) and
the driver runs ``detect_farmed_declared`` on them, so the findings are the local detector's. What reaches the
driver is every follow, like and comment as a pair of ids: fine at 100k accounts (~0.6 M follows, 0.8 M likes
and comments), not at 10 M (hundreds of millions of pairs). A port that aggregates the follows on the executors
(each follower's follows into the channel, the platform's shares ``q`` and ``p0``, the edges into candidates)
and the interactions per author is not written yet.
"""

from __future__ import annotations

from typing import Callable

from ringscope.detection.farmed_declared import FarmedDeclaredParams, detect_farmed_declared as local_detect
from ringscope.detection.findings import ClusterFinding
from ringscope.spark.source import PlatformSource, to_pandas

ORDER_COLUMNS = ["order_id", "brand_id", "intermediary_id", "account_id", "note_id", "placed_at", "declared"]
MANAGED_COLUMNS = ["intermediary_id", "account_id", "since"]
NOTE_COLUMNS = ["note_id", "account_id", "posted_at", "brand_id", "text"]
ACCOUNT_COLUMNS = ["account_id", "followers"]
PAIR_COLUMNS = ["account_id", "note_id"]
FOLLOW_COLUMNS = ["account_id", "target_account_id", "created_at"]


def detect_farmed_declared(source: PlatformSource, params: FarmedDeclaredParams = FarmedDeclaredParams(),
                           log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_farmed_declared`` makes on the same data (see the module)."""
    from pyspark.sql import functions as F

    orders = source.frame("orders", ORDER_COLUMNS)
    if orders is None:
        return []
    orders = to_pandas(orders, ORDER_COLUMNS)
    accounts = source.frame("accounts", ACCOUNT_COLUMNS)
    accounts = to_pandas(accounts.withColumn("followers", F.col("followers").cast("long")), ACCOUNT_COLUMNS)
    frames = {kind: to_pandas(source.frame(kind, columns), columns) for kind, columns in (
        ("intermediary_accounts", MANAGED_COLUMNS), ("notes", NOTE_COLUMNS), ("likes", PAIR_COLUMNS),
        ("comments", PAIR_COLUMNS), ("follows", FOLLOW_COLUMNS))}
    log(f"  farmed_declared on Spark: {len(orders):,} orders, {len(frames['follows']):,} follows, "
        f"{len(frames['likes']) + len(frames['comments']):,} likes and comments on the driver")
    return local_detect(accounts, frames["notes"], orders, frames["intermediary_accounts"], frames["likes"],
                        frames["comments"], frames["follows"], params)
