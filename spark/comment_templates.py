"""``comment_template`` on Spark: near-duplicate texts are found, grouped into templates and their uses
tested on the executors, by the pure functions of ``detection.comment_templates``; the few comments that
link accounts are clustered on the driver by ``linked_template_clusters``, as the local engine clusters
them.

The local detector's stages, and where each runs here:

1. Normalising: ``PreparedComments`` over batches of comments (each batch normalises its distinct texts
   once), the comments whose normalised text is ``long_enough`` kept.
2. Text order: each distinct normalised text's rank among them sorted (``spark.codes.sorted_ranks``; Spark
   orders strings by their UTF-8 bytes, which is Python's code point order), the local engine's text
   index, and its number of uses.
3. MinHash-LSH: ``ShingleSets`` and ``band_key`` over batches of texts give each text one row per band.
   A text's shingle ids are its code points packed, the permutations hash those ids, so its signature and
   band keys depend on the text alone, never on the batch.
4. Candidates and verification: the texts of each bucket (band, key) are gathered in text order (a
   large bucket in overlapping runs that hold the same windowed pairs, ``shared_buckets``), and
   each task's buckets (one task per core, ``LINK_CHARS`` characters of texts at a time) go through ``link_band`` band
   by band, the local loop's step: the windowed bucket pairs of ``band_pairs``, those not connected yet
   verified by the exact shingle Jaccard, merged. The local components are those of every verified
   windowed pair over all bands (a pair skipped there joins texts already connected); each call's
   components are those of its buckets' verified pairs, so the components of the union of every call's
   components, joined by ``spark.components`` (large-star / small-star), are the local ones. A call
   sends back one edge per text to the first text of its component. For long texts (note bodies)
   ``sketched_links`` does the same in two passes: the runs carry each text's sketch, the windowed pairs
   the sketch leaves possible (``possible_pairs``) are kept with only their texts, and those are gathered
   with their texts and linked (``_verify_batch``); a text is shingled a few times, not once per band.
5. Templates: each component is named by its most used text (ties: the first in text order), a
   text alone by itself, as ``_template_groups`` names them.
6. Linking uses: everything ``linking_uses`` decides (accounts per template, co-location per note,
   the share of co-located uses) is per template, so it runs on the executors over batches of whole
   templates (``applyInPandas`` on a hash of the template), after the JVM has set aside templates with
   fewer than ``min_accounts`` or more than ``max_template_accounts`` accounts (the local engine counts
   nothing of theirs). Each batch also marks the comment ``quoted_comments`` names per template.
7. The linking comments (a ring's co-located comments: few) come to the driver; their lure matches
   (``match_lures``: a comment's matches depend on its text alone) and ``linked_template_clusters``
   make the findings.

N comments, U distinct normalised texts of length L, b bands: O(N) to normalise, join and count,
O(U L num_perm) to sign, O(U b) bucket rows, windowed pairs verified at O(L) each, at most once per call;
O(N log N) to test the uses. Only the linking comments reach the driver.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ringscope.detection.comment_templates import (
    BUCKET_WINDOW, COMMON_SHARE, DETECTOR, CommentTemplateParams, ShingleSets, band_key, band_pairs,
    common_shingles, link_band, linked_template_clusters, linking_uses, long_enough, lsh_bands, merge_components,
    possible_pairs, quoted_comments,
)
from ringscope.detection.comment_text import PreparedComments, isin_objects, object_array
from ringscope.detection.findings import ClusterFinding
from ringscope.detection.offplatform_lures import LURE_PATTERNS, LurePatterns, match_lures
from ringscope.spark.codes import sorted_ranks
from ringscope.spark.components import connected_components
from ringscope.spark.progress import Stages
from ringscope.spark.source import PlatformSource, to_pandas, typed

COMMENT_COLUMNS = ["comment_id", "account_id", "note_id", "created_at", "text"]
# Bucket text characters linked in one call (a few hundred MB at most): 2 M comments of ~24 characters, or
# ~160,000 note bodies. Counted in rows, note bodies (copied_notes: ~300 characters) took one Python worker to
# 5.6 GiB at 10 M accounts and the machine out of memory (benchmarks/results/spark_detection.md, 2026-12-06).
LINK_CHARS = 48 << 20
# Texts of one LSH bucket gathered in one row (with the next run's first BUCKET_WINDOW): ~80 kB of note bodies.
# Spark's collect_list keeps up to 128 groups' texts as Java objects per task before it sorts (not spilled): at
# 4,096 texts a run the 10 M lake's note bodies still took a 7g heap out (2026-12-06), as whole buckets had.
BUCKET_RUN = 256
# Band rows (text occurrences) gathered in one pass of ``sketched_links``: at ~200 bytes of shuffle each, ~13 GB.
BAND_ROWS_PER_PASS = 64 << 20
assert BUCKET_RUN >= BUCKET_WINDOW, "a text's window would reach past the next run"
USE_COLUMNS = ["comment_id", "account_id", "note_id", "norm", "template", "text", "quoted"]
USE_SCHEMA = ("comment_id string, account_id string, note_id string, norm string, template string, text string, "
              "quoted boolean")


def normalised_comments(comments, params: CommentTemplateParams):
    """``comments`` with ``text`` (missing -> "") and ``norm``, its normalised text, for the comments whose
    ``norm`` is ``long_enough``: ``PreparedComments`` over batches of comments on the executors (each
    batch normalises its distinct texts once). ``created_at`` passes through as it is. O(N + D L) for D
    distinct texts per batch."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    def normalise(batches):
        for batch in batches:
            prep = PreparedComments(batch.reset_index(drop=True))
            norms = np.asarray(prep.compact, dtype=object)
            rows = np.flatnonzero(long_enough(norms, params)[prep.codes])
            if len(rows):
                codes = prep.codes[rows]
                yield batch.iloc[rows].assign(text=np.asarray(prep.texts, dtype=object)[codes], norm=norms[codes])

    typed_ids = comments.select(*[F.col(c).cast("string").alias(c) for c in ("comment_id", "account_id", "note_id")],
                                "created_at", F.col("text").cast("string").alias("text"))
    schema = StructType([*typed_ids.schema.fields[:4], StructField("text", StringType()),
                         StructField("norm", StringType())])
    return typed_ids.mapInPandas(normalise, schema)


def text_order(normed):
    """``(id, norm, uses)``: each distinct normalised text, its rank among them sorted (the local text
    index) and its number of comments. O(N + U log U)."""
    from pyspark.sql import functions as F

    uses = normed.groupBy("norm").agg(F.count("*").alias("uses"))
    # norm is unique, so sorting by (norm, uses) is sorting by norm
    return sorted_ranks(uses, ["norm", "uses"], "id")


def common_shingles_on_spark(texts, params: CommentTemplateParams, count: int
                             ) -> tuple[np.ndarray, np.ndarray] | None:
    """``common_shingles`` of the ``count`` texts of ``texts`` (``id, norm``), or None with ``signed_share`` 1
    (signatures of every shingle: nothing to count). Each batch of texts counts its shingles' texts
    (``ShingleSets.document_frequency``: a shingle's id is its packed code points, the same in every
    batch), the JVM sums them, and only the common ones come to the driver (at most ``1 / COMMON_SHARE``
    per text). O(U L)."""
    from pyspark.sql import functions as F

    if params.signed_share >= 1:
        return None

    def frequency(batches):
        for batch in batches:
            shingles, texts = ShingleSets(batch["norm"].astype(object).tolist(), params.shingle).document_frequency()
            yield pd.DataFrame({"shingle": shingles.view(np.int64), "texts": texts.astype(np.int64)})

    counted = (texts.select("norm").mapInPandas(frequency, "shingle long, texts long")
               .groupBy("shingle").agg(F.sum("texts").alias("texts")))
    # common_shingles' rule, in the JVM: only the common shingles come back
    found = to_pandas(counted.where(F.col("texts") > F.lit(COMMON_SHARE * count)), ["shingle", "texts"])
    shingles = found["shingle"].to_numpy(dtype=np.int64).view(np.uint64)
    order = np.argsort(shingles)
    return common_shingles(shingles[order], found["texts"].to_numpy(dtype=np.int64)[order], count)


def band_rows(texts, params: CommentTemplateParams, common: tuple[np.ndarray, np.ndarray] | None = None):
    """``(band, key, id)``: each text's bucket key in every LSH band, by ``ShingleSets`` and ``band_key`` over
    batches of texts (a text's keys depend on it alone, and on the ``common`` shingles its signature may
    leave out: ``common_shingles_on_spark``). O(U L num_perm)."""
    bands = lsh_bands(params.threshold, params.num_perm)[0]

    def keys(batches):
        for batch in batches:
            norms = batch["norm"].astype(object).tolist()
            sig = ShingleSets(norms, params.shingle).signatures(params, common)
            ids = batch["id"].to_numpy(dtype=np.int64)
            for band in range(bands):
                yield pd.DataFrame({"band": np.int32(band), "key": band_key(sig, band, params).view(np.int64),
                                    "id": ids})

    return texts.select("id", "norm").mapInPandas(keys, "band int, key long, id long")


def _field(name: str):
    """``element -> element[name]`` for ``F.transform`` (a one-argument function: a second is the index)."""
    return lambda element: element[name]


def shared_buckets(rows, texts, carry: dict[str, str] | None = None):
    """``(band, ids, norms)``: the buckets of two texts or more, in runs of at most ``BUCKET_RUN`` +
    ``BUCKET_WINDOW`` texts, each run one row with its texts in text order (ids ascending). ``carry`` names
    the columns of ``texts`` each run holds an array of, and the arrays (default: ``norm`` as ``norms``).

    A text is paired with its next ``BUCKET_WINDOW`` bucket mates in text order (``band_pairs``), so a
    bucket cut into runs of ``BUCKET_RUN`` positions, each run also holding the next run's first
    ``BUCKET_WINDOW`` texts, has exactly the bucket's windowed pairs among its runs' windowed pairs: the same
    components. Whole, the 10 M run's largest note buckets took Spark's grouping past a 7 GiB heap
    (benchmarks/results/spark_detection.md, 2026-12-06). The texts (``(id, norm)`` of ``texts``) are joined
    to the shared buckets only: carried through the grouping with every band's row, note bodies of ~300
    characters took the 10 M run's shuffle past the disk. O(U b log U)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # windows, not a grouped count joined back: the band rows (a MinHash per text) are computed once
    bucket = Window.partitionBy("band", "key").orderBy("id")
    whole = bucket.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    pos = F.row_number().over(bucket) - 1
    placed = (rows.withColumn("size", F.count(F.lit(1)).over(whole)).withColumn("pos", pos)
              .where(F.col("size") > 1))
    run = F.floor(F.col("pos") / BUCKET_RUN).cast("long")
    # the first BUCKET_WINDOW texts of a run are also the last of the run before
    runs = F.when((F.col("pos") >= BUCKET_RUN) & (F.col("pos") % BUCKET_RUN < BUCKET_WINDOW),
                  F.array(run - 1, run)).otherwise(F.array(run))
    carry = carry or {"norm": "norms"}
    members = (placed.select("band", "key", "id", F.explode(runs).alias("run"))
               .join(texts.select("id", *carry), "id"))
    gathered = (members.groupBy("band", "key", "run")
                .agg(F.array_sort(F.collect_list(F.struct("id", *carry))).alias("texts"))
                .where(F.size("texts") > 1))
    return gathered.select("band", F.transform("texts", lambda t: t["id"]).alias("ids"),
                           *[F.transform("texts", _field(c)).alias(name) for c, name in carry.items()])


def _flat(batch: pd.DataFrame, column: str, dtype) -> np.ndarray:
    """A batch's array column (one array per run) as one array, runs one after the other. O(rows)."""
    return np.concatenate([np.asarray(x, dtype=dtype) for x in batch[column]])


def _batch_texts(batch: pd.DataFrame, params: CommentTemplateParams):
    """(each run's length, the batch's distinct text ids ascending, each row's index among them, their
    ``ShingleSets``) for a batch of runs of ``(ids, norms)``. O(T log T)."""
    ids = _flat(batch, "ids", np.int64)
    texts, first, text = np.unique(ids, return_index=True, return_inverse=True)
    sets = ShingleSets(_flat(batch, "norms", object)[first].tolist(), params.shingle)
    return batch["ids"].map(len).to_numpy(dtype=np.int64), texts, text, sets


def _component_edges(texts: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """``(src, dst)``: an edge from each text of ``texts`` (ids) to the first text of its component
    (``labels``), none from a first text. O(n log n)."""
    _, lead = np.unique(labels, return_index=True)                     # each component's first text
    head = np.empty(int(labels.max()) + 1, dtype=np.int64) if len(labels) else np.zeros(0, dtype=np.int64)
    head[labels[lead]] = lead
    linked = np.flatnonzero(head[labels] != np.arange(len(texts)))
    return pd.DataFrame({"src": texts[linked], "dst": texts[head[labels[linked]]]})


def _link_batch(batch: pd.DataFrame, params: CommentTemplateParams) -> pd.DataFrame:
    """``(src, dst)``: for a batch of whole buckets, an edge from each text to the first text of its
    component among the batch's verified candidate pairs (``link_band`` band by band, as the local loop).
    O(rows log rows + candidates L)."""
    sizes, texts, text, sets = _batch_texts(batch, params)
    bands = np.repeat(batch["band"].to_numpy(dtype=np.int64), sizes)
    bucket = np.repeat(np.arange(len(batch), dtype=np.int64), sizes)    # a band key: equal within a bucket
    labels = np.arange(len(texts), dtype=np.int64)
    order = np.lexsort((text, bands))                                  # by band, then in text order
    bands, bucket, text = bands[order], bucket[order], text[order]
    cuts = np.flatnonzero(np.concatenate([[True], bands[1:] != bands[:-1], [True]]))
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        labels = link_band(labels, bucket[lo:hi], sets, params.threshold, texts=text[lo:hi])
    return _component_edges(texts, labels)


def _verify_batch(batch: pd.DataFrame, params: CommentTemplateParams) -> pd.DataFrame:
    """``_link_batch`` for runs of ``possible_runs``: the candidate pairs are given (``left``, ``right``:
    positions in ``ids``) and already passed the sketch bound, so band by band those not connected yet go
    straight to the exact test (``ShingleSets.exact``: no sketch is made) and are merged.
    O(rows log rows + pairs L)."""
    sizes, texts, text, sets = _batch_texts(batch, params)
    pairs = batch["left"].map(len).to_numpy(dtype=np.int64)
    offset = np.repeat(np.cumsum(sizes) - sizes, pairs)                # each run's first row in ids
    left = text[_flat(batch, "left", np.int64) + offset]
    right = text[_flat(batch, "right", np.int64) + offset]
    bands = np.repeat(batch["band"].to_numpy(dtype=np.int64), pairs)
    order = np.argsort(bands, kind="stable")
    bands, left, right = bands[order], left[order], right[order]
    labels = np.arange(len(texts), dtype=np.int64)
    cuts = np.flatnonzero(np.concatenate([[True], bands[1:] != bands[:-1], [True]]))
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        i, j = left[lo:hi], right[lo:hi]
        open_ = labels[i] != labels[j]
        i, j = sets.exact(i[open_], j[open_], params.threshold)
        if len(i):
            labels = merge_components(labels, i, j)
    return _component_edges(texts, labels)


def text_links(buckets, params: CommentTemplateParams, link: Callable = _link_batch):
    """``(src, dst)`` edges whose components are those of all verified candidate pairs (see the module):
    ``link`` over batches of ``buckets`` (``_link_batch``: runs of whole buckets; ``_verify_batch``: runs
    of ``possible_runs``). O(U b + candidates L), over the executors."""
    def links(batches):
        # A partition's buckets are linked together, up to LINK_CHARS characters of texts at once: the fewer
        # the calls, the fewer the pairs verified twice (a template's variants share buckets in every band);
        # where the calls end changes no link's component, only how often a pair is verified.
        pending, chars = [], 0
        for batch in batches:
            pending.append(batch)
            chars += int(sum(len(text) for norms in batch["norms"] for text in norms))
            if chars >= LINK_CHARS:
                yield link(pd.concat(pending, ignore_index=True), params)
                pending, chars = [], 0
        if pending:
            yield link(pd.concat(pending, ignore_index=True), params)

    return buckets.mapInPandas(links, "src long, dst long")


def text_sketches(texts, params: CommentTemplateParams):
    """``(id, size, sketch)``: each text's shingle count and ``ShingleSets.sketch`` row (bytes), over batches
    of texts (a text's depend on it alone). O(U L)."""
    def sketches(batches):
        for batch in batches:
            sets = ShingleSets(batch["norm"].astype(object).tolist(), params.shingle)
            yield pd.DataFrame({"id": batch["id"].to_numpy(dtype=np.int64), "size": sets.size.astype(np.int32),
                                "sketch": [row.tobytes() for row in sets.sketch]})

    return texts.select("id", "norm").mapInPandas(sketches, "id long, size int, sketch binary")


def _possible_batch(batch: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """``(band, ids, left, right)`` for a batch of runs of ``(band, ids, sizes, sketches)``: per run its
    windowed pairs (``band_pairs``) that ``possible_pairs`` leaves possible, as positions in the run's texts
    in those pairs (``ids``, ascending); runs with none are left out. O(pairs)."""
    counts = batch["ids"].map(len).to_numpy(dtype=np.int64)
    ids, size = _flat(batch, "ids", np.int64), _flat(batch, "sizes", np.int64)
    sketch = np.frombuffer(b"".join(b for run in batch["sketches"] for b in run), dtype=np.uint64)
    sketch = sketch.reshape(len(ids), -1)
    run = np.repeat(np.arange(len(batch), dtype=np.int64), counts)
    i, j = band_pairs(run, np.arange(len(ids), dtype=np.int64))         # every run mixed: positions in ids
    keep = possible_pairs(size, sketch, i, j, threshold)
    i, j = i[keep], j[keep]                                            # ascending i: grouped by run
    if not len(i):  # object columns: an empty list makes a float column, which Arrow cannot send as arrays
        empty = pd.Series([], dtype=object)
        return pd.DataFrame({"band": np.zeros(0, dtype=np.int32), "ids": empty, "left": empty, "right": empty})
    live = np.unique(np.concatenate([i, j]))                           # positions, grouped by run
    runs, first = np.unique(run[live], return_index=True)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[live] = np.arange(len(live)) - np.repeat(first, np.diff(np.concatenate([first, [len(live)]])))
    pair_cuts = np.searchsorted(run[i], runs[1:]) if len(runs) else []
    live_cuts = first[1:]
    return pd.DataFrame({
        "band": batch["band"].to_numpy(dtype=np.int32)[runs],
        "ids": np.split(ids[live], live_cuts),
        "left": np.split(rank[i].astype(np.int32), pair_cuts),
        "right": np.split(rank[j].astype(np.int32), pair_cuts),
    })


def possible_runs(buckets, params: CommentTemplateParams):
    """``(band, ids, left, right)``: the windowed pairs of each run of ``shared_buckets`` carrying ``size``
    and ``sketch`` (``text_sketches``) that ``possible_pairs`` leaves possible, with only the texts in them.
    No text is shingled here: a run's pairs are judged by its texts' sketches. O(windowed pairs)."""
    def possible(batches):
        for batch in batches:
            if len(batch):
                yield _possible_batch(batch, params.threshold)

    return buckets.mapInPandas(possible, "band int, ids array<long>, left array<int>, right array<int>")


def sketched_links(texts, rows, params: CommentTemplateParams, parallelism: int, count: int,
                   done: Callable[[str, int], None] = lambda what, count: None):
    """``(src, dst)`` edges whose components are those of ``text_links`` over the same band ``rows``, for
    the ``count`` long texts of ``texts``: each text is shingled once for its sketch (``text_sketches``), the
    runs of shared buckets carry sketches, not texts, and only the texts of pairs the sketch leaves possible
    are gathered with their texts and shingled again (``_verify_batch``). On the 1 M lake's note bodies 18 %
    of a run's texts are in such a pair, so this shingles a body a few times where ``text_links`` shingles it
    once per band it shares (benchmarks/results/spark_detection.md, 2026-12-06). The possible pairs are the
    windowed pairs less some whose Jaccard is certainly below the threshold: the same verified pairs, the
    same components.

    The bands are taken ``BAND_ROWS_PER_PASS`` band rows at a time, each pass's shuffle files deleted before
    the next (``release_shuffles``): every text of a shared bucket travels with its sketch, ~200 bytes that
    do not compress, which at 10 M accounts in one pass would be ~70 GB of shuffle. The links of every pass
    together have the components of all bands' pairs. ``done`` gets the runs kept per pass.
    O(U L + windowed pairs + possible pairs L)."""
    from functools import reduce

    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from ringscope.spark.session import release_shuffles

    bands = lsh_bands(params.threshold, params.num_perm)[0]
    per_pass = max(1, min(bands, BAND_ROWS_PER_PASS // max(count, 1)))
    sketched = text_sketches(texts, params).persist(StorageLevel.DISK_ONLY)
    rows = rows.persist(StorageLevel.DISK_ONLY)
    passes = []
    for lo in range(0, bands, per_pass):
        hi = min(bands, lo + per_pass)
        buckets = shared_buckets(rows.where((F.col("band") >= lo) & (F.col("band") < hi)), sketched,
                                 {"size": "sizes", "sketch": "sketches"})
        runs = possible_runs(buckets, params).withColumn("run", F.monotonically_increasing_id()).localCheckpoint()
        done(f"LSH bucket runs with a pair the sketches leave possible, bands {lo}-{hi - 1} of {bands}",
             runs.count())
        members = (runs.select("run", F.posexplode("ids").alias("pos", "id"))
                   .join(texts.select("id", "norm"), "id"))
        gathered = members.groupBy("run").agg(F.array_sort(F.collect_list(F.struct("pos", "norm"))).alias("texts"))
        verify = (gathered.join(runs, "run")
                  .select("band", "ids", F.transform("texts", _field("norm")).alias("norms"), "left", "right"))
        passes.append(text_links(verify.coalesce(max(1, parallelism)), params, _verify_batch).localCheckpoint())
        runs.unpersist()
        del buckets, runs, members, gathered, verify
        release_shuffles(texts.sparkSession)
    sketched.unpersist()
    rows.unpersist()
    return reduce(lambda a, b: a.union(b), passes)


def template_names(texts, roots):
    """``(norm, template)`` for the texts in a component of two or more: the component's most used text,
    ties to the first in text order (``roots``: ``(node, root)`` of every such text). O(U)."""
    from pyspark.sql import functions as F

    members = texts.join(roots.select(F.col("node").alias("id"), "root"), "id")
    best = members.groupBy("root").agg(F.max(F.struct("uses", (-F.col("id")).alias("first"), "norm")).alias("best"))
    return members.join(best.select("root", F.col("best.norm").alias("template")), "root").select("norm", "template")


def _uses_of(params: CommentTemplateParams):
    def uses(batch: pd.DataFrame) -> pd.DataFrame:
        groups = typed(batch.reset_index(drop=True), ["created_at"])
        linking = groups.iloc[linking_uses(groups, params)]
        quoted = isin_objects(object_array(linking["comment_id"]), quoted_comments(linking))
        return linking.assign(quoted=quoted)[USE_COLUMNS]
    return uses


def linking_comments(templated, params: CommentTemplateParams):
    """The comments of ``templated`` (``COMMENT_COLUMNS`` with ``norm`` and ``template``) that link
    accounts (``linking_uses``) with ``quoted``, run over batches of whole templates; templates outside
    [``min_accounts``, ``max_template_accounts``] accounts are left out first. O(N log N)."""
    from pyspark.sql import functions as F

    counted = templated.groupBy("template").agg(F.count_distinct("account_id").alias("accounts"))
    kept = counted.where(F.col("accounts").between(params.min_accounts, params.max_template_accounts))
    batches = int(templated.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    return (templated.join(kept.select("template"), "template")
            .withColumn("batch", F.pmod(F.hash("template"), F.lit(batches)))
            .groupBy("batch").applyInPandas(_uses_of(params), USE_SCHEMA))


def detect_comment_templates(source: PlatformSource, params: CommentTemplateParams = CommentTemplateParams(),
                             log: Callable[[str], None] = lambda line: None, *,
                             patterns: LurePatterns = LURE_PATTERNS) -> list[ClusterFinding]:
    """The findings the local ``detect_comment_templates`` makes on the same comments (see the module).
    ``log`` gets a line per stage (each stage is computed, and kept, before the next starts)."""
    from pyspark.sql import functions as F

    comments = source.frame("comments", COMMENT_COLUMNS)
    if comments is None:
        return []
    if params.min_chars <= 0 and comments.where(F.length(F.col("text").cast("string")) > 0).isEmpty():
        return []                                  # no text at all (has_text): not even empty templates
    spark, stage = source.spark, Stages(DETECTOR, log)
    try:
        normed = normalised_comments(comments, params).persist()
        texts = text_order(normed).persist()
        distinct = texts.count()
        stage.done("distinct normalised texts long enough to be templates", distinct)
        if distinct == 0:
            return []
        common = common_shingles_on_spark(texts, params, distinct)
        buckets = shared_buckets(band_rows(texts, params, common), texts).persist()
        stage.done("LSH buckets shared by several texts", buckets.count())
        # one task per core: the fewer the calls, the fewer pairs verified twice and edges sent back
        links = text_links(buckets.coalesce(max(1, spark.sparkContext.defaultParallelism)), params).persist()
        stage.done("links between near-duplicate texts", links.count())
        roots = connected_components(links).persist()
        stage.done("texts in templates of several variants", roots.count())
        named = template_names(texts, roots)
        templated = (normed.join(named, "norm", "left")
                     .withColumn("template", F.coalesce(F.col("template"), F.col("norm"))))
        found = to_pandas(linking_comments(templated, params), USE_COLUMNS)
        stage.done("comments linking accounts through templates", len(found))
    finally:
        spark.catalog.clearCache()
    if found.empty:
        return []
    uses = found.sort_values(["template", "comment_id"]).reset_index(drop=True)
    lures = match_lures(PreparedComments(uses), patterns)
    quoted = uses["quoted"].to_numpy(dtype=bool)
    texts_quoted = dict(zip(object_array(uses["comment_id"])[quoted], object_array(uses["text"])[quoted]))
    findings = linked_template_clusters(uses, lures, params, texts_quoted)
    stage.done("clusters", len(findings))
    return findings
