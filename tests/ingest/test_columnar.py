"""The bulk path's columnar lane (``ingest/columnar.py``, ``Table.csv_blocks``) against the row rules.

The lane may only be faster: for any file, it must read the same rows, stage the same typed values in
the same order, and reject the same rows with the same reasons as validating row by row. These tests
build files full of what the lane must hand back to the row rules, cut into small blocks so that
records straddle block ends, and compare the two.
"""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringscope.ingest import bulk, columnar
from ringscope.ingest.load import FileResult, IngestOptions, _Progress, _validated_batches, opened_for_validation
from ringscope.ingest.readers import PlainBlock, Table, classify, classify_folder
from ringscope.ingest.spec import Limits

ACCOUNTS = "account_id,nickname,registered_at,followers,default_profile,status,bio"
SANCTIONS = "sanction_id,target_type,target_id,action,reason,issued_at"

# Values of each kind the row rules take or refuse for many reasons; the lane must agree on every one.
TIMESTAMPS = ["2024-07-01T00:43:28+08:00", "2024-07-01 00:43:28", "2024-07-01T00:43:28Z", "2024-07-01T00:43:28",
              "2024-02-29T23:59:59-05:30", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-07-01T24:00:00Z",
              "2024-07-01T00:60:00Z", "2024-07-01T00:00:60Z", "2024-07-01T00:43:28.5+08:00",
              "2024-07-01T00:43:28.123456Z", "2024-07-01T00:43:28.123+08:00", "2024-07-01 00:43:28.001",
              "1960-01-01T00:00:00.5Z", "1960-06-30T12:00:00.123Z", "1969-12-31T23:59:59.999999Z",
              "2024-07-01T00:43:28.1234Z", "2024-07-01T00:43:28+0800", "2024-07-01T00:43:28+08",
              "2024-07-01x00:43:28", " 2024-07-01T00:43:28Z", "2024-07-01", "1899-12-31T23:59:59Z",
              "1900-01-01T00:00:00Z", "1900-01-01T07:59:59+08:00", "2199-12-31T23:59:59Z", "2200-01-01T00:00:00Z",
              "2199-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-13-01T00:00:00Z",
              "2024-00-10T00:00:00Z", "2024-07-00T00:00:00Z", "2024-07-01T00:43:28+23:59", "2024-07-01T00:43:28+24:00",
              "2024-07-01T00:43:28-00:00", "2024-03-31T02:30:00", "2024-10-27T02:30:00", "not a time", "",
              "２０２４-07-01T00:43:28Z"]
COUNTS = ["0", "7", "007", "123456789012345678", "1234567890123456789", "99999999999999999999", "-1", "+5",
          " 12", "12 ", "1.0", "1.5", "1e3", "1_000", "١٢", "", "abc"]
BOOLS = ["true", "false", "True", "FALSE", "1", "0", "yes", "No", "YES", " yes", "y", "t", "", "tRuE"]
STATUSES = ["active", "banned", "Active", " active", "", "weird"]
TEXTS = ["a", "", "短", "two words", 'say "hi"', "x" * 40, "é" * 25, "emoji 😂", "tab\there", "\ufeffbom",
         "nul\x00byte", "comma, inside"]
IDS = ["a1", "a2", "", "a" * 30, "é" * 20, "id with space"]


def quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def csv_line(values: list[str], quote_all: bool) -> str:
    return ",".join(quoted(v) if quote_all or any(c in v for c in ',"\r\n') else v for v in values)


def stage(path: Path, options: IngestOptions, tmp: Path, columnar_lane: bool, block_bytes: int = 1 << 12):
    """What ``bulk._validate`` stages for ``path``, by either lane: (result, staged rows, rejects text)."""
    data = classify_folder(path)[0] if path.is_dir() else classify(path)
    result = FileResult(data.path, data.stem)
    target = tmp / f"{path.name}-{'columnar' if columnar_lane else 'rows'}"
    writer = bulk._StageWriter(target / "staged", bulk.SPECS[data.stem], data.stem)
    with opened_for_validation(data, options, target / "rejects", result) as (table, validator, rejects):
        with _Progress("test", False) as progress:
            if columnar_lane:
                bulk._stage_columnar(table, validator, rejects, result, writer, progress, block_bytes)
            else:
                for batch in _validated_batches(table, validator, rejects, result, options.batch_size):
                    writer.write(batch.rows, first_row=result.loaded)
                    result.loaded += len(batch.rows)
    writer.close()
    rows = pq.read_table(target / "staged").sort_by("_row").to_pylist()
    rejected = (target / "rejects" / f"{path.name}.rejects.csv")
    return (result.read, result.loaded, result.rejected, writer.replies), rows, \
        rejected.read_text(encoding="utf-8") if rejected.exists() else ""


def assert_lanes_agree(path: Path, tmp: Path, options: IngestOptions | None = None, block_bytes: int = 1 << 12):
    options = options or IngestOptions(progress=False)
    by_rows = stage(path, options, tmp, columnar_lane=False)
    by_columns = stage(path, options, tmp, columnar_lane=True, block_bytes=block_bytes)
    assert by_columns[0] == by_rows[0]
    assert by_columns[2] == by_rows[2]
    assert by_columns[1] == by_rows[1]
    return by_rows


def account_lines(count: int, quote_all: bool = True) -> list[str]:
    lines = []
    for i in range(count):
        lines.append(csv_line([IDS[i % len(IDS)] + str(i) if i % 7 else IDS[i % len(IDS)],
                               TEXTS[i % len(TEXTS)], TIMESTAMPS[i % len(TIMESTAMPS)], COUNTS[i % len(COUNTS)],
                               BOOLS[i % len(BOOLS)], STATUSES[i % len(STATUSES)], TEXTS[(i * 5) % len(TEXTS)]],
                              quote_all and i % 3 != 0))
    return lines


@pytest.mark.parametrize("tz", [timezone.utc, timezone(timedelta(hours=8)), ZoneInfo("Europe/Berlin")],
                         ids=["utc", "fixed +08:00", "daylight saving"])
def test_every_kind_of_value_is_staged_or_refused_as_the_row_rules_do(tmp_path, tz):
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS + "\n" + "\n".join(account_lines(600)) + "\n", encoding="utf-8")
    counts, rows, rejects = assert_lanes_agree(path, tmp_path, IngestOptions(progress=False, tz=tz))
    assert counts[1] > 100 and counts[2] > 100  # both lanes really met valid and refused rows


def test_caps_on_a_field_and_an_index_entry_are_the_row_rules_caps(tmp_path):
    path = tmp_path / "accounts.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(ACCOUNTS + "\n")
        for i in range(40):
            out.write(csv_line([f"a{i}", "n" * (i * 60), "2024-07-01T00:00:00Z", "1", "true", "active",
                                "b" * (i * 70)], True) + "\n")
        out.write(csv_line(["a" + "é" * 2100, "n", "", "", "", "", ""], True) + "\n")  # 4,201 bytes: over the index
    options = IngestOptions(progress=False, limits=Limits(max_field_chars=2500))
    counts, _, rejects = assert_lanes_agree(path, tmp_path, options)
    assert "over the cap of 2,500" in rejects and "an index entry holds" in rejects


def test_a_reserved_sanction_id_and_a_reply_count_match(tmp_path):
    path = tmp_path / "sanctions.csv"
    lines = [SANCTIONS] + [csv_line([f"S-{i:016x}" if i % 4 == 0 else f"s{i}", "account", f"a{i}",
                                     ["warning", "ban", "Ban", ""][i % 4], "r", "2024-07-01T00:00:00Z"], False)
                           for i in range(50)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_lanes_agree(path, tmp_path)
    comments = tmp_path / "comments.csv"
    comments.write_text("comment_id,account_id,note_id,created_at,text,reply_to\n" + "".join(
        f"c{i},a{i},n1,2024-07-01T00:00:{i % 60:02d}Z,hi,{'' if i % 3 else f'c{i - 1}'}\n" for i in range(200)))
    counts, _, _ = assert_lanes_agree(comments, tmp_path)
    assert counts[3] == 67


# Whole lines that are not plain records, for the readers to meet between plain ones.
ODD_LINES = ['"multi\nline",x', "\ufeffa7,n,2024-07-01T00:00:00Z,1,true,active,b", '"unclosed', 'a"b,c', '"a"b,c', "", "   ", "\r", "only one value",
             "a,b,c,d,e,f,g,h,i", "\ufeffa1,x", "x" * 300, '"quoted ""twice""",y', "bad \udcff byte"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.one_of(st.integers(0, 599), st.sampled_from(ODD_LINES)), max_size=80),
       ending=st.sampled_from(["\n", "\r\n"]), last_newline=st.booleans(), block=st.sampled_from([64, 200, 1024]))
def test_any_mix_of_plain_and_odd_records_reads_the_same_in_blocks(tmp_path_factory, picks, ending, last_newline,
                                                                   block):
    tmp = tmp_path_factory.mktemp("mix")
    plain = account_lines(600)
    body = ending.join(plain[p] if isinstance(p, int) else p for p in picks)
    data = (ACCOUNTS + ending + body + (ending if last_newline else "")).encode("utf-8", "surrogateescape")
    path = tmp / "accounts.csv"
    path.write_bytes(data)
    options = IngestOptions(progress=False, limits=Limits(max_line_bytes=1024))
    assert_lanes_agree(path, tmp, options, block_bytes=block)
    # The rows themselves, as the row reader makes them (line numbers, raw text, reasons).
    with Table(classify(path), options.limits) as table:
        expected = [(r.line, r.raw, r.values, r.error) for r in table]
    with Table(classify(path), options.limits) as table:
        got = []
        for item in table.csv_blocks(block):
            rows = item.rows(list(range(item.lines))) if isinstance(item, PlainBlock) else [item]
            got += [(r.line, r.raw, r.values, r.error) for r in rows]
    assert got == expected


def test_a_record_longer_than_the_cap_across_many_blocks_is_refused_as_the_row_reader_does(tmp_path):
    path = tmp_path / "accounts.csv"
    long_bio = '"' + "z" * 5000 + "\n" + "z" * 5000 + '"'
    path.write_text(ACCOUNTS + "\n" + "\n".join(account_lines(30)[:15] + [f"a1,n,,,,,{long_bio}"]
                                                + account_lines(30)[15:]) + "\n", encoding="utf-8")
    options = IngestOptions(progress=False, limits=Limits(max_line_bytes=2048))
    _, _, rejects = assert_lanes_agree(path, tmp_path, options, block_bytes=256)
    assert "over the cap of 2,048" in rejects


def test_a_byte_order_mark_opening_a_block_stays_in_the_value(tmp_path):
    """Arrow's reader drops a BOM at the start of what it is given; the csv module keeps it in the value."""
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS + "\n\ufeffa7,n,2024-07-01T00:00:00Z,1,true,active,b\n", encoding="utf-8")
    _, rows, _ = assert_lanes_agree(path, tmp_path)
    assert rows[0]["account_id"] == "\ufeffa7"


def test_a_folder_of_csv_parts_names_the_part_of_each_reject(tmp_path):
    folder = tmp_path / "accounts"
    folder.mkdir()
    for part in range(3):
        (folder / f"part-{part:05d}.csv").write_text(ACCOUNTS + "\n" + "\n".join(account_lines(40)) + "\n")
    _, _, rejects = assert_lanes_agree(folder, tmp_path, block_bytes=512)
    assert "part-00002.csv:" in rejects


def test_the_lane_checks_plain_blocks_as_columns(tmp_path):
    """Not a vacuous pass: the simulated shape of file does take the columnar lane, whole."""
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS + "\n" + "".join(
        csv_line([f"a{i}", "n", "2024-07-01T00:00:00+08:00", "3", "false", "active", ""], True) + "\n"
        for i in range(1000)))
    options = IngestOptions(progress=False)
    with Table(classify(path)) as table:
        blocks = list(table.csv_blocks(1 << 14))
        validator = bulk.Validator(bulk.SPECS["accounts"], table.columns, options.tz)
    assert all(isinstance(b, PlainBlock) for b in blocks) and sum(b.lines for b in blocks) == 1000
    fast, others = columnar.validated_block(columnar.ColumnarChecks(validator), blocks[0])
    assert others == [] and fast.num_rows == blocks[0].lines
    assert fast.column("registered_at")[0].as_py() == 1719763200000


def parquet_accounts(count: int, seed: int) -> "pa.Table":
    """Accounts with the column types Parquet writers use, and values each lane must agree on."""
    import random

    import pyarrow as pa

    rng = random.Random(seed)
    second = 1_719_792_000  # 2024-07-01 UTC
    ids = [rng.choice([f"a{i}", "", None, 7, "é" * 5]) if i % 9 == 0 else f"a{i}" for i in range(count)]
    ids_type = pa.string() if all(not isinstance(v, int) for v in ids) else None
    return pa.table({
        "account_id": pa.array([str(v) if isinstance(v, int) and ids_type else v for v in ids]
                               if ids_type else [f"a{i}" for i in range(count)], pa.string()),
        "nickname": pa.array([rng.choice(["n", "", None, "长" * 3]) for _ in range(count)], pa.large_string()),
        "registered_at": pa.array([rng.choice([second + i, second + i, -2_300_000_000, 7_300_000_000,
                                               -315_619_200 + i]) * 1_000_000 + rng.choice([0, 0, 1_000, 500_001])
                                   if rng.random() < 0.95 else None for i in range(count)],
                                  pa.timestamp("us", tz=rng.choice(["UTC", "+08:00"]))),
        "followers": pa.array([rng.choice([0, 5, -1, None, 2**40]) for _ in range(count)], pa.int64()),
        "following": pa.array([rng.choice([0, 3, None, 2**63 + 5]) for _ in range(count)], pa.uint64()),
        "default_profile": pa.array([rng.choice([True, False, None]) for _ in range(count)], pa.bool_()),
        "is_professional": pa.array([rng.choice(["true", "no", " yes", "maybe", None]) for _ in range(count)]),
        "status": pa.array([rng.choice(["active", "banned", "nope", None, ""]) for _ in range(count)]),
    })


@pytest.mark.parametrize("timestamps", ["aware us", "naive s", "naive ms", "naive ns", "text"])
def test_parquet_columns_of_each_type_are_staged_or_refused_as_the_row_rules_do(tmp_path, timestamps):
    import pyarrow as pa

    table = parquet_accounts(3000, seed=len(timestamps))
    column = table.column("registered_at")
    if timestamps == "naive s":
        column = pa.array([None if v is None else v // 1_000_000 for v in column.cast(pa.int64()).to_pylist()],
                          pa.timestamp("s"))
    elif timestamps == "naive ms":
        column = pa.array([None if v is None else v // 1000 for v in column.cast(pa.int64()).to_pylist()],
                          pa.timestamp("ms"))
    elif timestamps == "naive ns":
        column = pa.array([None if v is None else v * 1000 for v in column.cast(pa.int64()).to_pylist()],
                          pa.timestamp("ns"))
    elif timestamps == "text":
        column = pa.array([None if v is None else v.isoformat() for v in column.to_pylist()], pa.string())
    table = table.set_column(2, "registered_at", column)
    path = tmp_path / "accounts.parquet"
    pq.write_table(table, path)
    for tz in (timezone.utc, timezone(timedelta(hours=-3)), ZoneInfo("America/Sao_Paulo")):
        counts, _, rejects = assert_lanes_agree(path, tmp_path / str(tz).replace("/", "-"),
                                                IngestOptions(progress=False, tz=tz))
        assert counts[1] > 300 and counts[2] > 300


def test_a_parquet_row_python_cannot_hold_is_refused_as_the_row_reader_does(tmp_path):
    import pyarrow as pa

    folder = tmp_path / "accounts"
    folder.mkdir()
    for part in range(2):
        ticks = [1_719_792_000_000_000 + i for i in range(30)] + [400_000_000_000_000_000]  # year 12,000
        pq.write_table(pa.table({"account_id": [f"a{part}-{i}" for i in range(31)],
                                 "registered_at": pa.array(ticks, pa.timestamp("us", tz="UTC"))}),
                       folder / f"part-{part:05d}.parquet")
    _, rows, rejects = assert_lanes_agree(folder, tmp_path)
    assert "part-00001.parquet:31" in rejects and len(rows) == 60


def test_a_file_with_old_mac_line_ends_is_read_record_by_record_to_the_end(tmp_path):
    """No line feed at all: no block is ever cut, and past the cap the rest streams through the row reader."""
    path = tmp_path / "accounts.csv"
    path.write_bytes((ACCOUNTS + "\r" + "\r".join(account_lines(200)) + "\r").encode("utf-8"))
    options = IngestOptions(progress=False, limits=Limits(max_line_bytes=1024))
    counts, _, _ = assert_lanes_agree(path, tmp_path, options, block_bytes=128)
    assert counts[0] == 200


@settings(max_examples=300, deadline=None)
@given(micros=st.integers(int(-2.2e15), int(7.2e15)))
def test_epoch_millis_is_what_the_row_rules_stage(micros):
    """``int(moment.timestamp() * 1000)`` goes through a float; the vectorised form must land on the same
    millisecond, before 1970 too."""
    import numpy as np

    from ringscope.ingest.shape import epoch_ms

    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)
    assert columnar._epoch_millis(np.array([micros]))[0] == epoch_ms(moment)


TOPICS = ["#a;#b", " #a ; #b ", ";;", "", "#one", "#中文;#标签 二", "x" * 45 + ";#y", "#a;;", "\t#tab\t;#c",
          "#\u00a0nbsp\u00a0", ";#only", "#a, b;#c"]


def test_note_text_and_topics_are_staged_as_the_row_rules_do(tmp_path):
    path = tmp_path / "notes.csv"
    lines = ["note_id,account_id,posted_at,title,text,topics"] + [
        csv_line([f"n{i}", f"a{i % 7}", "2024-07-01T00:00:00Z", "t", TEXTS[i % len(TEXTS)] * (1 + i % 2),
                  TOPICS[i % len(TOPICS)]], i % 2 == 0) for i in range(300)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts, rows, rejects = assert_lanes_agree(path, tmp_path, IngestOptions(progress=False,
                                                                             limits=Limits(max_field_chars=40)))
    assert counts[2] > 0 and "topics is" in rejects  # over the cap: refused by both
    assert {tuple(r["topics"]) for r in rows if r["topics"]} >= {("#a", "#b"), ("#tab", "#c")}
    assert any(r["topics"] is None for r in rows)


def test_parquet_topics_as_text_or_as_a_list_are_staged_as_the_row_rules_do(tmp_path):
    for kind, column in (("text", pa.array([TOPICS[i % len(TOPICS)] for i in range(200)])),
                         ("list", pa.array([[t.strip() for t in TOPICS[i % len(TOPICS)].split(";")] if i % 5 else
                                            ["#bad;item"] if i % 10 else None for i in range(200)],
                                           pa.list_(pa.string())))):
        table = pa.table({"note_id": [f"n{i}" for i in range(200)], "account_id": ["a1"] * 200,
                          "posted_at": ["2024-07-01T00:00:00Z"] * 200, "text": ["body"] * 200, "topics": column})
        pq.write_table(table, tmp_path / f"{kind}.parquet")
        folder = tmp_path / kind / "notes"
        folder.mkdir(parents=True)
        (tmp_path / f"{kind}.parquet").rename(folder / "part-00000.parquet")
        counts, rows, _ = assert_lanes_agree(folder, tmp_path / kind, IngestOptions(progress=False,
                                                                                    limits=Limits(max_field_chars=40)))
        assert any(r["topics"] == ["#a", "#b"] for r in rows), kind


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.text(alphabet=st.sampled_from(list("#a中;, \t\u00a0\u3000\x0b\x0c\x1f\"")), max_size=14),
                       min_size=1, max_size=40))
def test_any_topics_text_is_split_and_trimmed_as_the_row_rules_do(tmp_path_factory, values):
    tmp = tmp_path_factory.mktemp("topics")
    path = tmp / "notes.csv"
    lines = ["note_id,account_id,posted_at,topics"] + [
        csv_line([f"n{i}", "a1", "2024-07-01T00:00:00Z", value], i % 2 == 0) for i, value in enumerate(values)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_lanes_agree(path, tmp, IngestOptions(progress=False, limits=Limits(max_field_chars=10)))
