"""Hostile input for ``ringscope ingest``: the probes of the hardening issue (items 6 and 7), each through the
public command, and a fuzz test of the readers and the validator.

Item 6, imports overwrite the tool's own decisions: a ``sanctions`` row reusing a ringscope sanction id, and
re-ingesting ``accounts`` after a ban. Item 7, one bad row stops a whole ingest: a 30-digit integer, year
9999 and other out-of-range timestamps, deep JSON nesting, a 300 MB line in a small gzip, values the
database cannot store, symbolic links in the dataset.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ringscope.commands.cli as cli
from ringscope.audit.log import verify
from ringscope.graph.admin import reset
from ringscope.graph.model import RINGSCOPE_SANCTION_ID
from ringscope.ingest import readers
from ringscope.ingest.load import IngestOptions, checked_rows, ingest
from ringscope.ingest.readers import FileFormatError, Table, classify
from ringscope.ingest.spec import SPECS, Limits
from ringscope.ingest.validate import Rejected, Validator
from ringscope.sanctions import service
from ringscope.sanctions.propagation import Decision, NodeRef
from tests.hostile.ingest_dataset import GOOD_ACCOUNTS, bad_rows_dataset, huge_line_gzip
from tests.ingest.datasets import snapshot, write_table
from tests.sanctions.conftest import ALICE, BOB

REPO = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"^(?P<name>\S+): read (?P<read>\d+), loaded (?P<loaded>\d+), rejected (?P<rejected>\d+)",
                     re.MULTILINE)


def run_ingest(capsys, directory: Path, rejects: Path, *extra: str) -> tuple[int, str]:
    code = cli.main(["ingest", str(directory), "--rejects-dir", str(rejects), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def summaries(out: str) -> dict[str, tuple[int, int, int]]:
    return {m["name"]: (int(m["read"]), int(m["loaded"]), int(m["rejected"])) for m in SUMMARY.finditer(out)}


def rejects_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def ids(graph, label: str, key: str) -> set[str]:
    return {r["id"] for r in graph.read(f"MATCH (x:{label}) WHERE NOT coalesce(x.stub, false) RETURN x.{key} AS id")}


# =========================================================================== item 6: ringscope's decisions

def ban(graph, account_id: str) -> str:
    """An approved permanent ban, as an officer and an approver make it; returns the preview id."""
    decision = Decision("bought_engagement", (NodeRef("Account", account_id),), reason="bought likes")
    shown = service.preview(graph, decision, ALICE)
    service.apply(graph, shown.preview_id, ALICE)
    service.approve(graph, shown.preview_id, BOB)
    return shown.preview_id


def account(graph, account_id: str) -> dict:
    return graph.read("MATCH (a:Account {account_id: $id}) RETURN a {.*} AS a", id=account_id)[0]["a"]


SANCTION_AND_TARGETS = """
MATCH (s:Sanction {sanction_id: $id})
RETURN s {.*} AS s, [(s)-[:TARGETS]->(x) | x.account_id] AS targets
"""


def test_the_ids_ringscope_gives_its_sanctions_are_the_reserved_id_space():
    """The validator refuses imported sanction ids of this form; every id ringscope makes has it."""
    for decision, effect in (("d", "e"), ("bought_engagement|Account:a1", "permanent_ban|Account:a1|4"), ("", "")):
        assert RINGSCOPE_SANCTION_ID.fullmatch(service.sanction_id(decision, effect))


def test_an_imported_sanction_reusing_a_ringscope_id_is_rejected_and_the_ban_stands(graph, tmp_path, capsys,
                                                                                      use_test_db):
    ds = tmp_path / "ds"
    write_table(ds, "accounts", [{"account_id": "v1", "registered_at": "2025-01-01T00:00:00Z", "status": "active"},
                                 {"account_id": "v2", "registered_at": "2025-01-01T00:00:00Z", "status": "active"}])
    assert run_ingest(capsys, ds, tmp_path / "rej")[0] == 0
    preview_id = ban(graph, "v1")
    (ours,) = [r["id"] for r in graph.read(
        "MATCH (s:Sanction {preview_id: $p, action: 'permanent_ban'}) RETURN s.sanction_id AS id", p=preview_id)]
    # A sanction ringscope made under an id of another form (an older version, say) is protected too.
    graph.write("MATCH (a:Account {account_id: 'v1'}) CREATE (:Sanction {sanction_id: 'legacy-7', source: 'ringscope', "
                "action: 'mute', state: 'active'})-[:TARGETS]->(a)")
    before = {i: graph.read(SANCTION_AND_TARGETS, id=i)[0] for i in (ours, "legacy-7")}
    audit_before = verify(graph)
    assert account(graph, "v1")["status"] == "banned"

    imports = tmp_path / "imports"
    write_table(imports, "sanctions", [
        {"sanction_id": ours, "target_type": "account", "target_id": "v2", "action": "warning",
         "reason": "platform", "issued_at": "2020-01-01T00:00:00Z", "expires_at": "2020-01-02T00:00:00Z"},
        {"sanction_id": "legacy-7", "target_type": "account", "target_id": "v2", "action": "warning",
         "reason": "platform", "issued_at": "2020-01-01T00:00:00Z", "expires_at": "2020-01-02T00:00:00Z"},
        {"sanction_id": "P-1001", "target_type": "account", "target_id": "v2", "action": "mute",
         "reason": "platform", "issued_at": "2025-01-01T00:00:00Z", "expires_at": ""},
    ])
    code, out = run_ingest(capsys, imports, tmp_path / "rej")
    assert code == 0, out
    assert summaries(out)["sanctions.csv"][2] == 1  # the reserved id; legacy-7 is stopped by the writer
    (reject,) = rejects_of(tmp_path / "rej" / "sanctions.csv.rejects.csv")
    assert reject["line"] == "2" and "has the form ringscope gives the sanctions it makes" in reject["reason"]

    after = {i: graph.read(SANCTION_AND_TARGETS, id=i)[0] for i in (ours, "legacy-7")}
    assert after == before  # not a property changed, no target added
    assert account(graph, "v1")["status"] == "banned"
    assert graph.read(SANCTION_AND_TARGETS, id="P-1001")[0]["s"]["source"] == "import"  # the platform's own: loaded
    assert verify(graph).ok and verify(graph).entries == audit_before.entries


def test_re_ingesting_accounts_after_a_ban_keeps_the_ban_and_updates_the_platform_status(graph, tmp_path, capsys,
                                                                                         use_test_db):
    ds = tmp_path / "ds"
    rows = [{"account_id": "w1", "registered_at": "2025-01-01T00:00:00Z", "status": "active"},
            {"account_id": "w2", "registered_at": "2025-01-01T00:00:00Z", "status": "active"}]
    write_table(ds, "accounts", rows)
    assert run_ingest(capsys, ds, tmp_path / "rej")[0] == 0
    preview_id = ban(graph, "w1")
    assert (account(graph, "w1")["status"], account(graph, "w1")["base_status"]) == ("banned", "active")

    # The same export again: the ban stays in force.
    code, out = run_ingest(capsys, ds, tmp_path / "rej", "--restart")
    assert code == 0, out
    assert (account(graph, "w1")["status"], account(graph, "w1")["base_status"]) == ("banned", "active")

    # The platform has since limited w1 and muted w2: the base under the ban follows the file, the ban stays;
    # w2, which ringscope never sanctioned, simply takes the platform's status.
    rows[0]["status"], rows[1]["status"] = "limited", "muted"
    write_table(ds, "accounts", rows)
    code, out = run_ingest(capsys, ds, tmp_path / "rej")
    assert code == 0, out
    assert "statuses: 1 account(s) ringscope has sanctioned got a new platform status" in out
    w1 = account(graph, "w1")
    assert (w1["status"], w1["base_status"], w1.get("status_stale")) == ("banned", "limited", None)
    assert account(graph, "w2")["status"] == "muted"
    once = snapshot(graph)
    assert run_ingest(capsys, ds, tmp_path / "rej", "--restart")[0] == 0
    assert snapshot(graph) == once  # loading it twice is loading it once, sanctions and all

    # The appeal is granted: w1 returns to what the platform says, not to what it said before.
    service.revoke(graph, preview_id, BOB, "appeal granted")
    assert account(graph, "w1")["status"] == "limited"


def test_a_load_stopped_before_the_status_recompute_is_finished_by_the_next_run(graph, tmp_path, capsys,
                                                                                use_test_db):
    ds = tmp_path / "ds"
    write_table(ds, "accounts", [{"account_id": "x1", "registered_at": "2025-01-01T00:00:00Z", "status": ""}])
    assert run_ingest(capsys, ds, tmp_path / "rej")[0] == 0
    ban(graph, "x1")
    write_table(ds, "accounts", [{"account_id": "x1", "registered_at": "2025-01-01T00:00:00Z", "status": "muted"}])
    # The file loads but the command never gets to the recompute (killed, say): the ban is still in force.
    ingest(graph, ds, IngestOptions(rejects_dir=tmp_path / "rej"))
    x1 = account(graph, "x1")
    assert (x1["status"], x1["base_status"], x1["status_stale"]) == ("banned", "muted", True)
    code, out = run_ingest(capsys, ds, tmp_path / "rej")
    assert code == 0 and "already loaded before (resumed)" in out
    x1 = account(graph, "x1")
    assert (x1["status"], x1["base_status"], x1.get("status_stale")) == ("banned", "muted", None)


# =========================================================================== item 7: one bad row, one reject

def test_each_bad_row_is_rejected_with_its_reason_and_every_later_file_loads(graph, tmp_path, capsys, use_test_db):
    ds = tmp_path / "ds"
    expected = bad_rows_dataset(ds)
    # A Parquet timestamp Python cannot hold (year 300,000): the reader itself used to stop there.
    pq.write_table(pa.table({"note_id": ["hn1", "hn2"], "account_id": ["h1", "h1"],
                             "posted_at": pa.array([1_735_689_600, 9_400_000_000_000], type=pa.timestamp("s"))}),
                   ds / "notes.parquet")
    expected["notes.parquet"] = [(2, "posted_at cannot be read")]

    code, out = run_ingest(capsys, ds, tmp_path / "rej")
    assert code == 0, out
    assert "Traceback" not in out
    counts = summaries(out)
    for name, bad in expected.items():
        read, loaded, rejected = counts[name]
        assert rejected == len(bad) and read == loaded + rejected, (name, counts[name])
        got = [(int(r["line"]), r["reason"]) for r in rejects_of(tmp_path / "rej" / f"{name}.rejects.csv")]
        assert len(got) == len(bad), (name, got)
        for (line, reason), (want_line, fragment) in zip(got, bad):
            assert line == want_line and fragment in reason, (name, line, reason)
    assert counts["devices.csv"] == (1, 1, 0) and counts["likes.csv"] == (1, 1, 0)

    assert ids(graph, "Account", "account_id") == set(GOOD_ACCOUNTS)
    assert ids(graph, "Comment", "comment_id") == {"hc1", "hc2"}
    assert ids(graph, "Note", "note_id") == {"hn1"}
    assert ids(graph, "Device", "device_id") == {"hd1"}
    assert graph.read("MATCH (:Account {account_id: 'h2'})-[l:LIKED]->(:Note {note_id: 'hn1'}) "
                      "RETURN count(l) AS n")[0]["n"] == 1
    # The over-long line's reject keeps its beginning only, and says so.
    long_reject = rejects_of(tmp_path / "rej" / "comments.jsonl.rejects.csv")[-1]
    assert "the raw column keeps only its first 4,096 bytes" in long_reject["reason"]
    assert len(long_reject["raw"]) <= 4096 and long_reject["raw"].startswith('{"comment_id": "long"')


# The peak memory of the command itself: VmHWM of this process image (ru_maxrss would also count the
# peak of the pytest process it was forked from).
MEASURED_INGEST = """
import re, sys
from pathlib import Path
from ringscope.commands.cli import main
code = main(sys.argv[1:])
print("PEAK_KB", re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1])
sys.exit(code)
"""


@pytest.mark.slow
def test_a_300_mb_line_in_a_small_gzip_is_rejected_in_bounded_memory(graph, tmp_path, cli_env):
    ds = tmp_path / "ds"
    ds.mkdir()
    huge_line_gzip(ds / "comments.jsonl.gz", megabytes=300)
    assert (ds / "comments.jsonl.gz").stat().st_size < 2 << 20
    (ds / "likes.csv").write_text("account_id,note_id\ng1,gn1\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", MEASURED_INGEST, "ingest", str(ds), "--rejects-dir",
                           str(tmp_path / "rej")], env=cli_env, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    peak_mb = int(re.search(r"PEAK_KB (\d+)", done.stdout)[1]) / 1024
    assert peak_mb < 500, f"peak memory {peak_mb:.0f} MB for a 1 MB line cap"  # whole line: 2.5 GB
    assert summaries(done.stdout)["comments.jsonl.gz"] == (3, 2, 1)
    assert summaries(done.stdout)["likes.csv"] == (1, 1, 0)
    (reject,) = rejects_of(tmp_path / "rej" / "comments.jsonl.gz.rejects.csv")
    assert reject["line"] == "2"
    assert "line is 314,572,8" in reject["reason"] and "keeps only its first 4,096 bytes" in reject["reason"]
    assert ids(graph, "Comment", "comment_id") == {"gc1", "gc2"}


def test_the_caps_are_settings_and_a_bad_one_is_named(graph, tmp_path, capsys, use_test_db, monkeypatch):
    ds = tmp_path / "ds"
    write_table(ds, "accounts", [
        {"account_id": "c1", "registered_at": "2025-01-01T00:00:00Z", "bio": "short"},
        {"account_id": "c2", "registered_at": "2025-01-01T00:00:00Z", "bio": "b" * 61},
        {"account_id": "c3", "registered_at": "2025-01-01T00:00:00Z", "bio": "l" * 50 + "," * 3000},
    ])
    monkeypatch.setenv("RINGSCOPE_INGEST_MAX_FIELD_CHARS", "60")
    code, out = run_ingest(capsys, ds, tmp_path / "rej", "--max-line-bytes", "2k")
    assert code == 0, out
    assert summaries(out)["accounts.csv"] == (3, 1, 2)
    field, line = rejects_of(tmp_path / "rej" / "accounts.csv.rejects.csv")
    assert "bio is 61 characters long, over the cap of 60 (RINGSCOPE_INGEST_MAX_FIELD_CHARS)" in field["reason"]
    assert "over the cap of 2,048 (RINGSCOPE_INGEST_MAX_LINE_BYTES)" in line["reason"]

    monkeypatch.setenv("RINGSCOPE_INGEST_MAX_LINE_BYTES", "lots")
    code, out = run_ingest(capsys, ds, tmp_path / "rej")
    assert code == 2 and "RINGSCOPE_INGEST_MAX_LINE_BYTES='lots' is not a size" in out
    assert "Traceback" not in out


def test_extra_columns_never_set_what_ringscope_keeps_or_names_neo4j_refuses(graph, tmp_path, capsys, use_test_db):
    ds = tmp_path / "ds"
    ds.mkdir()
    # An empty column name, and names of ringscope's own properties, kept "as properties" when asked.
    (ds / "devices.csv").write_text("device_id,,stub,status,base_status,colour\nkd1,x,true,banned,banned,red\n",
                                    encoding="utf-8")
    (ds / "brands.jsonl").write_text(json.dumps({"brand_id": "kb1", "tier": "gold"}) + "\n"
                                     + json.dumps({"brand_id": "kb2", "tier": "silver", "\u0000": 1, "x" * 40: 2})
                                     + "\n", encoding="utf-8")
    code, out = run_ingest(capsys, ds, tmp_path / "rej", "--keep-unknown-columns")
    assert code == 0, out
    assert "'' (not a usable property name)" in out and "stub (ringscope keeps that property itself)" in out
    device = graph.read("MATCH (d:Device {device_id: 'kd1'}) RETURN d {.*} AS d")[0]["d"]
    assert device == {"device_id": "kd1", "stub": False, "colour": "red"}
    brand = graph.read("MATCH (b:Brand {brand_id: 'kb2'}) RETURN b {.*} AS b")[0]["b"]
    assert brand == {"brand_id": "kb2", "stub": False, "tier": "silver"}  # keys the first line did not name: dropped


@pytest.mark.parametrize("name", ["a{b", "c}d", "e(f", "g)h", "i:j"])
def test_a_kept_column_named_with_importer_header_syntax_loads_incrementally_and_is_kept(
        graph, tmp_path, capsys, use_test_db, name):
    """The importer's header reads ``name:type{options}``: a kept column ``ð{Mv`` (found by the end-to-end
    fuzz test) made the bulk import fail. Such a dataset goes through the incremental path instead."""
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "devices.jsonl").write_text(json.dumps({"device_id": "hd1", name: "v"}) + "\n", encoding="utf-8")
    code, out = run_ingest(capsys, ds, tmp_path / "rej", "--keep-unknown-columns")
    assert code == 0, out
    assert "cannot carry" in out, out
    device = graph.read("MATCH (d:Device {device_id: 'hd1'}) RETURN d {.*} AS d")[0]["d"]
    assert device == {"device_id": "hd1", "stub": False, name: "v"}


def test_symbolic_links_pipes_and_devices_are_skipped_and_a_link_target_is_never_named(graph, tmp_path, cli_env):
    outside = tmp_path / "outside-secret-place"
    outside.mkdir()
    (outside / "hidden-target-name.csv").write_text("device_id\nstolen\n", encoding="utf-8")
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "accounts.csv").write_text("account_id,registered_at\nl1,2025-01-01T00:00:00Z\n", encoding="utf-8")
    (ds / "devices.csv").symlink_to(outside / "hidden-target-name.csv")
    (ds / "notes.csv").symlink_to(outside)
    (ds / "brands.csv").symlink_to(tmp_path / "dangling-target-name")
    os.mkfifo(ds / "intermediaries.csv")  # opening it would wait for a writer forever
    done = subprocess.run([sys.executable, "-m", "ringscope.commands", "ingest", str(ds), "--rejects-dir",
                           str(tmp_path / "rej")], env=cli_env, capture_output=True, text=True, timeout=120, cwd=REPO)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    for name in ("devices.csv", "notes.csv", "brands.csv"):
        assert f"skipped {name}: a symbolic link; not followed" in out
    assert "skipped intermediaries.csv: not a regular file" in out
    assert "outside-secret-place" not in out and "target-name" not in out
    assert ids(graph, "Device", "device_id") == set() and ids(graph, "Account", "account_id") == {"l1"}


def test_a_column_named_like_the_readers_error_marker_is_only_a_column(tmp_path):
    """The reader's "this row is bad" used to travel as a value under ``__error__``: a file with such a
    column had every row rejected, with a reason the file chose."""
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,registered_at,__error__\nm1,2025-01-01T00:00:00Z,all is well\n", encoding="utf-8")
    with Table(classify(path)) as table:
        validator = Validator(SPECS["accounts"], table.columns)
        ((row, typed, why),) = list(checked_rows(table, validator))
    assert why == "" and typed["account_id"] == "m1"


# =========================================================================== fuzz: the readers and the validator

NAME = "accounts"
COLUMNS = ["account_id", "registered_at", "followers", "nickname", "bio", "status", "colour"]
NASTY = ["", '"', '""', ",", "\r", "\n", "\r\n", " ", "\x00", "\ufeff", "\ud800", "é", "小红书", "😀" * 3,
         "2025-01-01T00:00:00Z", "2025-01-01", "9999-12-31T23:59:59", "0001-01-01T00:00:00+01:00",
         "1" * 30, "9" * 5000, "-1", "1e400", "1.5", "nan", "active", "banned", "S-0123456789abcdef", "x" * 5000]
# Pieces that break CSV quoting and line splitting when they meet inside one value.
PIECES = ['"', '""', ",", "\r", "\n", "\r\n", " ", "a", "\x00", "é", "\ud800", "x" * 150]
# Values just past what the database and the detectors hold.
EDGES = ["\ud800", "a\udfffb", str(1 << 63), str((1 << 63) - 1), str(-(1 << 63) - 1), "1e19", "2200-01-01T00:00:00Z",
         "2199-12-31T23:59:59Z", "1899-12-31T23:59:59Z", "1900-01-01T00:00:00+01:00", "9999-12-31T23:59:59-00:01"]
hostile = st.one_of(st.sampled_from(NASTY), st.sampled_from(EDGES),
                    st.text(st.characters(exclude_categories=()), max_size=30),
                    st.lists(st.sampled_from(PIECES), min_size=2, max_size=8).map("".join),
                    st.integers(-(10 ** 25), 10 ** 25).map(str))
# A good value of each kind, so that most rows fail (if at all) on the hostile values alone.
GOOD = {
    "id": st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
    "text": st.text(max_size=20),
    "ts": st.datetimes(datetime(1950, 1, 1), datetime(2150, 1, 1)).map(lambda t: t.isoformat() + "Z"),
    "count": st.integers(0, (1 << 63) - 1).map(str),
    "bool": st.sampled_from(["true", "FALSE", "1", "no"]),
    # A topics cell as CSV writes it (`;`-separated) or as JSON and Parquet carry it (a list).
    "topics": st.one_of(st.lists(st.from_regex(r"#[a-z0-9]{1,6}", fullmatch=True), max_size=4).map(";".join),
                        st.lists(st.text(max_size=8), max_size=4)),
}


def good(column) -> st.SearchStrategy:
    return st.sampled_from(column.choices) if column.kind == "enum" else GOOD[column.kind]


@st.composite
def csv_row(draw) -> list[str]:
    """A good value in each column but one or two hostile ones, so each hostile value meets the rules alone."""
    spec = {c.name: c for c in SPECS[NAME].columns}
    row = [draw(good(spec[name]) if name in spec else st.text(max_size=10)) for name in COLUMNS]
    for i in draw(st.lists(st.integers(0, len(COLUMNS) - 1), max_size=2)):
        row[i] = draw(hostile)
    return row


csv_rows = st.lists(csv_row(), max_size=12)
LIMITS = Limits(max_line_bytes=4096, max_field_chars=200)
CHUNKS = st.sampled_from([1, 2, 3, 5, 64, readers.CHUNK])


def storable_problem(column: str, value) -> str | None:
    """What the database or the detectors could not take, judged without the validator's own rules."""
    if value is None or isinstance(value, (bool, float)):
        return None
    if isinstance(value, int):
        return None if -(1 << 63) <= value < (1 << 63) else "integer beyond 64 bits"
    if isinstance(value, datetime):
        ok = value.tzinfo is not None and 1678 <= value.year <= 2261
        return None if ok else "timestamp the detectors' datetime64[ns] cannot hold"
    if isinstance(value, dict):
        return next((p for k, v in value.items() if (p := storable_problem(k, v))), None)
    if isinstance(value, list):  # a topics list: Neo4j stores a non-empty list of strings as one property
        if not value or not all(isinstance(item, str) and item for item in value):
            return "an empty list or one with an empty or non-string item"
        return next((p for item in value if (p := storable_problem(column, item))), None)
    if isinstance(value, str):
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            return "not encodable as UTF-8"
        if len(value) > LIMITS.max_field_chars:
            return "longer than the field cap"
        spec = {c.name: c for c in SPECS[NAME].columns}.get(column)
        return "too large to index" if spec and spec.indexed and size > 8000 else None
    return f"a {type(value).__name__}"


def read_everything(path: Path, chunk: int = readers.CHUNK) -> tuple[int, list[dict | None], list[tuple[int, str, str]]]:
    """What ingest would do with each row of ``path`` (the same rules, no database), reading ``chunk`` bytes at a
    time: the typed values of each row read, in order (None where it is rejected), and the rejects (line,
    reason, raw)."""
    outcomes, rejected = [], []
    default, readers.CHUNK = readers.CHUNK, chunk  # small chunks put chunk ends inside lines and \r\n pairs
    try:
        with Table(classify(path), LIMITS) as table:
            validator = Validator(SPECS[NAME], table.columns, keep_unknown=True, limits=LIMITS)
            for row, typed, why in checked_rows(table, validator):
                outcomes.append(typed)
                if typed is None:
                    rejected.append((row.line, why, row.raw))
    finally:
        readers.CHUNK = default
    return len(outcomes), outcomes, rejected


def assert_accounted_for(read: int, outcomes: list[dict | None], rejected: list[tuple[int, str, str]]) -> None:
    loaded = [typed for typed in outcomes if typed is not None]
    assert read == len(loaded) + len(rejected)
    assert all(why for _, why, _ in rejected)
    lines = [line for line, _, _ in rejected]
    assert lines == sorted(set(lines))
    for row in loaded:
        for column, value in row.items():
            assert storable_problem(column, value) is None, (column, value, storable_problem(column, value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=csv_rows, gz=st.booleans(), chunk=CHUNKS)
def test_fuzz_csv_every_record_is_loaded_unchanged_or_rejected_with_a_reason(tmp_path_factory, rows, gz, chunk):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8", "surrogatepass")  # a lone surrogate becomes bytes that are not UTF-8
    path = tmp_path_factory.mktemp("csv") / ("accounts.csv.gz" if gz else "accounts.csv")
    path.write_bytes(gzip.compress(data) if gz else data)

    read, outcomes, rejected = read_everything(path, chunk)
    assert read == len(rows)  # the splitter cuts records exactly where the csv module does
    assert_accounted_for(read, outcomes, rejected)
    for row, typed in zip(rows, outcomes):  # what loads is what was written
        if typed is not None:
            original = dict(zip(COLUMNS, row))
            for column in ("account_id", "nickname", "bio"):
                assert typed[column] == (original[column] or None)
            assert typed.get("extra", {}).get("colour") == (original["colour"] or None)


json_scalars = st.one_of(st.none(), st.booleans(), st.floats(), st.integers(-(10 ** 30), 10 ** 30), hostile,
                         st.sampled_from([1 << 63, -(1 << 63) - 1, (1 << 63) - 1, 10 ** 30, 2 ** 64]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)
# Objects of a good row with one or two hostile values, then maybe any values under any keys on top.
jsonl_objects = st.tuples(csv_row(), st.dictionaries(st.sampled_from(COLUMNS) | st.text(max_size=4), json_values,
                                                     max_size=2)
                          ).map(lambda pair: {**dict(zip(COLUMNS, pair[0])), **pair[1]})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(objects=st.lists(jsonl_objects, min_size=1, max_size=10),
       garbage=st.lists(st.tuples(st.integers(0, 10), st.binary(max_size=60)), max_size=4),
       deep=st.sampled_from([0, 100, 3000]), ascii=st.booleans(), chunk=CHUNKS)
def test_fuzz_jsonl_never_a_traceback_and_the_counts_add_up(tmp_path_factory, objects, garbage, deep, ascii, chunk):
    # ensure_ascii writes a lone surrogate as the escape \ud800 (a JSON string the validator must refuse),
    # else as bytes that are not UTF-8 (a line the reader must refuse)
    lines = [json.dumps(o, ensure_ascii=ascii).encode("utf-8", "surrogatepass") for o in objects]
    for at, junk in garbage:
        lines.insert(at, junk)
    if deep:
        lines.insert(1, b'{"account_id": "d", "bio": ' + b"[" * deep + b"]" * deep + b"}")
    path = tmp_path_factory.mktemp("jsonl") / "accounts.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    try:
        read, outcomes, rejected = read_everything(path, chunk)
    except FileFormatError as exc:  # the first line that can be read is not a JSON object: a file-level message
        assert "accounts.jsonl: line" in str(exc) and "expected JSON Lines" in str(exc)
        return
    assert_accounted_for(read, outcomes, rejected)


@settings(max_examples=400, deadline=None)
@given(stem=st.sampled_from(sorted(SPECS)), raw=st.data())
def test_fuzz_validator_a_row_is_typed_and_storable_or_rejected(stem, raw):
    spec = SPECS[stem]
    names = [c.name for c in spec.columns] + ["colour", "stub", ""]
    row = {c.name: raw.draw(good(c)) for c in spec.columns}  # a good row, then a few hostile values in it
    row.update(raw.draw(st.dictionaries(st.sampled_from(names), json_scalars | json_values
                                        | st.datetimes(timezones=st.sampled_from([None, timezone.utc])),
                                        min_size=1, max_size=2)))
    validator = Validator(spec, names, keep_unknown=True, limits=LIMITS)
    try:
        typed = validator.convert(row)
    except Rejected as why:
        assert str(why)
        return
    for column, value in typed.items():
        assert storable_problem(column, value) is None, (stem, column, value)
    assert set(typed.get("extra", {})) <= {"colour"}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=csv_rows,
       objects=st.lists(jsonl_objects, min_size=1, max_size=6))
def test_fuzz_end_to_end_through_ringscope_ingest(session_graph, use_test_db, tmp_path_factory, capsys, rows,
                                                   objects):
    reset(session_graph)
    ds = tmp_path_factory.mktemp("e2e")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    (ds / "accounts.csv").write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    (ds / "devices.jsonl").write_bytes(b"\n".join(
        json.dumps({**o, "device_id": str(o.get("account_id"))}).encode() for o in objects) + b"\n")
    rejects = ds / "rejects"
    code, out = run_ingest(capsys, ds, rejects, "--keep-unknown-columns", "--max-field-chars", "200",
                           "--max-line-bytes", "4k")
    assert code == 0, out
    counts = summaries(out)
    for name in ("accounts.csv", "devices.jsonl"):
        read, loaded, rejected = counts[name]
        assert read == loaded + rejected
        reject_file = rejects / f"{name}.rejects.csv"
        assert (len(rejects_of(reject_file)) if reject_file.exists() else 0) == rejected
    _, expected, _ = read_everything(ds / "accounts.csv")
    assert ids(session_graph, "Account", "account_id") == {r["account_id"] for r in expected if r is not None}
