"""The comments' account and note codes on Spark, made once a run for the two detectors that number them.

``lockstep`` and ``dense_blocks`` both number the accounts and the notes of the comments with a time as the
local engine does (``pd.factorize(sort=True)``: ranks in sorted order over the whole platform,
``spark.codes``), and ``dense_blocks`` also needs each note's comment count and where its comments' own codes
begin. Each used to sort the platform's accounts and notes itself; now the first of them to run makes the
tables (one sort of the distinct accounts, one of the notes with their counts: ``sorted_ranks`` and
``sorted_runs``), checkpointed on the source (``PlatformSource.shared``), and the engine releases them after
the last of the two (``release_shared``). They are not written to ``RINGSCOPE_SPARK_FRAMES_DIR`` for a resumed
run: writing them cost about what making them costs (1 M lake: ``lockstep`` ~12 s slower with them kept, the
two sorts ~11 s).

The tables depend only on the comments' (account, note) pairs with a time (``timed_comments``: rows missing a
time are left out, as the local readers leave them out), so both detectors see the same codes whichever makes
them. N comments, A accounts, M notes: O(N + A log A + M log M).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ringscope.detection.frames import epoch_ns
from ringscope.detection.lockstep import COMMENT_COLUMNS
from ringscope.spark.codes import small, sorted_ranks, sorted_runs
from ringscope.spark.source import PlatformSource, typed

TIMED_SCHEMA = "comment_id string, account_id string, note_id string, t long"
# The detectors that read the codes (``PlatformSource.shared``), by name: importing ``detection.dense_blocks``
# for its name would put that module in ``lockstep``'s code key, and a change to it would make ``--resume`` run
# ``lockstep`` again (~25 min at 10 M accounts).
READERS = frozenset({"lockstep", "dense_blocks"})


def timed_comments(comments):
    """``(comment_id, account_id, note_id, t)``: the comments the local ``synchronized_pairs`` and
    ``sorted_comments`` read (the four columns present, ids as text, ``t`` in ns), typed on the executors as
    the local reader types them. O(N)."""
    def typed_rows(batches):
        for batch in batches:
            batch = typed(batch.reset_index(drop=True), COMMENT_COLUMNS).dropna()
            yield pd.DataFrame({"comment_id": batch["comment_id"].astype(str), "account_id": batch["account_id"].astype(str),
                                "note_id": batch["note_id"].astype(str), "t": epoch_ns(batch["created_at"])})

    return comments.select(*COMMENT_COLUMNS).mapInPandas(typed_rows, TIMED_SCHEMA)


@dataclass(frozen=True)
class CommentCodes:
    """``accounts``: ``(account_id, code)``, each commenting account's rank among them sorted; ``notes``:
    ``(note_id, code, comments, first_cid)``, each commented note's rank, its number of comments and the sum of
    the counts of the notes before it (where its comments' codes begin in (note, comment id) order). Both
    checkpointed; ``n_notes`` notes, ``n_comments`` comments with a time."""

    accounts: object
    notes: object
    n_notes: int
    n_comments: int

    def coded(self, timed, *notes_columns: str):
        """``timed`` with ``acc`` and ``note`` (the codes), and ``notes_columns`` of the note table. The note
        table is sent to every executor when small (``spark.codes.small``). O(N)."""
        from pyspark.sql import functions as F

        notes = self.notes.select("note_id", F.col("code").alias("note"), *notes_columns)
        return (timed.join(self.accounts.withColumnRenamed("code", "acc"), "account_id")
                .join(small(notes, self.n_notes), "note_id"))


def comment_codes(source: PlatformSource, timed) -> CommentCodes:
    """The codes of the ``timed`` comments of ``source`` (``timed_comments`` of its comments), made once per
    source and shared (see the module). O(N + A log A + M log M) the first time, O(1) after."""
    accounts, _ = source.shared(("comment_account_codes",), READERS,
                                lambda: (sorted_ranks(timed, ["account_id"], "code"), {}), code=__name__, keep=False)
    notes, facts = source.shared(("comment_note_codes",), READERS, lambda: _note_runs(timed), code=__name__,
                                 keep=False)
    return CommentCodes(accounts, notes, int(facts["notes"]), int(facts["comments"]))


def _note_runs(timed) -> tuple[object, dict]:
    from pyspark.sql import functions as F

    per_note = timed.groupBy("note_id").agg(F.count("*").alias("comments"))
    notes = sorted_runs(per_note, ["note_id"], "comments", "code", "first_cid")
    n_notes, n_comments = notes.agg(F.count("*"), F.sum("comments")).first()
    return notes, {"notes": int(n_notes or 0), "comments": int(n_comments or 0)}
