"""The sorted codes on Spark are the local factorisations: ranks as ``pd.factorize(sort=True)`` gives them,
and runs numbered one after another in sorted order, whatever the partitions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ringscope.spark.codes import codes_within, sorted_ranks, sorted_runs


def _frame(spark, frame: pd.DataFrame, partitions: int):
    return spark.createDataFrame(frame).repartition(partitions)


def test_ranks_are_the_sorted_factorisation(spark):
    rng = np.random.default_rng(3)
    ids = [f"a{i}" for i in rng.integers(0, 500, 3_000)]
    got = sorted_ranks(_frame(spark, pd.DataFrame({"id": ids}), 7), ["id"], "code").toPandas()
    codes, uniques = pd.factorize(pd.Series(ids), sort=True)
    assert dict(zip(got["id"], got["code"])) == {u: i for i, u in enumerate(uniques)}


def test_runs_start_where_the_runs_before_them_end(spark):
    rng = np.random.default_rng(4)
    notes = pd.DataFrame({"note": [f"n{i:04d}" for i in rng.permutation(800)], "size": rng.integers(1, 9, 800)})
    got = (sorted_runs(_frame(spark, notes, 5), ["note"], "size", "code", "first").toPandas()
           .sort_values("note").reset_index(drop=True))
    expected = notes.sort_values("note").reset_index(drop=True)
    assert got["code"].tolist() == list(range(len(expected)))
    assert got["first"].tolist() == (expected["size"].cumsum() - expected["size"]).tolist()
    # the runs tile 0 .. total - 1: every item of every note numbered once
    items = np.concatenate([np.arange(f, f + s) for f, s in zip(got["first"], got["size"])])
    assert sorted(items.tolist()) == list(range(int(notes["size"].sum())))


def test_codes_within_a_group_are_each_groups_factorisation(spark):
    frame = pd.DataFrame({"g": ["x", "x", "y", "x", "y", "z"], "v": ["b", "a", "c", "b", "a", "q"]})
    got = codes_within(_frame(spark, frame, 3), "g", "v").toPandas()
    assert {(g, v): c for g, v, c in zip(got["g"], got["v"], got["code"])} == {
        ("x", "a"): 0, ("x", "b"): 1, ("y", "a"): 0, ("y", "c"): 1, ("z", "q"): 0}


def test_nothing_stays_cached_but_the_checkpointed_result(spark):
    """The sorted rows are persisted while the ranks are made from them and released after (they stayed
    cached for the rest of the run before, beside every later detector's frames)."""
    cache = spark._jsparkSession.sharedState().cacheManager()
    spark.catalog.clearCache()
    frame = _frame(spark, pd.DataFrame({"id": ["b", "a", "c", "a"], "size": [1, 2, 3, 4]}), 3)
    ranked = sorted_ranks(frame, ["id"], "code")
    runs = sorted_runs(frame.groupBy("id").sum("size").withColumnRenamed("sum(size)", "size"), ["id"], "size")
    assert cache.isEmpty()
    assert sorted(ranked.toPandas()["code"]) == [0, 1, 2] and len(runs.toPandas()) == 3
