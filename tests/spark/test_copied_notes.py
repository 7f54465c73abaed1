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


def test_a_resumed_run_reads_the_families_back_instead_of_finding_them_again(spark, tmp_path):
    """Kept as Parquet by the run that made them (``spark.kept_frames``), the families are read back by a
    source with ``reuse`` (the same files, test and code) and give the same findings; another test is made
    again and replaces them; a folder that cannot be written is said and costs only the reuse."""
    from ringscope.spark.copied_notes import note_families_on_spark
    from ringscope.spark.engine import source_digest
    from ringscope.spark.kept_frames import KeptFrames

    notes, managed = planted()
    lake = write_lake(tmp_path / "lake", notes=notes.assign(posted_at=notes["posted_at"].map(lambda t: t.isoformat())),
                      intermediary_accounts=managed)
    expected = local(lake)
    lines: list[str] = []

    def source(reuse: bool, directory=tmp_path / "frames") -> PlatformSource:
        made = PlatformSource(spark, str(lake))
        made.kept = KeptFrames(str(directory), str(lake), source_digest(made), reuse, lines.append)
        return made

    first = note_families_on_spark(source(reuse=True), CopiedNoteParams(), lines.append)
    assert any("links between near-duplicate bodies" in line for line in lines)
    kept = sorted(p.name.split(".")[0] for p in (tmp_path / "frames").glob("*/*"))
    assert kept == ["note_families"]
    lines.clear()
    resumed = source(reuse=True)
    again = note_families_on_spark(resumed, CopiedNoteParams(), lines.append)
    assert not any("links between" in line for line in lines) and any("read back" in line for line in lines)
    assert (again.judged, again.lam) == (first.judged, first.lam)
    columns = list(first.notes.columns)
    assert (again.notes.toPandas()[columns].sort_values("note_id").reset_index(drop=True)
            .equals(first.notes.toPandas()[columns].sort_values("note_id").reset_index(drop=True)))
    assert on_spark(resumed, CopiedNoteParams()) == expected
    lines.clear()
    note_families_on_spark(source(reuse=False), CopiedNoteParams(), lines.append)  # no --resume: made again
    assert any("links between" in line for line in lines)
    note_families_on_spark(source(reuse=True), CopiedNoteParams(threshold=0.5), lines.append)
    assert len(list((tmp_path / "frames").glob("*/*"))) == 1  # the other test's frame was replaced
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    lines.clear()
    assert on_spark(source(reuse=True, directory=blocked), CopiedNoteParams()) == expected
    assert any("could not be kept" in line and "RINGSCOPE_SPARK_FRAMES_DIR" in line for line in lines)
