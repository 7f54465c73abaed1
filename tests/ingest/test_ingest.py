"""Ingest against the real Neo4j: every rule of the input format's "Bad input" section."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import ringscope.commands.cli as cli
from ringscope.ingest.load import IngestOptions, ingest
from ringscope.queries.stats import graph_stats
from tests.ingest.datasets import snapshot, write_platform, write_table

pytestmark = pytest.mark.neo4j


def load(graph, directory: Path, tmp_path: Path, **kw):
    return ingest(graph, directory, IngestOptions(rejects_dir=tmp_path / "rejects", **kw))


def counts(graph) -> dict[str, int]:
    return {c.kind: c.count for c in graph_stats(graph)}


def test_a_whole_platform_loads_with_every_relationship(graph, tmp_path):
    report = load(graph, write_platform(tmp_path / "ds"), tmp_path)
    assert not report.failed, [f.line() for f in report.files]
    c = counts(graph)
    assert c["Account"] == 4  # three defined and the stub "ghost"
    for kind, n in {"Device": 2, "Note": 2, "Comment": 4, "Order": 1, "Brand": 1, "Intermediary": 1,
                    "Sanction": 2, "GroundTruth": 3, "USED_DEVICE": 3, "LOGGED_IN_FROM": 2,
                    "REGISTERED_FROM": 2, "HAS_PHONE": 2, "IN_PHONE_SEGMENT": 3, "IN_SEGMENT": 2,
                    "POSTED": 2, "PROMOTES": 1, "WROTE": 3, "ON": 3, "REPLIES_TO": 2, "FROM_DEVICE": 2,
                    "FROM_IP": 2, "LIKED": 1, "FOLLOWS": 1, "MANAGES": 2, "PLACED_BY": 1, "TAKEN_BY": 1,
                    "ASSIGNED_TO": 1, "FOR_NOTE": 1, "TARGETS": 2}.items():
        assert c.get(kind) == n, kind
    # The sanction on a device targets the Device node, chosen by target_type.
    rows = graph.read("MATCH (s:Sanction {sanction_id: 's2'})-[:TARGETS]->(d:Device) RETURN d.device_id AS id")
    assert [r["id"] for r in rows] == ["d2"]


def test_the_trending_list_and_client_columns_load_and_read_back_as_frames(graph, tmp_path):
    from ringscope.detection.reader import read_platform

    report = load(graph, write_platform(tmp_path / "ds"), tmp_path)
    assert not report.failed, [f.line() for f in report.files]
    rows = graph.read("MATCH (e:TrendingEntry) RETURN e.entry_id AS id, e.topic AS topic, e.rank AS rank, "
                      "e.score AS score, e.captured_at AS at ORDER BY id")
    assert [(r["topic"], r["rank"], r["score"]) for r in rows] == [("#粉底液", 2, 5400), ("#粉底液", 1, None)]
    assert rows[0]["id"] == f"#粉底液@{int(rows[0]['at'].timestamp() * 1000)}"
    note = graph.read("MATCH (n:Note {note_id: 'n1'}) RETURN n.client AS client, n.posted_via AS via")[0]
    assert note == {"client": "RED/8.41.0 (iOS 17.5)", "via": "app"}
    frames = read_platform(graph)
    assert list(frames.trending["topic"]) == ["#粉底液", "#粉底液"] and list(frames.trending["rank"]) == [2, 1]
    assert frames.notes.set_index("note_id").loc["n1", "topics"] == ["#粉底液", "#油皮"]
    assert frames.comments.set_index("comment_id").loc["c1", "posted_via"] == "api"
    load(graph, write_platform(tmp_path / "ds"), tmp_path)  # again: the same entries, none added
    assert graph.read("MATCH (e:TrendingEntry) RETURN count(e) AS n")[0]["n"] == 2


def test_chinese_text_and_emoji_survive_the_round_trip(graph, tmp_path):
    for fmt in ("csv", "jsonl.gz", "parquet"):
        from ringscope.graph.admin import reset
        reset(graph)
        load(graph, write_platform(tmp_path / fmt, fmt), tmp_path)
        rows = graph.read("MATCH (c:Comment {comment_id: 'c2'}) RETURN c.text AS text")
        assert rows[0]["text"] == "链接私你了😉", fmt
        rows = graph.read("MATCH (a:Account {account_id: 'a2'}) RETURN a.nickname AS n")
        assert rows[0]["n"] == "Lily 🌸", fmt


def test_every_format_gives_the_same_graph(graph, tmp_path):
    from ringscope.graph.admin import reset

    shots = {}
    for fmt in ("csv", "csv.gz", "jsonl", "jsonl.gz", "parquet"):
        reset(graph)
        report = load(graph, write_platform(tmp_path / fmt.replace(".", "_"), fmt), tmp_path)
        assert not report.failed, fmt
        nodes, rels = snapshot(graph)
        # Checkpoints name the file, which differs per format.
        shots[fmt] = ([n for n in nodes if "IngestCheckpoint" not in str(n[0])], rels)
    assert all(shot == shots["csv"] for shot in shots.values())


def test_values_are_typed(graph, tmp_path):
    load(graph, write_platform(tmp_path / "ds"), tmp_path)
    a1 = graph.read("MATCH (a:Account {account_id: 'a1'}) RETURN a AS a")[0]["a"]
    assert a1["followers"] == 3 and a1["default_profile"] is True and a1["is_professional"] is False
    assert a1["registered_at"] == datetime(2025, 1, 1, 2, 0, tzinfo=timezone.utc)
    a3 = graph.read("MATCH (a:Account {account_id: 'a3'}) RETURN a.status AS s")[0]["s"]
    assert a3 == "active"  # the default when status is empty


def test_timestamps_without_offset_are_read_in_the_named_time_zone(graph, tmp_path):
    write_table(tmp_path / "ds", "accounts", [{"account_id": "tz1", "registered_at": "2025-01-01T08:00:00"}])
    load(graph, tmp_path / "ds", tmp_path, tz=ZoneInfo("Asia/Shanghai"))
    moment = graph.read("MATCH (a:Account {account_id: 'tz1'}) RETURN a.registered_at AS t")[0]["t"]
    assert moment == datetime(2025, 1, 1, 0, 0, tzinfo=timezone.utc)


def test_bad_rows_go_to_the_rejects_file_and_the_rest_loads(graph, tmp_path):
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "accounts.csv").write_text(
        "account_id,registered_at,followers,status\n"
        "ok1,2025-01-01T00:00:00Z,1,active\n"
        "bad1,not a time,1,active\n"
        ",2025-01-01T00:00:00Z,1,active\n"
        "bad3,2025-01-01T00:00:00Z,-5,active\n"
        "bad4,2025-01-01T00:00:00Z,1,vanished\n"
        "ok2,2025-01-01T00:00:00Z,,\n", encoding="utf-8")
    report = load(graph, ds, tmp_path)
    (result,) = report.files
    assert (result.read, result.loaded, result.rejected) == (6, 2, 4)
    assert not report.failed  # bad rows do not fail the file
    with open(result.rejects_file, encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert [r["line"] for r in rejects] == ["3", "4", "5", "6"]
    assert "registered_at='not a time' is not an ISO 8601 timestamp" in rejects[0]["reason"]
    assert "missing required value in column account_id" in rejects[1]["reason"]
    assert "followers=-5 is negative" in rejects[2]["reason"]
    assert "status='vanished'" in rejects[3]["reason"]
    assert rejects[0]["raw"] == "bad1,not a time,1,active"  # unchanged
    assert counts(graph)["Account"] == 2


def test_a_file_missing_a_required_column_fails_alone_naming_file_and_column(graph, tmp_path, capsys, use_test_db):
    ds = tmp_path / "ds"
    write_table(ds, "accounts", [{"account_id": "x1", "registered_at": "2025-01-01"}])
    write_table(ds, "devices", [{"model": "no id column"}])
    write_table(ds, "brands", [{"brand_id": "b1", "name": "ok"}])
    code = cli.main(["ingest", str(ds), "--rejects-dir", str(tmp_path / "rej")])
    out = capsys.readouterr().out
    assert code != 0
    assert "devices.csv: FAILED:" in out and "required column(s) device_id missing" in out
    assert "found columns: model" in out
    assert "accounts.csv: read 1, loaded 1" in out and "brands.csv: read 1, loaded 1" in out
    assert counts(graph)["Brand"] == 1


def test_unknown_files_and_columns_are_reported(graph, tmp_path, capsys, use_test_db):
    ds = tmp_path / "ds"
    write_table(ds, "accounts", [{"account_id": "u1", "registered_at": "2025-01-01", "shoe_size": "42"}])
    write_table(ds, "purchases", [{"x": "1"}])
    (ds / "notes.txt").write_text("hello")
    assert cli.main(["ingest", str(ds), "--rejects-dir", str(tmp_path / "rej")]) == 0
    out = capsys.readouterr().out
    assert "skipped purchases.csv: unknown kind of file 'purchases'" in out
    assert "skipped notes.txt: not a data file" in out
    assert "unknown column(s) shoe_size dropped" in out
    assert graph.read("MATCH (a:Account {account_id: 'u1'}) RETURN a.shoe_size AS s")[0]["s"] is None
    assert cli.main(["ingest", str(ds), "--keep-unknown-columns", "--restart",
                     "--rejects-dir", str(tmp_path / "rej")]) == 0
    assert "shoe_size kept as properties" in capsys.readouterr().out
    assert graph.read("MATCH (a:Account {account_id: 'u1'}) RETURN a.shoe_size AS s")[0]["s"] == "42"


def test_dangling_references_create_counted_stubs_that_real_rows_later_fill(graph, tmp_path):
    ds = tmp_path / "ds"
    write_table(ds, "comments", [
        {"comment_id": "k1", "account_id": "nobody", "note_id": "nowhere", "created_at": "2025-01-01",
         "reply_to": "k2"},
        {"comment_id": "k2", "account_id": "nobody", "note_id": "nowhere", "created_at": "2025-01-01",
         "reply_to": "k404"},
    ])
    report = load(graph, ds, tmp_path)
    # one account, one note, and the comment k404; k2 is defined in the same file, so not a stub
    assert report.files[0].stubs == 3
    stubs = graph.read("MATCH (n {stub: true}) RETURN labels(n)[0] AS label ORDER BY label")
    assert [r["label"] for r in stubs] == ["Account", "Comment", "Note"]
    write_table(tmp_path / "ds2", "accounts", [{"account_id": "nobody", "registered_at": "2025-01-01"}])
    load(graph, tmp_path / "ds2", tmp_path)
    assert graph.read("MATCH (a:Account {account_id: 'nobody'}) RETURN a.stub AS s")[0]["s"] is False


def test_loading_twice_leaves_the_graph_exactly_as_loading_once(graph, tmp_path):
    ds = write_platform(tmp_path / "ds")
    load(graph, ds, tmp_path)
    once = snapshot(graph)
    again = load(graph, ds, tmp_path, restart=True)  # every batch written again, no checkpoint shortcut
    assert all(f.stubs == 0 for f in again.files)
    assert snapshot(graph) == once
    resumed = load(graph, ds, tmp_path)  # with checkpoints: nothing to do
    assert all(f.resumed == f.loaded for f in resumed.files)
    assert snapshot(graph) == once


def as_part_folders(source: Path, target: Path) -> Path:
    """The Parquet dataset in `source` with every kind as a folder of two part files (rows split in half)."""
    import pyarrow.parquet as pq

    for path in sorted(source.glob("*.parquet")):
        table = pq.read_table(path)
        folder = target / path.name.removesuffix(".parquet")
        folder.mkdir(parents=True)
        half = table.num_rows // 2
        pq.write_table(table.slice(0, half), folder / "part-00000.parquet")
        pq.write_table(table.slice(half), folder / "part-00001.parquet")
        (folder / "_SUCCESS").write_text("")
    return target


def test_folders_of_part_files_give_the_same_graph_as_single_files(graph, tmp_path):
    from ringscope.graph.admin import reset

    single = write_platform(tmp_path / "single", "parquet")
    assert not load(graph, single, tmp_path).failed
    nodes, rels = snapshot(graph)
    expected = ([n for n in nodes if "IngestCheckpoint" not in str(n[0])], rels)
    reset(graph)
    report = load(graph, as_part_folders(single, tmp_path / "parts"), tmp_path)
    assert not report.failed and not report.skipped, [f.line() for f in report.files]
    assert all(f.path.is_dir() and f.line().startswith(f"{f.stem}/: read") for f in report.files)
    nodes, rels = snapshot(graph)
    assert ([n for n in nodes if "IngestCheckpoint" not in str(n[0])], rels) == expected


def test_bad_rows_in_a_part_file_are_rejected_naming_the_part(graph, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "ds" / "accounts"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"account_id": ["p1", "p2"], "registered_at": ["2025-01-01", "2025-01-02"]}),
                   folder / "part-00000.parquet")
    pq.write_table(pa.table({"account_id": ["p3", "p4"], "registered_at": ["2025-01-03", "never"]}),
                   folder / "part-00001.parquet")
    (result,) = load(graph, tmp_path / "ds", tmp_path).files
    assert (result.read, result.loaded, result.rejected) == (4, 3, 1)
    assert result.rejects_file.name == "accounts.rejects.csv"
    with open(result.rejects_file, encoding="utf-8") as handle:
        (reject,) = list(csv.DictReader(handle))
    assert reject["line"] == "part-00001.parquet:2" and "registered_at='never'" in reject["reason"]
    assert counts(graph)["Account"] == 3
