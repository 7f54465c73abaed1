"""``registration_bursts`` on Spark finds exactly what the local detector finds on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ringscope.detection.registration_bursts import RegistrationBurstParams, detect_registration_bursts
from ringscope.spark.registration_bursts import detect_registration_bursts as on_spark
from ringscope.spark.source import PlatformSource
from tests.spark.lakes import write_lake


def local_findings(directory, params):
    return detect_registration_bursts(pd.read_parquet(directory / "accounts"),
                                      pd.read_parquet(directory / "account_devices"), params)


@pytest.mark.parametrize("passes", [1, 3])
def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform, passes):
    params = RegistrationBurstParams(passes=passes)
    expected = local_findings(platform, params)
    assert len(expected) >= 5
    assert {a for f in expected for r in f.reasons for a in ("device", "registration IP", "segment", "shape")
            if a in r.text} >= {"device", "registration IP", "shape"}
    assert on_spark(PlatformSource(spark, str(platform)), params) == expected


def farm_platform(seed=3):
    """2,000 accounts over 12 days with farms placed across the Spark engine's time slices (a slice is the
    background, 2 days, plus a second, from the first registration): an IP farm straddling a slice edge, a
    device farm on the next edge, a phone-segment farm inside a slice, and the awkward rows: accounts
    without a registration time (their values still count in each value's code), blank and padded
    values, a device link to an unknown account and duplicate links."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2024-03-01T00:00:00Z")
    n = 2000
    minutes = np.sort(rng.uniform(0, 12 * 24 * 60, n))
    minutes[0] = 0.0
    # whole seconds, one format: the local engine parses text times with the format of the first
    registered = [(t0 + pd.Timedelta(seconds=int(m * 60))).isoformat() for m in minutes]
    ips = [f"10.0.{i % 7}.{i}" for i in rng.integers(0, 400, n)]
    segments = [f"13{i:05d}" for i in rng.integers(0, 60, n)]
    nicknames = [f"user{rng.integers(0, 10**6)}" if i % 3 else f"小红{i}" for i in range(n)]
    accounts = pd.DataFrame({
        "account_id": [f"a{i:05d}" for i in range(n)], "registered_at": registered, "registration_ip": ips,
        "phone_segment": segments, "nickname": nicknames,
        "default_profile": rng.random(n) < 0.2, "bio": np.where(rng.random(n) < 0.5, "hi", None),
        "followers": rng.integers(0, 500, n), "following": rng.integers(0, 500, n),
    })
    edge = t0 + pd.Timedelta(days=2, seconds=1)              # first slice edge of every attribute
    farm = []
    for k in range(12):                                      # IP farm: 6 before the edge, 6 after
        farm.append({"account_id": f"ipfarm{k:02d}", "registration_ip": "66.6.6.6",
                     "registered_at": (edge + pd.Timedelta(minutes=4 * k - 24)).isoformat()})
    for k in range(10):                                      # device farm on the second edge
        farm.append({"account_id": f"devfarm{k:02d}", "registered_at":
                     (edge + pd.Timedelta(days=2, seconds=1, minutes=3 * k - 15)).isoformat()})
    for k in range(9):                                       # segment farm mid-slice, padded values
        farm.append({"account_id": f"segfarm{k}", "phone_segment": " 1999999 ",
                     "registered_at": (t0 + pd.Timedelta(days=7, minutes=5 * k)).isoformat()})
    farm = pd.DataFrame(farm)
    farm["nickname"] = [f"JordanS{62953018 + i}" for i in range(len(farm))]
    farm["default_profile"], farm["followers"], farm["following"] = True, 0, 150
    untimed = pd.DataFrame({"account_id": ["untimed1", "untimed2", "blank"], "registered_at": [None, "not a time", None],
                            "registration_ip": ["0.0.0.1", "66.6.6.6", "  "], "phone_segment": ["", None, "1999999"],
                            "nickname": [None, "zz", ""]})
    accounts = pd.concat([accounts, farm, untimed], ignore_index=True)
    devices = pd.DataFrame({"account_id": [f"a{i:05d}" for i in rng.integers(0, n, 1500)],
                            "device_id": [f"d{i}" for i in rng.integers(0, 1200, 1500)]})
    devices = pd.concat([devices, pd.DataFrame({
        "account_id": [f"devfarm{k:02d}" for k in range(10)] + ["devfarm00", "ghost", "untimed1", "a00000"],
        "device_id": ["DEV-X"] * 10 + ["DEV-X", "DEV-X", "DEV-X", "d1"]})], ignore_index=True)
    return accounts, devices


def test_farms_across_time_slices_untimed_accounts_and_blank_values_agree(spark, tmp_path):
    accounts, devices = farm_platform()
    lake = tmp_path / "lake"
    # two part files each, the farms split between them
    write_lake(lake, accounts=accounts.iloc[::2], account_devices=devices.iloc[::2])
    accounts.iloc[1::2].to_parquet(lake / "accounts" / "part-00001.parquet")
    devices.iloc[1::2].to_parquet(lake / "account_devices" / "part-00001.parquet")
    params = RegistrationBurstParams(window="1h", background="2D", guard="6h", max_gap="30min")
    expected = detect_registration_bursts(accounts, devices, params)
    clustered = {m for f in expected for m in f.members}
    assert {f"ipfarm{k:02d}" for k in range(12)} <= clustered
    assert {f"devfarm{k:02d}" for k in range(10)} <= clustered
    assert {f"segfarm{k}" for k in range(9)} <= clustered
    assert on_spark(PlatformSource(spark, str(lake)), params) == expected


def test_a_lake_without_devices_or_profile_columns_agrees(spark, tmp_path):
    accounts, _ = farm_platform(seed=5)
    accounts = accounts[["account_id", "registered_at", "registration_ip", "nickname"]]
    lake = write_lake(tmp_path / "lake", accounts=accounts)
    params = RegistrationBurstParams(window="1h", background="2D", guard="6h", max_gap="30min")
    # the graph gives the local engine every account column, empty when the input had none
    expected = detect_registration_bursts(accounts.assign(phone_segment=None, default_profile=None, bio=None,
                                                          followers=None, following=None), None, params)
    assert expected
    assert on_spark(PlatformSource(spark, str(lake)), params) == expected


def test_passes_leaving_the_found_accounts_out_of_the_backgrounds_agree(spark, tmp_path):
    from tests.detection.test_registration_bursts import _two_farms_platform

    accounts = _two_farms_platform()
    # whole seconds as text: what Parquet and Spark keep alike (Spark reads no nanosecond timestamps)
    accounts["registered_at"] = [t.isoformat() for t in accounts["registered_at"].dt.floor("s")]
    lake = write_lake(tmp_path / "lake", accounts=accounts)
    params = RegistrationBurstParams(passes=3)
    expected = detect_registration_bursts(pd.read_parquet(lake / "accounts"), None, params)
    # farm B (25 accounts) is found only once farm A, found in the first pass, is left out of its background
    assert {f"B{k:03d}" for k in range(25)} <= {m for f in expected for m in f.members}
    assert not {m for f in detect_registration_bursts(pd.read_parquet(lake / "accounts"), None,
                                                      RegistrationBurstParams()) for m in f.members if m.startswith("B")}
    assert on_spark(PlatformSource(spark, str(lake)), params) == expected
