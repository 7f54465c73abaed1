"""``dense_blocks`` on Spark: the views are built over the platform; a view of at most ``driver_edges``
edges (``RINGSCOPE_SPARK_DRIVER_EDGES``) is then taken to the driver whole and searched there, null
copies included; a view of at most ``copy_edges`` edges has its edges (not its comments) taken to the
driver, where its null copies and its core are made, and the search fetches the core's comments; a
larger one's null copies and the pruning to the blocks' cores run over the platform, and the peel, the
tests and the findings run on the driver, on the cores. Either way by the functions of
``detection.dense_blocks`` (one definition of what the detector finds).

The local detector's stages, and where each runs here:

1. The views. Comments get the local codes (``spark.comment_codes``, shared with ``lockstep``: the local
   sorted factorisations of accounts and notes) and a code of their own in (note, comment id) order. An event is one note's
   burst: ``segment_events`` over batches of whole notes, each note's events numbered from 0, and an
   event's code is the events of the notes before it plus its number (``spark.codes.sorted_runs``), the
   local numbering. Edges are the distinct (account, column) rows with their first comment's time; the
   time windows are counted per raw week on Spark and merged on the driver (``merged_windows``); the
   degrees, each edge's probability under the time-stratified null (``d * k / m``, the same IEEE products
   as numpy's) and its weight (``edge_weights``, numpy on the executors) are joins and aggregations.
2. The null copies. A view of at most ``copy_edges`` edges: its edges without their comments (``EdgesOnly``: ~41
   bytes an edge held, ~150 with a copy at the peel's peak, measured at 1 M: about what a copy taken whole costs)
   are taken once, and the local ``null_density`` makes its copies and ``prune_core`` its core (stage 3) on the
   driver: each copy made on Spark is shuffles of every edge of the view, and the pruning tens of passes over
   them (at 10 M on two cores the event view's copies 1,316 s and core 932 s there, 221 s and 16 s here). A
   larger view: each window of a copy is permuted on an executor by ``permute_window``, seeded by (seed, copy,
   window) as the local engine seeds it, so a copy is the local copy. A copy of at most ``copy_edges`` edges
   (``COPY_EDGES_PER_DRIVER_EDGE`` times ``RINGSCOPE_SPARK_DRIVER_EDGES``: a copy's edge costs the driver a
   fraction of a view's) is taken to the driver once and the local ``densest_density`` runs on it. A larger one's
   densest block is bounded by the batch peel (``batch_peel_bound``): its passes run on Spark while more than
   ``copy_edges`` edges are left, the driver finishes them; then the copy is pruned on Spark to its core at the
   bound (a hair below it, so that a sum added in another order never drops a node the local engine keeps) until
   it fits, and the driver prunes the rest exactly and peels it (``prune_core``, ``densest_in_core``). The passes
   are what lets a copy larger than one process be worked at all; they are costly: a null copy's batch peel ends
   in a large near-fixed point (~0.7 M edges per million accounts in the event view, 1.3 M in the note view) that
   each pass trims by a few nodes, so once that tail is larger than ``copy_edges``, each of its ~30-40 passes is
   a Spark job.
3. The blocks. A view that fits is searched whole on the driver. In a larger one, every block lies in
   the view's core at level lambda = margin x g0 (a node of a block of density >= lambda has weighted
   degree >= lambda in it), so the view is pruned to that core (on the driver when its edges are
   there, else on Spark as the copies are); the driver holds every edge of the core's accounts and
   columns in a view that fetches more edges when the search asks for them (``FetchedView``: the
   members' and joiners' own activity, the edges of columns a block grows by), and runs the local
   ``find_blocks`` and findings.

A documented difference from the local engine: sums of edge weights are added in another order on
Spark than in numpy, so a degree or a bound can differ in its last bits; a node whose weighted degree
lies within 1e-9 of a threshold could fall on the other side. The parity tests measure none.

N comments, E edges per view: O(N log N) to build a view, O(E log E) per copy to permute, O(E) per
Spark pass of the batch peel and the pruning; the driver holds O(min(E, driver_edges) + core edges +
accounts + columns) values.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from ringscope.common.memory import release_memory
from ringscope.detection.dense_blocks import (
    DETECTOR, BATCH_PEEL_ROUNDS, DenseBlockParams, View, view_names, batch_peel_bound, densest_density,
    densest_in_core, edge_weights, merged_findings, merged_windows, null_density, null_level, permute_window,
    prune_core, segment_events, view_findings,
)
from ringscope.detection.findings import ClusterFinding
from ringscope.detection.lockstep import COMMENT_COLUMNS
from ringscope.spark.codes import BROADCAST_KEYS, small, sorted_runs
from ringscope.spark.comment_codes import CommentCodes, comment_codes, timed_comments
from ringscope.spark.progress import Stages
from ringscope.spark.source import PlatformSource

# Pruning on Spark keeps nodes a hair below the level, so that a sum added in another order never
# drops a node the driver's exact pruning keeps.
SPARK_SLACK = 1.0 - 1e-9
# A null copy's edge costs the driver an (account, column, weight) triple: 70-89 bytes an edge at the peel's
# peak beyond the 24 of the frame itself (traced on the 1M lake's copies), ~150 with the transfer; a view's
# edge carries its comments (~550 bytes an edge: 5 GB for the 9.1 M edges of a 3M view). So a copy three
# times the driver's share of view edges is taken whole for about what a view at the share costs.
COPY_EDGES_PER_DRIVER_EDGE = 3
# Comments per batch of whole notes when numbering events.
ROWS_PER_BATCH = 400_000

CODED_SCHEMA = "acc long, note long, cid long, event long, comment_id string, t long"
PERMUTED_SCHEMA = "acc long, col long, col_before long, window long, row_deg double, col_weight double"
WEIGHTED_SCHEMA = "acc long, col long, w double"


def detect_dense_blocks(source: PlatformSource, params: DenseBlockParams,
                        log: Callable[[str], None] = lambda line: None,
                        driver_edges: int | None = None, copy_edges: int | None = None) -> list[ClusterFinding]:
    """The local ``detect_dense_blocks`` over the platform at ``source``: each view built on Spark, g0
    from its null copies, the blocks found on the driver in its core. ``driver_edges``: the most view edges
    taken onto the driver in one piece (default: the source's, ``RINGSCOPE_SPARK_DRIVER_EDGES``);
    ``copy_edges``: the most edges of a null copy (default ``COPY_EDGES_PER_DRIVER_EDGE`` times
    ``driver_edges``). Tests lower both to make Spark do the passes."""
    driver_edges = source.driver_edges if driver_edges is None else driver_edges
    copy_edges = COPY_EDGES_PER_DRIVER_EDGE * driver_edges if copy_edges is None else copy_edges
    names = view_names(params)
    comments = source.frame("comments", COMMENT_COLUMNS)
    if comments is None:
        return []
    stages = Stages(DETECTOR, log)
    timed = timed_comments(comments)
    codes = comment_codes(source, timed)
    coded = coded_comments(timed, codes, params)
    # the code tables are the source's (released by the engine after their last reader), not this run's
    ids, n_notes = {"acc": codes.accounts, "note": codes.notes}, codes.n_notes
    try:
        n_comments = coded.count()
        stages.done("comments with their codes", n_comments)
        if not n_comments:
            return []
        n_acc = coded.agg({"acc": "max"}).first()[0] + 1
        found: list[tuple[float, int, ClusterFinding]] = []
        for vi, name in enumerate(names):
            found += _view_findings(SparkView.build(coded, ids, name, params, n_acc, n_notes), vi, params,
                                    driver_edges, copy_edges, stages)
        return merged_findings(found)
    finally:
        coded.unpersist()


def _view_findings(view: "SparkView", vi: int, params: DenseBlockParams, driver_edges: int, copy_edges: int,
                   stages: Stages) -> list[tuple[float, int, ClusterFinding]]:
    """One view's findings (``view_findings``). A view of at most ``driver_edges`` edges is taken to the driver
    whole and the local functions do the rest (its null copies, ``null_density``, and the search): on one
    machine that is many times faster than Spark passes. One of at most ``copy_edges`` edges: its edges
    without their comments taken to the driver, g0 from the local null copies of them and the core at
    margin x g0 by the local ``prune_core``. A larger one: g0 from its null copies made on Spark (each
    taken whole if it has at most ``copy_edges`` edges) and the core pruned on Spark. Either of the last
    two: the blocks in its core, which the driver holds with the edges the search asks for."""
    try:
        stages.done(f"{view.name} view: edges", view.n_edges)
        copies = max(params.null_copies, 1)
        if view.n_edges <= driver_edges:
            fetched = FetchedView.whole(view)
            stages.done(f"{view.name} view: taken to the driver whole", view.n_edges)
            g0, _ = null_density(fetched, params.null_copies, params.seed, params.min_accounts)
            stages.done(f"{view.name} view: densest block of {copies} null copies (g0, their mean: {g0:.3f})", view.n_edges)
            where = "the whole view"
        else:
            if view.n_edges <= copy_edges:
                g0, core = _core_on_the_driver(view, params, stages)
            else:
                g0, core = _core_on_spark(view, params, driver_edges, copy_edges, stages)
            if core is None:
                return []
            rows, cols = core
            fetched = FetchedView.around(view, rows, cols)
            stages.done(f"{view.name} view: the core's accounts' and columns' edges taken to the driver",
                        len(fetched.acc))
            where = f"a core of {len(rows):,} accounts and {len(cols):,} columns"
        found = view_findings(fetched, fetched.tables, vi, g0, params)
        stages.done(f"{view.name} view: blocks found in {where} ({fetched.fetches} fetches, "
                    f"{len(fetched.acc):,} edges held)", len(found))
        return found
    finally:
        view.edges.unpersist()
        view.comments.unpersist()


def _core_on_the_driver(view: "SparkView", params: DenseBlockParams, stages: Stages):
    """g0 and the core at margin x g0 (None when g0 is 0) of a view whose edges, without their comments,
    the driver holds: they cost it what a null copy does, so they are taken once and the local functions
    make the copies and the core (on Spark each copy is shuffles of every edge and the core tens of passes:
    at 10 M on two cores the event view's three copies took 1,316 s and its core 932 s there, 221 s and
    16 s here)."""
    copies = max(params.null_copies, 1)
    edges = EdgesOnly.take(view)
    stages.done(f"{view.name} view: its edges taken to the driver without their comments", view.n_edges)
    g0, _ = null_density(edges, params.null_copies, params.seed, params.min_accounts)
    stages.done(f"{view.name} view: densest block of {copies} null copies (g0, their mean: {g0:.3f}), "
                f"on the driver", view.n_edges)
    if g0 <= 0:
        return g0, None
    rows, cols = edges.core(params.density_margin * g0)
    del edges
    release_memory()
    stages.done(f"{view.name} view: a core of {len(rows):,} accounts and {len(cols):,} columns at "
                f"{params.density_margin:g} x g0, on the driver", len(rows) + len(cols))
    return g0, (rows, cols)


def _core_on_spark(view: "SparkView", params: DenseBlockParams, driver_edges: int, copy_edges: int,
                   stages: Stages):
    """g0 and the core at margin x g0 (None when g0 is 0) of a view too large for the driver: its null
    copies made on Spark (each taken whole if it has at most ``copy_edges`` edges), its core pruned by
    passes on Spark until ``driver_edges`` are left."""
    copies = max(params.null_copies, 1)
    densities = [copy_density(view, copy, params, copy_edges) for copy in range(copies)]
    g0 = null_level([d for d, _edges in densities])
    whole = sum(edges <= copy_edges for _d, edges in densities)
    stages.done(f"{view.name} view: densest block of {copies} null copies (g0, their mean: {g0:.3f}; {whole} of them "
                f"taken to the driver whole, at most {copy_edges:,} edges)", view.n_edges)
    if g0 <= 0:
        return g0, None
    rows, cols = spark_core(view.weighted(view.edges.where("shared")), params.density_margin * g0, driver_edges)
    stages.done(f"{view.name} view: a core of {len(rows):,} accounts and {len(cols):,} columns at "
                f"{params.density_margin:g} x g0", len(rows) + len(cols))
    return g0, (rows, cols)


def coded_comments(timed, codes: CommentCodes, params: DenseBlockParams):
    """``(acc, note, cid, event, comment_id, t)``: every comment with its account's and note's rank among the
    sorted distinct ids (the local ``sorted_comments`` codes, ``codes``: ``spark.comment_codes``, which
    ``lockstep`` reads too); ``cid``, its place in (note, comment id) order; ``event``, its event's number
    within its note (the local ``segment_events`` in (note, time, comment id) order, each note's events from
    0); checkpointed (cut from its plan).

    ``cid`` is unique and dense, and within a note in the order of the ids: all a comment's code is used
    for (a tie-break among a note's comments, a key on the driver), without a sort of every comment id
    over the platform: each note's first ``cid`` is a prefix sum over the sorted notes (``first_cid``, from
    ``spark.codes.sorted_runs``), and its comments are numbered from there in the batch of whole notes
    that also numbers its events. O(N log N): the comments sorted only within their batches."""
    from pyspark.sql import functions as F

    batches = max(1, -(-codes.n_comments // ROWS_PER_BATCH))
    gap, span = int(pd.Timedelta(params.gap).value), int(pd.Timedelta(params.max_span).value)

    def numbered(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.sort_values(["note", "comment_id"], kind="stable")
        note = frame["note"].to_numpy(np.int64)
        n = len(note)
        first = np.r_[True, note[1:] != note[:-1]] if n else np.empty(0, bool)
        starts = np.flatnonzero(first)
        place = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        frame = frame.assign(cid=frame["first_cid"].to_numpy(np.int64) + place)
        frame = frame.sort_values(["note", "t", "cid"], kind="stable")
        note, t = frame["note"].to_numpy(np.int64), frame["t"].to_numpy(np.int64)
        event = segment_events(note, t, gap, span)
        # each note's events from 0: minus the event of the note's first comment
        base = np.maximum.accumulate(np.where(first, event, 0)) if n else event
        return frame.assign(event=event - base)[["acc", "note", "cid", "event", "comment_id", "t"]]

    return (codes.coded(timed, "first_cid")
            .withColumn("_batch", F.pmod(F.xxhash64("note"), F.lit(batches)))
            .groupBy("_batch").applyInPandas(numbered, CODED_SCHEMA).localCheckpoint())


def event_columns(coded, n_notes: int):
    """``coded`` with ``col``: each comment's event code, the local numbering (the events in (note, time,
    comment id) order): a note's first event code is the events of the notes before it. O(N + notes log
    notes)."""
    from pyspark.sql import functions as F

    per_note = coded.groupBy("note").agg((F.max("event") + 1).alias("events"))
    first = sorted_runs(per_note, ["note"], "events", start="first_col").select("note", "first_col")
    return (coded.join(small(first, n_notes), "note")
            .withColumn("col", F.col("first_col") + F.col("event")).drop("first_col"))


class SparkView:
    """One view's edges on Spark: ``edges`` = ``(acc, col, note, stratum, window, expected, row_deg,
    col_weight, weight, shared)``, checkpointed; ``comments`` = each comment's ``(acc, col, note, cid,
    comment_id, t)``; the view's sizes and the edges per null window."""

    def __init__(self, name, coded_cols, edges, ids, n_acc, n_col, n_edges, window_sizes):
        self.name, self.comments, self.edges, self.ids = name, coded_cols, edges, ids
        self.n_acc, self.n_col, self.n_edges, self.window_sizes = n_acc, n_col, n_edges, window_sizes

    @classmethod
    def build(cls, coded, ids: dict, name: str, params: DenseBlockParams, n_acc: int, n_notes: int) -> "SparkView":
        """The ``event`` or ``note`` view of the ``coded`` comments (on ``n_notes`` notes), as the local
        ``build_view`` builds it."""
        from pyspark.sql import functions as F

        columns = ("acc", "col", "note", "cid", "comment_id", "t")
        if name == "event":
            cols = event_columns(coded, n_notes).select(*columns).localCheckpoint()
        elif name == "note":
            # a projection of the checkpointed comments: read from their checkpoint, no copy of its own
            cols = coded.withColumn("col", F.col("note")).select(*columns)
        else:
            raise ValueError(f"unknown view {name!r} (event or note)")
        n_col = (cols.agg(F.max("col")).first()[0] or 0) + 1
        edges = cols.groupBy("acc", "col").agg(F.min("t").alias("t0"), F.first("note").alias("note"))
        edges = _with_windows(edges, params)
        # degrees, the null's probabilities and the weights (local build_view and edge_weights)
        row_deg = edges.groupBy("acc").agg(F.count("*").cast("double").alias("row_deg"))
        col_size = edges.groupBy("col").agg(F.count("*").alias("col_size"))
        note_k = (cols.select("acc", "note").distinct().groupBy("note")
                  .agg(F.count("*").cast("double").alias("note_k")))
        edges = (with_expected(edges)
                 .join(row_deg, "acc").join(col_size, "col").join(note_k, "note")
                 .withColumn("shared", F.col("col_size") >= 2)
                 .select("acc", "col", "note", "stratum", "window", "expected", "row_deg", "note_k", "shared"))
        edges = edges.mapInPandas(_edge_weight_batches, "acc long, col long, note long, stratum long, window long, "
                                  "expected double, row_deg double, col_weight double, weight double, "
                                  "shared boolean").localCheckpoint()
        n_edges = edges.count()
        sizes = dict(edges.groupBy("stratum").count().collect())
        window_sizes = np.array([float(sizes.get(w, 0)) for w in range(max(sizes, default=-1) + 1)])
        return cls(name, cols, edges, ids, n_acc, n_col, n_edges, window_sizes)

    def weighted(self, edges):
        """``(acc, col, w)`` of ``edges``."""
        return edges.select("acc", "col", edges["weight"].alias("w"))


def with_expected(edges):
    """``edges`` (``acc, col, window``, ...) with ``expected``: each edge's probability under the
    time-stratified null, the local ``expected_edges`` (d_w(a) * k_w(c) / m_w, clipped at 1: the same
    IEEE products and quotient as numpy's). O(E)."""
    from pyspark.sql import functions as F

    d = edges.groupBy("acc", "window").agg(F.count("*").cast("double").alias("_d"))
    k = edges.groupBy("col", "window").agg(F.count("*").cast("double").alias("_k"))
    m = edges.groupBy("window").agg(F.count("*").cast("double").alias("_m"))
    return (edges.join(d, ["acc", "window"]).join(k, ["col", "window"]).join(F.broadcast(m), "window")
            .withColumn("expected", F.least(F.col("_d") * F.col("_k") / F.col("_m"), F.lit(1.0)))
            .drop("_d", "_k", "_m"))


def _edge_weight_batches(batches):
    for b in batches:
        col_weight = 1.0 / np.log(b["note_k"].to_numpy(float) + 5.0)
        ones = np.arange(len(b))
        # edge_weights indexes per-node arrays; here each edge carries its own values
        weight = edge_weights(ones, ones, b["row_deg"].to_numpy(float), col_weight, b["expected"].to_numpy(float))
        yield pd.DataFrame({"acc": b["acc"], "col": b["col"], "note": b["note"], "stratum": b["stratum"],
                            "window": b["window"], "expected": b["expected"], "row_deg": b["row_deg"],
                            "col_weight": col_weight, "weight": weight, "shared": b["shared"]})


def _with_windows(edges, params: DenseBlockParams):
    """``edges`` with ``window`` and ``stratum``: the local ``time_windows`` of each edge's first comment
    time ``t0``, the raw weeks counted on Spark and merged on the driver (``merged_windows``)."""
    from pyspark.sql import functions as F

    width = int(pd.Timedelta(params.null_window).value) if params.null_window else 0
    if width <= 0:
        return edges.withColumn("window", F.lit(0).cast("long")).withColumn("stratum", F.lit(0).cast("long"))
    # floor division in integers (numpy's floor_divide; DIV alone truncates towards 0)
    edges = edges.withColumn("_raw", F.expr(f"CAST((t0 - pmod(t0, {width})) DIV {width} AS BIGINT)"))
    counts = sorted(edges.groupBy("_raw").count().collect())
    raws = [r for r, _ in counts]
    window = {r: i for i, r in enumerate(raws)}
    stratum = dict(zip(raws, merged_windows([c for _, c in counts], params.null_window_edges).tolist()))
    spark = edges.sparkSession
    table = spark.createDataFrame([(r, window[r], int(stratum[r])) for r in raws] or [(0, 0, 0)],
                                  "_raw long, window long, stratum long")
    return edges.join(F.broadcast(table), "_raw").drop("_raw")


# --------------------------------------------------------------------------- null copies


def copy_density(view: SparkView, copy: int, params: DenseBlockParams, max_edges: int) -> tuple[float, int]:
    """The densest-block density of null copy ``copy`` of ``view`` (the local ``null_density``'s, one copy),
    and the copy's number of (shared) edges; a copy of at most ``max_edges`` edges is taken to the driver."""
    from pyspark.sql import functions as F

    n_col, seed = max(view.n_col, 1), params.seed

    def permuted(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.sort_values(["acc", "col"], kind="stable")
        acc, col = frame["acc"].to_numpy(np.int64), frame["col"].to_numpy(np.int64)
        rng = np.random.default_rng([int(seed), int(copy), int(frame["stratum"].iloc[0])])
        new = permute_window(acc, col, n_col, rng)
        # the window's columns are permuted among its edges, so each new column's weight is in the frame
        cols, first = np.unique(col, return_index=True)
        col_weight = frame["col_weight"].to_numpy(float)[first][np.searchsorted(cols, new)]
        return pd.DataFrame({"acc": acc, "col": new, "col_before": col, "window": frame["window"].to_numpy(np.int64),
                             "row_deg": frame["row_deg"].to_numpy(float), "col_weight": col_weight})

    rows = (view.edges.select("acc", "col", "stratum", "window", "row_deg", "col_weight")
            .groupBy("stratum").applyInPandas(permuted, PERMUTED_SCHEMA))
    # duplicates dropped; a kept edge's window is that of its first row in the view's (account, column)
    # order; an account's degree and a column's weight are the same on each of its rows
    copy_edges = (rows.groupBy("acc", "col")
                  .agg(F.min(F.struct("col_before", "window", "row_deg", "col_weight")).alias("_first"))
                  .select("acc", "col", "_first.window", "_first.row_deg", "_first.col_weight"))
    size = copy_edges.groupBy("col").agg(F.count("*").alias("_size"))
    shared = (with_expected(copy_edges)
              .join(size, "col").where(F.col("_size") >= 2)
              .select("acc", "col", "row_deg", "col_weight", "expected"))
    weighted = shared.mapInPandas(_copy_weight_batches, WEIGHTED_SCHEMA).localCheckpoint()
    try:
        n_edges = weighted.count()
        return spark_densest_density(weighted, view.n_acc, view.n_col, params.min_accounts, max_edges,
                                     n_edges), n_edges
    finally:
        weighted.unpersist()
        release_memory()  # a copy taken whole: GiBs the next copy and the search need back


def _copy_weight_batches(batches):
    for b in batches:
        ones = np.arange(len(b))
        w = edge_weights(ones, ones, b["row_deg"].to_numpy(float), b["col_weight"].to_numpy(float),
                         b["expected"].to_numpy(float))
        yield pd.DataFrame({"acc": b["acc"], "col": b["col"], "w": w})


def spark_densest_density(weighted, n_acc: int, n_col: int, min_rows: int, driver_edges: int,
                          n_edges: int | None = None) -> float:
    """The local ``densest_density`` of the ``(acc, col, w)`` matrix (``n_acc`` x ``n_col``; ``n_edges`` edges,
    counted here if not given): the batch peel's passes on Spark while more than ``driver_edges`` edges are
    left, the rest on the driver; the core at the bound pruned on Spark until it fits, then exactly on the
    driver, and peeled."""
    from pyspark.sql import functions as F

    n_edges = weighted.count() if n_edges is None else n_edges
    if not n_edges:
        return 0.0
    if n_edges <= driver_edges:
        # the whole copy fits: taken once, and the local function does the rest
        return densest_density(_held_matrix(weighted, None, None, n_acc, n_col), min_rows)
    # the batch peel: alive nodes (with their degree among the alive edges; 0 for none)
    edges, rows_alive, cols_alive = weighted, None, None
    n_rows, n_cols, lb, done, rounds = n_acc, n_col, 0.0, False, 0
    while n_edges > driver_edges and rounds < BATCH_PEEL_ROUNDS:
        # the row degrees are held: the mass and the rows' cut both read them, not the edges twice
        rdeg = edges.groupBy("acc").agg(F.sum("w").alias("deg")).localCheckpoint()
        mass = float(rdeg.agg(F.sum("deg")).first()[0] or 0.0)
        size = n_rows + n_cols
        rounds += 1
        if size == 0 or mass == 0:
            _release(rdeg)
            done = True
            break
        if n_rows >= min_rows:
            lb = max(lb, mass / size)
        thr = 1.1 * mass / size
        # nodes alive but without an edge have degree 0 and go now
        keep_r = rdeg.where(F.col("deg") > thr).select("acc").localCheckpoint()
        keep_c = (edges.groupBy("col").agg(F.sum("w").alias("deg")).where(F.col("deg") > thr)
                  .select("col").localCheckpoint())
        _release(rdeg)
        kept_r, kept_c = keep_r.count(), keep_c.count()
        if kept_r == n_rows and kept_c == n_cols:
            _release(keep_r, keep_c)
            done = True
            break
        cut = (_semi(_semi(edges, keep_r, "acc", kept_r), keep_c, "col", kept_c)
               .select("acc", "col", "w").localCheckpoint())
        # a pass's frames go once the next pass's are held
        _release(edges, rows_alive, cols_alive, owned=weighted)
        edges, rows_alive, cols_alive, n_rows, n_cols = cut, keep_r, keep_c, kept_r, kept_c
        n_edges = edges.count()
    if not done:
        # the first pass neither stopped nor kept everything, so it cut: rows_alive and cols_alive are set
        ri = _ids(rows_alive, "acc")
        ci = _ids(cols_alive, "col")
        sub = _local_matrix(edges, ri, ci)
        lb, _ = batch_peel_bound(sub, ri, ci, n_acc, min_rows, lb, BATCH_PEEL_ROUNDS - rounds)
    _release(edges, rows_alive, cols_alive, owned=weighted)
    return _finish_densest(weighted, n_acc, n_col, lb, min_rows, driver_edges)


def _finish_densest(weighted, n_acc: int, n_col: int, lb: float, min_rows: int, driver_edges: int) -> float:
    rows, cols = spark_core(weighted, lb, driver_edges)
    held = _held_matrix(weighted, rows, cols, n_acc, n_col)
    rows, cols = prune_core(held, lb)
    return densest_in_core(held, rows, cols, lb, min_rows)


def _release(*frames, owned=None) -> None:
    """Unpersist the checkpointed ``frames`` (None: nothing), except ``owned``, the caller's."""
    for frame in frames:
        if frame is not None and frame is not owned:
            frame.unpersist()


def _ids(frame, column: str) -> np.ndarray:
    """The sorted ids in ``frame``'s ``column``."""
    return np.sort(frame.toPandas()[column].to_numpy(np.int64))


def _local_matrix(edges, ri: np.ndarray, ci: np.ndarray):
    """The ``(acc, col, w)`` ``edges`` among the nodes ``ri`` x ``ci`` as a CSR matrix of ``len(ri)`` x ``len(ci)``."""
    from scipy import sparse

    e = edges.toPandas()
    r = np.searchsorted(ri, e["acc"].to_numpy(np.int64))
    c = np.searchsorted(ci, e["col"].to_numpy(np.int64))
    return sparse.csr_matrix((e["w"].to_numpy(float), (r, c)), shape=(len(ri), len(ci)))


def _held_matrix(weighted, rows: np.ndarray | None, cols: np.ndarray | None, n_acc: int, n_col: int):
    """The ``weighted`` edges among ``rows`` x ``cols`` (None and None: all of them) as an ``n_acc`` x ``n_col``
    CSR matrix (the rest 0)."""
    from scipy import sparse

    e = (weighted if rows is None else _among(weighted, rows, cols)).toPandas()
    return sparse.csr_matrix((e["w"].to_numpy(float), (e["acc"].to_numpy(np.int64), e["col"].to_numpy(np.int64))),
                             shape=(n_acc, n_col))


def _semi(frame, keys, column: str, n_keys: int | None = None):
    """The rows of ``frame`` whose ``column`` is among ``keys``'. A semi join, not an inner one: Spark sizes
    an inner join's result as the product of its sides', and over the passes of a loop those estimates
    grow into integers of millions of digits (the driver runs out of memory computing them).

    ``n_keys``: how many keys there are, when known; up to ``BROADCAST_KEYS`` of them are sent to every
    executor (a broadcast hash join) so that ``frame`` is filtered where it lies rather than shuffled and
    sorted for a sort-merge join (11 % off a null copy's passes at 1M, measured beside)."""
    from pyspark.sql import functions as F

    if n_keys is not None and n_keys <= BROADCAST_KEYS:
        keys = F.broadcast(keys)
    return frame.join(keys, column, "left_semi")


def _among(edges, rows: np.ndarray, cols: np.ndarray):
    spark = edges.sparkSession
    r = spark.createDataFrame(pd.DataFrame({"acc": rows.astype(np.int64)}), "acc long")
    c = spark.createDataFrame(pd.DataFrame({"col": cols.astype(np.int64)}), "col long")
    return _semi(_semi(edges, r, "acc", len(rows)), c, "col", len(cols))


def spark_core(weighted, level: float, driver_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns holding ``weighted``'s ``level``-core (``prune_core``): passes on Spark, each
    dropping the nodes of weighted degree below ``level`` (a hair below: ``SPARK_SLACK``), while more than
    ``driver_edges`` edges are left; then the driver's exact ``prune_core`` on what is left. Sorted ids."""
    from pyspark.sql import functions as F
    from scipy import sparse

    edges = weighted
    n_edges = edges.count()
    bar = level * SPARK_SLACK
    while n_edges > driver_edges:
        keep_r = (edges.groupBy("acc").agg(F.sum("w").alias("deg")).where(F.col("deg") >= bar).select("acc")
                  .localCheckpoint())
        keep_c = (edges.groupBy("col").agg(F.sum("w").alias("deg")).where(F.col("deg") >= bar).select("col")
                  .localCheckpoint())
        pruned = (_semi(_semi(edges, keep_r, "acc", keep_r.count()), keep_c, "col", keep_c.count())
                  .select("acc", "col", "w").localCheckpoint())
        _release(keep_r, keep_c)
        left = pruned.count()
        if left == n_edges:
            _release(pruned)
            break
        _release(edges, owned=weighted)
        edges, n_edges = pruned, left
    e = edges.toPandas()
    _release(edges, owned=weighted)
    acc, col, w = e["acc"].to_numpy(np.int64), e["col"].to_numpy(np.int64), e["w"].to_numpy(float)
    rows, cols = np.unique(acc), np.unique(col)
    if not len(rows):
        return rows, cols
    sub = sparse.csr_matrix((w, (np.searchsorted(rows, acc), np.searchsorted(cols, col))),
                            shape=(len(rows), len(cols)))
    r, c = prune_core(sub, level)
    return rows[r], cols[c]


# --------------------------------------------------------------------------- the driver's view


class EdgesOnly(View):
    """A ``View`` holding every edge of a Spark view but none of its comments: what its null copies
    (``null_density``) and its core (``prune_core``) read. Per edge two codes, two window numbers, the
    weight and whether it is shared (~41 bytes; ~150 with one null copy at the peel's peak, traced on the
    1 M event view, about what a copy taken whole costs: ``COPY_EDGES_PER_DRIVER_EDGE``); per account its
    degree, per column its weight."""

    @classmethod
    def take(cls, spark_view: SparkView) -> "EdgesOnly":
        """Every edge of ``spark_view``, in (account, column) order, as the local ``build_view`` holds them
        (the null copies permute each window's edges in that order). O(E log E)."""
        table = spark_view.edges.select("acc", "col", "stratum", "window", "row_deg", "col_weight", "weight",
                                        "shared").toArrow()
        acc, col = _int64(table, "acc"), _int64(table, "col")
        order = np.lexsort([col, acc])
        n_acc, n_col = spark_view.n_acc, spark_view.n_col
        acc, col = acc[order], col[order]
        row_deg, col_weight = np.zeros(n_acc), np.zeros(n_col)
        # each account's degree and each column's weight are the same on all its edges
        row_deg[acc] = table.column("row_deg").to_numpy()[order]
        col_weight[col] = table.column("col_weight").to_numpy()[order]
        stratum, window = _int64(table, "stratum")[order], _int64(table, "window")[order]
        weight, shared = table.column("weight").to_numpy()[order], table.column("shared").to_numpy()[order]
        del table
        release_memory()  # the Arrow table's GiBs, before the copies need theirs
        none = np.empty(0, np.int64)
        return cls(spark_view.name, acc, col, n_acc, n_col, row_deg, None, col_weight, None, none, none,
                   stratum, window, None, weight, shared)

    def core(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns of the shared edges' ``level``-core (``prune_core``), as ``spark_core`` finds
        them (there: passes on Spark, then this on what is left). Sorted codes. O(E) per pass."""
        from scipy import sparse

        keep = self.shared
        # W alone: ``matrices()`` would also build the 0/1 matrix and its transpose, GiBs the core never reads
        W = sparse.csr_matrix((self.weight[keep], (self.acc[keep], self.col[keep])), shape=(self.n_acc, self.n_col))
        return prune_core(W, level)


class FetchedView(View):
    """A ``View`` holding the edges of some accounts and columns, fetching every edge of more of them
    from Spark when the search asks (``ensure``). ``tables`` holds the comments of the edges held
    (``cid``: their ids, ``t``) and id lookups for the accounts and notes named (``acc``, ``note``).

    What it holds is kept compact, because at 10 M accounts a view's core holds tens of millions of
    comments: per comment four integers (account, column, code, time) and its id in one Arrow string
    array; the edge's attributes once per edge, not per comment (the pandas frame of every column per
    comment with Python strings held ~550 bytes a comment and ran the driver out of memory at 10 M)."""

    @classmethod
    def _empty(cls, spark_view: SparkView) -> "FetchedView":
        empty = np.empty(0, np.int64)
        view = cls(spark_view.name, empty, empty, spark_view.n_acc, spark_view.n_col, None, None, None, None,
                   np.zeros(1, np.int64), empty, empty, empty, np.empty(0), np.empty(0), np.empty(0, bool))
        view.spark_view = spark_view
        view.held = {"acc": np.zeros(spark_view.n_acc, bool), "col": np.zeros(spark_view.n_col, bool)}
        view.rows = {name: np.empty(0, np.int64) for name in _ROW_COLUMNS}
        view.comment_ids = pa.array([], pa.large_string())
        view.attrs = {name: np.empty(0, dtype) for name, dtype in _EDGE_ATTRIBUTES.items()}
        view.attr_keys = np.empty(0, np.int64)
        view.fetches = 0
        view.held_cid = np.zeros(0, bool)
        view.held_cols, view.held_col_notes = np.empty(0, np.int64), np.empty(0, np.int64)
        view.tables = {"acc": _IdLookup(spark_view, "acc"), "note": _IdLookup(spark_view, "note"),
                       "cid": _CommentIds(view.comment_ids), "t": np.empty(0, np.int64)}
        return view

    @classmethod
    def whole(cls, spark_view: SparkView) -> "FetchedView":
        """The view holding every edge of ``spark_view``, with the per-node values its null copies read
        (the local ``build_view``'s ``row_deg`` and ``col_weight``)."""
        view = cls._empty(spark_view)
        view._take(spark_view.comments, spark_view.edges)
        view.held["acc"][:] = True
        view.held["col"][:] = True
        view.row_deg = np.bincount(view.acc, minlength=view.n_acc).astype(float)
        view.col_weight = np.zeros(view.n_col)
        view.col_weight[view.col] = view.attrs["col_weight"][view._attr_at(view.acc, view.col)]
        return view

    @classmethod
    def around(cls, spark_view: SparkView, rows: np.ndarray, cols: np.ndarray) -> "FetchedView":
        """The view holding every edge of the accounts ``rows`` and columns ``cols``."""
        view = cls._empty(spark_view)
        view.ensure("acc", rows)
        view.ensure("col", cols)
        return view

    def ensure(self, side: str, nodes: np.ndarray) -> None:
        nodes = np.asarray(nodes, dtype=np.int64)
        missing = nodes[~self.held[side][nodes]]
        if not len(missing):
            return
        key = "acc" if side == "acc" else "col"
        spark = self.spark_view.edges.sparkSession
        missing = np.unique(missing)
        wanted = spark.createDataFrame(pd.DataFrame({key: missing}), f"{key} long")
        self._take(_semi(self.spark_view.comments, wanted, key, len(missing)),
                   _semi(self.spark_view.edges, wanted, key, len(missing)))
        self.held[side][missing] = True
        self.fetches += 1

    def _take(self, comments, edges) -> None:
        """Add the ``comments`` (acc, col, cid, comment_id, t) and ``edges`` (their attributes) fetched.

        The rows held stay in (account, column, time, comment) order; a comment fetched again (its account
        held, now its column asked for) is recognised by its code ``cid``, not its id: integer sorts and
        look-ups, where sorting and hashing millions of id strings took most of a fetch. Each Arrow batch is
        read straight into numpy (no pandas frame of Python strings in between)."""
        fetched = comments.select(*_ROW_COLUMNS, "comment_id").toArrow()
        cid = _int64(fetched, "cid")
        if len(cid) and cid.max() >= len(self.held_cid):
            grown = np.zeros(max(int(cid.max()) + 1, 2 * len(self.held_cid)), bool)
            grown[:len(self.held_cid)] = self.held_cid
            self.held_cid = grown
        # a comment once: a fetch brings each of its comments once (one side's semi join, one edge per
        # comment), but a later fetch brings again those of the edges between nodes of both sides
        fresh = ~self.held_cid[cid]
        self.held_cid[cid] = True
        new_rows = {name: _int64(fetched, name)[fresh] for name in _ROW_COLUMNS}
        new_ids = fetched.column("comment_id").filter(pa.array(fresh)).cast(pa.large_string()).combine_chunks()
        del fetched, cid
        self.tables["acc"].fetch(new_rows["acc"])
        self.tables["note"].fetch(self._take_attributes(edges.select("acc", "col", *_EDGE_ATTRIBUTES).toArrow()))
        rows = {name: np.concatenate([self.rows[name], new_rows[name]]) for name in _ROW_COLUMNS}
        # cid is the comment id's rank among the sorted ids: the same order as the ids themselves
        order = np.lexsort([rows[c] for c in ("cid", "t", "col", "acc")])
        self.rows = {name: values[order] for name, values in rows.items()}
        ids = pa.concat_arrays([self.comment_ids, new_ids]) if len(self.comment_ids) else new_ids
        self.comment_ids = ids.take(pa.array(order))
        del rows, ids, new_rows, new_ids, order
        self._rebuild()
        release_memory()

    def _take_attributes(self, fetched) -> np.ndarray:
        """Add the edges' attributes in ``fetched`` (an Arrow table), those held already skipped; kept
        sorted by the edge's key (account x columns + column). Returns the notes of the edges added."""
        keys = _int64(fetched, "acc") * self.n_col + _int64(fetched, "col")
        fresh = _absent(self.attr_keys, keys)
        keys = np.concatenate([self.attr_keys, keys[fresh]])
        order = np.argsort(keys, kind="stable")
        self.attr_keys = keys[order]
        notes = np.empty(0, np.int64)
        for name, dtype in _EDGE_ATTRIBUTES.items():
            column = fetched.column(name).to_numpy().astype(dtype, copy=False)[fresh]
            notes = column if name == "note" else notes
            self.attrs[name] = np.concatenate([self.attrs[name], column])[order]
        return notes

    def _attr_at(self, acc: np.ndarray, col: np.ndarray) -> np.ndarray:
        """Where the attributes of the edges (``acc``, ``col``) are; each must be held (an edge and its
        comments come from the same semi join, so a comment without its edge is a bug, not data)."""
        keys = acc * self.n_col + col
        at = np.searchsorted(self.attr_keys, keys)
        if len(keys) and (at.max() >= len(self.attr_keys) or (self.attr_keys[at] != keys).any()):
            raise RuntimeError("dense_blocks on Spark: a comment was fetched without its edge's attributes")
        return at

    def _rebuild(self) -> None:
        acc, col = self.rows["acc"], self.rows["col"]
        n = len(acc)
        first = np.r_[True, (acc[1:] != acc[:-1]) | (col[1:] != col[:-1])] if n else np.empty(0, bool)
        at = np.flatnonzero(first)
        self.acc, self.col = acc[at], col[at]
        where = self._attr_at(self.acc, self.col)
        self.stratum = self.attrs["stratum"][where]
        self.window = self.attrs["window"][where]
        self.expected = self.attrs["expected"][where]
        self.weight = self.attrs["weight"][where]
        self.shared = self.attrs["shared"][where]
        self.edge_ptr = np.r_[at, n].astype(np.int64)
        self.edge_rows = np.arange(n, dtype=np.int64)
        self.tables["cid"] = _CommentIds(self.comment_ids)
        self.tables["t"] = self.rows["t"]
        self.held_cols, first_of = np.unique(self.col, return_index=True)
        self.held_col_notes = self.attrs["note"][where][first_of]
        self._by_side.clear()

    def window_sizes(self) -> np.ndarray:
        return self.spark_view.window_sizes

    def notes_of(self, cols: np.ndarray) -> np.ndarray:
        cols = np.asarray(cols, dtype=np.int64)
        at = np.searchsorted(self.held_cols, cols)
        if len(cols) and (at.max() >= len(self.held_cols) or (self.held_cols[at] != cols).any()):
            raise KeyError("notes_of: a column whose edges are not held")
        return self.held_col_notes[at]


# The columns a FetchedView holds per comment, and per edge (with their types).
_ROW_COLUMNS = ("acc", "col", "cid", "t")
_EDGE_ATTRIBUTES = {"note": np.int64, "stratum": np.int64, "window": np.int64, "expected": float,
                    "col_weight": float, "weight": float, "shared": bool}


def _int64(table, name: str) -> np.ndarray:
    """An Arrow table's integer column as one numpy array."""
    return table.column(name).to_numpy().astype(np.int64, copy=False)


def _absent(held: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which of ``keys`` are not in the sorted ``held``."""
    if not len(held):
        return np.ones(len(keys), bool)
    at = np.minimum(np.searchsorted(held, keys), len(held) - 1)
    return held[at] != keys


class _CommentIds:
    """``ids[rows]``: the comment ids of the rows a ``FetchedView`` holds (an object array, as the local
    engine's table), read from its Arrow array only for the rows a finding cites."""

    def __init__(self, ids) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        return np.array(self.ids.take(pa.array(rows)).to_pylist(), dtype=object)


class _IdLookup:
    """``lookup[codes]``: the ids (account or note) of the ``codes``, read from the view's id table; the
    codes of the edges a ``FetchedView`` takes are looked up with them (``fetch``), so the findings'
    look-ups are answered on the driver rather than by one Spark join each."""

    def __init__(self, spark_view: SparkView, kind: str) -> None:
        self.spark_view, self.kind, self.known = spark_view, kind, {}

    def fetch(self, codes) -> None:
        """Look up, in one join, those of ``codes`` not known yet."""
        known = self.known
        missing = [c for c in np.unique(np.asarray(codes, dtype=np.int64)).tolist() if c not in known]
        if not missing:
            return
        spark = self.spark_view.edges.sparkSession
        wanted = spark.createDataFrame(pd.DataFrame({"code": missing}), "code long")
        column = "account_id" if self.kind == "acc" else "note_id"
        found = _semi(self.spark_view.ids[self.kind], wanted, "code", len(missing)).select("code", column).toPandas()
        self.known.update(zip(found["code"].to_numpy(np.int64).tolist(), found[column].tolist()))

    def __getitem__(self, codes) -> np.ndarray:
        codes = np.atleast_1d(np.asarray(codes, dtype=np.int64))
        self.fetch(codes)
        return np.array([self.known[int(c)] for c in codes], dtype=object)
