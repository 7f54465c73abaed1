"""``shared_infrastructure`` on Spark finds exactly what the local detector finds on the same data."""

from __future__ import annotations

import pandas as pd
import pytest

from ringscope.detection.shared_infrastructure import (
    SharedInfrastructureParams, detect_shared_infrastructure, infrastructure_links,
)
from ringscope.spark.shared_infrastructure import detect_shared_infrastructure as on_spark
from ringscope.spark.source import PlatformSource, SourceError


def local_findings(directory, params):
    read = lambda kind: pd.read_parquet(directory / kind)  # noqa: E731
    links = infrastructure_links(read("accounts"), read("account_devices"), read("account_ips"))
    return detect_shared_infrastructure(links, params)


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform):
    params = SharedInfrastructureParams()
    expected = local_findings(platform, params)
    assert len(expected) > 20
    assert on_spark(PlatformSource(spark, str(platform)), params) == expected


def test_louvain_splits_households_ip_sources_and_caps_agree(spark, tmp_path):
    # A component over max_component_size (Louvain), a household, an address used as both registration
    # and login IP (one source, the larger weight), a NAT over its cap, and an account only in account_ips.
    devices = [(f"big{i:03d}", f"dev{i // 10}") for i in range(120)]
    devices += [(f"big{i:03d}", f"dev{(i + 5) // 10}b") for i in range(120)]
    devices += [("h1", "tablet"), ("h2", "tablet"), ("h3", "tablet")]
    devices += [(f"f{i:02d}", d) for i in range(20) for d in ("dA", "dB")]
    accounts = pd.DataFrame({"account_id": [f"f{i:02d}" for i in range(20)] + [f"n{i:03d}" for i in range(40)],
                             "registration_ip": ["9.9.9.9"] * 20 + ["10.0.0.1"] * 40,
                             "phone_hash": [None] * 60})
    ips = pd.DataFrame({"account_id": ["f00", "f01", "ghost"] + [f"n{i:03d}" for i in range(40)],
                        "ip": ["9.9.9.9", "9.9.9.9", "9.9.9.9"] + ["10.0.0.1"] * 40})
    directory = tmp_path / "lake"
    for name, frame in (("accounts", accounts), ("account_ips", ips),
                        ("account_devices", pd.DataFrame(devices, columns=["account_id", "device_id"]))):
        (directory / name).mkdir(parents=True)
        frame.to_parquet(directory / name / "part-00000.parquet")
    params = SharedInfrastructureParams(max_component_size=50, min_score=0.0)
    expected = local_findings(directory, params)
    assert len(expected) >= 4
    assert on_spark(PlatformSource(spark, str(directory)), params) == expected


def test_a_missing_required_column_names_the_file_and_the_column(spark, tmp_path):
    (tmp_path / "lake" / "account_devices").mkdir(parents=True)
    pd.DataFrame({"account_id": ["a"]}).to_parquet(tmp_path / "lake" / "accounts.parquet")
    pd.DataFrame({"account_id": ["a"], "device": ["d"]}).to_parquet(
        tmp_path / "lake" / "account_devices" / "part-0.parquet")
    with pytest.raises(SourceError, match=r"account_devices: required column 'device_id' is missing"):
        on_spark(PlatformSource(spark, str(tmp_path / "lake")), SharedInfrastructureParams())
    with pytest.raises(SourceError, match="no accounts/ folder or accounts.parquet"):
        on_spark(PlatformSource(spark, str(tmp_path / "nowhere")), SharedInfrastructureParams())


def test_account_codes_are_the_ranks_of_the_sorted_ids_over_many_partitions(spark):
    import random

    from ringscope.spark.shared_infrastructure import account_codes

    rng = random.Random(3)
    ids = [f"a{rng.randrange(10**9):09d}" for _ in range(5000)] + ["Z", "é", "a", "中"]
    links = spark.createDataFrame(pd.DataFrame({"account_id": ids * 2})).repartition(7)
    codes = {r["account_id"]: r["account"] for r in account_codes(links).collect()}
    expected = {a: i for i, a in enumerate(sorted(set(ids), key=lambda t: t.encode("utf-8")))}
    assert codes == expected
