"""Detection as of a time (``detection/as_of.py``): the frames cut to what a run then would have seen, on plain
frames; the options' checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

import ringscope.commands.cli as cli
from ringscope.common.errors import SettingError
from ringscope.detection.as_of import TimeFrame, check_window, cut, parse_as_of, watermark
from ringscope.detection.frames import PlatformFrames
from ringscope.detection.reader import utc_datetimes

T = datetime(2025, 3, 31, tzinfo=timezone.utc)


def ts(*days: float | None) -> pd.Series:
    """Times ``days`` after/before T (None: missing), typed as the reader types them."""
    ms = [None if d is None else (T + timedelta(days=d)).timestamp() * 1000 for d in days]
    return utc_datetimes(pd.Series(ms, dtype=float))


def frames() -> PlatformFrames:
    accounts = pd.DataFrame({"account_id": ["old", "new", "stub", "later"], "registered_at": ts(-400, -5, None, 3),
                             "followers": [10, 3, 0, 1], "following": [4, 2, 0, 9], "stub": [False, False, True, False]})
    comments = pd.DataFrame({"comment_id": ["c1", "c2", "c3", "c4", "c5"],
                             "account_id": ["old", "old", "new", "later", "old"],
                             "note_id": ["n1", "n1", "n2", "n2", "n3"], "created_at": ts(-60, -10, -1, 4, 2)})
    likes = pd.DataFrame({"account_id": ["old", "new", "old", "new"], "note_id": ["n1", "n1", "n2", "n3"],
                          "created_at": ts(-40, 0, None, 1)})
    follows = pd.DataFrame({"account_id": ["new", "old", "new", "later"],
                            "target_account_id": ["old", "new", "stub", "old"], "created_at": ts(-3, -90, 2, 5)})
    notes = pd.DataFrame({"note_id": ["n1", "n2", "n3", "n4"], "account_id": ["old", "new", "old", None],
                          "posted_at": ts(-100, -2, 1, None)})
    orders = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "brand_id": ["b1"] * 3, "placed_at": ts(-50, -5, 7)})
    devices = pd.DataFrame({"account_id": ["old", "old", "new", "later"], "device_id": ["d1", "d2", "d2", "d3"],
                            "first_seen": ts(-300, -20, -5, 3), "last_seen": ts(-200, 10, -1, 4),
                            "is_emulator": [False] * 4})
    ips = pd.DataFrame({"account_id": ["old", "new"], "ip": ["1.1.1.1", "2.2.2.2"], "first_seen": ts(None, -4),
                        "last_seen": ts(None, -4)})
    managed = pd.DataFrame({"intermediary_id": ["m1", "m1"], "account_id": ["old", "new"], "since": ts(-30, 1)})
    sanctions = pd.DataFrame({"sanction_id": ["s1", "s2", "s3", "s4"], "target_type": ["account"] * 4,
                              "target_id": ["old", "new", "old", "new"], "action": ["ban"] * 4,
                              "issued_at": ts(-10, -10, 1, -30), "expires_at": ts(None, 5, None, -1)})
    return PlatformFrames(accounts=accounts, account_devices=devices, account_ips=ips, notes=notes, comments=comments,
                          orders=orders, intermediary_accounts=managed, likes=likes, follows=follows,
                          sanctions=sanctions)


def ids(df: pd.DataFrame, column: str) -> list:
    return list(df[column])


def test_as_of_keeps_what_had_happened_by_then():
    got, left = cut(frames(), TimeFrame(T))
    assert ids(got.accounts, "account_id") == ["old", "new", "stub"]  # registered later: gone; a stub stays
    assert ids(got.comments, "comment_id") == ["c1", "c2", "c3"]   # c5 after T, c4 by an account made later
    assert ids(got.likes, "note_id") == ["n1", "n1"]               # the undated like is left out, and counted
    assert left.undated == {"likes": 1} and left.left_out["likes"] == 2
    assert list(zip(got.follows.account_id, got.follows.target_account_id)) == [("new", "old"), ("old", "new")]
    assert ids(got.notes, "note_id") == ["n1", "n2", "n4"]         # n3 posted after T; the undated stub stays
    assert ids(got.orders, "order_id") == ["o1", "o2"]
    assert ids(got.account_devices, "device_id") == ["d1", "d2", "d2"]
    assert got.account_devices.last_seen[1] == pd.Timestamp(T)    # seen later, but not by T
    assert ids(got.account_ips, "ip") == ["1.1.1.1", "2.2.2.2"]    # undated links stay
    assert ids(got.intermediary_accounts, "account_id") == ["old"]
    assert ids(got.sanctions, "sanction_id") == ["s1", "s2"]       # in force at T: not yet issued, or expired, gone
    # the export's follower counts lose the follows it records after T: 'new' followed 'stub' at T+2
    assert dict(zip(got.accounts.account_id, got.accounts.following)) == {"old": 4, "new": 1, "stub": 0}
    assert dict(zip(got.accounts.account_id, got.accounts.followers)) == {"old": 9, "new": 3, "stub": 0}  # later -> old
    assert left.left_out["accounts"] == 1 and left.left_out["comments"] == 2


def test_a_window_keeps_only_the_activity_of_its_days():
    got, left = cut(frames(), TimeFrame(T, 30))
    assert ids(got.accounts, "account_id") == ["old", "new", "stub"]  # accounts are not activity: all stay
    assert ids(got.comments, "comment_id") == ["c2", "c3"]          # c1, 60 days before T, is outside the window
    assert ids(got.likes, "note_id") == ["n1"]
    assert list(zip(got.follows.account_id, got.follows.target_account_id)) == [("new", "old")]
    assert ids(got.orders, "order_id") == ["o2"]
    assert ids(got.notes, "note_id") == ["n1", "n2", "n4"]           # content on the platform at T, posted when
    assert ids(got.account_devices, "device_id") == ["d2", "d2"]      # d1 last seen 200 days before T
    assert ids(got.sanctions, "sanction_id") == ["s1", "s2"]          # sanctions in force are not windowed
    assert "comments 3" in left.describe() and "without a time" in left.describe()


def test_the_cut_keeps_columns_and_dtypes_and_leaves_the_frames_alone():
    before = frames()
    got, _ = cut(before, TimeFrame(T, 30))
    for name in PlatformFrames.__dataclass_fields__:
        assert list(getattr(got, name).columns) == list(getattr(before, name).columns), name
        assert dict(getattr(got, name).dtypes) == dict(getattr(before, name).dtypes), name
    assert len(before.comments) == 5 and before.account_devices.last_seen[1] > pd.Timestamp(T)
    everything, left = cut(before, TimeFrame(T + timedelta(days=3650)))
    # ten years on: everything but the undated like, and the sanctions no longer in force by then
    assert {k: v for k, v in left.left_out.items() if v} == {"likes": 1, "sanctions": 2}
    assert everything.comments is before.comments  # nothing left out: the frame itself, no copy


def test_the_cut_takes_empty_frames_and_missing_counts():
    empty = PlatformFrames.only(accounts=pd.DataFrame({"account_id": ["a"], "registered_at": ts(-1),
                                                       "followers": pd.Series([None], dtype=object),
                                                       "following": pd.Series([None], dtype=object)}),
                                follows=pd.DataFrame({"account_id": ["b"], "target_account_id": ["a"],
                                                      "created_at": ts(2)}))
    got, _ = cut(empty, TimeFrame(T, 7))
    assert got.accounts.followers.tolist() == [None] and len(got.follows) == 0 and len(got.comments) == 0


def test_the_watermark_is_what_the_run_saw():
    got, _ = cut(frames(), TimeFrame(T, 30))
    mark = watermark(got, TimeFrame(T, 30))
    assert mark["comments"] == 2 and mark["likes"] == 1 and mark["accounts"] == 3 and mark["window_days"] == 30
    assert mark["last_comment"] == (T - timedelta(days=1)).isoformat() and mark["as_of"] == T.isoformat()


def test_as_of_and_window_options():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_as_of("2025-03-31", now) == T
    assert parse_as_of("2025-03-31T08:00:00+08:00", now) == T
    assert parse_as_of("2025-03-31T00:00:00Z", now) == T and parse_as_of("2025-03-31 00:00", now) == T
    for bad in ("yesterday", "2025-13-01", ""):
        with pytest.raises(SettingError, match="--as-of"):
            parse_as_of(bad, now)
    with pytest.raises(SettingError, match="in the future"):
        parse_as_of("2026-02-01", now)
    assert check_window("30") == 30 and check_window(7) == 7
    for bad in ("0", "-3", "1.5", "a week", "3651"):
        with pytest.raises(SettingError, match="--window"):
            check_window(bad)


def test_as_of_is_refused_on_spark_and_bad_values_are_named(capsys):
    """Before any connection: these need no database."""
    assert cli.main(["detect", "--engine", "spark", "--source", "/nowhere", "--as-of", "2025-01-01"]) != 0
    assert "--as-of is not yet supported with --engine spark" in capsys.readouterr().err
    assert cli.main(["detect", "--as-of", "last tuesday"]) != 0
    assert "--as-of 'last tuesday'" in capsys.readouterr().err
    assert cli.main(["detect", "--as-of", "2025-01-01", "--window", "0"]) != 0
    assert "--window '0'" in capsys.readouterr().err
    future = (datetime.now(timezone.utc) + timedelta(days=2)).date().isoformat()
    assert cli.main(["detect", "--as-of", future]) != 0
    assert "in the future" in capsys.readouterr().err


def test_as_of_keeps_the_trending_captures_of_the_window():
    captures = pd.DataFrame({"captured_at": pd.to_datetime(["2025-01-01T00:00Z", "2025-01-20T00:00Z",
                                                            "2025-02-10T00:00Z"]),
                             "rank": [1, 2, 3], "topic": ["#a", "#b", "#c"], "score": [9, 8, 7]})
    empty = {name: pd.DataFrame() for name in ("account_devices", "account_ips", "notes", "comments", "orders",
                                                "intermediary_accounts", "likes", "follows", "sanctions")}
    frames = PlatformFrames(accounts=pd.DataFrame({"account_id": ["a1"]}), trending=captures, **empty)
    kept, why = cut(frames, TimeFrame(datetime(2025, 2, 1, tzinfo=timezone.utc), 20))
    assert kept.trending["topic"].tolist() == ["#b"] and why.left_out["trending"] == 2
    kept, _ = cut(frames, TimeFrame(datetime(2025, 2, 1, tzinfo=timezone.utc)))
    assert kept.trending["topic"].tolist() == ["#a", "#b"]
