"""``ban_evasion`` on Spark finds exactly what the local detector finds on the same data."""

from __future__ import annotations

import pandas as pd

from ringscope.detection.ban_evasion import BanEvasionParams, detect_ban_evasion
from ringscope.spark.ban_evasion import detect_ban_evasion as on_spark
from ringscope.spark.source import PlatformSource
from tests.spark.lakes import write_lake


def local_findings(directory, params):
    read = lambda kind: pd.read_parquet(directory / kind)  # noqa: E731
    return detect_ban_evasion(read("account_devices"), read("accounts"), read("sanctions"), params)


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform):
    expected = local_findings(platform, BanEvasionParams())
    assert len(expected) >= 5
    assert on_spark(PlatformSource(spark, str(platform)), BanEvasionParams()) == expected


def test_device_bans_status_bans_expired_bans_and_crowded_devices_agree(spark, tmp_path):
    accounts = pd.DataFrame({
        "account_id": ["banned1", "banned2", "new1", "old1", "moved1", "crowd0", "other", "z9"],
        "registered_at": ["2024-03-01T00:00:00Z", "2024-01-01T00:00:00Z", "2024-06-02T00:00:00+08:00",
                          "2023-01-01T00:00:00Z", "2023-05-01T00:00:00Z", "2024-01-01T00:00:00Z",
                          "2024-07-01T00:00:00Z", "2024-08-01T00:00:00Z"],
        "status": ["active", "Suspended ", "active", "active", "active", "active", "active", "active"],
    })
    devices = [("banned1", "d1", "2024-03-02T00:00:00Z"), ("new1", "d1", "2024-06-02T00:00:00Z"),
               ("old1", "d1", "2023-02-01T00:00:00Z"), ("moved1", "d1", "2024-07-01T00:00:00Z"),
               ("banned2", "d2", None), ("old1", "d2", "2023-01-05T00:00:00Z"),
               ("other", "dev-banned", "2024-07-02T00:00:00Z"), ("z9", "d-expired", "2024-08-01T00:00:00Z")]
    devices += [(f"crowd{i}", "d-crowd", "2024-01-01T00:00:00Z") for i in range(6)] + [("banned1", "d-crowd", None)]
    sanctions = pd.DataFrame({
        "sanction_id": ["s1", "s2", "s3", "s4"], "target_type": ["account", "device", "note", "account"],
        "target_id": ["banned1", "dev-banned", "n1", "z-gone"], "action": ["BAN", "device_ban", "ban", "ban"],
        "reason": ["", "", "", ""],
        "issued_at": ["2024-06-01T00:00:00Z", "2024-06-15T00:00:00Z", "2024-01-01T00:00:00Z",
                      "2024-01-01T00:00:00Z"],
        "expires_at": [None, None, None, "2024-02-01T00:00:00Z"],
    })
    lake = write_lake(tmp_path / "lake", accounts=accounts, sanctions=sanctions,
                 account_devices=pd.DataFrame(devices, columns=["account_id", "device_id", "first_seen"]))
    params = BanEvasionParams(device_cap=5)
    expected = local_findings(lake, params)
    assert len({m for f in expected for m in f.members}) >= 4
    assert on_spark(PlatformSource(spark, str(lake)), params) == expected


def test_a_lake_without_sanctions_or_bans_finds_nothing(spark, tmp_path):
    lake = write_lake(tmp_path / "lake", accounts=pd.DataFrame({"account_id": ["a"], "registered_at": ["2024-01-01"],
                                                          "status": ["active"]}))
    assert on_spark(PlatformSource(spark, str(lake)), BanEvasionParams()) == []
