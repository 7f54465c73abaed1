"""The YelpChi converter writes valid input-format rows from the real file."""

from pathlib import Path

import pandas as pd
import pytest

from ringscope.ingest.converters.yelpchi import convert_yelpchi

SRC = Path("/work/shared/data/external/yelpchi/reviews.txt.gz")
pytestmark = pytest.mark.skipif(not SRC.exists(), reason="YelpChi not available")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    d = tmp_path_factory.mktemp("yelpchi")
    return d, convert_yelpchi(SRC, d)


def test_counts(out):
    _, counts = out
    assert counts["comments"] == 67395
    assert counts["labels"] == 38063
    assert counts["accounts"] == 38063 + 201
    assert counts["notes"] == 26624


def test_rows_valid(out):
    d, _ = out
    acc = pd.read_csv(d / "accounts.csv", dtype=str)
    notes = pd.read_csv(d / "notes.csv", dtype=str)
    com = pd.read_csv(d / "comments.csv", dtype=str, keep_default_na=False)
    lab = pd.read_csv(d / "labels.csv", dtype=str)
    for frame, req in ((acc, ["account_id", "registered_at"]), (notes, ["note_id", "account_id", "posted_at"]),
                       (com, ["comment_id", "account_id", "note_id", "created_at"]), (lab, ["account_id", "is_fake"])):
        assert set(req) <= set(frame.columns)
        assert frame[req].notna().all().all() and (frame[req] != "").all().all()
    assert acc["account_id"].is_unique and notes["note_id"].is_unique and com["comment_id"].is_unique
    for col, frame in (("registered_at", acc), ("posted_at", notes), ("created_at", com)):
        ts = pd.to_datetime(frame[col], utc=True, format="ISO8601")
        assert ts.notna().all()
    assert set(com["account_id"]) <= set(acc["account_id"])
    assert set(com["note_id"]) <= set(notes["note_id"])
    assert set(notes["account_id"]) <= set(acc["account_id"])
    assert set(lab["is_fake"]) == {"true", "false"}
    assert set(lab["role"]) == {"yelp_filter", "yelp_recommended"}
    # 20.3 % of users have a filtered review (README)
    assert abs((lab["is_fake"] == "true").mean() - 0.203) < 0.01
    # registered_at = first review date, never after any of the user's comments
    first = pd.to_datetime(com.groupby("account_id")["created_at"].min(), utc=True)
    reg = pd.to_datetime(acc.set_index("account_id")["registered_at"], utc=True).reindex(first.index)
    assert (reg == first).all()
    # a comment lies in its note's week
    m = com.merge(notes, on="note_id", suffixes=("", "_n"))
    delta = pd.to_datetime(m["created_at"], utc=True) - pd.to_datetime(m["posted_at"], utc=True)
    assert ((delta >= pd.Timedelta(0)) & (delta < pd.Timedelta(days=7))).all()


def test_parquet_holds_the_csv_values_and_nothing_else(out, tmp_path, capsys):
    import ringscope.commands.cli as cli

    csv_dir, counts = out
    assert cli.main(["convert", "yelpchi", str(SRC), str(tmp_path), "--format", "parquet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{name}.parquet" for name in counts)
    for name in counts:
        from_csv = pd.read_csv(csv_dir / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""])
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet").astype(object),
                                      from_csv.astype(object))
