"""Honest accounts hired by comment rings for a stretch of time (``simulate/drift.py``, ``drift_labels``)."""

from __future__ import annotations

import pandas as pd

from tests.simulate.conftest import utc

NOW = pd.Timestamp("2025-06-30T00:00:00+08:00")
ACTIVITY_START = pd.Timestamp("2024-07-01T00:00:00+08:00")


def test_drifting_accounts_are_old_honest_ordinary_accounts(tables, labelled):
    drift = tables["drift_labels"]
    # a ring registered late in the year hires no crew that returns (the "in parts" platform's only ring)
    assert "stayed" in set(drift.kind) <= {"returned", "stayed"} and drift.account_id.is_unique
    who = labelled.set_index("account_id").loc[drift.account_id]
    assert (who.is_fake == "false").all() and (who.role == "organic").all() and (who.status == "active").all()
    assert (who.reg < ACTIVITY_START - pd.Timedelta(days=180)).all()
    rings = labelled[labelled.farm_type == "comment_ring"].farm_id
    assert set(drift.farm_id) <= set(rings)


def test_stretches_are_where_the_truth_says(tables):
    drift = tables["drift_labels"]
    start = pd.to_datetime(drift.started_at, utc=True)
    end = pd.to_datetime(drift.ended_at.where(drift.ended_at != "", None), utc=True)
    returned, stayed = drift.kind == "returned", drift.kind == "stayed"
    length = (end - start)[returned].dt.days
    assert length.between(21, 42).all()
    assert (end[returned] <= NOW - pd.Timedelta(days=78)).all()
    assert end[stayed].isna().all() and ((NOW - start[stayed]).dt.days.between(21, 56)).all()


def test_hired_accounts_comment_with_their_ring_in_their_stretch_only(tables, labelled):
    """In its stretch every hired account comments on notes where members of its ring comment within minutes;
    outside it, never on a note together with its ring within the hour."""
    drift = tables["drift_labels"]
    comments = tables["comments"].assign(t=lambda c: utc(c.created_at))
    ring_of = labelled.set_index("account_id").farm_id
    for row in drift.itertuples():
        ring = set(labelled[labelled.farm_id == row.farm_id].account_id)
        start = utc(pd.Series([row.started_at]))[0]
        end = utc(pd.Series([row.ended_at or NOW.isoformat()]))[0]
        mine = comments[comments.account_id == row.account_id]
        theirs = comments[comments.account_id.isin(ring)]
        together = mine.merge(theirs, on="note_id", suffixes=("", "_ring"))
        together = together[(together.t - together.t_ring).abs() <= pd.Timedelta(minutes=20).to_timedelta64()]
        inside = (together.t >= start) & (together.t <= end)
        assert inside.sum() >= 1, row.account_id
        assert not (~inside).any(), (row.account_id, together[~inside].comment_id.tolist())
        assert ring_of[row.account_id] == ""  # labels leave them honest, in no farm
