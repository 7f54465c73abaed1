"""The observation room's rules on plain data: no database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ringscope.watch.policy import WatchPolicy
from ringscope.watch.room import (ESCALATED, RELEASED, WATCHING, Stay, check_days, decide, select, stay_id,
                                  trend)

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=timezone.utc)
POLICY = WatchPolicy(threshold=0.3, days=14, max_days=90, trend_tolerance=0.05)
FLAG = 0.5


def stay(account="a1", state=WATCHING, started=NOW - timedelta(days=3), days=14, risks=(0.35,), last_run="run-0",
         reason="looks bought", origin="investigator"):
    return Stay(stay_id(account, started.isoformat()), account, state, reason, origin, "ivy", started,
                started + timedelta(days=days), "silent_throttle", 0.5, run_ids=("run-0",) * len(risks),
                risks=tuple(risks), last_run=last_run)


def kinds(decisions):
    return {(d.kind, d.account_id) for d in decisions}


def test_a_stay_whose_risk_reaches_the_flag_threshold_is_escalated_never_sanctioned():
    [d] = decide([stay()], {"a1": 0.5}, POLICY, FLAG, "run-1", NOW)
    assert (d.kind, d.risk) == ("escalate", 0.5)
    assert "flag threshold" in d.note


def test_a_stay_below_the_flag_threshold_before_its_end_is_kept():
    [d] = decide([stay()], {"a1": 0.49}, POLICY, FLAG, "run-1", NOW)
    assert d.kind == "keep" and d.risk == 0.49


def test_an_account_the_run_did_not_score_has_risk_zero():
    [d] = decide([stay()], {}, POLICY, FLAG, "run-1", NOW)
    assert d.kind == "keep" and d.risk == 0.0


def test_a_stay_that_stayed_clean_until_its_end_is_released():
    ended = stay(started=NOW - timedelta(days=15))
    [d] = decide([ended], {"a1": 0.1}, POLICY, FLAG, "run-1", NOW)
    assert d.kind == "release" and "stayed clean" in d.note


def test_a_stay_still_in_the_watch_band_at_its_end_is_extended_by_the_policy_days():
    ended = stay(started=NOW - timedelta(days=15))
    [d] = decide([ended], {"a1": 0.3}, POLICY, FLAG, "run-1", NOW)
    assert d.kind == "extend" and d.ends_at == NOW + timedelta(days=14)


def test_at_its_end_a_flagged_risk_still_escalates():
    ended = stay(started=NOW - timedelta(days=15))
    assert decide([ended], {"a1": 0.9}, POLICY, FLAG, "run-1", NOW)[0].kind == "escalate"


def test_an_escalated_stay_only_records_the_trend():
    [d] = decide([stay(state=ESCALATED)], {"a1": 0.1}, POLICY, FLAG, "run-1", NOW)
    assert d.kind == "keep"


def test_released_stays_are_history_and_take_no_decision():
    assert decide([stay(state=RELEASED)], {}, POLICY, FLAG, "run-1", NOW) == []


def test_accounts_in_the_watch_band_are_placed_when_automatic():
    risks = {"low": 0.29, "band": 0.3, "top": 0.499, "flagged": 0.5}
    decisions = decide([], risks, POLICY, FLAG, "run-1", NOW)
    assert kinds(decisions) == {("place", "band"), ("place", "top")}
    placed = decisions[0]
    assert placed.stay_id == stay_id("band", "run-1") and placed.ends_at == NOW + timedelta(days=14)
    assert decide([], risks, POLICY.model_copy(update={"automatic": False}), FLAG, "run-1", NOW) == []


def test_an_account_with_an_open_stay_is_never_placed_twice():
    decisions = decide([stay(account="band", state=ESCALATED)], {"band": 0.4}, POLICY, FLAG, "run-1", NOW)
    assert kinds(decisions) == {("keep", "band")}
    decisions = decide([stay(account="band", state=RELEASED)], {"band": 0.4}, POLICY, FLAG, "run-1", NOW)
    assert kinds(decisions) == {("place", "band")}  # a new stay after a released one


def test_the_same_run_twice_changes_nothing_on_a_stay_it_updated():
    assert decide([stay(last_run="run-1")], {"a1": 0.9}, POLICY, FLAG, "run-1", NOW) == []
    # and a place decision has the same id both times (the store merges it)
    assert decide([], {"b": 0.4}, POLICY, FLAG, "run-1", NOW) == decide([], {"b": 0.4}, POLICY, FLAG, "run-1", NOW)


def test_an_empty_watch_band_places_nobody():
    assert decide([], {"a": 0.35}, POLICY, 0.3, "run-1", NOW) == []


@pytest.mark.parametrize("risks, expected", [((), "new"), ((0.4,), "new"), ((0.3, 0.36), "rising"),
                                             ((0.4, 0.34), "falling"), ((0.3, 0.9, 0.32), "flat")])
def test_trend(risks, expected):
    assert trend(risks, 0.05) == expected


def test_days_default_and_bounds():
    assert check_days(None, POLICY) == 14
    assert check_days(90, POLICY) == 90
    for bad in (0, 91, -1, True, 2.5):
        with pytest.raises(ValueError, match="watch.max_days"):
            check_days(bad, POLICY)


def test_select_filters_by_state_reason_age_and_trend():
    rising = stay("a", risks=(0.3, 0.45), reason="Bought followers", started=NOW - timedelta(days=10))
    flat = stay("b", risks=(0.3, 0.3), reason="detection: risk between", started=NOW - timedelta(days=1))
    gone = stay("c", state=RELEASED, risks=(0.4, 0.1), reason="bought likes")
    every = [rising, flat, gone]
    assert select(every, NOW, POLICY, reason="bought") == [rising, gone]
    assert select(every, NOW, POLICY, states=[WATCHING]) == [rising, flat]
    assert select(every, NOW, POLICY, min_age_days=5) == [rising]
    assert select(every, NOW, POLICY, max_age_days=2) == [flat]
    assert select(every, NOW, POLICY, trends=["rising", "falling"]) == [rising, gone]


def test_the_policy_names_the_key_at_fault():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="reach_factor"):
        WatchPolicy(reach_factor=0)
    with pytest.raises(ValidationError, match="restriction"):
        WatchPolicy(restriction="Silent Throttle")
