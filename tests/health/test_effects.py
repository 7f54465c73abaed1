"""The effects of the content-health bands, on plain data: what is in force and the bands now in, the changes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from ringscope.health.effects import ACTIVE, CLEARED, Effect, by_account, diff, effect_id, terms
from ringscope.health.policy import load_health_policy

POLICY = load_health_policy()
AT = datetime(2026, 3, 1, tzinfo=timezone.utc)
APPLY = "HA-test"


@dataclass(frozen=True)
class Now:
    account_id: str
    index: float
    band: str


def held(account_id: str, band: str, state: str = ACTIVE, index: float = 50.0, eid: str | None = None) -> Effect:
    reach, commercial = terms(band, POLICY)
    return Effect(eid or f"E-{account_id}-{band}", account_id, band, index, reach, commercial, state, AT, "HA-0",
                  POLICY.version)


def plan_of(in_force, now):
    return diff(in_force, now, POLICY, APPLY)


def test_each_band_has_the_policys_terms():
    assert terms("boost", POLICY) == (1.0, True)
    assert terms("normal", POLICY) == (1.0, True)
    assert terms("no_commercial", POLICY) == (1.0, False)
    assert terms("throttled", POLICY) == (POLICY.effects.throttle_reach_factor, False) == (0.5, False)


def test_nothing_in_force_sets_every_band_but_normal():
    plan = plan_of([], [Now("a", 90, "boost"), Now("b", 75, "normal"), Now("c", 65, "no_commercial"),
                        Now("d", 40, "throttled")])
    assert [(c.kind, c.account_id, c.band, c.reach_factor, c.commercial) for c in plan.changes] == [
        ("set", "a", "boost", 1.0, True), ("set", "c", "no_commercial", 1.0, False),
        ("set", "d", "throttled", 0.5, False)]
    assert plan.transitions == {"normal->boost": 1, "normal->no_commercial": 1, "normal->throttled": 1}
    assert plan.unchanged == 1  # b: normal, nothing in force
    assert all(c.effect_id == effect_id(c.account_id, c.band, APPLY) for c in plan.changes)


def test_the_same_band_again_changes_nothing_even_when_the_index_moved():
    plan = plan_of([held("a", "boost", index=95), held("d", "throttled", index=30)],
                   [Now("a", 81, "boost"), Now("d", 59.9, "throttled"), Now("b", 72, "normal")])
    assert plan.changes == () and plan.transitions == {} and plan.unchanged == 3


def test_a_return_to_normal_clears_and_a_change_of_band_clears_then_sets():
    plan = plan_of([held("a", "boost"), held("c", "no_commercial"), held("d", "throttled")],
                   [Now("a", 75, "normal"), Now("c", 45, "throttled"), Now("d", 85, "boost")])
    assert [(c.kind, c.account_id, c.band, c.was, c.to) for c in plan.changes] == [
        ("clear", "a", "boost", "boost", "normal"),
        ("clear", "c", "no_commercial", "no_commercial", "throttled"),
        ("set", "c", "throttled", "no_commercial", "throttled"),
        ("clear", "d", "throttled", "throttled", "boost"),
        ("set", "d", "boost", "throttled", "boost")]
    cleared = plan.changes[0]
    assert cleared.effect_id == "E-a-boost" and cleared.index == 75
    assert plan.transitions == {"boost->normal": 1, "no_commercial->throttled": 1, "throttled->boost": 1}
    assert plan.unchanged == 0


def test_cleared_records_are_history_not_in_force():
    plan = plan_of([held("a", "throttled", state=CLEARED)], [Now("a", 40, "throttled")])
    assert [(c.kind, c.band, c.was) for c in plan.changes] == [("set", "throttled", "normal")]


def test_an_account_gone_from_the_graph_has_its_effect_cleared():
    plan = plan_of([held("gone", "throttled")], [])
    assert [(c.kind, c.account_id, c.index, c.to) for c in plan.changes] == [("clear", "gone", None, "gone")]
    assert plan.transitions == {"throttled->gone": 1} and plan.unchanged == 0


def test_two_effects_in_force_keep_the_one_of_the_band():
    plan = plan_of([held("a", "boost", eid="E1"), held("a", "throttled", eid="E2")], [Now("a", 50, "throttled")])
    assert [(c.kind, c.effect_id) for c in plan.changes] == [("clear", "E1")]


def test_applying_the_plan_then_diffing_again_gives_nothing():
    now = [Now(f"acc{i:03d}", float(i % 101), band) for i, band in
           enumerate(["boost", "normal", "no_commercial", "throttled"] * 25)]
    first = plan_of([], now)
    after = [held(c.account_id, c.band, eid=c.effect_id) for c in first.changes if c.kind == "set"]
    assert plan_of(after, now).changes == ()
    # every account's band moves one step down: each effect is cleared, and set anew unless it is normal now
    order = ["boost", "normal", "no_commercial", "throttled", "boost"]
    moved = [Now(n.account_id, n.index, order[order.index(n.band) + 1]) for n in now]
    second = plan_of(after, moved)
    kinds = {}
    for c in second.changes:
        kinds.setdefault(c.account_id, []).append(c.kind)
    assert set(map(tuple, kinds.values())) <= {("clear",), ("set",), ("clear", "set")}
    assert second.transitions == {"boost->normal": 25, "no_commercial->throttled": 25, "normal->no_commercial": 25,
                                  "throttled->boost": 25}


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_batches_never_split_an_accounts_clear_and_set(size):
    plan = plan_of([held("a", "boost"), held("b", "throttled"), held("c", "boost")],
                   [Now("a", 40, "throttled"), Now("b", 90, "boost"), Now("c", 75, "normal"),
                    Now("d", 10, "throttled")])
    batches = by_account(plan.changes, size)
    assert [c for b in batches for c in b] == list(plan.changes)
    for b in batches:
        accounts = [c.account_id for c in b]
        for other in batches:
            if other is not b:
                assert not set(accounts) & {c.account_id for c in other}


def test_the_cli_prints_a_plan_and_refuses_a_command_with_nothing_to_do(capsys):
    import json

    import ringscope.commands.cli as cli
    from ringscope.commands.health import _applied
    from ringscope.health.enforce import ApplyResult
    from ringscope.health.index import distribution

    import pandas as pd

    now = [Now("a", 90, "boost"), Now("b", 75, "normal"), Now("d", 40, "throttled")]
    plan = plan_of([held("b", "boost")], now)
    d = distribution(pd.Series([n.index for n in now]), [n.band for n in now])
    result = ApplyResult("HA-x", AT, True, POLICY.version, d, plan.transitions, 2, 1, plan.unchanged, 0,
                         plan.changes, 0.5)
    _applied(result, "text")
    out = capsys.readouterr().out
    assert out.startswith("dry run, nothing written: 3 accounts scored (policy version 1); would set 2 effects, "
                          "would clear 1; 0 accounts unchanged")
    assert "transitions (effect in force -> band now): boost->normal 1, normal->boost 1, normal->throttled 1" in out
    rows = [line.split() for line in out.splitlines()[5:]]
    assert rows[0][:2] == ["change", "account_id"]
    assert rows[2] == ["clear", "b", "E-b-boost", "boost", "75.0", "1", "true", "boost", "normal"]
    _applied(result, "json")
    data = json.loads(capsys.readouterr().out)
    assert data["apply_id"] is None and data["dry_run"] and [c["kind"] for c in data["sample"]] == [
        "set", "clear", "set"]
    assert cli.main(["health"]) == 2
    assert capsys.readouterr().err.strip() == ("ringscope: error: say what to show: --account ID, --brand ID, "
                                               "--agency ID, --distribution, or `ringscope health apply`")
