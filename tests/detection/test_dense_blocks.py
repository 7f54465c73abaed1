"""Dense blocks: a planted farm is found; a random sparse background yields nothing; accounts that are merely
busy in the same weeks are not a block; same input, same output."""

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from ringscope.detection.dense_blocks import (
    DenseBlockParams,
    build_view,
    detect_dense_blocks,
    expected_edges,
    null_density,
    peel,
    permute_within_windows,
    segment_events,
    time_windows,
)

BASE = pd.Timestamp("2024-03-04", tz="UTC")


def _background(rng, n_accounts=1500, n_notes=1200, n_comments=3000) -> list[tuple]:
    """Random sparse comments: accounts with skewed activity on random notes at random times over 8 weeks."""
    act = rng.zipf(2.0, size=n_accounts).clip(1, 40).astype(float)
    acc = rng.choice(n_accounts, size=n_comments, p=act / act.sum())
    note = rng.integers(0, n_notes, size=n_comments)
    minutes = rng.integers(0, 8 * 7 * 24 * 60, size=n_comments)
    return [(f"bg_c{i}", f"user{a:04d}", f"note{nn:04d}", BASE + pd.Timedelta(minutes=int(t)))
            for i, (a, nn, t) in enumerate(zip(acc, note, minutes))]


def _farm(rng, m=30, n=30, p=0.25, n_notes=1200) -> tuple[list[tuple], set[str]]:
    """m farm accounts on n target notes, each present with probability p, one 30-minute burst per note."""
    targets = rng.choice(n_notes, size=n, replace=False)
    rows, members = [], set()
    for j, note in enumerate(targets):
        start = BASE + pd.Timedelta(minutes=int(rng.integers(0, 8 * 7 * 24 * 60 - 60)))
        for a in range(m):
            if rng.random() < p:
                rows.append((f"farm_c{j}_{a}", f"farm{a:02d}", f"note{note:04d}",
                             start + pd.Timedelta(seconds=int(rng.integers(0, 1800)))))
                members.add(f"farm{a:02d}")
    return rows, members


def _frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "created_at"])
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    return df


def test_planted_block_is_found_with_its_members():
    rng = np.random.default_rng(1)
    farm, members = _farm(rng)
    df = _frame(_background(rng) + farm)
    findings = detect_dense_blocks(df)
    assert findings, "the farm should be found"
    flagged = set().union(*(f.members for f in findings))
    tp = len(flagged & members)
    assert tp / len(members) >= 0.9
    assert tp / len(flagged) >= 0.9
    f = findings[0]
    assert f.detector == "dense_blocks"
    assert 0.0 < f.score <= 1.0
    reason = f.reasons[0]
    assert reason.code == "dense_block"
    ev = {e.kind: e.ids for e in reason.evidence}
    assert all(c.startswith("farm_c") for c in ev["comment"][:50])
    start, end = ev["time_window"]
    assert pd.Timestamp(start) <= pd.Timestamp(end)
    assert set(f.member_scores) == set(f.members)
    assert all(0.0 < s <= f.score for s in f.member_scores.values())


def test_random_sparse_background_yields_nothing():
    for seed in (2, 3, 4):
        rng = np.random.default_rng(seed)
        assert detect_dense_blocks(_frame(_background(rng))) == []


def test_day_resolution_farm_is_found_too():
    """Planted times rounded to the day, like the background: the block is found without the time of day."""
    rng = np.random.default_rng(5)
    farm, members = _farm(rng, m=25, n=25, p=0.3)
    bg = _background(rng)
    df = _frame(bg + farm)
    df["created_at"] = df["created_at"].dt.floor("D")
    flagged = set().union(*(f.members for f in detect_dense_blocks(df)))
    assert len(flagged & members) >= 0.8 * len(members)
    assert len(flagged - members) <= 3


def test_same_input_same_output_whatever_the_row_order():
    rng = np.random.default_rng(6)
    farm, _ = _farm(rng)
    df = _frame(_background(rng) + farm)
    a = detect_dense_blocks(df)
    b = detect_dense_blocks(df.sample(frac=1.0, random_state=3).reset_index(drop=True))
    assert [f.key for f in a] == [f.key for f in b]
    assert [f.score for f in a] == [f.score for f in b]
    assert [f.member_scores for f in a] == [f.member_scores for f in b]


def test_peel_finds_the_dense_corner_of_a_matrix():
    rng = np.random.default_rng(7)
    M = (rng.random((60, 80)) < 0.03).astype(float)
    M[:10, :10] = 1.0
    order, mass, _ = peel(sparse.csr_matrix(M))
    size = len(order) - np.arange(len(order))
    k = int(np.argmax(mass / size))
    rest = order[k:]
    assert set(rest[rest < 60].tolist()) == set(range(10))
    assert set((rest[rest >= 60] - 60).tolist()) == set(range(10))


def test_events_chain_close_comments_and_cut_long_chains():
    ns = 60 * 10**9
    note = np.array([0, 0, 0, 0, 1, 1])
    t = np.array([0, 30, 200, 210, 0, 5]) * ns
    ev = segment_events(note, t, gap=60 * ns, max_span=10**6 * ns)
    assert ev.tolist() == [0, 0, 1, 1, 2, 2]
    # a chain longer than max_span is cut
    t2 = np.arange(10) * 50 * ns
    ev2 = segment_events(np.zeros(10, int), t2, gap=60 * ns, max_span=200 * ns)
    assert ev2.max() >= 1 and (np.diff(ev2) >= 0).all()


def test_null_copies_keep_degrees_and_views_are_checked():
    rng = np.random.default_rng(8)
    df = _frame(_background(rng))
    view, _ = build_view(df, "event")
    g0, copies = null_density(view, 2, seed=0, min_rows=5)
    assert len(copies) == 2 and g0 == pytest.approx(sum(copies) / 2) and g0 > 0
    with pytest.raises(ValueError):
        detect_dense_blocks(df, DenseBlockParams(views="time"))


def test_empty_input():
    assert detect_dense_blocks(pd.DataFrame(columns=["comment_id", "account_id", "note_id", "created_at"])) == []


def test_accounts_holding_improbably_many_of_a_blocks_notes_join_it():
    """The Poisson/Bonferroni join: 6 of the block's 10 notes is beyond chance, 2 of 32 comments is not;
    a note holding 5 of the block's accounts joins, a note holding one does not."""
    from ringscope.detection.dense_blocks import Block, _with_joiners

    rows = []
    for a in range(10):
        rows += [(f"core{a}_{j}", f"core{a}", f"n{j}", BASE) for j in range(10)]
    rows += [(f"join_{j}", "joiner", f"n{j}", BASE) for j in range(6)]
    rows += [(f"pass_{j}", "passer", f"n{j}", BASE) for j in range(2)]
    rows += [(f"pass_o{j}", "passer", f"o{j}", BASE) for j in range(30)]
    rows += [(f"bg{i}", f"user{i}", f"o{i % 2500}", BASE) for i in range(5000)]
    # a target note the peel left out: five of the block's accounts on it
    rows += [(f"late{a}", f"core{a}", "n10", BASE) for a in range(5)]
    rows += [(f"core{a}_o", f"core{a}", f"o{a}", BASE) for a in range(10)]  # one-off camouflage each
    df = _frame(rows)
    params = DenseBlockParams()
    view, tables = build_view(df, "note", params)
    acc = list(tables["acc"])
    note = list(tables["note"])
    block = Block(np.array([acc.index(f"core{a}") for a in range(10)]),
                  np.array([note.index(f"n{j}") for j in range(10)]), 1.0, 100, 10.0)
    taken = np.zeros(view.n_acc, bool)
    taken[block.rows] = True
    no_cols = np.zeros(view.n_col, bool)
    grown = _with_joiners(view, block, taken, no_cols, params)
    assert [acc[i] for i in grown.joined] == ["joiner"]
    assert [note[j] for j in grown.joined_cols] == ["n10"]
    # a far stricter alpha keeps it out
    off = _with_joiners(view, block, taken, no_cols, DenseBlockParams(join_alpha=1e-12))
    assert [acc[i] for i in off.joined] == []


def _weekly_background(rng, n_accounts=1500, n_notes=1200, n_comments=3000, weeks=8) -> list[tuple]:
    """Like :func:`_background`, but as on a platform whose notes are current for a week: note k
    gets its comments in week ``k % weeks`` (YelpChi's notes are a product in one week)."""
    act = rng.zipf(2.0, size=n_accounts).clip(1, 40).astype(float)
    acc = rng.choice(n_accounts, size=n_comments, p=act / act.sum())
    note = rng.integers(0, n_notes, size=n_comments)
    minutes = (note % weeks) * 7 * 24 * 60 + rng.integers(0, 7 * 24 * 60, size=n_comments)
    return [(f"bg_c{i}", f"user{a:04d}", f"note{nn:04d}", BASE + pd.Timedelta(minutes=int(t)))
            for i, (a, nn, t) in enumerate(zip(acc, note, minutes))]


def _busy(rng, n_accounts=30, per_day=15, weeks=(2, 3), n_notes=1200, n_weeks=8) -> tuple[list[tuple], set[str]]:
    """Prolific honest accounts: each comments ``per_day`` times a day, every day of ``weeks``, at any
    time of day, on a note it picks on its own, uniformly among the notes current that week (as in
    :func:`_weekly_background`)."""
    rows, ids = [], set()
    for a in range(n_accounts):
        ids.add(f"busy{a:02d}")
        for d in range(7 * weeks[0], 7 * (weeks[-1] + 1)):
            current = np.arange(d // 7, n_notes, n_weeks)
            for k in range(per_day):
                rows.append((f"busy_c{a}_{d}_{k}", f"busy{a:02d}", f"note{int(rng.choice(current)):04d}",
                             BASE + pd.Timedelta(days=d, minutes=int(rng.integers(0, 24 * 60)))))
    return rows, ids


def test_accounts_merely_busy_in_the_same_weeks_are_not_a_block_and_a_farm_beside_them_is_found():
    """Issue #13 item 5: 30 accounts commenting 15 times a day on notes current in their weeks, each on its own,
    cover those notes densely; the time-free null called that a block of all of them (and pulled in
    ordinary users of those notes).  The null that holds activity per week explains it; a farm of quiet
    accounts on notes current in the same weeks is still found."""
    rng = np.random.default_rng(5)
    busy, busy_ids = _busy(rng)
    farm_rows, members = [], set()
    for j in range(25):  # 25 target notes current in the busy weeks, one 30-minute burst each
        note_k = 2 + 8 * j
        note = f"note{note_k:04d}"
        start = BASE + pd.Timedelta(days=7 * (note_k % 8) + int(rng.integers(0, 6)), minutes=int(rng.integers(0, 23 * 60)))
        for a in range(25):
            if rng.random() < 0.3:
                farm_rows.append((f"farm_c{j}_{a}", f"farm{a:02d}", note,
                                  start + pd.Timedelta(seconds=int(rng.integers(0, 1800)))))
                members.add(f"farm{a:02d}")
    df = _frame(_weekly_background(rng) + busy + farm_rows)
    flagged = set().union(*(f.members for f in detect_dense_blocks(df)))
    assert not flagged & busy_ids, sorted(flagged & busy_ids)
    assert flagged - members - busy_ids == set(), "ordinary users pulled into a block"
    assert len(flagged & members) >= 0.9 * len(members)
    # without the farm: nothing at all
    assert detect_dense_blocks(_frame(_weekly_background(np.random.default_rng(6)) + busy)) == []


def test_expected_edges_are_degree_products_per_window_clipped_at_one():
    acc = np.array([0, 0, 1, 0, 1])
    col = np.array([0, 1, 0, 0, 1])
    win = np.array([0, 0, 0, 1, 1])
    p = expected_edges(acc, col, win)
    # window 0: m = 3, d(a0) = 2, d(a1) = 1, s(c0) = 2, s(c1) = 1; window 1: m = 2, all degrees 1
    assert p == pytest.approx([1.0, 2 / 3, 2 / 3, 0.5, 0.5])


def test_null_copies_keep_each_accounts_and_columns_activity_per_window_with_few_duplicates():
    rng = np.random.default_rng(3)
    busy, _ids = _busy(rng, n_accounts=20, per_day=12)
    view, _ = build_view(_frame(_weekly_background(rng) + busy), "note")
    col = permute_within_windows(view.acc, view.col, view.stratum, view.n_col, seed=0, copy=0)
    before = pd.DataFrame({"a": view.acc, "c": view.col, "w": view.stratum})
    after = pd.DataFrame({"a": view.acc, "c": col, "w": view.stratum})
    for side in ("a", "c"):
        assert before.groupby([side, "w"]).size().equals(after.groupby([side, "w"]).size())
    assert not before.equals(after)
    dup = after.duplicated(["a", "c"]).sum()
    plain = view.col[np.random.default_rng(0).permutation(len(view.col))]
    plain_dup = pd.DataFrame({"a": view.acc, "c": plain}).duplicated().sum()
    assert dup < 0.1 * plain_dup, (dup, plain_dup)


def test_time_windows_are_weeks_merged_until_each_holds_enough_edges():
    week = pd.Timedelta(days=7).value
    t = np.array([0, 1, 2, week, 2 * week, 2 * week + 1, 5 * week, 5 * week + 5, 6 * week])
    assert time_windows(t, pd.Timedelta(days=7)).tolist() == [0, 0, 0, 1, 2, 2, 3, 3, 4]
    # at least 3 per window: weeks 0 | 1+2 | 5+6 (the short last one joins the one before)
    assert time_windows(t, pd.Timedelta(days=7), 3).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert time_windows(t, pd.Timedelta(0)).tolist() == [0] * len(t)


def test_a_blocks_members_must_hold_more_of_it_than_their_own_activity_explains():
    """A busy account in the farm's notes as often as its activity puts it anywhere is dropped from the
    block; the farm's quiet accounts, each on a few of its notes and nothing else, stay."""
    from ringscope.detection.dense_blocks import _beyond_own_activity

    rows = []
    for a in range(10):  # farm: 10 quiet accounts, 4 of 8 target notes each
        rows += [(f"farm{a}_{j}", f"farm{a}", f"t{(a + j) % 8}", BASE) for j in range(4)]
    for b in range(3):  # busy: every target note and 200 other notes, the same week
        rows += [(f"busy{b}_t{j}", f"busy{b}", f"t{j}", BASE) for j in range(8)]
        rows += [(f"busy{b}_o{j}", f"busy{b}", f"o{j}", BASE) for j in range(200)]
    rows += [(f"bg{i}", f"user{i}", f"o{i % 200}", BASE) for i in range(600)]
    params = DenseBlockParams()
    view, tables = build_view(_frame(rows), "note", params)
    acc, note = list(tables["acc"]), list(tables["note"])
    block_rows = np.array(sorted(acc.index(x) for x in [f"farm{a}" for a in range(10)] + [f"busy{b}" for b in range(3)]))
    block_cols = np.array(sorted(note.index(f"t{j}") for j in range(8)))
    kept, cols = _beyond_own_activity(view, block_rows, block_cols, params)
    assert sorted(acc[i] for i in kept) == [f"farm{a}" for a in range(10)]
    assert len(cols) == 8


def test_block_scores_are_the_calibrated_surprise_of_its_comments_given_its_members_activity():
    """Issue #13 item 2: a farm of 30 quiet accounts over 30 notes is overwhelming evidence (score 1, so
    it flags on its own through the policy's weight); the surprise is 0 when nothing is beyond chance."""
    from ringscope.detection.dense_blocks import block_surprise

    assert block_surprise(0, 1.0) == 0.0 and block_surprise(5, 5.0) == 0.0
    assert 0 < block_surprise(8, 2.0) < block_surprise(12, 2.0) < block_surprise(12, 1.0)
    rng = np.random.default_rng(1)
    farm, members = _farm(rng)
    f = detect_dense_blocks(_frame(_background(rng) + farm))[0]
    assert f.score == 1.0
    assert "own activity explains" in f.reasons[0].text
    assert min(f.member_scores[m] for m in set(f.members) & members) > 0.9


def test_expected_hits_for_some_nodes_are_those_of_the_one_pass_definition():
    """The indexed expectation (edges of the selected and asked-for nodes only) equals, bit for bit, the
    definition: over every edge, the selected nodes' share of the edge's window, summed per node."""
    from ringscope.detection.dense_blocks import expected_hits

    rng = np.random.default_rng(5)
    view, _ = build_view(_frame(_background(rng)), "note", DenseBlockParams(null_window_edges=200))
    w = view.stratum - view.stratum.min()
    assert w.max() >= 5  # several windows, so an edge read in the wrong window shows
    per_window = np.bincount(w).astype(float)
    for side, own, other, n_other in (("acc", view.acc, view.col, view.n_col), ("col", view.col, view.acc, view.n_acc)):
        selected = rng.random(n_other) < 0.1
        share = np.bincount(w, weights=selected[other].astype(float), minlength=len(per_window)) / per_window
        definition = np.bincount(own, weights=share[w], minlength=len(np.bincount(own)))
        everyone = expected_hits(view, selected, side)
        assert np.array_equal(everyone, definition)
        at = np.sort(rng.choice(len(definition), size=40, replace=False))[::-1]  # any order
        assert np.array_equal(expected_hits(view, selected, side, at=at), definition[at])


def test_submatrix_and_column_sums_are_scipys_exactly():
    from ringscope.detection.dense_blocks import _column_sums, _submatrix

    rng = np.random.default_rng(2)
    W = sparse.random(300, 200, density=0.05, random_state=3, format="csr")
    rows = np.flatnonzero(rng.random(300) < 0.6)
    cols = np.flatnonzero(rng.random(200) < 0.4)
    cut = _submatrix(W, rows, cols)
    expected = W[rows][:, cols]
    assert cut.shape == expected.shape and (cut != expected).nnz == 0
    assert np.array_equal(cut.indices, sparse.csr_matrix(expected).indices)
    assert np.array_equal(_column_sums(cut), cut.T.tocsr() @ np.ones(cut.shape[0]))
    assert _submatrix(W, np.arange(300), np.arange(200)).nnz == W.nnz


def test_a_windows_null_copy_depends_on_that_windows_edges_alone():
    """The Spark engine permutes each window on its own executor: a window's copy must not change when
    other windows' edges change (each window has its own generator, seeded by (seed, copy, window))."""
    rng = np.random.default_rng(4)
    view, _ = build_view(_frame(_background(rng)), "note", DenseBlockParams(null_window_edges=500))
    assert view.stratum.max() >= 2
    whole = permute_within_windows(view.acc, view.col, view.stratum, view.n_col, seed=0, copy=1)
    keep = view.stratum != 1
    alone = permute_within_windows(view.acc[keep], view.col[keep], view.stratum[keep], view.n_col, seed=0, copy=1)
    assert np.array_equal(whole[keep], alone)
    assert not np.array_equal(whole, permute_within_windows(view.acc, view.col, view.stratum, view.n_col,
                                                            seed=0, copy=2))
