"""Connected components of a large graph on Spark DataFrames: large-star / small-star.

Kiveris, Lattanzi, Mirrokni, Rastogi & Vassilvitskii, "Connected Components in
MapReduce and Beyond", SoCC 2014 (the algorithm GraphFrames runs; its jar is
not obtainable here, so it is written out). Node ids are longs; each round is
two joins and two groupings over the edges:

- large-star: every node ``u`` links each neighbour ``v > u`` to the smallest
  of ``u`` and its neighbours;
- small-star: every node ``u`` links itself and each neighbour ``v < u`` to
  the smallest of those.

Both keep the components and shrink their diameter; at the fixed point every
edge joins a node to its component's smallest node. O(log^2 n) rounds in the
worst case (a few on real graphs), O(E) work per round. The edges are
checkpointed each round, so the plan Spark keeps does not grow with the rounds.
"""

from __future__ import annotations

MAX_ROUNDS = 100


def _undirected(edges):
    from pyspark.sql import functions as F

    return edges.select(F.col("src").alias("u"), F.col("dst").alias("v")).unionByName(
        edges.select(F.col("dst").alias("u"), F.col("src").alias("v")))


def large_star(edges):
    """One large-star step over edges ``(src, dst)``; returns edges ``src > dst``. O(E)."""
    from pyspark.sql import functions as F

    both = _undirected(edges)
    smallest = both.groupBy("u").agg(F.min("v").alias("m")).select("u", F.least("m", "u").alias("m"))
    return (both.join(smallest, "u").where(F.col("v") > F.col("u"))
            .select(F.col("v").alias("src"), F.col("m").alias("dst")).distinct())


def small_star(edges):
    """One small-star step over edges ``src > dst``; returns edges ``src > dst``. O(E)."""
    from pyspark.sql import functions as F

    smallest = edges.groupBy("src").agg(F.min("dst").alias("m"))
    neighbours = (edges.join(smallest, "src").where(F.col("dst") != F.col("m"))
                  .select(F.col("dst").alias("src"), F.col("m").alias("dst")))
    return neighbours.unionByName(smallest.select("src", F.col("m").alias("dst"))).distinct()


def connected_components(edges, max_rounds: int = MAX_ROUNDS):
    """``(node, root)`` for every node on an edge of ``edges`` (columns ``src``, ``dst``: longs, undirected;
    self-loops and repeats allowed): ``root`` is the smallest node of its component, itself for the root.
    Raises ``RuntimeError`` if it has not converged in ``max_rounds`` rounds (it converges far sooner)."""
    from pyspark.sql import functions as F

    current = (edges.where(F.col("src") != F.col("dst"))
               .select(F.greatest("src", "dst").alias("src"), F.least("src", "dst").alias("dst"))
               .distinct().localCheckpoint())
    for _ in range(max_rounds):
        following = small_star(large_star(current)).localCheckpoint()
        # The fixed point: a round that changes no edge. Counting both differences costs one job each.
        if following.subtract(current).isEmpty() and current.subtract(following).isEmpty():
            roots = following.select("dst").distinct()
            return following.select(F.col("src").alias("node"), F.col("dst").alias("root")).unionByName(
                roots.select(F.col("dst").alias("node"), F.col("dst").alias("root")))
        current = following
    raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
