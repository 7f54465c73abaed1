"""Large-star/small-star on Spark finds the components scipy finds, each named by its smallest node."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ringscope.detection.shared_infrastructure import component_roots
from ringscope.spark.components import connected_components


def spark_roots(spark, a, b) -> dict[int, int]:
    edges = spark.createDataFrame(pd.DataFrame({"src": np.asarray(a, np.int64), "dst": np.asarray(b, np.int64)}))
    return {int(r["node"]): int(r["root"]) for r in connected_components(edges).collect()}


def scipy_roots(a, b, n) -> dict[int, int]:
    roots = component_roots(np.asarray(a, np.int64), np.asarray(b, np.int64), n)
    return {i: int(r) for i, r in enumerate(roots) if r >= 0}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_components_of_random_graphs_are_those_scipy_finds(spark, seed):
    rng = np.random.default_rng(seed)
    n = 400
    a, b = rng.integers(0, n, 300), rng.integers(0, n, 300)
    keep = a != b
    a, b = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    assert spark_roots(spark, a, b) == scipy_roots(a, b, n)


def test_a_long_path_and_a_star_and_repeats_and_self_loops(spark):
    # A path is the slow case for label propagation (diameter n); large-star/small-star shortens it fast.
    path = [(i, i + 1) for i in range(0, 200)]
    star = [(1000, 1000 + i) for i in range(1, 50)]
    extra = [(5, 4), (4, 5), (7, 7), (2000, 2000)]
    a, b = zip(*(path + star + extra))
    found = spark_roots(spark, a, b)
    assert {found[i] for i in range(201)} == {0}
    assert {found[i] for i in range(1000, 1050)} == {1000}
    assert 2000 not in found and len(found) == 201 + 50, "a self-loop alone is no edge"
