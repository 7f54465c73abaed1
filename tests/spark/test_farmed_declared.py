"""``farmed_declared`` on Spark finds what the local detector finds: the follows reduced on the executors to those
into the accounts with declared orders (and the platform's two shares), the likes and comments to one row per
author, the notes to the bodies worth comparing; the local functions run over what reaches the driver."""

from __future__ import annotations

import pandas as pd

from ringscope.detection.farmed_declared import FarmedDeclaredParams, detect_farmed_declared
from ringscope.spark import farmed_declared as spark_farmed
from ringscope.spark.farmed_declared import detect_farmed_declared as on_spark
from ringscope.spark.source import PlatformSource
from tests.detection.test_farmed_declared import FARMED, HONEST, platform as planted
from tests.spark.lakes import write_lake

KINDS = ("accounts", "notes", "orders", "intermediary_accounts", "likes", "comments", "follows")
TIMES = ("posted_at", "created_at", "placed_at", "since", "registered_at")


def local(lake) -> list:
    frames = {}
    for kind in KINDS:
        if not (lake / kind).exists():
            frames[kind] = None
            continue
        df = pd.read_parquet(lake / kind)
        for column in TIMES:
            if column in df:
                df[column] = pd.to_datetime(df[column], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
        frames[kind] = df
    return detect_farmed_declared(*(frames[k] for k in KINDS), FarmedDeclaredParams())


def test_planted_farmed_accounts_agree(spark, tmp_path):
    p = planted()
    # Times to the second, as the input format gives them (Spark keeps microseconds; the planted ones have more).
    iso = lambda s: s.map(lambda t: t.floor("s").isoformat())  # noqa: E731
    lake = write_lake(tmp_path / "lake", accounts=p["accounts"], orders=p["orders"],
                      intermediary_accounts=p["intermediary_accounts"],
                      notes=p["notes"].assign(posted_at=iso(p["notes"]["posted_at"])),
                      likes=p["likes"].assign(created_at=iso(p["likes"]["created_at"])),
                      follows=p["follows"].assign(created_at=iso(p["follows"]["created_at"])))
    expected = local(lake)
    flagged = {m for f in expected for m in f.members}
    assert set(FARMED) <= flagged and not flagged & set(HONEST)
    assert on_spark(PlatformSource(spark, str(lake)), FarmedDeclaredParams()) == expected


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform):
    expected = local(platform)
    assert expected  # the simulator plants farmed declared accounts at 10,000 accounts
    assert on_spark(PlatformSource(spark, str(platform)), FarmedDeclaredParams()) == expected


def test_heads_cut_to_one_author_still_give_the_same_findings(spark, platform, monkeypatch):
    """With one head kept per family, the notes whose candidate posted first need their families read whole
    (the second read on the executors): the findings are still the local detector's."""
    monkeypatch.setattr(spark_farmed, "HEADS_KEPT", 1)
    lines: list[str] = []
    assert on_spark(PlatformSource(spark, str(platform)), FarmedDeclaredParams(), lines.append) == local(platform)
    read_whole = [line for line in lines if "read whole" in line]
    assert read_whole and " (0 read whole)" not in read_whole[0]
