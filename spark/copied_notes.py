"""``copied_notes`` on Spark: the notes that can matter are selected on Spark, and the local detector of
``detection.copied_notes`` runs over them on the driver.

Only a note whose body normalises (``comment_text.normalize_text``) to at least ``min_chars`` characters is
compared: the executors normalise each body and keep those (a pandas UDF, no shuffle; the raw length is no
bound, as NFKC may lengthen a character), and with the management rows of their authors they give on the driver
exactly the findings the local detector gives over every note. What reaches
the driver is the long bodies (the notes worth comparing: at 10 M simulated accounts, ~3 M notes of 40-300
characters at most, a few GB); a platform whose bodies do not fit one driver needs the comment-template stages
(``spark/comment_templates.py``) run over notes, which this module does not do yet.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from ringscope.detection.comment_text import normalize_text
from ringscope.detection.copied_notes import CopiedNoteParams, detect_copied_notes as local_copied_notes
from ringscope.detection.findings import ClusterFinding
from ringscope.spark.source import PlatformSource, to_pandas

NOTE_COLUMNS = ["note_id", "account_id", "posted_at", "brand_id", "text"]
MANAGED_COLUMNS = ["intermediary_id", "account_id", "since"]


def detect_copied_notes(source: PlatformSource, params: CopiedNoteParams = CopiedNoteParams(),
                        log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_copied_notes`` makes on the same data (see the module)."""
    from pyspark.sql import functions as F

    notes = source.frame("notes", NOTE_COLUMNS)
    if notes is None:
        return []
    min_chars = params.min_chars

    @F.pandas_udf("boolean")
    def judged(texts: pd.Series) -> pd.Series:
        return texts.map(lambda t: t is not None and len(normalize_text(t)) >= min_chars).astype(bool)

    long = notes.where(F.col("text").isNotNull()).where(judged(F.col("text").cast("string")))
    selected = to_pandas(long, NOTE_COLUMNS)
    managed = None
    managed_frame = source.frame("intermediary_accounts", MANAGED_COLUMNS)
    if managed_frame is not None and len(selected):
        authors = long.select(F.col("account_id").cast("string").alias("account_id")).distinct()
        managed = to_pandas(managed_frame.withColumn("account_id", F.col("account_id").cast("string"))
                            .join(authors, "account_id").select(*MANAGED_COLUMNS), MANAGED_COLUMNS)
    log(f"  copied_notes on Spark: {len(selected):,} notes with a body of at least {params.min_chars} characters, "
        f"{0 if managed is None else len(managed):,} management rows of their authors")
    return local_copied_notes(selected, managed, params)
