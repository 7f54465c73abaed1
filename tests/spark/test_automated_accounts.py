"""``automated_accounts`` on Spark finds what the local detector finds: cadences per batch of whole accounts on
the executors, scored and cited on the driver."""

from __future__ import annotations

import pandas as pd

from ringscope.detection.automated_accounts import AutomatedAccountParams, activity_events, detect_automated_accounts
from ringscope.spark.automated_accounts import detect_automated_accounts as on_spark
from ringscope.spark.source import PlatformSource
from tests.detection.test_automated_accounts import platform as planted_events
from tests.spark.lakes import write_lake


def local(lake) -> list:
    def read(kind, column):
        df = pd.read_parquet(lake / kind)
        df[column] = pd.to_datetime(df[column], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
        return df
    notes = read("notes", "posted_at") if (lake / "notes").exists() else None
    return detect_automated_accounts(activity_events(notes, read("comments", "created_at")), AutomatedAccountParams())


def test_planted_programs_agree(spark, tmp_path):
    events = planted_events()
    comments = events.rename(columns={"item_id": "comment_id"})
    comments["created_at"] = pd.to_datetime(comments["at"], unit="s", utc=True).map(lambda t: t.isoformat())
    comments["note_id"] = "n1"
    lake = write_lake(tmp_path / "lake", comments=comments[["comment_id", "account_id", "note_id", "created_at"]])
    expected = local(lake)
    assert {m for f in expected for m in f.members} == {"op1-0", "op1-1", "op1-2", "op2"}
    assert on_spark(PlatformSource(spark, str(lake)), AutomatedAccountParams()) == expected


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform):
    assert on_spark(PlatformSource(spark, str(platform)), AutomatedAccountParams()) == local(platform)
