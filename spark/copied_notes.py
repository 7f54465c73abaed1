"""``copied_notes`` on Spark: the notes' near-duplicate families are found on the executors with the
comment-template detector's distributed stages, and only the campaign families' notes reach the driver, where
``detection.copied_notes.campaign_findings`` makes the local detector's findings.

1. Normalising: each note's body normalised (``comment_text.normalize_text``) over batches of notes (a batch
   normalises its distinct bodies once); those of at least ``min_chars`` characters are judged (the raw length
   is no bound: NFKC may lengthen a character).
2. Near-duplicates: ``text_order``, ``common_shingles_on_spark`` (signatures of each body's rarer half),
   ``band_rows`` and ``sketched_links`` of ``spark/comment_templates.py`` and
   ``spark.components.connected_components`` over the distinct normalised bodies, with the note test's
   shingle, threshold, permutations and seed: the components are those
   ``comment_templates.near_duplicate_components`` gives over the same bodies sorted (that module says why).
   ``sketched_links``, not ``text_links``: the runs of shared buckets carry each body's sketch, not the
   body, and only the bodies of pairs the sketch leaves possible are gathered and shingled again. Carrying
   the bodies through every band they share, the 10 M lake's grouping ran a 7g heap out (2026-12-06).
3. Families: a judged note's family is its body's component's smallest rank (a body alone: its own rank), so
   families are numbered in the order the local ones are. Per family its distinct authors; ``lam`` from the
   two-author families and the notes judged (``background_rate_of``).
4. The notes of families with ``min_accounts`` authors or more (norms included) and their authors' management
   rows come to the driver.

The families (step 3) are checkpointed on the source (``PlatformSource.shared``): ``farmed_declared`` reads
those holding a candidate's note with the same test (its defaults are this detector's) instead of finding them
again, and the engine releases them once neither is left to run.

N notes, U distinct normalised bodies of length L: O(N L) to normalise, O(U L num_perm) to sign, the LSH and
verification of ``spark/comment_templates.py``, O(N) shuffled to count authors per family. What reaches the
driver is the campaign families' notes (and ``farmed_declared``'s candidates' families): at 10 M simulated
accounts a few thousand of ~3 M judged notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ringscope.detection.comment_text import normalize_text
from ringscope.detection.copied_notes import (
    DETECTOR, FAMILY_COLUMNS, CopiedNoteParams, background_rate_of, campaign_findings,
)
from ringscope.detection.farmed_declared import DETECTOR as FARMED_DECLARED
from ringscope.spark.comment_templates import (
    band_rows, common_shingles_on_spark, sketched_links, text_order,
)
from ringscope.spark.components import connected_components
from ringscope.spark.progress import Stages
from ringscope.spark.source import PlatformSource, to_pandas

NOTE_COLUMNS = ["note_id", "account_id", "posted_at", "brand_id", "text"]
MANAGED_COLUMNS = ["intermediary_id", "account_id", "since"]
# The detectors that read the families (``PlatformSource.shared``)
READERS = frozenset({DETECTOR, FARMED_DECLARED})


@dataclass(frozen=True)
class SparkNoteFamilies:
    """Every judged note (``FAMILY_COLUMNS`` and ``authors``, its family's distinct authors) as a checkpointed
    Spark frame, the notes judged, and ``lam``."""

    notes: object
    judged: int
    lam: float

    def rows(self, families) -> pd.DataFrame:
        """The notes of ``families`` (a Spark frame with a ``family`` column) on the driver, as
        ``note_families`` gives them. O(rows kept)."""
        from pyspark.sql import functions as F

        kept = self.notes.join(F.broadcast(families.select("family").distinct()), "family")
        df = to_pandas(kept.select(*FAMILY_COLUMNS), FAMILY_COLUMNS)
        return df.astype({"family": np.int64}).sort_values(["family", "note_id"], kind="mergesort") \
                 .reset_index(drop=True)


def normalised_notes(notes, min_chars: int):
    """``note_id, account_id, posted_at, brand_id, norm`` of the notes whose normalised body has at least
    ``min_chars`` characters, over batches of notes (each normalises its distinct bodies once). O(N L)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    def normalise(batches):
        for batch in batches:
            codes, distinct = pd.factorize(batch["text"].fillna("").astype(str), sort=False)
            norms = np.array([normalize_text(t) for t in distinct], dtype=object)
            long = np.fromiter((len(t) >= min_chars for t in norms), dtype=bool, count=len(norms))
            rows = np.flatnonzero(long[codes]) if len(codes) else np.zeros(0, dtype=np.int64)
            if len(rows):
                yield batch.iloc[rows].drop(columns="text").assign(norm=norms[codes[rows]])

    typed_ids = notes.select(F.col("note_id").cast("string").alias("note_id"),
                             F.col("account_id").cast("string").alias("account_id"), "posted_at",
                             F.col("brand_id").cast("string").alias("brand_id"),
                             F.col("text").cast("string").alias("text"))
    schema = StructType([*typed_ids.schema.fields[:4], StructField("norm", StringType())])
    return typed_ids.mapInPandas(normalise, schema)


def note_families_on_spark(source: PlatformSource, params: CopiedNoteParams,
                           log: Callable[[str], None] = lambda line: None) -> SparkNoteFamilies | None:
    """The notes' families under ``params``' test (steps 1-3 of the module), made once per source and test;
    None when the lake has no notes."""
    key = ("note_families", *params.family_test())
    notes = source.frame("notes", NOTE_COLUMNS)
    if notes is None:
        return None
    frame, facts = source.shared(key, READERS, lambda: _families(source, notes, params, log),
                                   code=__name__)
    return SparkNoteFamilies(frame, facts["judged"], facts["lam"])


def _families(source: PlatformSource, notes, params: CopiedNoteParams, log: Callable[[str], None]
              ) -> tuple[object, dict]:
    from pyspark.sql import functions as F

    spark, stage = source.spark, Stages("note families", log)
    near = params.near_duplicates()
    normed = normalised_notes(notes, params.min_chars).localCheckpoint()
    judged = normed.count()
    stage.done(f"notes with a body of at least {params.min_chars} characters", judged)
    texts = text_order(normed).localCheckpoint()
    distinct = texts.count()
    stage.done("distinct bodies", distinct)
    common = common_shingles_on_spark(texts, near, distinct)
    stage.done(f"common shingles (signatures: the rarer {near.signed_share:.0%} of a body's)",
               0 if common is None else len(common[0]))
    links = sketched_links(texts, band_rows(texts, near, common), near, spark.sparkContext.defaultParallelism,
                           distinct, stage.done)
    stage.done("links between near-duplicate bodies", links.count())
    roots = connected_components(links).select(F.col("node").alias("id"), "root")
    family = (normed.join(texts.select("norm", "id"), "norm").join(roots, "id", "left")
              .withColumn("family", F.coalesce(F.col("root"), F.col("id"))).select(*FAMILY_COLUMNS))
    authors = family.groupBy("family").agg(F.countDistinct("account_id").alias("authors"))
    families = family.join(authors, "family").localCheckpoint()
    counts = (families.select("family", "authors").distinct()
              .agg(F.count("*").alias("families"), F.sum((F.col("authors") == 2).cast("long")).alias("pairs"))
              .first())
    stage.done("families of near-duplicate bodies (two authors: the null's rate)", int(counts["families"] or 0))
    normed.unpersist()
    texts.unpersist()
    return families, {"judged": judged, "lam": background_rate_of(int(counts["pairs"] or 0), judged)}


def detect_copied_notes(source: PlatformSource, params: CopiedNoteParams = CopiedNoteParams(),
                        log: Callable[[str], None] = lambda line: None) -> list:
    """The findings the local ``detect_copied_notes`` makes on the same data (see the module)."""
    from pyspark.sql import functions as F

    fam = note_families_on_spark(source, params, log)
    if fam is None or fam.judged == 0:
        return []
    campaigns = fam.rows(fam.notes.where(F.col("authors") >= params.min_accounts))
    managed = None
    managed_frame = source.frame("intermediary_accounts", MANAGED_COLUMNS)
    if managed_frame is not None and len(campaigns):
        authors = source.spark.createDataFrame(pd.DataFrame({"account_id": sorted(set(campaigns["account_id"]))}),
                                               "account_id string")
        managed = to_pandas(managed_frame.withColumn("account_id", F.col("account_id").cast("string"))
                            .join(F.broadcast(authors), "account_id").select(*MANAGED_COLUMNS), MANAGED_COLUMNS)
    log(f"  copied_notes on Spark: {fam.judged:,} notes judged, lam {fam.lam:.3g}; on the driver "
        f"{len(campaigns):,} notes of families with {params.min_accounts}+ authors, "
        f"{0 if managed is None else len(managed):,} management rows of their authors")
    if campaigns.empty:
        return []
    return campaign_findings(campaigns, fam.judged, fam.lam, managed, params)
