import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ringscope.ingest.load import checkpoint_key, discover
from ringscope.ingest.readers import FileFormatError, Table, classify, classify_folder


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


# ---------------------------------------------------------------- folders of part files

def part_folder(folder, tables, fmt="parquet"):
    folder.mkdir(parents=True, exist_ok=True)
    for i, table in enumerate(tables):
        path = folder / f"part-{i:05d}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path)
        else:
            path.write_text(table)
    return folder


def test_a_folder_of_parts_reads_as_one_file_in_part_order(tmp_path):
    folder = part_folder(tmp_path / "devices", [pa.table({"device_id": ["d1", "d2"]}), pa.table({"device_id": ["d3"]})])
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-00000.parquet.crc").write_bytes(b"x")
    data, skipped = classify_folder(folder)
    assert (data.stem, data.fmt, [p.name for p in data.parts]) == ("devices", "parquet",
                                                                   ["part-00000.parquet", "part-00001.parquet"])
    assert skipped == []  # Spark's _SUCCESS and checksum files are not reported
    with Table(data) as t:
        rows = list(t)
        assert t.columns == ["device_id"]
    assert [r.values["device_id"] for r in rows] == ["d1", "d2", "d3"]
    assert [r.where for r in rows] == ["part-00000.parquet:1", "part-00000.parquet:2", "part-00001.parquet:1"]


def test_csv_parts_keep_their_own_line_numbers(tmp_path):
    folder = part_folder(tmp_path / "devices", ["device_id\nd1\n", "device_id\nd2\nd3\n"], "csv")
    with Table(classify_folder(folder)[0]) as t:
        assert [r.where for r in t] == ["part-00000.csv:2", "part-00001.csv:2", "part-00001.csv:3"]


def test_other_files_in_a_folder_of_parts_are_reported(tmp_path):
    folder = part_folder(tmp_path / "devices", [pa.table({"device_id": ["d1"]})])
    (folder / "README.txt").write_text("about")
    (folder / "nested").mkdir()
    data, skipped = classify_folder(folder)
    assert len(data.parts) == 1
    assert sorted(skipped) == ["devices/README.txt: not a part file (expected .csv, .jsonl or .parquet, optionally .gz)",
                               "devices/nested: not a part file (expected .csv, .jsonl or .parquet, optionally .gz)"]


def test_a_link_in_a_folder_of_parts_is_reported_and_never_followed(tmp_path):
    folder = part_folder(tmp_path / "devices", [pa.table({"device_id": ["d1"]})])
    secret = tmp_path / "secret.parquet"
    pq.write_table(pa.table({"device_id": ["leaked"]}), secret)
    (folder / "part-00001.parquet").symlink_to(secret)
    data, skipped = classify_folder(folder)
    assert [p.name for p in data.parts] == ["part-00000.parquet"]
    assert skipped == ["devices/part-00001.parquet: a symbolic link; not followed"]


@pytest.mark.parametrize("make,message", [
    (lambda f: part_folder(f, [pa.table({"device_id": ["d1"]}), pa.table({"device_id": ["d2"], "model": ["x"]})]),
     r"part-00001.parquet: columns device_id, model differ from those of part-00000.parquet \(device_id\)"),
    (lambda f: (part_folder(f, [pa.table({"device_id": ["d1"]})]), (f / "part-00001.csv").write_text("device_id\nd2\n")),
     r"part-00001.csv: a csv part in a folder of parquet parts"),
    (lambda f: (part_folder(f, [pa.table({"device_id": ["d1"]})]), (f / "part-00001.parquet").write_bytes(b"junk")),
     r"part-00001.parquet: not a Parquet file"),
    (lambda f: f.mkdir(), r"devices: a folder with no part files in it"),
])
def test_a_folder_whose_parts_disagree_is_a_bad_file_naming_the_part(tmp_path, make, message):
    folder = tmp_path / "devices"
    make(folder)
    with pytest.raises(FileFormatError, match=message):
        with Table(classify_folder(folder)[0]) as t:
            list(t)


def test_discover_takes_folders_named_by_a_kind_and_reports_other_folders(tmp_path):
    part_folder(tmp_path / "comments", [pa.table({"comment_id": ["c1"]})])
    (tmp_path / "accounts.csv").write_text("account_id,registered_at\n")
    (tmp_path / "backup").mkdir()
    (tmp_path / ".scratch").mkdir()
    found, skipped = discover(tmp_path)
    assert [(d.stem, d.parts is not None) for d in found] == [("accounts", False), ("comments", True)]
    assert len(skipped) == 1 and skipped[0].startswith("backup/: a folder, not a kind of record")


def test_a_folder_checkpoint_changes_when_any_part_changes(tmp_path):
    folder = part_folder(tmp_path / "devices", [pa.table({"device_id": ["d1"]}), pa.table({"device_id": ["d2"]})])
    before = checkpoint_key(classify_folder(folder)[0])
    assert checkpoint_key(classify_folder(folder)[0]) == before
    pq.write_table(pa.table({"device_id": ["d2", "d9"]}), folder / "part-00001.parquet")
    assert checkpoint_key(classify_folder(folder)[0]) != before


def test_note_labels_is_skipped_as_ground_truth_never_loaded(tmp_path):
    from ringscope.ingest.load import discover

    (tmp_path / "accounts.csv").write_text("account_id,registered_at\na1,2025-01-01\n")
    (tmp_path / "note_labels.csv").write_text("note_id,kind,copied_from,skeleton\nn1,verbatim,n2,\n")
    (tmp_path / "note_labels").mkdir()  # a Parquet folder of it, as `simulate --format parquet` writes
    files, skipped = discover(tmp_path)
    assert [f.stem for f in files] == ["accounts"]
    assert skipped == ["note_labels/: ground truth for evaluation only (which notes are copies of which; never loaded)",
                       "note_labels.csv: ground truth for evaluation only (which notes are copies of which; "
                       "never loaded)"]
