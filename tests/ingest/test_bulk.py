"""The bulk path (Neo4j's offline importer) builds exactly the graph the transactional path builds.

"Exactly": every node with its labels and every property, every relationship
with its type, endpoints and every property, compared with their Cypher types
and text (a datetime in zone ``UTC`` is not the same value as one at offset
``Z``), plus the same per-file summary (read, loaded, rejected, stubs), the
same rejects files and the same checkpoints.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import ringscope.commands.cli as cli
from ringscope.graph.admin import reset
from ringscope.graph.settings import load_settings
from ringscope.ingest.load import IngestOptions, ingest
from ringscope.ingest.modes import chosen_mode, load_dataset
from ringscope.ingest.shape import BulkNotPossible
from ringscope.queries.stats import graph_stats
from tests.ingest.datasets import tricky_dataset, write_platform, write_table

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

# A property as text; a list property (a note's topics) item by item: toString takes no list.
def _text(x: str) -> str:
    return f"[e IN CASE WHEN valueType({x}) STARTS WITH 'LIST' THEN {x} ELSE [{x}] END | toString(e)]"


STRICT_NODES = f"""
MATCH (n) WHERE NOT n:RingscopeSchema
RETURN labels(n) AS labels, [k IN keys(n) | [k, valueType(n[k]), {_text("n[k]")}]] AS props
"""
STRICT_RELS = f"""
MATCH (a)-[r]->(b)
RETURN type(r) AS type, [k IN keys(r) | [k, valueType(r[k]), {_text("r[k]")}]] AS props,
       labels(a) AS a_labels, [k IN keys(a) | [k, {_text("a[k]")}]] AS a,
       labels(b) AS b_labels, [k IN keys(b) | [k, {_text("b[k]")}]] AS b
"""


def strict_snapshot(graph) -> tuple[list, list, list]:
    def frozen(value):
        return tuple(frozen(v) for v in value) if isinstance(value, list) else value

    nodes = sorted((tuple(r["labels"]), tuple(sorted(frozen(r["props"])))) for r in graph.read(STRICT_NODES))
    rels = sorted((r["type"], tuple(sorted(frozen(r["props"]))), tuple(r["a_labels"]), tuple(sorted(frozen(r["a"]))),
                   tuple(r["b_labels"]), tuple(sorted(frozen(r["b"])))) for r in graph.read(STRICT_RELS))
    stats = sorted((c.kind, c.count) for c in graph_stats(graph, include_internal=True))
    return nodes, rels, stats


def summary(report) -> list[tuple]:
    return [(f.path.name, f.read, f.loaded, f.rejected, f.stubs, f.error) for f in report.files]


def both_ways(graph, directory: Path, tmp_path: Path, **options):
    """(transactional snapshot, summary), (bulk snapshot, summary) of the same dataset on an empty store."""
    reset(graph)
    incremental = ingest(graph, directory, IngestOptions(rejects_dir=tmp_path / "rej-inc", **options))
    first = strict_snapshot(graph), summary(incremental)
    reset(graph)
    mode, bulk = load_dataset(graph, directory, IngestOptions(rejects_dir=tmp_path / "rej-bulk", mode="bulk",
                                                              **options))
    assert mode == "bulk"
    return first, (strict_snapshot(graph), summary(bulk))


def assert_same(first, second):
    (nodes_a, rels_a, stats_a), lines_a = first
    (nodes_b, rels_b, stats_b), lines_b = second
    assert lines_a == lines_b
    assert stats_a == stats_b
    # Differences first (multiset, so a duplicate counts): a failure names the rows, not two huge lists.
    for a, b in ((nodes_a, nodes_b), (rels_a, rels_b)):
        only_a, only_b = Counter(a) - Counter(b), Counter(b) - Counter(a)
        assert (sorted(only_a.elements())[:20], sorted(only_b.elements())[:20]) == ([], [])
    assert nodes_a == nodes_b and rels_a == rels_b


def test_the_small_platform_gives_the_same_graph_both_ways(graph, tmp_path):
    first, second = both_ways(graph, write_platform(tmp_path / "ds"), tmp_path)
    assert_same(first, second)


def test_order_sensitive_and_dangling_data_gives_the_same_graph_both_ways(graph, tmp_path):
    first, second = both_ways(graph, tricky_dataset(tmp_path / "ds"), tmp_path, keep_unknown=True)
    assert_same(first, second)
    assert any(s for *_, s, _ in second[1])  # stubs were made and counted


def test_files_validated_on_two_processes_give_the_same_graph_and_summary(graph, tmp_path, monkeypatch):
    import sys
    import types

    from ringscope.ingest import bulk

    monkeypatch.setattr(bulk, "PARALLEL_FROM_BYTES", 0)  # this small dataset through the worker processes
    monkeypatch.setattr(bulk, "VALIDATE_WORKERS", 2)
    in_a_process = []
    real = bulk._validate_in_a_process

    def counted(data, order, *rest):
        in_a_process.append(order)
        return real(data, order, *rest)

    monkeypatch.setattr(bulk, "_validate_in_a_process", counted)
    # A host whose __main__ must not run again (an app, a notebook, a test runner's script): a
    # multiprocessing pool's children would re-run it; the workers must not.
    script = tmp_path / "host.py"
    script.write_text("raise SystemExit('the host script ran again in a worker')\n")
    host = types.ModuleType("__main__")
    host.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", host)
    directory = tricky_dataset(tmp_path / "ds")
    write_table(directory, "devices", [{"device_id": "", "model": "no id: rejected"}], fmt="jsonl")
    first, second = both_ways(graph, directory, tmp_path, keep_unknown=True)
    assert_same(first, second)
    assert any(rejected for _, _, _, rejected, _, _ in second[1])
    assert sorted(in_a_process) == list(range(len(second[1])))  # every file of the bulk load, in a worker


def test_the_simulated_platform_gives_the_same_graph_both_ways(graph, tmp_path):
    from ringscope.simulate.platform import simulate

    simulate(tmp_path / "sim", accounts=10_000, seed=11)
    first, second = both_ways(graph, tmp_path / "sim", tmp_path)
    assert_same(first, second)


def test_a_parquet_platform_of_part_folders_gives_the_same_graph_both_ways(graph, tmp_path):
    from ringscope.simulate.platform import simulate
    from ringscope.simulate.world import Blocks

    # Small blocks: a platform generated in parts, each file a folder of several part files.
    simulate(tmp_path / "sim", accounts=3_000, seed=5, fmt="parquet", blocks=Blocks(one_piece=1_024, part_accounts=1_024, flush_rows=2_000,
                                                                                  bucket_rows=2_000, write_rows=2_000, part_rows=5_000))
    assert (tmp_path / "sim" / "comments").is_dir()
    first, second = both_ways(graph, tmp_path / "sim", tmp_path)
    assert_same(first, second)
    assert any(line[0] == "comments" for line in second[1])


def test_yelpchi_converted_gives_the_same_graph_both_ways(graph, tmp_path):
    from ringscope.ingest.converters.yelpchi import convert_yelpchi
    from tests.ingest.test_real_datasets import EXTERNAL

    source = EXTERNAL / "yelpchi" / "reviews.txt.gz"
    if not source.exists():
        pytest.fail(f"{source} is missing: the shared research datasets are part of the checkout's neighbourhood")
    convert_yelpchi(source, tmp_path / "yelp")
    first, second = both_ways(graph, tmp_path / "yelp", tmp_path)
    assert_same(first, second)


def test_bad_input_follows_the_same_rules_in_bulk_mode(graph, tmp_path, capsys, use_test_db):
    ds = tmp_path / "ds"
    write_table(ds, "accounts", [{"account_id": "x1", "registered_at": "2025-01-01", "followers": "-5"},
                                 {"account_id": "x2", "registered_at": "soon", "followers": "1"},
                                 {"account_id": "x3", "registered_at": "2025-01-01", "followers": "2"}])
    write_table(ds, "devices", [{"model": "no id column"}])
    write_table(ds, "purchases", [{"x": "1"}])
    reset(graph)
    code = cli.main(["ingest", str(ds), "--mode", "bulk", "--rejects-dir", str(tmp_path / "rej")])
    out = capsys.readouterr().out
    assert code == 1  # a file failed as a whole
    assert "devices.csv: FAILED:" in out and "required column(s) device_id missing" in out
    assert "accounts.csv: read 3, loaded 1, rejected 2, stubs 0" in out
    assert "skipped purchases.csv: unknown kind of file 'purchases'" in out
    assert "(bulk: validate" in out
    rejects = (tmp_path / "rej" / "accounts.csv.rejects.csv").read_text()
    assert "followers=-5 is negative" in rejects and "registered_at='soon' is not an ISO 8601 timestamp" in rejects
    assert [r["id"] for r in graph.read("MATCH (a:Account) RETURN a.account_id AS id")] == ["x3"]


def test_a_bulk_load_where_every_row_is_rejected_finishes_with_an_empty_database(graph, tmp_path, capsys,
                                                                                 use_test_db):
    # Found by the hostile fuzz test: with no valid row there is no node file, and Neo4j's importer
    # refuses to run without one (a usage error), so the load failed instead of keeping the rejects.
    ds = tmp_path / "ds"
    write_table(ds, "accounts", [{"account_id": "", "registered_at": "2025-01-01"},
                                 {"account_id": "x2", "registered_at": "soon"}])
    reset(graph)
    code = cli.main(["ingest", str(ds), "--mode", "bulk", "--rejects-dir", str(tmp_path / "rej")])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert code == 0, out
    assert "accounts.csv: read 2, loaded 0, rejected 2" in out and "nothing to import" in out
    assert len((tmp_path / "rej" / "accounts.csv.rejects.csv").read_text().strip().splitlines()) == 3
    assert graph.read("MATCH (a:Account) RETURN count(a) AS n")[0]["n"] == 0
    # The rejects fixed, the same dataset loads (incrementally: the first load left its checkpoints).
    write_table(ds, "accounts", [{"account_id": "x1", "registered_at": "2025-01-01"},
                                 {"account_id": "x2", "registered_at": "2025-01-02"}])
    assert cli.main(["ingest", str(ds), "--rejects-dir", str(tmp_path / "rej")]) == 0
    capsys.readouterr()
    assert sorted(r["id"] for r in graph.read("MATCH (a:Account) RETURN a.account_id AS id")) == ["x1", "x2"]


def test_auto_takes_the_bulk_path_only_into_an_empty_local_database(graph, tmp_path, test_settings, use_test_db,
                                                                    capsys):
    ds = write_platform(tmp_path / "ds")
    reset(graph)
    assert chosen_mode(graph, IngestOptions()) == "bulk"
    assert cli.main(["ingest", str(ds), "--rejects-dir", str(tmp_path / "rej")]) == 0
    assert "(bulk:" in capsys.readouterr().out
    loaded = strict_snapshot(graph)
    # Not empty now: the same command loads incrementally, and its checkpoints say everything is there.
    assert chosen_mode(graph, IngestOptions()) == "incremental"
    assert cli.main(["ingest", str(ds), "--rejects-dir", str(tmp_path / "rej")]) == 0
    out = capsys.readouterr().out
    assert "(incremental)" in out and "already loaded before (resumed)" in out
    assert strict_snapshot(graph) == loaded
    # A server the tool does not manage: never bulk (its store is not ours to rebuild).
    from ringscope.graph.database import connect

    other = connect(load_settings({"NEO4J_URI": test_settings.uri, "NEO4J_PASSWORD": test_settings.password}))
    reset(other)
    assert chosen_mode(other, IngestOptions()) == "incremental"
    with pytest.raises(BulkNotPossible, match="server the tool does not manage"):
        load_dataset(other, ds, IngestOptions(mode="bulk", rejects_dir=tmp_path / "rej"))


def test_bulk_refuses_a_database_that_holds_data(graph, tmp_path):
    graph.write("CREATE (:Account {account_id: 'keep-me'})")
    with pytest.raises(BulkNotPossible, match="not empty"):
        load_dataset(graph, write_platform(tmp_path / "ds"), IngestOptions(mode="bulk", rejects_dir=tmp_path))
    assert graph.read("MATCH (a:Account {account_id: 'keep-me'}) RETURN count(a) AS n")[0]["n"] == 1


def test_an_import_that_died_half_way_is_redone_by_the_next_run(graph, tmp_path, test_settings, use_test_db):
    """The importer was killed: its marker stays and the store is half-written. The next run empties it."""
    ds = write_platform(tmp_path / "ds")
    reset(graph)
    marker = test_settings.local.home / "bulk" / "IMPORTING"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("a bulk import started")
    assert cli.main(["ingest", str(ds), "--rejects-dir", str(tmp_path / "rej")]) == 0
    assert not marker.exists()
    assert graph.read("MATCH (a:Account) RETURN count(a) AS n")[0]["n"] == 4


@pytest.mark.parametrize("keep", [False, True])
def test_the_importer_runs_beside_its_input_only_unless_the_staging_is_kept(graph, tmp_path, monkeypatch, keep):
    """The staged rows and DuckDB's files are deleted before the importer writes the store (their disk is
    the store's), unless --keep-staging asked to inspect them."""
    from ringscope.ingest import bulk

    seen = []
    real = bulk.local.import_store

    def looking(server, files, **options):
        seen.append(sorted(p.name for p in (server.home / "bulk").iterdir()))
        return real(server, files, **options)

    monkeypatch.setattr(bulk.local, "import_store", looking)
    reset(graph)
    mode, _ = load_dataset(graph, write_platform(tmp_path / "ds"),
                           IngestOptions(mode="bulk", rejects_dir=tmp_path / "rej", keep_staging=keep))
    assert mode == "bulk"
    scratch = ["shape.duckdb", "validated"]
    assert seen == [sorted(["IMPORTING", "frames", "import"] + (scratch if keep else []))]
    assert graph.read("MATCH (a:Account) RETURN count(a) AS n")[0]["n"] == 4
