"""Both public research datasets, converted to the input format, load into the real Neo4j.

YelpChi (Rayana & Akoglu, KDD 2015) and cresci-2015 (Cresci et al., DSS 2015)
live in ../shared/data/external; research use only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ringscope.commands.cli as cli
from ringscope.ingest.load import IngestOptions, ingest
from ringscope.queries.stats import graph_stats

EXTERNAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "external"
pytestmark = [pytest.mark.neo4j, pytest.mark.slow,
              pytest.mark.skipif(not EXTERNAL.exists(), reason="shared/data/external is not beside the checkout")]


def counts(graph) -> dict[str, int]:
    return {c.kind: c.count for c in graph_stats(graph)}


def test_cresci_converts_and_loads(graph, tmp_path, use_test_db, capsys):
    out = tmp_path / "cresci"
    assert cli.main(["convert", "cresci", str(EXTERNAL / "cresci2015"), str(out)]) == 0
    assert "accounts: 3900" in capsys.readouterr().out.splitlines()
    report = ingest(graph, out, IngestOptions(rejects_dir=tmp_path / "rejects"))
    assert not report.failed
    assert all(f.rejected == 0 for f in report.files), [f.line() for f in report.files]
    c = counts(graph)
    assert c["Account"] == 3900 and c["GroundTruth"] == 3900
    fakes = graph.read("MATCH (g:GroundTruth {is_fake: true}) RETURN count(g) AS n")[0]["n"]
    assert fakes == 686 + 779 + 485
    # created_at "%a %b %d %H:%M:%S %z %Y" became a real datetime
    assert graph.read("MATCH (a:Account) WHERE a.registered_at IS NULL RETURN count(a) AS n")[0]["n"] == 0


def test_yelpchi_converts_and_loads(graph, tmp_path, use_test_db, capsys):
    out = tmp_path / "yelpchi"
    assert cli.main(["convert", "yelpchi", str(EXTERNAL / "yelpchi" / "reviews.txt.gz"), str(out)]) == 0
    capsys.readouterr()
    report = ingest(graph, out, IngestOptions(rejects_dir=tmp_path / "rejects", batch_size=10_000))
    assert not report.failed
    assert all(f.rejected == 0 and f.stubs == 0 for f in report.files), [f.line() for f in report.files]
    c = counts(graph)
    assert c["Comment"] == 67_395 and c["WROTE"] == 67_395 and c["ON"] == 67_395
    assert c["GroundTruth"] == 38_063
    filtered = graph.read("MATCH (g:GroundTruth {is_fake: true}) RETURN count(g) AS n")[0]["n"]
    assert filtered / 38_063 == pytest.approx(0.203, abs=0.01)  # the README's 20.3 %
