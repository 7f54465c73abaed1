"""``copied_notes`` on Spark finds what the local detector finds: the notes Spark selects (bodies long enough
once normalised, NFKC included) and their authors' management rows give the same findings."""

from __future__ import annotations

import pandas as pd

from ringscope.detection.copied_notes import CopiedNoteParams, detect_copied_notes
from ringscope.spark.copied_notes import detect_copied_notes as on_spark
from ringscope.spark.source import PlatformSource
from tests.detection.test_copied_notes import platform as planted
from tests.spark.lakes import write_lake


def local(lake) -> list:
    notes = pd.read_parquet(lake / "notes")
    notes["posted_at"] = pd.to_datetime(notes["posted_at"], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
    return detect_copied_notes(notes, pd.read_parquet(lake / "intermediary_accounts"), CopiedNoteParams())


def test_planted_campaigns_agree(spark, tmp_path):
    notes, managed = planted()
    notes = notes.assign(posted_at=notes["posted_at"].map(lambda t: t.isoformat()))
    # A body whose raw form is shorter than min_chars but longer once NFKC-normalised ("㍿" is four
    # characters), copied by three accounts: compared by both, found by both.
    short = "㍿" * 14
    extra = pd.DataFrame({"note_id": ["x1", "x2", "x3"], "account_id": ["k1", "k2", "k3"],
                          "posted_at": ["2026-03-02T00:00:00+00:00"] * 3, "brand_id": [None] * 3,
                          "text": [short, short, short]})
    lake = write_lake(tmp_path / "lake", notes=pd.concat([notes, extra], ignore_index=True),
                      intermediary_accounts=managed)
    expected = local(lake)
    assert any(set(f.members) >= {"k2", "k3"} for f in expected)
    assert len(expected) == 3
    assert on_spark(PlatformSource(spark, str(lake)), CopiedNoteParams()) == expected


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform):
    assert on_spark(PlatformSource(spark, str(platform)), CopiedNoteParams()) == local(platform)


def test_the_families_are_found_once_per_source_and_test_and_released_when_no_reader_is_left(spark, platform):
    from ringscope.spark.copied_notes import READERS, note_families_on_spark

    source = PlatformSource(spark, str(platform))
    lines: list[str] = []
    first = note_families_on_spark(source, CopiedNoteParams(), lines.append)
    made = len(lines)
    assert made and first.judged > 0
    again = note_families_on_spark(source, CopiedNoteParams(), lines.append)
    assert len(lines) == made and again.notes is first.notes  # shared: nothing found again
    note_families_on_spark(source, CopiedNoteParams(threshold=0.5), lines.append)
    assert len(lines) == 2 * made  # another test: found for it
    source.release_shared({"farmed_declared", "dense_blocks"})  # a reader still to run: kept
    assert len(source._shared) == 2
    source.release_shared({"dense_blocks"} - READERS)
    assert source._shared == {}
