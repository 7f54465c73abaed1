"""The incremental writers against the real Neo4j: rows new to the graph are CREATEd, the rest MERGEd,
and several writers in flight give the graph and the checkpoints one writer gives."""

from __future__ import annotations

from pathlib import Path

import pytest

import ringscope.commands.cli as cli
import ringscope.ingest.writers as writers
from ringscope.ingest.load import IngestOptions, ingest, split_by_identity
from ringscope.ingest.writers import DEVICES, NewRows, split_new, write_batch
from tests.conftest import reset_database
from tests.ingest.datasets import snapshot, write_table

pytestmark = pytest.mark.neo4j


def device_rows(*rows: tuple[str, str]) -> list[dict]:
    """Validated ``devices`` rows (device_id, model) as the reader hands them to the writer."""
    return [{"device_id": device, "model": model} for device, model in rows]


def devices(graph) -> dict[str, dict]:
    rows = graph.read("MATCH (d:Device) RETURN d.device_id AS id, d.model AS model, d.stub AS stub")
    return {r["id"]: {"model": r["model"], "stub": r["stub"]} for r in rows}


def test_split_new_keeps_known_and_repeated_keys_for_merge_in_their_order(graph):
    graph.write("CREATE (:Device {device_id: 'known', stub: true})")
    rows = [{"device_id": k, "n": i} for i, k in enumerate(["fresh", "known", "twice", "other", "twice"])]
    new, others = graph.write_transaction(lambda tx: split_new(tx, NewRows("Device", ""), rows))
    assert [r["device_id"] for r in new] == ["fresh", "other"]
    assert [(r["device_id"], r["n"]) for r in others] == [("known", 1), ("twice", 2), ("twice", 4)]


def test_a_batch_of_new_stub_and_repeated_keys_ends_as_merge_alone_would(graph):
    graph.write("CREATE (:Device {device_id: 'd-stub', stub: true})")
    rows = device_rows(("d-new", "A"), ("d-stub", "B"), ("d-twice", "C"), ("d-twice", "D"))
    graph.write_transaction(lambda tx: write_batch(tx, DEVICES, rows, None))
    fast = devices(graph)
    reset_database(graph)
    graph.write("CREATE (:Device {device_id: 'd-stub', stub: true})")
    graph.write_transaction(lambda tx: write_batch(tx, DEVICES, rows, None, merge_only=True))
    assert devices(graph) == fast == {"d-new": {"model": "A", "stub": False}, "d-stub": {"model": "B", "stub": False},
                                      "d-twice": {"model": "D", "stub": False}}


def test_a_key_another_writer_creates_after_the_read_is_merged_not_lost(graph, tmp_path, monkeypatch):
    """The race the CREATE path has: between its read of the keys and its CREATE, another transaction
    commits one of them. The constraint refuses the CREATE; the batch is written again with MERGE."""
    real_split = writers.split_new
    raced = []

    def split_then_race(tx, new_rows, rows):
        new, others = real_split(tx, new_rows, rows)
        if not raced:  # another transaction (its own session) commits 'd-race' now
            graph.write("CREATE (:Device {device_id: 'd-race', model: 'theirs', stub: true})")
            raced.append(True)
        return new, others

    monkeypatch.setattr(writers, "split_new", split_then_race)
    write_table(tmp_path / "ds", "devices", [{"device_id": "d-race", "model": "ours"},
                                             {"device_id": "d-calm", "model": "calm"}])
    report = ingest(graph, tmp_path / "ds", IngestOptions(rejects_dir=tmp_path / "rej"))
    assert not report.failed, [f.line() for f in report.files]
    assert raced
    assert devices(graph) == {"d-race": {"model": "ours", "stub": False}, "d-calm": {"model": "calm", "stub": False}}


def likes_dataset(directory: Path) -> Path:
    write_table(directory, "accounts", [{"account_id": f"wa{i}", "registered_at": "2025-01-01T00:00:00Z",
                                         "registration_ip": f"10.0.{i % 7}.1", "phone_segment": f"17{i % 3}"}
                                        for i in range(600)])
    write_table(directory, "notes", [{"note_id": f"wn{j}", "account_id": f"wa{j}", "posted_at": "2025-01-02T00:00:00Z"}
                                     for j in range(150)])
    write_table(directory, "comments", [{"comment_id": f"wc{k}", "account_id": f"wa{k % 600}",
                                         "note_id": f"wn{k % 150}", "created_at": "2025-01-03T00:00:00Z",
                                         "text": "好用", "ip": f"10.1.{k % 11}.2"} for k in range(3_000)])
    write_table(directory, "likes", [{"account_id": f"wa{i}", "note_id": f"wn{(i * 7 + k * 13) % 150}",
                                      "created_at": "2025-01-03T00:00:00Z"} for i in range(600) for k in range(10)])
    # Each device and each like below repeats in four batches of 250 rows with a different value: the last
    # row in the file must win, however many writers.
    write_table(directory, "devices", [{"device_id": f"wd{i % 100}", "model": f"m{i}"} for i in range(1_000)])
    write_table(directory, "follows", [{"account_id": f"wa{i % 50}", "target_account_id": f"wa{i % 50 + 1}",
                                        "created_at": f"2025-02-{1 + i // 50:02d}T00:00:00Z"} for i in range(1_000)])
    return directory


def test_two_writers_give_the_graph_and_the_checkpoints_of_one(graph, tmp_path):
    ds = likes_dataset(tmp_path / "ds")
    graphs, checkpoints = [], []
    for count in (1, 2):
        reset_database(graph)
        report = ingest(graph, ds, IngestOptions(rejects_dir=tmp_path / f"rej{count}", batch_size=250, writers=count))
        assert not report.failed, [f.line() for f in report.files]
        graphs.append(snapshot(graph))
        checkpoints.append(sorted((r["file"].rsplit("/", 1)[-1], r["done"]) for r in graph.read(
            "MATCH (c:IngestCheckpoint) RETURN c.file AS file, c.rows_done AS done")))
        if count == 2:
            assert devices(graph)["wd7"]["model"] == "m907"
            assert graph.read("MATCH (:Account {account_id: 'wa7'})-[f:FOLLOWS]->() "
                              "RETURN toString(date(f.created_at)) AS day") == [{"day": "2025-02-20"}]
    assert graphs[0] == graphs[1]
    # Every file's checkpoint says it is whole, however its batches committed.
    assert checkpoints[0] == checkpoints[1] == [("accounts.csv", 600), ("comments.csv", 3_000),
                                                ("devices.csv", 1_000), ("follows.csv", 1_000),
                                                ("likes.csv", 6_000), ("notes.csv", 150)]


def test_writers_out_of_range_is_refused_naming_the_option(tmp_path, capsys, use_test_db):
    write_table(tmp_path / "ds", "accounts", [{"account_id": "x1"}])
    assert cli.main(["ingest", str(tmp_path / "ds"), "--writers", "0"]) != 0
    assert "--writers must be between 1 and 16 (got 0)" in capsys.readouterr().err


def test_rows_about_one_entity_or_link_go_to_one_writer_in_file_order():
    rows = [{"account_id": f"a{i % 7}", "note_id": f"n{i % 3}", "n": i} for i in range(200)]
    parts = split_by_identity(rows, ("account_id", "note_id"), 3)
    assert sorted(r["n"] for part in parts for r in part) == list(range(200))  # nothing lost or doubled
    home: dict[tuple, int] = {}
    for index, part in enumerate(parts):
        assert [r["n"] for r in part] == sorted(r["n"] for r in part)  # file order kept
        for r in part:
            assert home.setdefault((r["account_id"], r["note_id"]), index) == index  # one part per link
    assert sum(1 for part in parts if part) > 1  # and the work is spread
