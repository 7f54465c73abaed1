"""The Parquet layout (a folder of part files per kind) loads through `ringscope ingest` into the same graph as csv.gz."""

from __future__ import annotations

import pytest

import ringscope.commands.cli as cli
from ringscope.graph.admin import reset
from ringscope.ingest.spec import EVALUATION_ONLY
from ringscope.simulate.platform import simulate
from ringscope.simulate.world import Blocks
from tests.ingest.datasets import snapshot

pytestmark = pytest.mark.neo4j

ACCOUNTS = 1500


def load_and_describe(graph, directory, tmp_path, capsys) -> tuple[str, tuple]:
    reset(graph)
    assert cli.main(["ingest", str(directory), "--rejects-dir", str(tmp_path / "rejects"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    # The simulator's evaluation-only ground truth (notes copied, drifting accounts, trending topics) are the
    # files ingest skips, each by name and with its reason, and nothing else.
    skipped = [line for line in out.splitlines() if "skipped" in line]
    assert sorted(line.split(":")[0].split(".")[0].rstrip("/") for line in skipped) == sorted(
        f"skipped {name}" for name in EVALUATION_ONLY), out
    assert "rejected 0" in out and "FAILED" not in out, out
    assert cli.main(["stats", "--format", "csv"]) == 0
    stats = capsys.readouterr().out
    nodes, rels = snapshot(graph)
    # Checkpoints name the files they belong to, which differ by layout.
    return stats, ([n for n in nodes if "IngestCheckpoint" not in str(n[0])], rels)


def test_parquet_part_folders_give_the_graph_csv_gz_gives(graph, use_test_db, tmp_path, capsys):
    # Small parts and write slices, so every kind of any size is split over several part files and row groups.
    parquet = simulate(tmp_path / "parquet", ACCOUNTS, 5, "parquet", Blocks(write_rows=700, part_rows=1000))
    assert parquet.parts["comments"] == -(-parquet.files["comments"] // 1000) > 1
    assert (tmp_path / "parquet" / "comments" / "part-00003.parquet").is_file()
    simulate(tmp_path / "csv_gz", ACCOUNTS, 5, "csv.gz")
    stats_csv, graph_csv = load_and_describe(graph, tmp_path / "csv_gz", tmp_path, capsys)
    stats_parquet, graph_parquet = load_and_describe(graph, tmp_path / "parquet", tmp_path, capsys)
    assert stats_parquet == stats_csv
    assert "Account,1500" in stats_csv and "REPLIES_TO" in stats_csv
    assert graph_parquet == graph_csv
