"""``trending_heat`` on Spark finds what the local detector finds: the notes with a risen topic and their
engagement selected on the executors, the local function on the driver."""

from __future__ import annotations

import pandas as pd

from ringscope.detection.trending_heat import TrendingHeatParams, detect_trending_heat
from ringscope.spark.source import PlatformSource
from ringscope.spark.trending_heat import detect_trending_heat as on_spark

TIMES = {"trending": "captured_at", "comments": "created_at", "likes": "created_at", "accounts": "registered_at"}


def local(lake, flagged=()) -> object:
    def read(kind, columns):
        df = pd.read_parquet(lake / kind, columns=columns)
        if kind in TIMES:
            df[TIMES[kind]] = pd.to_datetime(df[TIMES[kind]], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
        return df
    notes = read("notes", ["note_id", "topics"])
    notes["topics"] = notes["topics"].map(
        lambda v: None if not isinstance(v, str)
        else [t.strip(" \t\n\r\x0b\x0c") for t in v.split(";") if t.strip()] or None)
    return detect_trending_heat(read("trending", ["captured_at", "rank", "topic", "score"]), notes,
                                read("comments", ["comment_id", "account_id", "note_id", "created_at"]),
                                read("likes", ["account_id", "note_id", "created_at"]),
                                read("accounts", ["account_id", "registered_at"]), flagged, TrendingHeatParams())


def test_the_simulated_platform_gives_the_same_findings_and_ratings_on_spark(spark, platform):
    expected = local(platform, ["a000001", "a000002"])
    assert expected.findings and expected.ratings
    got = on_spark(PlatformSource(spark, str(platform)), ["a000001", "a000002"], TrendingHeatParams())
    assert got.findings == expected.findings
    assert got.ratings == expected.ratings


def test_a_lake_without_a_trending_list_gives_nothing(spark, tmp_path):
    from tests.spark.lakes import write_lake

    lake = write_lake(tmp_path / "lake", accounts=pd.DataFrame({"account_id": ["a1"],
                                                                "registered_at": ["2025-01-01T00:00:00Z"]}))
    assert on_spark(PlatformSource(spark, str(lake)), [], TrendingHeatParams()).findings == []
