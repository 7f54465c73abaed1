"""Dense blocks: a planted farm is found; a random sparse background yields nothing; same input, same output."""

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from ringscope.detection.dense_blocks import (
    DenseBlockParams,
    build_view,
    detect_dense_blocks,
    null_density,
    peel,
    segment_events,
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
    assert len(copies) == 2 and g0 == max(copies) and g0 > 0
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
    B = sparse.csr_matrix((np.ones(len(view.acc)), (view.acc, view.col)), shape=(view.n_acc, view.n_col))
    block = Block(np.array([acc.index(f"core{a}") for a in range(10)]),
                  np.array([note.index(f"n{j}") for j in range(10)]), 1.0, 100, 10.0)
    taken = np.zeros(view.n_acc, bool)
    taken[block.rows] = True
    no_cols = np.zeros(view.n_col, bool)
    grown = _with_joiners(view, B, B.T.tocsr(), block, taken, no_cols, params)
    assert [acc[i] for i in grown.joined] == ["joiner"]
    assert [note[j] for j in grown.joined_cols] == ["n10"]
    # a far stricter alpha keeps it out
    off = _with_joiners(view, B, B.T.tocsr(), block, taken, no_cols, DenseBlockParams(join_alpha=1e-12))
    assert [acc[i] for i in off.joined] == []
