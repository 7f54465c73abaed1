"""The comments' codes are made once per source for ``lockstep`` and ``dense_blocks``, are the local sorted
factorisations, and are released after the last of the two."""

from __future__ import annotations

import pandas as pd

from ringscope.detection.dense_blocks import DenseBlockParams
from ringscope.detection.lockstep import COMMENT_COLUMNS, LockstepParams
from ringscope.spark.comment_codes import READERS, comment_codes, timed_comments
from ringscope.spark.dense_blocks import detect_dense_blocks
from ringscope.spark.lockstep import detect_lockstep
from ringscope.spark.source import PlatformSource


def test_the_codes_are_the_local_factorisations_with_each_notes_first_comment_code(spark, platform):
    source = PlatformSource(spark, str(platform))
    timed = timed_comments(source.frame("comments", COMMENT_COLUMNS))
    codes = comment_codes(source, timed)
    local = timed.toPandas()
    accounts = codes.accounts.toPandas()
    _, uniques = pd.factorize(local["account_id"], sort=True)
    assert dict(zip(accounts["account_id"], accounts["code"])) == {u: i for i, u in enumerate(uniques)}
    notes = codes.notes.toPandas().sort_values("code").reset_index(drop=True)
    counts = local.groupby("note_id").size().sort_index()
    assert notes["note_id"].tolist() == counts.index.tolist()
    assert notes["comments"].tolist() == counts.tolist()
    assert notes["first_cid"].tolist() == (counts.cumsum() - counts).tolist()
    assert (codes.n_notes, codes.n_comments) == (len(counts), len(local))


def test_lockstep_and_dense_blocks_make_the_codes_once_and_the_last_reader_releases_them(spark, platform, monkeypatch):
    import ringscope.spark.comment_codes as module

    made = []
    sorted_ranks = module.sorted_ranks
    monkeypatch.setattr(module, "sorted_ranks", lambda *a, **k: made.append(a[1]) or sorted_ranks(*a, **k))
    source = PlatformSource(spark, str(platform))
    detect_lockstep(source, LockstepParams())
    assert made == [["account_id"]] and len(source._shared) == 2
    first = dict(source._shared)
    detect_dense_blocks(source, DenseBlockParams())
    assert made == [["account_id"]]  # read, not made again
    assert {key: frame for key, (frame, _, _) in source._shared.items()} == {
        key: frame for key, (frame, _, _) in first.items()}
    source.release_shared({"dense_blocks"})  # a reader still to run: kept
    assert len(source._shared) == 2
    source.release_shared(set(READERS) - {"lockstep", "dense_blocks"})
    assert source._shared == {}


def test_the_codes_are_not_written_for_a_resumed_run(spark, platform, tmp_path):
    """Writing them cost what making them costs; a resumed run makes them again."""
    from ringscope.spark.engine import source_digest
    from ringscope.spark.kept_frames import KeptFrames

    source = PlatformSource(spark, str(platform))
    source.kept = KeptFrames(str(tmp_path / "frames"), str(platform), source_digest(source), reuse=True)
    comment_codes(source, timed_comments(source.frame("comments", COMMENT_COLUMNS)))
    assert len(source._shared) == 2
    assert not (tmp_path / "frames").exists() or not any((tmp_path / "frames").rglob("_SUCCESS"))


def test_the_readers_are_the_two_detectors_and_lockstep_is_not_keyed_by_dense_blocks_code():
    """The readers are named, not imported: ``lockstep``'s kept findings (``--resume``) are keyed by the code
    of its import closure, which must not hold ``detection.dense_blocks``."""
    from ringscope.common.version import code_closure
    from ringscope.detection import dense_blocks, lockstep

    assert READERS == {lockstep.DETECTOR, dense_blocks.DETECTOR}
    assert "ringscope.detection.dense_blocks" not in code_closure("ringscope.spark.lockstep")
