"""``lockstep`` on Spark finds exactly what the local detector finds on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ringscope.detection.lockstep import LockstepParams, detect_lockstep
from ringscope.spark import lockstep as spark_lockstep
from ringscope.spark.source import PlatformSource, typed
from tests.spark.lakes import write_lake


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform, monkeypatch):
    comments = typed(pd.read_parquet(platform / "comments"), ["created_at"])
    expected = detect_lockstep(comments, LockstepParams())
    assert len(expected) >= 5
    # many batches of notes, so that rings span batches
    monkeypatch.setattr(spark_lockstep, "ROWS_PER_BATCH", 2_000)
    assert spark_lockstep.detect_lockstep(PlatformSource(spark, str(platform)), LockstepParams()) == expected


def ring_platform(seed=11):
    """A ring of 8 accounts commenting within minutes on 12 notes, each member on most of them (a sparse
    ring: the k-core rule), a crowd of 40 accounts in one minute on each of 4 notes (above a cap of 10:
    which of them pair is decided by the hash of the platform-wide account and note ranks), background comments, a pair that meets on 7 notes,
    and rows the local reader would not give the pair stage (no time, an unparsable time)."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2024-05-01T08:00:00Z")
    rows = []
    for k in range(12):
        start = t0 + pd.Timedelta(hours=5 * k)
        for m in range(8):
            if rng.random() < 0.8:
                rows.append((f"r{m}", f"ring-note{k:02d}", start + pd.Timedelta(minutes=float(rng.uniform(0, 8)))))
    for k in range(4):
        for m in range(40):
            rows.append((f"crowd{m:02d}", f"viral{k}", t0 + pd.Timedelta(days=k, minutes=float(rng.uniform(0, 9)))))
    for k in range(7):
        for who in ("p1", "p2"):
            rows.append((who, f"date{k}", t0 + pd.Timedelta(days=k, minutes=float(rng.uniform(0, 5)))))
    for i in range(1500):
        rows.append((f"u{rng.integers(0, 300)}", f"n{rng.integers(0, 200)}",
                     t0 + pd.Timedelta(minutes=float(rng.uniform(0, 60 * 24 * 10)))))
    comments = pd.DataFrame(rows, columns=["account_id", "note_id", "created_at"])
    comments["created_at"] = comments["created_at"].dt.floor("s").map(lambda t: t.isoformat())
    comments.insert(0, "comment_id", [f"c{i:05d}" for i in range(len(comments))])
    comments.loc[3, "created_at"] = None
    comments.loc[5, "created_at"] = "not a time"
    return comments


def test_rings_across_batches_a_capped_crowd_and_untimed_comments_agree(spark, tmp_path, monkeypatch):
    comments = ring_platform()
    lake = tmp_path / "lake"
    write_lake(lake, comments=comments.iloc[::2])
    comments.iloc[1::2].to_parquet(lake / "comments" / "part-00001.parquet")
    params = LockstepParams(max_group_size=10, core_k=3)
    # what the graph gives the local engine: typed times (an unparsable one is rejected by a load: missing)
    local = typed(comments.copy(), ["created_at"])
    expected = detect_lockstep(local, params)
    members = {m for f in expected for m in f.members}
    assert {"r0", "r1", "r2"} <= members and {"p1", "p2"} <= members
    assert any(m.startswith("crowd") for m in members)
    monkeypatch.setattr(spark_lockstep, "ROWS_PER_BATCH", 300)
    assert spark_lockstep.detect_lockstep(PlatformSource(spark, str(lake)), params) == expected
