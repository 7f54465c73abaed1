"""``engagement`` on Spark finds exactly what the local detector finds on the same data."""

from __future__ import annotations

import pandas as pd
import pytest

from ringscope.detection.engagement import (
    EngagementParams, audience_disproportion, detect_engagement, engagement_bursts, engagement_events,
)
from ringscope.spark import engagement
from ringscope.spark.source import PlatformSource
from tests.spark.lakes import write_lake

T0 = pd.Timestamp("2024-06-01T00:00:00Z")
# On the 10k lake the default thresholds find only burst groups; these find single bursts and
# disproportionate authors there too.
LOOSE = EngagementParams(min_single_size=10, min_single_ratio=10.0, min_likes=20, min_z=2.0)


def read(directory, kind):
    """A kind as the local engine gets it from the graph: timestamps as UTC datetimes; None when the lake
    has no such kind."""
    if not (directory / kind).exists():
        return None
    df = pd.read_parquet(directory / kind)
    for column in ("created_at", "posted_at", "registered_at"):
        if column in df:
            df[column] = pd.to_datetime(df[column], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
    return df


def local_inputs(directory):
    """What the pipeline passes the local detector: likes, notes, follows and the accounts, which always
    have a ``followers`` column (the graph reader reads it, null where it was never loaded)."""
    accounts = read(directory, "accounts")
    if "followers" not in accounts:
        accounts = accounts.assign(followers=None)
    return read(directory, "likes"), read(directory, "notes"), read(directory, "follows"), accounts


def kinds_of(findings):
    """How many groups, single bursts and disproportionate authors."""
    codes = [(f.reasons[0].code, "together" in f.reasons[0].text) for f in findings]
    return (codes.count(("engagement_burst", True)), codes.count(("engagement_burst", False)),
            codes.count(("engagement_disproportion", False)))


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform, monkeypatch):
    likes, notes, follows, accounts = local_inputs(platform)
    source = PlatformSource(spark, str(platform))
    expected = detect_engagement(likes, notes, follows, accounts, EngagementParams())
    assert kinds_of(expected)[0] >= 5
    assert engagement.detect_engagement(source, EngagementParams()) == expected
    loose = detect_engagement(likes, notes, follows, accounts, LOOSE)
    groups, singles, disproportionate = kinds_of(loose)
    assert groups >= 5 and singles >= 1 and disproportionate >= 20
    lines = []
    monkeypatch.setattr(engagement, "EVENTS_PER_BATCH", 2000)  # ~30 batches of whole targets
    assert engagement.detect_engagement(source, LOOSE, lines.append) == loose
    # the 10k platform's figures (stop 33: the farmed accounts' bought likes and the trending list's likes added
    # 14,268 events; were 65,569 in 33 batches and 116 out of proportion)
    assert "79,837 events in 40 batches" in lines[0] and "129 out of proportion" in lines[1]


def test_bursts_and_disproportion_frames_are_the_local_ones_to_the_last_bit(spark, platform):
    likes, notes, follows, accounts = local_inputs(platform)
    source = PlatformSource(spark, str(platform))
    liked = engagement.likes_on_notes(source)
    bursts = engagement.engagement_bursts_on_spark(engagement.engagement_events(liked, source), LOOSE)
    pd.testing.assert_frame_equal(bursts, engagement_bursts(engagement_events(likes, notes, follows), LOOSE))
    disproportion = engagement.audience_disproportion_on_spark(liked, source, LOOSE)
    pd.testing.assert_frame_equal(disproportion, audience_disproportion(likes, notes, accounts, follows, LOOSE))


def _at(seconds, offset="Z"):
    """ISO text ``seconds`` after T0, written with ``offset`` (``+08:00`` shifts the clock, not the instant)."""
    moment = T0 + pd.Timedelta(seconds=seconds)
    if offset == "+08:00":
        return (moment + pd.Timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tricky_lake(directory, followers="int", with_follows=True, with_likes=True):
    """Likes and follows with the cases that need care, each kind in two part files that split targets:

    - 30 bots like A's and B's notes in 5-minute bursts (more than ``max_burst_size`` = 20: subsampled),
      A liking its own note among them and its likes split over both parts;
    - 12 others burst on C at both ends of C's likes (its first and last events), organic likes between;
    - 40 follows of "star" in 200 s (a single extreme burst), split over both parts;
    - likes of a note no file has, likes without a time (counted as likes received, not as events),
      times written with +08:00;
    - twenty organic authors with a few likes each and followers (as numbers, as text with junk, or no
      column at all)."""
    day = 86_400
    notes = [("nA1", "A"), ("nA2", "A"), ("nB", "B"), ("nC", "C")] + [(f"no{i}", f"o{i:02d}") for i in range(20)]
    likes = []
    for b in range(30):
        likes.append((f"bot{b:02d}", "nA1" if b % 2 else "nA2", _at(3 * day + 10 * b, "+08:00" if b % 3 else "Z")))
        likes.append((f"bot{b:02d}", "nB", _at(9 * day + 9 * b)))
    likes.append(("A", "nA1", _at(3 * day + 100)))                       # a self-like inside the burst
    for e in range(12):
        likes.append((f"echo{e:02d}", "nC", _at(day + 20 * e)))           # C's first events
        likes.append((f"echo{e:02d}", "nC", _at(25 * day + 20 * e)))      # and its last
    likes += [(f"fan{u:03d}", "nC", _at(2 * day + 7_000 * u)) for u in range(40)]
    likes += [(f"fan{u:03d}", f"no{u % 20}", _at(day + 11_111 * u)) for u in range(120)]
    likes += [("fan001", "ghost-note", _at(5 * day)), ("fan002", "nA1", None), ("fan003", "nB", None)]
    follows = [(f"f{i:02d}", "star", _at(4 * day + 5 * i)) for i in range(40)]
    follows += [(f"fan{u:03d}", f"o{u % 20:02d}", _at(day + 3_600 * u)) for u in range(60)]
    follows += [("star", "star", _at(4 * day))]                            # a self-follow
    authors = ["A", "B", "C", "star"] + [f"o{i:02d}" for i in range(20)]
    counts = [0, 2, None, 5000] + [3 + i % 7 for i in range(20)]
    accounts = pd.DataFrame({"account_id": authors})
    if followers == "int":
        accounts["followers"] = pd.array(counts, dtype="Int64")
    elif followers == "text":
        accounts["followers"] = ["0", "n/a", "", "5000"] + [str(c) for c in counts[4:]]
    frames = {"notes": pd.DataFrame(notes, columns=["note_id", "account_id"]).assign(posted_at=_at(0))}
    if with_likes:
        frames["likes"] = pd.DataFrame(likes, columns=["account_id", "note_id", "created_at"])
    if with_follows:
        frames["follows"] = pd.DataFrame(follows, columns=["account_id", "target_account_id", "created_at"])
    write_lake(directory, accounts=accounts)
    for kind, frame in frames.items():
        (directory / kind).mkdir(parents=True)
        half = len(frame) // 2
        frame.iloc[:half].to_parquet(directory / kind / "part-00000.parquet")
        frame.iloc[half:].to_parquet(directory / kind / "part-00001.parquet")
    return directory


@pytest.mark.parametrize("variant, lake, found", [
    ("int followers", dict(followers="int"), (2, 1, 3)),
    ("followers as text", dict(followers="text"), (2, 1, 3)),
    ("no followers column", dict(followers=None), (2, 1, 3)),
    ("no follows", dict(with_follows=False), (2, 0, 3)),
    ("no likes", dict(with_likes=False), (0, 1, 0)),
])
def test_split_targets_subsampled_bursts_self_likes_unknown_notes_and_missing_kinds_agree(
        spark, tmp_path, variant, lake, found):
    directory = _tricky_lake(tmp_path / "lake", **lake)
    params = EngagementParams(max_burst_size=20, min_likes=30)
    expected = detect_engagement(*local_inputs(directory), params)
    assert kinds_of(expected) == found, variant
    assert engagement.detect_engagement(PlatformSource(spark, str(directory)), params) == expected


def test_a_lake_with_neither_likes_nor_follows_finds_nothing(spark, tmp_path):
    lake = write_lake(tmp_path / "lake", accounts=pd.DataFrame({"account_id": ["a"], "followers": [3]}))
    assert engagement.detect_engagement(PlatformSource(spark, str(lake)), EngagementParams()) == []
