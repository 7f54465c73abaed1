"""``underwater`` and ``intermediary_flagged_accounts`` on Spark find what the local detectors find."""

from __future__ import annotations

import pandas as pd

from ringscope.detection.underwater import (
    FlaggedIntermediaryParams, UnderwaterParams, detect_flagged_intermediaries, detect_underwater,
)
from ringscope.spark.source import PlatformSource
from tests.spark.lakes import write_lake
from ringscope.spark.underwater import detect_flagged_intermediaries as flagged_on_spark
from ringscope.spark.underwater import detect_underwater as on_spark

TIMES = ("posted_at", "placed_at", "since")


def read(directory, kind):
    """A kind as the graph reader gives it: timestamps as UTC datetimes."""
    df = pd.read_parquet(directory / kind)
    for column in TIMES:
        if column in df:
            df[column] = pd.to_datetime(df[column], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
    return df


def local_findings(directory, params):
    return detect_underwater(read(directory, "notes"), read(directory, "orders"),
                             read(directory, "intermediary_accounts"), params)


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform):
    expected = local_findings(platform, UnderwaterParams())
    assert len(expected) >= 5
    assert on_spark(PlatformSource(spark, str(platform)), UnderwaterParams()) == expected


def test_direct_orders_managed_authors_since_windows_and_declared_notes_agree(spark, tmp_path):
    notes = pd.DataFrame({
        "note_id": ["n1", "n2", "n3", "n4", "n5", "n6", "n7"],
        "account_id": ["a1", "a2", "a2", "a3", "a4", "a5", "a1"],
        "posted_at": ["2024-05-02T00:00:00Z", "2024-05-03T00:00:00+08:00", "2024-09-30T00:00:00Z",
                      "2024-05-04T00:00:00Z", "2024-05-05T00:00:00Z", "2024-05-06T00:00:00Z",
                      "2024-05-07T00:00:00Z"],
        "brand_id": ["b1", "b1", "b1", "b1", "b2", "b1", None],
        "declared_commercial": ["false", "no", "0", "true", "", "False", "false"],
    })
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"], "brand_id": ["b1", "b1", "b2", "b1"],
        "intermediary_id": [None, "m1", "m2", "m1"], "account_id": [None, None, None, "a9"],
        "note_id": ["n1", None, None, "n6"], "placed_at": ["2024-05-01T00:00:00Z"] * 3 + [None],
        "declared": ["false", "0", "no", "true"],
    })
    managed = pd.DataFrame({"intermediary_id": ["m1", "m1", "m1", "m2"], "account_id": ["a2", "a3", "a5", "a4"],
                            "since": ["2024-01-01T00:00:00Z", None, "2024-06-01T00:00:00Z", None]})
    lake = write_lake(tmp_path / "lake", notes=notes, orders=orders, intermediary_accounts=managed)
    params = UnderwaterParams()
    expected = local_findings(lake, params)
    assert len(expected) >= 2
    assert on_spark(PlatformSource(spark, str(lake)), params) == expected


def test_flagged_intermediaries_agree(spark, platform):
    managed = read(platform, "intermediary_accounts")
    # flag most accounts of a few intermediaries, one account of another
    flagged = sorted(set(managed.groupby("intermediary_id")["account_id"].apply(lambda a: list(a)[:-1])
                         .explode().head(60)) | {managed["account_id"].iloc[-1]})
    params = FlaggedIntermediaryParams()
    expected = detect_flagged_intermediaries(managed, flagged, params)
    assert expected
    assert flagged_on_spark(PlatformSource(spark, str(platform)), flagged, params) == expected
