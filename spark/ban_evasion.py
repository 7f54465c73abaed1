"""``ban_evasion`` on Spark: the devices that matter are found on Spark, the evidence is scored by
``detection.ban_evasion.detect_ban_evasion`` itself over what they hold.

Ban evasion reads only the devices a ban touches: those a banned account used and those banned
themselves. The whole-platform work is finding them among every account-device link and gathering every
link of theirs (so each device's account count is the platform's); that is a join on Spark. What comes
back is bounded by the bans (at most ``device_cap`` accounts per device counted), so the local detector
then runs on the driver over:

- every sanction (the platform's are few next to its accounts) and every account whose status is a ban;
- every link of the devices that matter, and the accounts on them (their registration times).

That is everything ``detect_ban_evasion`` reads of those devices and bans, so the findings are the
local engine's by construction (and a parity test checks them).
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from ringscope.detection.ban_evasion import BANNED_STATUS, BanEvasionParams, ban_events, detect_ban_evasion as local
from ringscope.detection.findings import ClusterFinding
from ringscope.spark.source import PlatformSource, id_frame, to_pandas

ACCOUNT_COLUMNS = ["account_id", "registered_at", "status"]
LINK_COLUMNS = ["account_id", "device_id", "first_seen", "last_seen"]
SANCTION_COLUMNS = ["sanction_id", "target_type", "target_id", "action", "reason", "issued_at", "expires_at"]


def detect_ban_evasion(source: PlatformSource, params: BanEvasionParams = BanEvasionParams(),
                       log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_ban_evasion`` makes on the same data (see the module)."""
    from pyspark.sql import functions as F

    spark = source.spark
    sanctions = to_pandas(source.frame("sanctions", SANCTION_COLUMNS), SANCTION_COLUMNS)
    accounts = source.frame("accounts", ACCOUNT_COLUMNS).dropDuplicates(["account_id"])
    status_banned = accounts.where(F.lower(F.trim(F.col("status"))).isin(sorted(BANNED_STATUS)))
    banned_by_status = to_pandas(status_banned, ACCOUNT_COLUMNS)
    events = ban_events(sanctions, banned_by_status, params.ban_actions)
    log(f"  ban_evasion on Spark: {len(events):,} bans ({len(sanctions):,} sanctions, "
        f"{len(banned_by_status):,} accounts banned by status)")
    links = source.frame("account_devices", LINK_COLUMNS)
    if events.empty or links is None:
        return []
    banned_accounts = events.loc[events["target_type"] == "account", "target_id"].drop_duplicates()
    banned_devices = events.loc[events["target_type"] == "device", "target_id"].drop_duplicates()
    used = links.join(F.broadcast(id_frame(spark, banned_accounts, "account_id")), "account_id")
    devices = used.select("device_id").unionByName(id_frame(spark, banned_devices, "device_id")).distinct()
    relevant = links.join(devices, "device_id").select(*LINK_COLUMNS).persist()
    try:
        on_devices = to_pandas(relevant, LINK_COLUMNS)
        suspects = id_frame(spark, on_devices["account_id"], "account_id")
        suspect_accounts = to_pandas(accounts.join(suspects, "account_id").select(*ACCOUNT_COLUMNS), ACCOUNT_COLUMNS)
    finally:
        relevant.unpersist()
    log(f"  ban_evasion on Spark: {len(on_devices):,} links of {on_devices['device_id'].nunique():,} devices "
        f"touched by a ban, {len(suspect_accounts):,} accounts on them")
    every = (pd.concat([banned_by_status, suspect_accounts], ignore_index=True)
             .drop_duplicates("account_id").reset_index(drop=True))
    return local(on_devices, every, sanctions, params)
