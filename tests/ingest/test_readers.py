import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ringscope.ingest.readers import FileFormatError, Table, classify


def table(path):
    return Table(classify(path))


def test_classify_names_the_kind_and_format(tmp_path):
    assert classify(tmp_path / "comments.jsonl.gz").stem == "comments"
    assert classify(tmp_path / "comments.jsonl.gz").fmt == "jsonl"
    assert classify(tmp_path / "notes.parquet").fmt == "parquet"
    assert classify(tmp_path / "README.md") is None


def test_csv_keeps_line_numbers_and_raw_text_of_multiline_records(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text('\ufeffaccount_id,bio\na1,"two\nlines"\na2,短\n', encoding="utf-8")
    with table(path) as t:
        rows = list(t)
        assert t.columns == ["account_id", "bio"]  # byte-order mark stripped
    assert [r.line for r in rows] == [2, 4]
    assert rows[0].raw == 'a1,"two\nlines"'
    assert rows[1].values == {"account_id": "a2", "bio": "短"}


def test_csv_row_with_wrong_width_becomes_a_reject_not_a_guess(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,bio\na1,x,y\n")
    with table(path) as t:
        (row,) = list(t)
    assert "has 3 values, header has 2" in row.error


def test_gzip_csv_and_jsonl(tmp_path):
    path = tmp_path / "devices.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("device_id,model\nd1,华为\n")
    with table(path) as t:
        assert [r.values for r in t] == [{"device_id": "d1", "model": "华为"}]
    path = tmp_path / "devices.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps({"device_id": "d1"}) + "\n\n{broken\n")
    with table(path) as t:
        rows = list(t)
    assert rows[0].values == {"device_id": "d1"}
    assert rows[1].line == 3 and "not valid JSON" in rows[1].error


def test_parquet_rows_are_numbered(tmp_path):
    path = tmp_path / "devices.parquet"
    pq.write_table(pa.table({"device_id": ["d1", "d2"], "is_emulator": [True, False]}), path)
    with table(path) as t:
        rows = list(t)
    assert [r.line for r in rows] == [1, 2]
    assert rows[1].values == {"device_id": "d2", "is_emulator": False}


@pytest.mark.parametrize("name,content,message", [
    ("devices.csv.gz", b"device_id\nd1\n", r"cannot be read as CSV \(gzip\)"),
    ("devices.parquet", b"device_id\nd1\n", "not a Parquet file"),
    ("devices.jsonl", b"device_id,model\n", "line 1 is not JSON"),
    ("devices.csv", b"", "empty file"),
    ("devices.csv", b"device_id,device_id\n", "duplicate column"),
])
def test_a_file_that_is_not_its_format_names_itself(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=message) as err:
        with table(path) as t:
            list(t)
    assert name in str(err.value)
