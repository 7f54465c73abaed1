"""``dense_blocks`` on Spark finds exactly what the local detector finds on the same data, whether the
driver takes each view whole or Spark prunes it first and the driver fetches edges as the search asks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ringscope.detection.dense_blocks import DenseBlockParams, build_view, detect_dense_blocks
from ringscope.spark import dense_blocks as spark_dense_blocks
from ringscope.spark.session import DRIVER_EDGES
from ringscope.spark.source import PlatformSource, typed
from tests.detection.test_dense_blocks import _background, _busy, _farm, _weekly_background
from tests.spark.lakes import write_lake


def _lake(tmp_path, rows) -> tuple[PlatformSource, pd.DataFrame]:
    comments = pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "created_at"])
    comments["comment_id"] = [f"c{i:05d}" for i in range(len(comments))]  # the row builders reuse ids
    comments["created_at"] = pd.to_datetime(comments["created_at"], utc=True).map(lambda t: t.isoformat())
    write_lake(tmp_path / "lake", comments=comments)
    return tmp_path / "lake", typed(comments.copy(), ["created_at"])


@pytest.mark.parametrize("regime", ["views whole", "edges whole", "copies whole", "all on Spark"])
def test_a_planted_farm_beside_busy_accounts_gives_the_same_findings(spark, tmp_path, regime):
    """Two farms, accounts busy in the same weeks and a sparse background. ``views whole``: the default
    ``driver_edges``, each view is taken to the driver and searched by the local functions; ``edges whole``:
    the views are one edge too many for that, but their edges without the comments fit (a copy's share of
    the driver is three times a view's), so the driver makes the null copies and the core, and the search
    fetches the core's comments; ``copies whole``: the view's edges do not fit either, so the null copies
    are made on Spark (each taken whole), the cores pruned on Spark; ``all on Spark``: at 300 edges for
    views and copies the batch peel and the pruning passes run on Spark too."""
    rng = np.random.default_rng(1)
    farm, members = _farm(rng)
    small, _ = _farm(np.random.default_rng(9), m=12, n=10, p=0.6)
    small = [(f"s{c}", f"s{a}", n, t) for c, a, n, t in small]
    busy, _ = _busy(rng, n_accounts=8, per_day=6)
    lake, comments = _lake(tmp_path, _background(rng) + farm + small + busy + _weekly_background(rng))
    params = DenseBlockParams()
    smallest_view = min(len(build_view(comments, name, params)[0].acc) for name in ("event", "note"))
    driver_edges = {"views whole": DRIVER_EDGES, "edges whole": smallest_view - 1, "copies whole": 300,
                    "all on Spark": 300}[regime]
    copy_edges = {"edges whole": None, "copies whole": smallest_view - 1, "all on Spark": 300}.get(regime)
    expected = detect_dense_blocks(comments, params)
    assert len(expected) >= 2 and members <= set().union(*(f.members for f in expected))
    lines = []
    found = spark_dense_blocks.detect_dense_blocks(PlatformSource(spark, str(lake)), params, lines.append,
                                                   driver_edges=driver_edges, copy_edges=copy_edges)
    assert found == expected
    whole = [line for line in lines if "view: taken to the driver whole" in line]
    edges_whole = [line for line in lines if "its edges taken to the driver without their comments" in line]
    copies_whole = [line for line in lines if "3 of them taken to the driver whole" in line]
    if regime == "views whole":
        assert len(whole) == 2, lines
    else:
        assert not whole and any("fetches" in line and " 0 fetches" not in line for line in lines), lines
        assert len(edges_whole) == (2 if regime == "edges whole" else 0), lines
        assert len(copies_whole) == (2 if regime == "copies whole" else 0), lines


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform):
    """The 10k platform's ~30k edges per view fit the driver whole (the default ``DRIVER_EDGES``): the
    views are built on Spark, the rest is the local functions'."""
    comments = typed(pd.read_parquet(platform / "comments"), ["created_at"])
    params = DenseBlockParams()
    expected = detect_dense_blocks(comments, params)
    assert len(expected) >= 2
    assert spark_dense_blocks.detect_dense_blocks(PlatformSource(spark, str(platform)), params) == expected


def test_one_view_and_no_time_windows_agree_too(spark, tmp_path):
    rng = np.random.default_rng(3)
    farm, _ = _farm(rng, m=20, n=20, p=0.4)
    lake, comments = _lake(tmp_path, _background(rng, n_comments=1500) + farm)
    for params in (DenseBlockParams(views="note", null_window=pd.Timedelta(0)), DenseBlockParams(views="event")):
        expected = detect_dense_blocks(comments, params)
        assert spark_dense_blocks.detect_dense_blocks(PlatformSource(spark, str(lake)), params,
                                                      driver_edges=200) == expected
