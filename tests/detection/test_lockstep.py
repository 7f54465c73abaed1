"""Lockstep commenting: a minute-synchronized ring is one cluster; heavy reviewers are not."""

import numpy as np
import pandas as pd

from ringscope.detection.lockstep import LockstepParams, detect_lockstep, pair_similarity, synchronized_pairs

BASE = pd.Timestamp("2024-03-01", tz="UTC")


def _ring_and_heavy(seed: int = 0) -> tuple[pd.DataFrame, set[str]]:
    rng = np.random.default_rng(seed)
    rows = []
    ring_cids = set()
    # 10 ring accounts comment on 8 notes, each note within a few minutes
    for n in range(8):
        t0 = BASE + pd.Timedelta(hours=7 * n, minutes=int(rng.integers(0, 50)))
        for a in range(10):
            cid = f"ring_c{n}_{a}"
            ring_cids.add(cid)
            rows.append((cid, f"ring{a:02d}", f"note{n}", t0 + pd.Timedelta(seconds=int(rng.integers(0, 600)))))
    # 6 heavy reviewers hit the same 8 notes (and 20 popular ones) on different days
    for a in range(6):
        for n in list(range(8)) + [f"pop{k}" for k in range(20)]:
            note = f"note{n}" if isinstance(n, int) else n
            t = BASE + pd.Timedelta(days=2 + 3 * a, hours=int(rng.integers(0, 24)))
            rows.append((f"heavy_c{a}_{note}", f"heavy{a}", note, t))
    # background: 40 random users, random times
    for u in range(40):
        for k in range(3):
            rows.append((f"bg_c{u}_{k}", f"user{u:02d}", f"note{int(rng.integers(0, 30))}",
                         BASE + pd.Timedelta(minutes=int(rng.integers(0, 60 * 24 * 30)))))
    df = pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "created_at"])
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    return df, ring_cids


def test_ring_is_one_cluster_citing_its_comments():
    df, ring_cids = _ring_and_heavy()
    findings = detect_lockstep(df)
    assert len(findings) == 1
    f = findings[0]
    assert f.detector == "lockstep"
    assert f.members == tuple(f"ring{a:02d}" for a in range(10))
    assert f.score > 0.9
    reason = f.reasons[0]
    assert reason.code == "lockstep_comments"
    ev = {e.kind: e.ids for e in reason.evidence}
    assert set(ev["comment"]) == ring_cids
    assert ev["note"] == tuple(f"note{n}" for n in range(8))
    start, end = ev["time_window"]
    assert pd.Timestamp(start) >= BASE and pd.Timestamp(end) <= BASE + pd.Timedelta(days=3)
    assert "10 accounts" in reason.text


def test_heavy_reviewers_on_different_days_are_quiet():
    df, _ = _ring_and_heavy()
    flagged = {m for f in detect_lockstep(df) for m in f.members}
    assert not any(m.startswith("heavy") or m.startswith("user") for m in flagged)
    # heavy reviewers share many notes but never within the window
    pairs = synchronized_pairs(df)
    heavy = pairs[pairs["account_a"].str.startswith("heavy") & pairs["account_b"].str.startswith("heavy")]
    assert heavy.empty


def test_window_boundary_does_not_split_pairs():
    # two comments 2 minutes apart straddling a 30-minute grid boundary
    t = pd.Timestamp("2024-03-01T00:29:00Z")
    rows = []
    for n in range(3):
        rows.append((f"a{n}", "A", f"n{n}", t + pd.Timedelta(hours=n)))
        rows.append((f"b{n}", "B", f"n{n}", t + pd.Timedelta(hours=n, minutes=2)))
    df = pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "created_at"])
    pairs = synchronized_pairs(df, window=pd.Timedelta(minutes=15))
    assert len(pairs) == 3
    sim = pair_similarity(df, pairs)
    assert sim.loc[0, "support"] == 3 and sim.loc[0, "jaccard"] == 1.0 and sim.loc[0, "sync_ratio"] == 1.0
    # farther apart than the window: no match
    far = df.assign(created_at=[r + pd.Timedelta(minutes=20) if c.startswith("b") else r
                                for c, r in zip(df["comment_id"], df["created_at"])])
    assert synchronized_pairs(far, window=pd.Timedelta(minutes=15)).empty


def test_giant_group_is_capped_deterministically():
    t = pd.Timestamp("2024-03-01T12:00:00Z")
    df = pd.DataFrame({
        "comment_id": [f"c{i}" for i in range(300)],
        "account_id": [f"u{i:03d}" for i in range(300)],
        "note_id": "viral",
        "created_at": [t + pd.Timedelta(seconds=i) for i in range(300)],
    })
    p1 = synchronized_pairs(df, max_group_size=50)
    p2 = synchronized_pairs(df.sample(frac=1, random_state=3), max_group_size=50)
    assert len(p1) <= 2 * 50 * 49 // 2
    pd.testing.assert_frame_equal(p1, p2)
    assert detect_lockstep(df) == []  # one viral minute is not lockstep


def test_deterministic_under_row_order():
    df, _ = _ring_and_heavy()
    a = detect_lockstep(df)
    b = detect_lockstep(df.sample(frac=1, random_state=7).reset_index(drop=True))
    assert a == b
    assert [f.key for f in a] == [f.key for f in b]


def test_sparse_ring_found_by_core_rule():
    # 8 accounts, each pair meets on exactly 2 notes: support 2 < 3, but a 7-core
    rows, k = [], 0
    accs = [f"s{i}" for i in range(8)]
    for i in range(8):
        for j in range(i + 1, 8):
            for rep in range(2):
                note = f"n{i}_{j}_{rep}"
                t = BASE + pd.Timedelta(hours=k)
                rows += [(f"c{k}a", accs[i], note, t), (f"c{k}b", accs[j], note, t + pd.Timedelta(minutes=3))]
                k += 1
    df = pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "created_at"])
    found = detect_lockstep(df)
    assert [f.members for f in found] == [tuple(accs)]
    # each member met 7 partners twice: 7 repeated meetings, as clear as one pair meeting 8 times
    assert all(s == found[0].score and s > 0.9 for s in found[0].member_scores.values())
    assert detect_lockstep(df, LockstepParams(core_k=0)) == []


def _pair_on(k: int, extra: list[str] = ()) -> pd.DataFrame:
    """Accounts A, B (and ``extra``) comment on k notes, each time within minutes."""
    rows = []
    for n in range(k):
        t = BASE + pd.Timedelta(days=n)
        for i, acc in enumerate(["A", "B", *extra]):
            rows.append((f"{acc}{n}", acc, f"n{n}", t + pd.Timedelta(minutes=i)))
    return pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "created_at"])


def test_a_pair_needs_more_synchronized_notes_than_a_group():
    # two friends who went out together three times are not a ring ...
    assert detect_lockstep(_pair_on(3)) == []
    # ... three accounts doing it are; and a pair doing it pair_min_support times is
    assert [f.members for f in detect_lockstep(_pair_on(3, ["C"]))] == [("A", "B", "C")]
    assert [f.members for f in detect_lockstep(_pair_on(LockstepParams().pair_min_support))] == [("A", "B")]
    assert [f.members for f in detect_lockstep(_pair_on(3), LockstepParams(pair_min_support=3))] == [("A", "B")]


def test_a_core_of_50_accounts_over_30_notes_flags_on_that_evidence_alone():
    # The example of overwhelming evidence from one detector: through the pipeline's risk with the
    # shipped policy, not only the detector's own score.
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.frames import PlatformFrames
    from ringscope.detection.pipeline import DetectorResult, account_risks, flagged_ids

    rng = np.random.default_rng(3)
    rows = []
    for n in range(30):
        t0 = BASE + pd.Timedelta(hours=9 * n)
        for a in range(50):
            rows.append((f"core_c{n}_{a}", f"core{a:02d}", f"note{n}",
                         t0 + pd.Timedelta(seconds=int(rng.integers(0, 600)))))
    for u in range(300):
        for k in range(4):
            rows.append((f"bg_c{u}_{k}", f"user{u:03d}", f"note{int(rng.integers(0, 60))}",
                         BASE + pd.Timedelta(minutes=int(rng.integers(0, 60 * 24 * 20)))))
    comments = pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "created_at"])
    comments["created_at"] = pd.to_datetime(comments["created_at"], utc=True)
    policy = load_detection_policy()
    results = [DetectorResult("lockstep", detect_lockstep(comments), 0.0)]
    flagged = flagged_ids(account_risks(results, policy, PlatformFrames.comments_only(comments)), policy)
    assert flagged == {f"core{a:02d}" for a in range(50)}


def test_k_core_edges_are_networkx_k_core_edges_in_order():
    """The vectorised core equals ``sorted(nx.k_core(G, k).edges())`` of the graph built from the pairs in
    order (self-loops dropped), end orientation included, for several k."""
    import networkx as nx

    from ringscope.detection.lockstep import _k_core_edges

    rng = np.random.default_rng(4)
    names = np.array([f"acc{i:03d}" for i in rng.permutation(120)], dtype=object)
    # distinct unordered pairs (as synchronized pairs are), in random orientation, a few self-loops
    pairs = list({(min(a, b), max(a, b)): (int(a), int(b)) for a, b in rng.integers(0, 120, size=(500, 2))}.values())
    a = names[[p[0] for p in pairs]]
    b = names[[p[1] for p in pairs]]
    graph = nx.Graph()
    graph.add_edges_from(zip(a.tolist(), b.tolist()))
    graph.remove_edges_from(nx.selfloop_edges(graph))
    for k in (1, 3, 5, 8):
        got = _k_core_edges(a, b, k)
        assert [(u, v) for u, v, _ in got] == sorted(nx.k_core(graph, k).edges()), k
        assert all({a[row], b[row]} == {u, v} for u, v, row in got)


def test_comment_order_breaks_ties_by_comment_id_as_a_full_lexsort_would():
    from ringscope.detection.lockstep import _note_account_time_order

    rng = np.random.default_rng(9)
    n = 3000
    note, acc, t = rng.integers(0, 5, n), rng.integers(0, 4, n), rng.integers(0, 20, n)  # many ties
    cid = np.array([f"c{x}" for x in rng.permutation(n)], dtype=object)
    assert np.array_equal(_note_account_time_order(note, acc, t, cid), np.lexsort((cid, t, acc, note)))


def test_oversized_groups_are_cut_to_the_same_accounts_whatever_the_row_order():
    rows = [(f"c{i}", f"acc{i:03d}", "n1", pd.Timestamp("2024-05-01 10:00", tz="UTC") + pd.Timedelta(seconds=i))
            for i in range(40)]
    df = pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "created_at"])
    cut = synchronized_pairs(df, window=pd.Timedelta(minutes=30), max_group_size=10)
    kept = set(cut["account_a"]) | set(cut["account_b"])
    assert len(kept) == 10 and len(cut) == 45  # one group of 10 accounts: 10 * 9 / 2 pairs
    again = synchronized_pairs(df.sample(frac=1.0, random_state=2), window=pd.Timedelta(minutes=30), max_group_size=10)
    assert again.equals(cut)
