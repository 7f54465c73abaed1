"""The reader's pure pieces: slice ranges, null markers, the frame a slice list becomes, the statements."""

from __future__ import annotations

import re

import pandas as pd

from ringscope.detection.reader import (
    ACCOUNTS, COMMENTS, KINDS, NULL, ORDERS, assemble, restore_nulls, slices,
)


def test_slices_cover_every_key_once_and_the_last_is_open():
    assert slices(["a1", "a5", "a9"]) == [("a1", "a5"), ("a5", "a9"), ("a9", None)]
    assert slices(["a1"]) == [("a1", None)]
    assert slices([]) == []


def test_restore_nulls_turns_the_marker_back_into_none_and_leaves_other_values():
    values = ["x", NULL, 3, True, None, NULL]
    assert restore_nulls(values) == ["x", None, 3, True, None, None]
    clean = ["x", 1, False]
    assert restore_nulls(clean) is clean  # nothing to replace: no copy


def _row_wise(columns: list[str], rows: list[list]) -> pd.DataFrame:
    """What the row-wise reader built from the same values (times at one resolution, nanoseconds: pandas
    would infer one from the values, so a snapshot and the graph could differ)."""
    df = pd.DataFrame(rows, columns=columns)
    for column in columns:
        if column in {"created_at", "since"}:
            df[column] = pd.to_datetime(df[column], unit="ms", utc=True).astype("datetime64[ns, UTC]")
    return df


def test_assemble_equals_the_row_wise_frame_in_values_and_dtypes():
    columns = ["comment_id", "followers", "is_emulator", "created_at", "reply_to", "score"]
    rows = [["c1", 3, True, 1_700_000_000_000, None, 1.5],
            ["c2", None, None, None, "c1", 2.0],
            ["c3", 7, False, 1_700_000_060_000, None, None]]
    # two slices, as the reader gets them: collect()ed lists with the null marker
    parts = [{c: [NULL if v is None else v for v in col] for c, col in zip(columns, zip(*rows[:2]))},
             {c: [NULL if v is None else v for v in col] for c, col in zip(columns, zip(*rows[2:]))}]
    got = assemble(columns, parts)
    pd.testing.assert_frame_equal(got, _row_wise(columns, rows))
    assert str(got["created_at"].dtype) == "datetime64[ns, UTC]"


def test_assemble_of_no_slices_is_the_empty_row_wise_frame():
    columns = ["intermediary_id", "account_id", "since"]
    pd.testing.assert_frame_equal(assemble(columns, []), _row_wise(columns, []))
    pd.testing.assert_frame_equal(assemble(columns, [{c: [] for c in columns}]), _row_wise(columns, []))


def test_statements_collect_every_column_through_the_null_marker_and_seek_the_key_range():
    bounded, open_above = ACCOUNTS.statement(True), ACCOUNTS.statement(False)
    assert "a.account_id >= $lo AND a.account_id < $hi" in bounded
    assert "a.account_id >= $lo" in open_above and "$hi" not in open_above
    assert "c.comment_id >= $lo AND c.comment_id < $hi AND c.created_at IS NOT NULL" in COMMENTS.statement(True)
    assert "$lo" not in ORDERS.statement(False)
    for kind in KINDS:
        text = kind.statement(kind.anchor is not None)
        returned = text.split("RETURN", 1)[1]
        assert returned.count("collect(coalesce(") == len(kind.columns)
        assert re.findall(r"\$null\)\) AS (\w+)", returned) == [c for c, _ in kind.columns]
